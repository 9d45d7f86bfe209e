import { closeSync, fstatSync, openSync, readSync } from 'node:fs';
import { ElfError } from './errors.js';

/**
 * Random access to the bytes of an ELF file. Reading through this (instead of loading the file)
 * is what lets us read a 100 MB library with a handful of small reads: the headers, PT_INTERP,
 * the dynamic segment and a few strings.
 */
export interface ByteSource {
  readonly path: string;
  readonly size: number;
  /**
   * Exactly `length` bytes at `offset` (exact 64-bit values welcome); throws ELF_TRUNCATED naming
   * `what` and the exact offset if the file is shorter.
   */
  read(offset: number | bigint, length: number | bigint, what: string): Uint8Array;
  /** Up to `length` bytes at `offset` (fewer at the end of the file). */
  readUpTo(offset: number, length: number): Uint8Array;
}

/**
 * Checks a range in exact arithmetic (a 64-bit offset near 2^63 must not round) and returns it as
 * numbers, which are then exact because the range lies inside the file.
 */
function checkRange(
  source: ByteSource,
  offset: number | bigint,
  length: number | bigint,
  what: string,
): [number, number] {
  const exactOffset = BigInt(offset);
  const exactLength = BigInt(length);
  if (exactOffset < 0n || exactLength < 0n) {
    throw new ElfError(
      'ELF_CORRUPT',
      source.path,
      `${what} has an impossible offset or size (${exactOffset}, ${exactLength})`,
    );
  }
  if (exactOffset + exactLength > BigInt(source.size)) {
    throw new ElfError(
      'ELF_TRUNCATED',
      source.path,
      `${what} at offset ${exactOffset} (${exactLength} bytes) lies beyond the end of the file (${source.size} bytes): the file is truncated or corrupt`,
    );
  }
  return [Number(exactOffset), Number(exactLength)];
}

/** The first bytes are read once and served from memory: headers and PT_INTERP almost always lie there. */
const HEAD_SIZE = 4096;

export class FileSource implements ByteSource {
  readonly size: number;
  /** Bytes actually read from disk (tests hold us to "a few kilobytes, whatever the file size"). */
  bytesRead = 0;
  private readonly head: Buffer;

  private constructor(
    readonly path: string,
    private readonly fd: number,
  ) {
    const stat = fstatSync(fd);
    if (stat.isDirectory()) {
      throw new ElfError('ELF_IO', path, 'is a directory, not a file');
    }
    this.size = stat.size;
    this.head = Buffer.allocUnsafe(Math.min(HEAD_SIZE, this.size));
    const got = this.head.length > 0 ? readSync(fd, this.head, 0, this.head.length, 0) : 0;
    this.head = this.head.subarray(0, got);
    this.bytesRead = got;
  }

  /**
   * Opens `path`, runs `body` with a source over it, and always closes the file. `openAs` is the
   * name given to open(2) when it differs from the one for messages (a name that is not UTF-8).
   */
  static with<T>(path: string, body: (source: FileSource) => T, openAs: string | Buffer = path): T {
    let fd: number;
    try {
      fd = openSync(openAs, 'r');
    } catch (cause) {
      throw new ElfError('ELF_IO', path, describeIoError(cause), { cause });
    }
    try {
      return body(new FileSource(path, fd));
    } catch (error) {
      if (error instanceof ElfError) throw error;
      throw new ElfError('ELF_IO', path, describeIoError(error), { cause: error });
    } finally {
      closeSync(fd);
    }
  }

  read(offset: number | bigint, length: number | bigint, what: string): Uint8Array {
    const [start, count] = checkRange(this, offset, length, what);
    return this.readUpTo(start, count);
  }

  readUpTo(offset: number, length: number): Uint8Array {
    const end = Math.min(offset + length, this.size);
    if (end <= offset) return new Uint8Array(0);
    if (end <= this.head.length) return this.head.subarray(offset, end);
    const buffer = Buffer.allocUnsafe(end - offset);
    let filled = 0;
    while (filled < buffer.length) {
      const got = readSync(this.fd, buffer, filled, buffer.length - filled, offset + filled);
      if (got === 0) break; // the file shrank under us: report what we have
      filled += got;
    }
    this.bytesRead += filled;
    return buffer.subarray(0, filled);
  }
}

export class BufferSource implements ByteSource {
  readonly size: number;
  constructor(
    readonly path: string,
    private readonly data: Uint8Array,
  ) {
    this.size = data.length;
  }
  read(offset: number | bigint, length: number | bigint, what: string): Uint8Array {
    const [start, count] = checkRange(this, offset, length, what);
    return this.data.subarray(start, start + count);
  }
  readUpTo(offset: number, length: number): Uint8Array {
    return this.data.subarray(offset, Math.min(offset + length, this.size));
  }
}

export function describeIoError(error: unknown): string {
  const code = (error as NodeJS.ErrnoException | undefined)?.code;
  switch (code) {
    case 'ENOENT':
      return 'no such file (or a dangling symlink)';
    case 'EISDIR':
      return 'is a directory, not a file';
    case 'EACCES':
    case 'EPERM':
      return 'permission denied';
    case 'ELOOP':
      return 'too many levels of symbolic links (a symlink loop)';
    case 'ENOTDIR':
      return 'a component of the path is not a directory';
    default:
      return error instanceof Error ? error.message : String(error);
  }
}
