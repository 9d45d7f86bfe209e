/**
 * @dit/native: dit's hot loops in Rust (a Node-API addon: rust/core behind the binding in rust/node),
 * each with a TypeScript implementation that gives identical results, one entry point per capability:
 *
 * - hash (`@dit/native/hash`): `hashFiles`, SHA-256 of many files on all cores;
 * - folder walk (`@dit/native/walk`): `walkFiles`, the regular files below some paths, for `dit hash`;
 * - layer writer (`@dit/native/layer`): `writeLayerBlob`, a stream of bytes and files as a gzip blob
 *   compressed on all cores, with its digests (the tar inside is @dit/image's business).
 *
 * No loader rule lives here: which files a program loads is decided once, in TypeScript, by
 * @dit/elf and @dit/resolver (docs/decisions.md says why, with the measurements).
 *
 * Which implementation runs is decided once per process, in `loader.ts` and nowhere else: the
 * `DIT_NATIVE` environment variable (`0`: TypeScript everywhere, for tests and comparisons; `1`: the
 * addon or an error), then the built addon (`dit-native.<platform>.node` in the package folder, of
 * the interface version this package expects), then the TypeScript fallback, keeping the reason and
 * the load error as `nativeStatus().cause` for DEBUG output.
 */

export { nativeStatus } from './choice.js';
export { describeErrno, errnoOf, NativeError, type NativeErrorCode } from './errors.js';
export {
  type HashFilesTsOptions,
  hashFiles,
  hashFilesNative,
  hashFilesTs,
  READ_CHUNK_BYTES,
} from './hash.js';
export {
  encodePlan,
  gzipHeader,
  LAYER_BLOCK_BYTES,
  type LayerBlob,
  type LayerBlobOptions,
  type LayerSegment,
  LayerWriteError,
  type LayerWriteErrorCode,
  writeLayerBlob,
  writeLayerBlobNative,
  writeLayerBlobTs,
  zstdProblem,
} from './layer.js';
export type {
  HashedFile,
  HashFailure,
  HashResult,
  NativeStatus,
  WalkError,
  WalkResult,
} from './types.js';
export { walkFiles, walkFilesTs } from './walk.js';
export { walkFilesNative } from './walk-native.js';
