import { createHash } from 'node:crypto';
import { createWriteStream, lstatSync, readdirSync, readlinkSync } from 'node:fs';
import { open } from 'node:fs/promises';
import { join } from 'node:path';
import { Readable, Transform } from 'node:stream';
import { pipeline } from 'node:stream/promises';
import * as zlib from 'node:zlib';
import { ImageError } from './errors.js';
import { END_OF_ARCHIVE, encodeHeader, padding, type TarHeader } from './tar-format.js';

export type Compression = 'gzip' | 'zstd' | 'none';

export interface LayerOptions {
  readonly compression: Compression;
  /**
   * SOURCE_DATE_EPOCH: every mtime later than it is set to it. Undefined means 0: every mtime is
   * 1970-01-01, so the digest depends on the content alone (ko's and rules_oci's choice).
   */
  readonly sourceDateEpoch?: number;
  /** gzip level, 1 to 9 (default 6, zlib's and pigz's default). */
  readonly level?: number;
}

export interface Layer {
  /** `sha256:...` of the blob as written (compressed). */
  readonly digest: string;
  /** `sha256:...` of the uncompressed tar: the config's diff_id. */
  readonly diffId: string;
  /** Bytes of the blob. */
  readonly size: number;
  readonly mediaType: string;
}

export const LAYER_MEDIA_TYPES: Record<Compression, string> = {
  gzip: 'application/vnd.oci.image.layer.v1.tar+gzip',
  zstd: 'application/vnd.oci.image.layer.v1.tar+zstd',
  none: 'application/vnd.oci.image.layer.v1.tar',
};

/**
 * Writes `folder` as one layer blob to `file`: the hot path of image output. It is one function
 * with plain inputs (a folder, a file, settings) and a plain result (two digests and a size) so
 * that a native implementation (@dit/native, on all cores) can take it over with the same
 * signature; this TypeScript one (node:zlib, node:crypto) is then the fallback, and the two must
 * give the same bytes for the same settings.
 *
 * Reproducible: entries in byte order of their names, depth first (a folder before its content);
 * numeric owners only; modes as they are; symlinks as links; a file's other names (hard links) as
 * hard links to the first name in that order; mtimes clamped (LayerOptions.sourceDateEpoch); no
 * atime, ctime, user or group names, device numbers. gzip as node:zlib writes it: no name, time 0.
 */
export async function writeLayer(folder: string, file: string, options: LayerOptions): Promise<Layer> {
  const tarHash = createHash('sha256');
  const blobHash = createHash('sha256');
  let size = 0;
  const hashTar = new Transform({
    transform(chunk: Buffer, _encoding, done) {
      tarHash.update(chunk);
      done(null, chunk);
    },
  });
  const hashBlob = new Transform({
    transform(chunk: Buffer, _encoding, done) {
      blobHash.update(chunk);
      size += chunk.length;
      done(null, chunk);
    },
  });
  const stages: NodeJS.ReadWriteStream[] = [hashTar];
  if (options.compression !== 'none') stages.push(compressor(options));
  stages.push(hashBlob);
  try {
    await pipeline([
      Readable.from(tarStream(folder, options.sourceDateEpoch ?? 0)),
      ...stages,
      createWriteStream(file),
    ]);
  } catch (error) {
    if (error instanceof ImageError) throw error;
    throw new ImageError('IMAGE_WRITE_FAILED', `${file}: ${(error as Error).message}`, { cause: error });
  }
  const diffId = `sha256:${tarHash.digest('hex')}`;
  return {
    digest: `sha256:${blobHash.digest('hex')}`,
    diffId,
    size,
    mediaType: LAYER_MEDIA_TYPES[options.compression],
  };
}

/** zstd needs a Node.js whose zlib has it (22.15 and later); Node 20 has none, and dit adds no native dependency for it. */
export function zstdAvailable(): boolean {
  return typeof (zlib as { createZstdCompress?: unknown }).createZstdCompress === 'function';
}

