/**
 * @dit/native: dit's hot loops in Rust (a Node-API addon, src/lib.rs behind src/napi.rs) with a
 * TypeScript implementation of every function that gives identical results.
 *
 * Which one runs is decided once per process, in this order: the `DIT_NATIVE` environment variable
 * (`0`: TypeScript everywhere, for tests and comparisons; `1`: the addon or an error), then the built
 * addon (`dit-native.<platform>.node` in the package folder), then the TypeScript fallback, keeping
 * the load error as `nativeStatus().cause` for DEBUG output.
 */
import { NativeError } from './errors.js';
import { hashFilesNative, hashFilesTs } from './hash.js';
import { decide } from './loader.js';
import type { HashResult, NativeStatus } from './types.js';

export { describeErrno, NativeError, type NativeErrorCode } from './errors.js';
export { type HashFilesTsOptions, hashFilesNative, hashFilesTs, READ_CHUNK_BYTES } from './hash.js';
export type { HashedFile, HashFailure, HashResult, NativeStatus, WalkError, WalkResult } from './types.js';
export { walkFiles } from './walk.js';
export {
  type DepsWalkOptions,
  depsWalkNative,
  depsWalkRequest,
  type NativeBadInput,
  type NativeCpuProfile,
  type NativeDepsResult,
  type NativeLibrary,
  type NativeResolution,
  type NativeUnsupported,
} from './walk-native.js';

let status: NativeStatus | undefined;

/** Which implementation `hashFiles` uses and why (decided on first use, then fixed for the process). */
export function nativeStatus(): NativeStatus {
  status ??= decide();
  return status;
}

/**
 * SHA-256 of each file, in input order, one result per path: `{ path, sha256 }` or
 * `{ path, code, error }` (`ENOENT: no such file or directory`, `EACCES: ...`, `EISDIR: ...`), so an
 * unreadable file fails alone. All cores with the addon; see `nativeStatus()`.
 */
export async function hashFiles(paths: readonly string[]): Promise<HashResult[]> {
  const current = nativeStatus();
  if (current.native) return hashFilesNative(paths);
  if (process.env.DIT_NATIVE === '1') {
    throw new NativeError('NATIVE_UNAVAILABLE', `DIT_NATIVE=1 but ${current.reason}`, {
      cause: current.cause,
    });
  }
  return hashFilesTs(paths);
}
