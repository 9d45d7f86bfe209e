import { createHash } from 'node:crypto';
import { type FileHandle, open } from 'node:fs/promises';
import { availableParallelism } from 'node:os';
import { promisify } from 'node:util';
import * as zlib from 'node:zlib';
import type { FilePath } from '@dit/paths';
import { chosenBinding, chosenLayerBinding, nativeStatus } from './choice.js';
import { describeErrno, errnoOf, NativeError } from './errors.js';
import { layerZlibProblem } from './layer-zlib.js';
import { addonOnce, type NativeBinding, type NativeLayerOutcome } from './loader.js';

export { layerZlibProblem };

/*
 * The image layer writer's hot loop: a stream of literal bytes and file contents (the plan; @dit/image
 * decides what goes in it, tar headers and all: nothing here knows tar) written as one gzip member in
 * pigz's block format, with the SHA-256 of the stream and of the blob. Two implementations that
 * write the same bytes: the addon (rust/core/src/layer.rs, all cores) and this TypeScript one
 * (node:zlib on libuv's pool). Both deflate with the same zlib, Node's own (the addon finds it in the
 * process), so the same plan gives the same blob, byte for byte. A different zlib build (another Node,
 * a Debian node on the system libz) chooses other matches: the blob, hence the digest, then differs,
 * while the uncompressed stream (the diff_id) does not.
 */

/** Uncompressed bytes per block: part of the format, as BLOCK_SIZE in rust/core/src/layer.rs. */
export const LAYER_BLOCK_BYTES = 1024 * 1024;
/** Each block is deflated with the 32 KiB of the stream before it as dictionary. */
const DICTIONARY_BYTES = 32 * 1024;

/** One piece of the stream: bytes as they are, or exactly `size` bytes of the file at `path`. */
export type LayerSegment = Buffer | { readonly path: FilePath; readonly size: number };

export interface LayerBlobOptions {
  /** gzip level 1 to 9 (zstd: libzstd's levels, 1 to 19); 0 writes the stream as it is (no compression). */
  readonly level: number;
  /**
   * `gzip` (default), or `zstd`: one zstd frame from libzstd.so.1 on its own threads, which only the
   * addon writes (Node 20 has no zstd): without it `writeLayerBlob` rejects with `NativeError`.
   */
  readonly format?: 'gzip' | 'zstd';
}

export interface LayerBlob {
  /** SHA-256 of the blob as written, 64 hex digits. */
  readonly digest: string;
  /** SHA-256 of the uncompressed stream, 64 hex digits. */
  readonly diffId: string;
  /** Bytes of the blob. */
  readonly size: number;
}

export type LayerWriteErrorCode =
  /** A file of the plan could not be opened or read (`errno`, `path`). */
  | 'LAYER_READ_FAILED'
  /** A file of the plan has fewer or more bytes than planned (`path`): it changed meanwhile. */
  | 'LAYER_SOURCE_CHANGED'
  /** The blob could not be written (`errno`). */
  | 'LAYER_WRITE_FAILED'
  /** zlib failed (out of memory). */
  | 'LAYER_ZLIB_FAILED';

/** Why a blob could not be written, as data: the caller words it. */
export class LayerWriteError extends Error {
  override readonly name = 'LayerWriteError';
  constructor(
    readonly code: LayerWriteErrorCode,
    message: string,
    readonly details: { readonly path?: FilePath; readonly errno?: number } = {},
    options?: { cause?: unknown },
  ) {
    super(message, options);
  }
}

/**
 * Writes the stream of `segments` to `target` (created or truncated) as `options.level` says, and
 * returns both digests and the size. The addon when `nativeStatus()` chose it and the process has a
 * zlib it can use; this TypeScript path otherwise. Same bytes either way.
 */
export async function writeLayerBlob(
  segments: readonly LayerSegment[],
  target: FilePath,
  options: LayerBlobOptions,
): Promise<LayerBlob> {
  if (options.format === 'zstd' && options.level !== 0) return writeZstdBlob(segments, target, options);
  const binding = chosenLayerBinding();
  return binding === undefined
    ? writeLayerBlobTs(segments, target, options)
    : runNative(binding, segments, target, options);
}

