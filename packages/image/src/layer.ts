import { createHash } from 'node:crypto';
import { createWriteStream, lstatSync, readdirSync, readlinkSync } from 'node:fs';
import { open } from 'node:fs/promises';
import { join } from 'node:path';
import { Readable, Transform } from 'node:stream';
import { pipeline } from 'node:stream/promises';
import * as zlib from 'node:zlib';
import { NativeError } from '@dit/native';
import {
  type LayerBlob,
  type LayerSegment,
  LayerWriteError,
  writeLayerBlob,
  zstdProblem,
} from '@dit/native/layer';
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
 * Writes `folder` as one layer blob to `file`: the hot path of image output. The rules (which
 * entries, in which order, with which headers) are here, in TypeScript; the bytes are moved by
 * @dit/native's `writeLayerBlob`, which gets a plan (tar headers and padding as literal bytes, file
 * contents as path and size) and reads, compresses and hashes it: on all cores with the addon, else
 * with node:zlib on libuv's pool. Both write the same bytes (see @dit/native's README: the addon
 * deflates with node:zlib's own zlib).
 *
 * Reproducible: entries in byte order of their names, depth first (a folder before its content);
 * numeric owners only; modes as they are; symlinks as links; a file's other names (hard links) as
 * hard links to the first name in that order; mtimes clamped (LayerOptions.sourceDateEpoch); no
 * atime, ctime, user or group names, device numbers. gzip is one member in pigz's block format (1
 * MiB blocks, each deflated with the 32 KiB before it as dictionary): no name, time 0. The digest
 * thus depends on the zlib build Node carries; the diff_id does not.
 */
export async function writeLayer(folder: string, file: string, options: LayerOptions): Promise<Layer> {
  const plan = layerPlan(folder, options.sourceDateEpoch ?? 0);
  const zstd = options.compression === 'zstd';
  if (zstd && zstdProblem() !== undefined) return writeZstdLayer(plan, file);
  const level = options.compression === 'none' ? 0 : zstd ? ZSTD_LEVEL : (options.level ?? 6);
  let blob: LayerBlob;
  try {
    blob = await writeLayerBlob(plan, file, { level, format: zstd ? 'zstd' : 'gzip' });
  } catch (error) {
    throw layerError(error, file);
  }
  return {
    digest: `sha256:${blob.digest}`,
    diffId: `sha256:${blob.diffId}`,
    size: blob.size,
    mediaType: LAYER_MEDIA_TYPES[options.compression],
  };
}

/** @dit/native's failures as ImageErrors that name the file. */
function layerError(error: unknown, file: string): ImageError {
  if (error instanceof ImageError) return error;
  if (error instanceof LayerWriteError) {
    const code =
      error.code === 'LAYER_WRITE_FAILED' || error.code === 'LAYER_ZLIB_FAILED'
        ? 'IMAGE_WRITE_FAILED'
        : 'IMAGE_BAD_SOURCE';
    return new ImageError(code, error.message, { cause: error });
  }
  if (error instanceof NativeError) {
    return new ImageError('IMAGE_UNSUPPORTED', `${file}: ${error.message}`, { cause: error });
  }
  return new ImageError('IMAGE_WRITE_FAILED', `${file}: ${(error as Error).message}`, { cause: error });
}

/**
 * The layer's tar as a plan for @dit/native: the headers, padding and end of archive as literal
 * bytes (consecutive ones joined), each regular file's content as its path and the size in its header.
 */
export function layerPlan(folder: string, epoch: number): LayerSegment[] {
  const plan: LayerSegment[] = [];
  let literal: Buffer[] = [];
  const flushLiteral = () => {
    if (literal.length > 0) plan.push(literal.length === 1 ? literal[0]! : Buffer.concat(literal));
    literal = [];
  };
  for (const entry of treeEntries(folder, epoch)) {
    literal.push(encodeHeader(entry.header));
    if (entry.header.type !== 'file' || entry.header.size === 0) continue;
    flushLiteral();
    plan.push({ path: entry.path, size: entry.header.size });
    literal.push(padding(entry.header.size));
  }
  literal.push(END_OF_ARCHIVE);
  flushLiteral();
  return plan;
}

/** zstd's level for layers: libzstd's default, as node:zlib's and the `zstd` command's. */
const ZSTD_LEVEL = 3;

/**
 * Whether this dit can write zstd layers: @dit/native's addon with libzstd.so.1 (all cores), or else
 * a Node.js whose zlib has zstd (22.15 and later; Node 20 has none).
 */
export function zstdAvailable(): boolean {
  return zstdProblem() === undefined || nodeZstdAvailable();
}

function nodeZstdAvailable(): boolean {
  return typeof (zlib as { createZstdCompress?: unknown }).createZstdCompress === 'function';
}

/**
 * zstd through node:zlib's stream (one core), where Node has it and the addon cannot write it. The
 * one setting where the fallback writes other bytes than the addon: node:zlib's zstd frame is not
 * libzstd's multithreaded one, so the digest differs between the two.
 */
async function writeZstdLayer(plan: readonly LayerSegment[], file: string): Promise<Layer> {
  if (!nodeZstdAvailable()) {
    throw new ImageError(
      'IMAGE_UNSUPPORTED',
      `--compression zstd: ${zstdProblem()}, and this Node.js (${process.version}) has no zstd in node:zlib (22.15 and later have it); use gzip`,
    );
  }
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
  async function* stream(): AsyncGenerator<Buffer> {
    for (const segment of plan) {
      if (Buffer.isBuffer(segment)) yield segment;
      else yield* fileContent(String(segment.path), segment.size);
    }
  }
  try {
    await pipeline([
      Readable.from(stream()),
      hashTar,
      (zlib as unknown as { createZstdCompress: () => NodeJS.ReadWriteStream }).createZstdCompress(),
      hashBlob,
      createWriteStream(file),
    ]);
  } catch (error) {
    if (error instanceof ImageError) throw error;
    throw new ImageError('IMAGE_WRITE_FAILED', `${file}: ${(error as Error).message}`, { cause: error });
  }
  return {
    digest: `sha256:${blobHash.digest('hex')}`,
    diffId: `sha256:${tarHash.digest('hex')}`,
    size,
    mediaType: LAYER_MEDIA_TYPES.zstd,
  };
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
