import { NativeError } from './errors.js';
import { layerZlibProblem } from './layer-zlib.js';
import { addonOnce, decide, type NativeBinding } from './loader.js';
import type { NativeStatus } from './types.js';

/*
 * The one place where DIT_NATIVE and the addon decide which implementation every capability (hash,
 * folder walk) uses. Apart from loader.ts, which only finds and loads the build, so tests can give
 * it a fake one.
 */

let status: NativeStatus | undefined;

/**
 * Which implementation the capabilities (hash, folder walk) use and why: decided here, once per
 * process, and nowhere else.
 */
export function nativeStatus(): NativeStatus {
  status ??= decide();
  return status;
}

/**
 * The addon when the capabilities should use it; undefined for the TypeScript path. With
 * DIT_NATIVE=1 the TypeScript path is not an option: throws `NativeError` saying why the addon is
 * missing.
 */
export function chosenBinding(): NativeBinding | undefined {
  const current = nativeStatus();
  if (current.native) {
    const { binding } = addonOnce();
    if (binding !== null) return binding;
  }
  if (process.env.DIT_NATIVE === '1') {
    const reason = current.native ? 'the addon is gone' : current.reason;
    throw new NativeError('NATIVE_UNAVAILABLE', `DIT_NATIVE=1 but ${reason}`, {
      cause: current.native ? undefined : current.cause,
    });
  }
  return undefined;
}

let layerProblem: string | undefined | null = null;

/**
 * The addon for the layer writer, as `chosenBinding`, and only when it can deflate with node:zlib's
 * own zlib (else it would write other bytes than the TypeScript path): when it cannot, the
 * TypeScript path, or with DIT_NATIVE=1 a `NativeError` saying why.
 */
export function chosenLayerBinding(): NativeBinding | undefined {
  const binding = chosenBinding();
  if (binding === undefined) return undefined;
  if (layerProblem === null) layerProblem = layerZlibProblem(binding);
  if (layerProblem === undefined) return binding;
  if (process.env.DIT_NATIVE === '1') {
    throw new NativeError('NATIVE_UNAVAILABLE', `DIT_NATIVE=1 but ${layerProblem}`);
  }
  return undefined;
}
