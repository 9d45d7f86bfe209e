import type { FilePath } from '@dit/paths';
import { describeErrno, NativeError } from './errors.js';
import { addonOnce, type NativeWalked } from './loader.js';
import type { WalkResult } from './types.js';

/** A surrogate without its other half: Node's `fs` and the addon both read it as U+FFFD. */
const LONE_SURROGATE = /[\uD800-\uDBFF](?![\uDC00-\uDFFF])|(?<![\uD800-\uDBFF])[\uDC00-\uDFFF]/;

/**
 * `walkFiles` with the Rust addon (rust/core/src/walk.rs): the same files and errors as
 * `walkFilesTs`, in the same order, object for object. Throws `NativeError` (`NATIVE_UNAVAILABLE`)
 * when the addon cannot be loaded, whatever DIT_NATIVE says: asking for this function is asking for
 * the addon.
 */
export function walkFilesNative(paths: readonly FilePath[]): WalkResult {
  const addon = addonOnce();
  if (addon.binding === null) {
    throw new NativeError('NATIVE_UNAVAILABLE', addon.reason, { cause: addon.cause });
  }
  const { binding } = addon;
  const walk = (some: FilePath[]) => binding.walkFiles(some);
  const hasLoneSurrogate = (path: FilePath) => typeof path === 'string' && LONE_SURROGATE.test(path);
  if (!paths.some(hasLoneSurrogate)) return walkResult(walk([...paths]));
  // The addon sees a lone surrogate as U+FFFD (one UTF-16 unit for one), where the TypeScript walk
  // keeps the path as typed in what it reports: walk such paths one by one and put it back.
  const files: FilePath[] = [];
  const errors: WalkResult['errors'] = [];
  for (const path of paths) {
    // Below a typed path the results are strings too (its U+FFFD keeps them UTF-8).
    const typed = (found: FilePath) =>
      hasLoneSurrogate(path) && typeof found === 'string' ? path + found.slice(path.length) : found;
    const one = walkResult(walk([path]));
    for (const file of one.files) files.push(typed(file));
    for (const error of one.errors) errors.push({ ...error, path: typed(error.path) });
  }
  return { files, errors };
}

function walkResult({ files, errors }: NativeWalked): WalkResult {
  return { files, errors: errors.map(([path, errno]) => ({ path, ...describeErrno(errno) })) };
}