/**
 * zstd through the addon and libzstd.so.1. The one setting where the TypeScript path does not stand
 * in: it has no zstd on Node 20, and node:zlib's zstd (Node 22.15 and later) would write another
 * frame than libzstd's multithreaded one. Rejects with `NativeError` (`NATIVE_UNAVAILABLE`) saying
 * what is missing.
 */
async function writeZstdBlob(
  segments: readonly LayerSegment[],
  target: FilePath,
  options: LayerBlobOptions,
): Promise<LayerBlob> {
  const problem = zstdProblem();
  if (problem !== undefined) throw new NativeError('NATIVE_UNAVAILABLE', problem);
  return runNative(chosenBinding() as NativeBinding, segments, target, options);
}

/**
 * Why `writeLayerBlob` cannot write zstd here (no addon, DIT_NATIVE=0, no libzstd.so.1), or
 * undefined when it can. Never throws.
 */
export function zstdProblem(): string | undefined {
  let binding: NativeBinding | undefined;
  try {
    binding = chosenBinding();
  } catch (error) {
    return (error as Error).message;
  }
  if (binding === undefined) {
    const status = nativeStatus();
    return `zstd is written by the native addon only, and ${status.native ? 'it is not used' : status.reason}`;
  }
  if (binding.layerZstd() === null)
    return 'zstd needs libzstd.so.1 (Debian: libzstd1), which cannot be loaded';
  return undefined;
}

/**
 * The addon's writer, whatever DIT_NATIVE says; rejects with `NativeError` (`NATIVE_UNAVAILABLE`)
 * when the addon cannot be loaded or finds no zlib in the process.
 */
export async function writeLayerBlobNative(
  segments: readonly LayerSegment[],
  target: FilePath,
  options: LayerBlobOptions,
): Promise<LayerBlob> {
  const addon = addonOnce();
  if (addon.binding === null)
    throw new NativeError('NATIVE_UNAVAILABLE', addon.reason, { cause: addon.cause });
  const unusable = layerZlibProblem(addon.binding);
  if (unusable !== undefined) throw new NativeError('NATIVE_UNAVAILABLE', unusable);
  return runNative(addon.binding, segments, target, options);
}

async function runNative(
  binding: NativeBinding,
  segments: readonly LayerSegment[],
  target: FilePath,
  options: LayerBlobOptions,
): Promise<LayerBlob> {
  const level = options.format === 'zstd' ? checkedZstdLevel(options.level) : checkedLevel(options.level);
  const outcome = await binding.writeLayer(encodePlan(segments), target, level, options.format ?? 'gzip');
  if (outcome.error === undefined)
    return { digest: outcome.digest, diffId: outcome.diffId, size: outcome.size };
  throw nativeFailure(outcome, target);
}

function nativeFailure(
  outcome: Exclude<NativeLayerOutcome, { error?: undefined }>,
  target: FilePath,
): LayerWriteError {
  const path = outcome.path;
  switch (outcome.error) {
    case 'read':
      return readError(path ?? '', outcome.errno ?? 5);
    case 'shrank':
    case 'grew':
      return changedError(path ?? '', outcome.error);
    case 'write':
      return writeError(target, outcome.errno ?? 5);
    default:
      return new LayerWriteError('LAYER_ZLIB_FAILED', outcome.message ?? 'zlib failed');
  }
}

/**
 * The plan as the addon reads it (rust/node/src/lib.rs, plan_from_bytes): per segment a tag byte,
 * then `0`: u32 length and the bytes, or `1`: u64 size, u32 length and the path's bytes.
 */