function compressor(options: LayerOptions): NodeJS.ReadWriteStream {
  if (options.compression === 'zstd') {
    if (!zstdAvailable()) {
      throw new ImageError(
        'IMAGE_UNSUPPORTED',
        `--compression zstd: this Node.js (${process.version}) has no zstd in node:zlib (22.15 and later have it); use gzip`,
      );
    }
    return (zlib as unknown as { createZstdCompress: () => NodeJS.ReadWriteStream }).createZstdCompress();
  }
  return zlib.createGzip({ level: options.level ?? 6 });
}

/** One entry of the tree, in archive order. */
interface TreeEntry {
  readonly path: string;
  readonly header: TarHeader;
}

/**
 * The tree under `folder` in archive order. Hard links are found by (device, inode): the first name
 * in order carries the content, the others name it.
 */
export function* treeEntries(folder: string, epoch: number): Generator<TreeEntry> {
  const firstName = new Map<string, string>();
  function* walk(relative: string): Generator<TreeEntry> {
    const names = readdirSync(join(folder, relative)).sort((a, b) =>
      Buffer.compare(Buffer.from(a), Buffer.from(b)),
    );
    for (const name of names) {
      const rel = relative === '' ? name : `${relative}/${name}`;
      const path = join(folder, rel);
      const stat = lstatSync(path);
      const base = {
        mode: stat.mode & 0o7777,
        uid: stat.uid,
        gid: stat.gid,
        mtime: Math.min(Math.floor(stat.mtimeMs / 1000), epoch),
      };
      if (stat.isDirectory()) {
        yield { path, header: { ...base, name: `${rel}/`, type: 'directory', size: 0 } };
        yield* walk(rel);
      } else if (stat.isSymbolicLink()) {
        yield {
          path,
          header: { ...base, name: rel, type: 'symlink', size: 0, linkname: readlinkSync(path) },
        };
      } else if (stat.isFile()) {
        const key = `${stat.dev}:${stat.ino}`;
        const first = stat.nlink > 1 ? firstName.get(key) : undefined;
        if (first !== undefined) {
          yield { path, header: { ...base, name: rel, type: 'hardlink', size: 0, linkname: first } };
        } else {
          if (stat.nlink > 1) firstName.set(key, rel);
          yield { path, header: { ...base, name: rel, type: 'file', size: stat.size } };
        }
      } else {
        throw new ImageError(
          'IMAGE_BAD_SOURCE',
          `${path}: a socket, fifo or device cannot go into an image layer`,
        );
      }
    }
  }
  yield* walk('');
}

const CHUNK = 1 << 20;

/** The uncompressed tar of `folder`, as chunks. */
async function* tarStream(folder: string, epoch: number): AsyncGenerator<Buffer> {
  for (const entry of treeEntries(folder, epoch)) {
    yield encodeHeader(entry.header);
    if (entry.header.type !== 'file' || entry.header.size === 0) continue;
    yield* fileContent(entry.path, entry.header.size);
    yield padding(entry.header.size);
  }
  yield END_OF_ARCHIVE;
}

/** Exactly `size` bytes of a file (the size in its header): a file that changed meanwhile is an error, not a corrupt layer. */
export async function* fileContent(path: string, size: number): AsyncGenerator<Buffer> {
  const handle = await open(path, 'r');
  try {
    let done = 0;
    while (done < size) {
      const buffer = Buffer.allocUnsafe(Math.min(CHUNK, size - done));
      const { bytesRead } = await handle.read(buffer, 0, buffer.length, done);
      if (bytesRead === 0) throw new ImageError('IMAGE_BAD_SOURCE', `${path}: shrank while it was archived`);
      done += bytesRead;
      yield bytesRead === buffer.length ? buffer : buffer.subarray(0, bytesRead);
    }
  } finally {
    await handle.close();
  }
}
