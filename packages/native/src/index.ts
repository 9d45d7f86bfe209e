/**
 * @dit/native: dit's hot loops in Rust (a Node-API addon, src/lib.rs behind src/napi.rs) with a
 * TypeScript implementation of every function that gives identical results: `hashFiles` and
 * `walkFiles`.
 *
 * Which one runs is decided once per process, in this order: the `DIT_NATIVE` environment variable
 * (`0`: TypeScript everywhere, for tests and comparisons; `1`: the addon or an error), then the built
 * addon (`dit-native.<platform>.node` in the package folder), then the TypeScript fallback, keeping
 * the load error as `nativeStatus().cause` for DEBUG output.
 */
import type { FilePath } from '@dit/paths';
import { NativeError } from './errors.js';
import { hashFilesNative, hashFilesTs } from './hash.js';
import { decide } from './loader.js';
import type { HashResult, NativeStatus, WalkResult } from './types.js';
import { walkFilesTs } from './walk.js';
import { nativeWalk, walkFilesNative } from './walk-files-native.js';

export {
  type DepsWalkOptions,
  depsWalkNative,
  depsWalkNativeAsync,
  depsWalkRequest,
  type NativeBadInput,
  type NativeCpuProfile,
  type NativeDepsResult,
  type NativeLibrary,
  type NativeResolution,
  type NativeUnsupported,
} from './deps-walk-native.js';
export { describeErrno, errnoOf, NativeError, type NativeErrorCode } from './errors.js';
export { type HashFilesTsOptions, hashFilesNative, hashFilesTs, READ_CHUNK_BYTES } from './hash.js';
export type {
  HashedFile,
  HashFailure,
  HashResult,
  NativeStatus,
  WalkError,
  WalkResult,
} from './types.js';
export { walkFilesTs } from './walk.js';
export { walkFilesNative } from './walk-files-native.js';

let status: NativeStatus | undefined;

/**
 * Which implementation `hashFiles` and `walkFiles` use and why (decided on first use, then fixed for
 * the process). An addon built before `walkFiles` existed still hashes; `walkFiles` then runs in
 * TypeScript.
 */
export function nativeStatus(): NativeStatus {
  status ??= decide();
  return status;
}

/**
 * SHA-256 of each file, in input order, one result per path: `{ path, sha256 }` or
 * `{ path, code, error }` (`ENOENT: no such file or directory`, `EACCES: ...`, `EISDIR: ...`), so an
 * unreadable file fails alone. All cores with the addon; see `nativeStatus()`.
 */
export async function hashFiles<P extends FilePath>(paths: readonly P[]): Promise<HashResult<P>[]> {
  const current = nativeStatus();
  if (current.native) return hashFilesNative(paths);
  refuseFallback(current);
  return hashFilesTs(paths);
}

/**
 * The regular files below each path, in byte order, and what could not be looked at: see
 * `walkFilesTs` for the rules, which the addon's walk follows exactly. The addon when it has
 * `walkFiles` (a third of the time on `dit hash`'s benchmark), else TypeScript; see `nativeStatus()`.
 */
export function walkFiles(paths: readonly FilePath[]): WalkResult {
  const current = nativeStatus();
  if (current.native) return nativeWalk() === undefined ? walkFilesTs(paths) : walkFilesNative(paths);
  refuseFallback(current);
  return walkFilesTs(paths);
}

/** With DIT_NATIVE=1 the TypeScript path is not an option: throws why the addon is missing. */
function refuseFallback(current: NativeStatus & { native: false }): void {
  if (process.env.DIT_NATIVE === '1') {
    throw new NativeError('NATIVE_UNAVAILABLE', `DIT_NATIVE=1 but ${current.reason}`, {
      cause: current.cause,
    });
  }
}