export function encodePlan(segments: readonly LayerSegment[]): Buffer {
  const parts: Buffer[] = [];
  for (const segment of segments) {
    if (Buffer.isBuffer(segment)) {
      const head = Buffer.alloc(5);
      head.writeUInt32LE(segment.length, 1);
      parts.push(head, segment);
    } else {
      const path = typeof segment.path === 'string' ? Buffer.from(segment.path) : segment.path;
      const head = Buffer.alloc(13);
      head[0] = 1;
      head.writeBigUInt64LE(BigInt(segment.size), 1);
      head.writeUInt32LE(path.length, 9);
      parts.push(head, path);
    }
  }
  return Buffer.concat(parts);
}

function checkedZstdLevel(level: number): number {
  if (!Number.isInteger(level) || level < 1 || level > 19) {
    throw new RangeError(`zstd level must be 1 to 19, not ${level}`);
  }
  return level;
}

function checkedLevel(level: number): number {
  if (!Number.isInteger(level) || level < 0 || level > 9) {
    throw new RangeError(`level must be 0 (no compression) to 9, not ${level}`);
  }
  return level;
}

const deflateRaw = promisify(zlib.deflateRaw);

/**
 * The TypeScript writer, the fallback and the reference: the same blocks as the addon, each
 * deflated by node:zlib's asynchronous `deflateRaw` (libuv's pool compresses several at once; they
 * are written in order), the stream hashed and CRC'd here as it is read.
 */
export async function writeLayerBlobTs(
  segments: readonly LayerSegment[],
  target: FilePath,
  options: LayerBlobOptions,
): Promise<LayerBlob> {
  if (options.format === 'zstd' && options.level !== 0) {
    throw new NativeError('NATIVE_UNAVAILABLE', 'zstd is written by the native addon only');
  }
  const level = checkedLevel(options.level);
  const total = segments.reduce((sum, s) => sum + (Buffer.isBuffer(s) ? s.length : s.size), 0);
  const blockCount = Math.max(1, Math.ceil(total / LAYER_BLOCK_BYTES));
  // Blocks in memory at once: enough to keep libuv's pool busy; has no effect on the bytes.
  const inFlight = 2 * Math.max(4, availableParallelism()) + 2;
  let output: FileHandle;
  try {
    output = await open(target, 'w');
  } catch (error) {
    throw writeError(target, errnoOf(error), error);
  }
  const streamHash = createHash('sha256');
  const blobHash = createHash('sha256');
  let size = 0;
  const put = async (bytes: Buffer) => {
    try {
      await output.write(bytes);
    } catch (error) {
      throw writeError(target, errnoOf(error), error);
    }
    blobHash.update(bytes);
    size += bytes.length;
  };
  const pending: Promise<Buffer>[] = [];
  try {
    if (level > 0) await put(gzipHeader(level));
    let crc = 0;
    let index = 0;
    let dictionary: Buffer | undefined;
    for await (const block of blocks(segments, total)) {
      streamHash.update(block);
      if (level > 0) {
        crc = crc32(block, crc);
        const finishFlush = index === blockCount - 1 ? zlib.constants.Z_FINISH : zlib.constants.Z_SYNC_FLUSH;
        const deflated = deflateRaw(block, { level, finishFlush, ...(dictionary ? { dictionary } : {}) });
        // Awaited in order below; until then a failure must not count as unhandled.
        deflated.catch(() => {});
        pending.push(deflated);
        dictionary = block.subarray(block.length - DICTIONARY_BYTES);
      } else {
        pending.push(Promise.resolve(block));
      }
      index += 1;
      while (pending.length >= inFlight) await put(await deflatedBlock(pending.shift()!));
    }
    while (pending.length > 0) await put(await deflatedBlock(pending.shift()!));
    if (level > 0) {
      const trailer = Buffer.alloc(8);
      trailer.writeUInt32LE(crc >>> 0, 0);
      trailer.writeUInt32LE(total % 2 ** 32, 4);
      await put(trailer);
    }
  } finally {
    await output.close().catch(() => {});
  }
  return { digest: blobHash.digest('hex'), diffId: streamHash.digest('hex'), size };
}

async function deflatedBlock(block: Promise<Buffer>): Promise<Buffer> {
  try {
    return await block;
  } catch (error) {
    throw new LayerWriteError('LAYER_ZLIB_FAILED', `zlib: ${(error as Error).message}`, {}, { cause: error });
  }
}

