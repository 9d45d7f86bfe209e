import type { FileHandle } from 'node:fs/promises';
import type { FilePath } from '@dit/paths';
import { chosenBinding } from './choice.js';
import { describeErrno, errnoOf, NativeError } from './errors.js';
import { addonOnce } from './loader.js';
import type { HashResult } from './types.js';

/** Read size of the TypeScript path; the Rust side reads 256 KiB at a time too (rust/core/src/lib.rs, CHUNK). */
export const READ_CHUNK_BYTES = 256 * 1024;

const EINVAL = 22;

/** One result, built the same way whichever implementation produced it (so results compare equal). */
export function hashResult<P extends FilePath>(path: P, digestOrErrno: string | number): HashResult<P> {
  if (typeof digestOrErrno === 'string') return { path, sha256: digestOrErrno };
  const { code, error } = describeErrno(digestOrErrno);
  return { path, code, error };
}

/**
 * SHA-256 of many files with the Rust addon: all cores, off the JavaScript thread. Rejects with
 * `NativeError` (`NATIVE_UNAVAILABLE`, the load error as `cause`) when the addon cannot be loaded,
 * whatever DIT_NATIVE says: asking for this function is asking for the addon.
 */
export async function hashFilesNative<P extends FilePath>(paths: readonly P[]): Promise<HashResult<P>[]> {
  const addon = addonOnce();
  if (addon.binding === null) {
    throw new NativeError('NATIVE_UNAVAILABLE', addon.reason, { cause: addon.cause });
  }
  const raw = await addon.binding.hashFiles([...paths]);
  return paths.map((path, index) => hashResult(path, raw[index] ?? EINVAL));
}

/**
 * SHA-256 of each file, in input order, one result per path: `{ path, sha256 }` or
 * `{ path, code, error }` (`ENOENT: no such file or directory`, `EACCES: ...`, `EISDIR: ...`), so an
 * unreadable file fails alone. All cores with the addon, as `nativeStatus()` decided.
 */
export async function hashFiles<P extends FilePath>(paths: readonly P[]): Promise<HashResult<P>[]> {
  return chosenBinding() === undefined ? hashFilesTs(paths) : hashFilesNative(paths);
}

export interface HashFilesTsOptions {
  /** Files open at once (default: 4 per core, at least 16): reads of some overlap hashing of others. */
  readonly concurrency?: number;
}

/**
 * SHA-256 of many files in TypeScript (`node:crypto`), the fallback and the reference for the addon:
 * each file streamed through a fixed buffer, a bounded number of files in flight. Reads run on
 * libuv's pool; hashing runs on this thread, so it is bound to one core. Like the addon, paths that
 * name the same regular file (hard links, a path given twice) are read once and share the result.
 */
export async function hashFilesTs<P extends FilePath>(
  paths: readonly P[],
  options: HashFilesTsOptions = {},
): Promise<HashResult<P>[]> {
  // Loaded here, not at the top: the addon needs none of them, and node:crypto alone is a noticeable
  // part of the start-up of a short `dit hash` run.
  const [{ createHash }, { open }, { availableParallelism }] = await Promise.all([
    import('node:crypto'),
    import('node:fs/promises'),
    import('node:os'),
  ]);
  const results: HashResult<P>[] = new Array(paths.length);
  const concurrency = Math.max(1, options.concurrency ?? Math.max(16, 4 * availableParallelism()));
  /** Digest (or errno) per regular file, by `dev:ino`, from the first path that opened it. */
  const byInode = new Map<string, Promise<string | number>>();
  let next = 0;
  const worker = async () => {
    const buffer = Buffer.allocUnsafe(READ_CHUNK_BYTES);
    while (next < paths.length) {
      const index = next++;
      const path = paths[index]!;
      results[index] = hashResult(path, await hashOne(path, buffer, byInode, { createHash, open }));
    }
  };
  await Promise.all(Array.from({ length: Math.min(concurrency, paths.length) }, worker));
  return results;
}

/** The hex digest, or the errno. Reads to end of file whatever the file is, as `sha256sum` does. */
/** The two functions hashOne needs from modules hashFilesTs loads on first use. */
interface HashIo {
  readonly createHash: typeof import('node:crypto').createHash;
  readonly open: typeof import('node:fs/promises').open;
}

async function hashOne(
  path: FilePath,
  buffer: Buffer,
  byInode: Map<string, Promise<string | number>>,
  { createHash, open }: HashIo,
): Promise<string | number> {
  // open(2) cannot take a NUL; Node would throw ERR_INVALID_ARG_VALUE, the addon gets EINVAL.
  if (typeof path === 'string' ? path.includes('\0') : path.includes(0)) return EINVAL;
  let handle: FileHandle | undefined;
  try {
    handle = await open(path, 'r');
    const stat = await handle.stat({ bigint: true });
    if (!stat.isFile()) return await readToEnd(handle, buffer, createHash);
    const inode = `${stat.dev}:${stat.ino}`;
    const earlier = byInode.get(inode);
    if (earlier !== undefined) return await earlier;
    const digest = readToEnd(handle, buffer, createHash).catch(errnoOf);
    byInode.set(inode, digest);
    return await digest;
  } catch (error) {
    return errnoOf(error);
  } finally {
    // A read-only descriptor has nothing to flush: a failing close cannot change the digest.
    await handle?.close().catch(() => {});
  }
}

async function readToEnd(
  handle: FileHandle,
  buffer: Buffer,
  createHash: HashIo['createHash'],
): Promise<string> {
  const hash = createHash('sha256');
  for (;;) {
    const { bytesRead } = await handle.read(buffer, 0, buffer.length, null);
    if (bytesRead === 0) return hash.digest('hex');
    hash.update(buffer.subarray(0, bytesRead));
  }
}
