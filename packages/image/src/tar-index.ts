import { closeSync, createReadStream, openSync, readSync } from 'node:fs';
import { Readable } from 'node:stream';
import { ImageError } from './errors.js';

/** Where each regular member of a tar file lies, so that an image archive is read in place, not unpacked. */
export interface TarIndex {
  readonly file: string;
  readonly members: ReadonlyMap<string, { readonly offset: number; readonly size: number }>;
}

/**
 * Reads the headers of an image archive (docker-archive, oci-archive): names (ustar prefix, PAX
 * `path`, GNU long names), sizes and offsets of regular files. Names are kept without a leading `./`.
 */
export function indexTar(file: string): TarIndex {
  const members = new Map<string, { offset: number; size: number }>();
  let fd: number;
  try {
    fd = openSync(file, 'r');
  } catch (error) {
    throw new ImageError(
      'IMAGE_BAD_SOURCE',
      `${file}: ${(error as NodeJS.ErrnoException).code ?? (error as Error).message}`,
      { cause: error },
    );
  }
  try {
    const header = Buffer.alloc(512);
    let offset = 0;
    let longName: string | null = null;
    for (;;) {
      if (readSync(fd, header, 0, 512, offset) < 512) break;
      if (header.every((byte) => byte === 0)) break;
      if (!checksumOk(header))
        throw new ImageError('IMAGE_BAD_SOURCE', `${file}: not a tar archive (bad header at byte ${offset})`);
      const size = parseInt(text(header, 124, 12).trim() || '0', 8);
      const type = String.fromCharCode(header[156]!);
      const dataOffset = offset + 512;
      const read = () => {
        const data = Buffer.alloc(size);
        readSync(fd, data, 0, size, dataOffset);
        return data;
      };
      if (type === 'x') {
        longName = /(?:^|\n)\d+ path=([^\n]*)\n/.exec(read().toString('utf8'))?.[1] ?? longName;
      } else if (type === 'L') {
        longName = read().toString('utf8').replace(/\0.*$/s, '');
      } else {
        const prefix = text(header, 345, 155);
        const name = longName ?? (prefix === '' ? text(header, 0, 100) : `${prefix}/${text(header, 0, 100)}`);
        longName = null;
        if (type === '0' || type === '\0')
          members.set(name.replace(/^(\.\/)+/, ''), { offset: dataOffset, size });
      }
      offset = dataOffset + Math.ceil(size / 512) * 512;
    }
  } finally {
    closeSync(fd);
  }
  if (members.size === 0)
    throw new ImageError('IMAGE_BAD_SOURCE', `${file}: not an image archive (no files in it)`);
  return { file, members };
}

export function memberStream(index: TarIndex, name: string): Readable {
  const member = index.members.get(name);
  if (member === undefined) throw new ImageError('IMAGE_BAD_SOURCE', `${index.file}: has no ${name}`);
  if (member.size === 0) return Readable.from([]);
  return createReadStream(index.file, { start: member.offset, end: member.offset + member.size - 1 });
}

export function memberBytes(index: TarIndex, name: string): Buffer {
  const member = index.members.get(name);
  if (member === undefined) throw new ImageError('IMAGE_BAD_SOURCE', `${index.file}: has no ${name}`);
  const fd = openSync(index.file, 'r');
  try {
    const data = Buffer.alloc(member.size);
    readSync(fd, data, 0, member.size, member.offset);
    return data;
  } finally {
    closeSync(fd);
  }
}

function text(block: Buffer, offset: number, width: number): string {
  const field = block.subarray(offset, offset + width);
  const end = field.indexOf(0);
  return field.subarray(0, end < 0 ? width : end).toString('utf8');
}

function checksumOk(block: Buffer): boolean {
  const stored = parseInt(text(block, 148, 8).trim(), 8);
  let sum = 0;
  for (let i = 0; i < 512; i++) sum += i >= 148 && i < 156 ? 0x20 : block[i]!;
  return stored === sum;
}