/** gzip's header as node:zlib's gzip writes it: no name, mtime 0, XFL as zlib sets it, OS 3 (Unix). */
export function gzipHeader(level: number): Buffer {
  const extraFlags = level === 9 ? 2 : level < 2 ? 4 : 0;
  return Buffer.from([0x1f, 0x8b, 8, 0, 0, 0, 0, 0, extraFlags, 3]);
}

/** The stream in blocks of LAYER_BLOCK_BYTES (the last one shorter; one empty block for an empty stream). */
async function* blocks(segments: readonly LayerSegment[], total: number): AsyncGenerator<Buffer> {
  let left = total;
  let block = Buffer.allocUnsafe(Math.min(LAYER_BLOCK_BYTES, left));
  let fill = 0;
  const full = () => {
    const done = block;
    left -= done.length;
    block = Buffer.allocUnsafe(Math.min(LAYER_BLOCK_BYTES, left));
    fill = 0;
    return done;
  };
  for (const segment of segments) {
    if (Buffer.isBuffer(segment)) {
      let offset = 0;
      while (offset < segment.length) {
        const copied = segment.copy(block, fill, offset);
        offset += copied;
        fill += copied;
        if (fill === block.length) yield full();
      }
      continue;
    }
    let handle: FileHandle;
    try {
      handle = await open(segment.path, 'r');
    } catch (error) {
      throw readError(segment.path, errnoOf(error), error);
    }
    try {
      let position = 0;
      while (position < segment.size) {
        const want = Math.min(segment.size - position, block.length - fill);
        const { bytesRead } = await handle.read(block, fill, want, position).catch((error: unknown) => {
          throw readError(segment.path, errnoOf(error), error);
        });
        if (bytesRead === 0) throw changedError(segment.path, 'shrank');
        position += bytesRead;
        fill += bytesRead;
        if (fill === block.length) yield full();
      }
      const probe = await handle.read(Buffer.alloc(1), 0, 1, position).catch((error: unknown) => {
        throw readError(segment.path, errnoOf(error), error);
      });
      if (probe.bytesRead !== 0) throw changedError(segment.path, 'grew');
    } finally {
      await handle.close().catch(() => {});
    }
  }
  if (total === 0) yield Buffer.alloc(0);
}

function readError(path: FilePath, errno: number, cause?: unknown): LayerWriteError {
  return new LayerWriteError(
    'LAYER_READ_FAILED',
    `${String(path)}: ${describeErrno(errno).error}`,
    { path, errno },
    { cause },
  );
}

function changedError(path: FilePath, how: 'shrank' | 'grew'): LayerWriteError {
  return new LayerWriteError('LAYER_SOURCE_CHANGED', `${String(path)} ${how} while it was archived`, {
    path,
  });
}

function writeError(target: FilePath, errno: number, cause?: unknown): LayerWriteError {
  return new LayerWriteError(
    'LAYER_WRITE_FAILED',
    `${String(target)}: ${describeErrno(errno).error}`,
    { path: target, errno },
    { cause },
  );
}

/** gzip's CRC-32: node:zlib's (Node 20.15 and later), else this table. */
const crc32: (data: Buffer, value: number) => number =
  typeof (zlib as { crc32?: unknown }).crc32 === 'function'
    ? (zlib as unknown as { crc32: (data: Buffer, value: number) => number }).crc32
    : crc32Table;

let table: Uint32Array | undefined;

function crc32Table(data: Buffer, value: number): number {
  if (table === undefined) {
    table = new Uint32Array(256);
    for (let n = 0; n < 256; n++) {
      let c = n;
      for (let k = 0; k < 8; k++) c = c & 1 ? 0xedb88320 ^ (c >>> 1) : c >>> 1;
      table[n] = c >>> 0;
    }
  }
  let crc = ~value >>> 0;
  for (let i = 0; i < data.length; i++) crc = table[(crc ^ data[i]!) & 0xff]! ^ (crc >>> 8);
  return ~crc >>> 0;
}
