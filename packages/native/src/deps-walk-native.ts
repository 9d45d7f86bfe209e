import { resolve as resolvePath } from 'node:path';
import { NativeError } from './errors.js';
import { addonOnce } from './loader.js';

/**
 * The CPU to resolve for: the same fields as @dit/resolver's `CpuProfile` (pass `hostCpuProfile()`
 * or `x86ProfileForLevel(n)` from there), declared here so this package does not depend on it.
 */
export interface NativeCpuProfile {
  readonly hwcaps: readonly string[];
  readonly isaLevel: number;
  readonly platform: string;
  readonly legacyHwcap: bigint;
  readonly legacyHwcapNames: readonly string[];
}

export interface DepsWalkOptions {
  /** The image root (default `/`); made absolute here. */
  readonly root?: string;
  /** Working directory inside the root, for relative names and empty path elements (default `/`). */
  readonly cwd?: string;
  /** LD_LIBRARY_PATH, as a string or a list (joined with `:`), or null. */
  readonly libraryPath?: string | readonly string[] | null;
  /** Use /etc/ld.so.cache (default true). */
  readonly useCache?: boolean;
  readonly cpu: NativeCpuProfile;
}

export interface NativeLibrary {
  readonly name: string;
  /** As the loader prints it, inside the root; null when not found. */
  readonly path: string | null;
}

/** One file's dependencies, as @dit/resolver reports them (the fields `dit deps --json` needs). */
export interface NativeResolution {
  readonly file: string;
  readonly interpreter: string | null;
  readonly libraries: readonly NativeLibrary[];
  readonly missing: readonly { readonly name: string; readonly neededBy: string }[];
  readonly failure: { readonly path: string; readonly message: string } | null;
}

/** A file the native model does not cover (musl, an ELF file it would not read...): use the TypeScript resolver for it. */
export interface NativeUnsupported {
  readonly file: string;
  readonly unsupported: true;
}

/** The file itself is unusable: @dit/resolver throws ResolveError (RESOLVE_BAD_INPUT) with this `problem`. */
export interface NativeBadInput {
  readonly file: string;
  readonly error: string;
}

export type NativeDepsResult = NativeResolution | NativeUnsupported | NativeBadInput;

/** What the addon exports for the walk (src/napi.rs `depsWalk`, `depsWalkAsync`). */
interface DepsWalkBinding {
  depsWalk(request: string): string;
  /** The same walk off the JavaScript thread; rejects with the error `depsWalk` would throw. */
  depsWalkAsync(request: string): Promise<string>;
}

/** The request `depsWalk` takes, as JSON: bigint does not serialise, so `legacyHwcap` goes as decimal text. */
export function depsWalkRequest(files: readonly string[], options: DepsWalkOptions): string {
  const { cpu } = options;
  const libraryPath =
    options.libraryPath === undefined || options.libraryPath === null
      ? null
      : typeof options.libraryPath === 'string'
        ? options.libraryPath
        : options.libraryPath.join(':');
  return JSON.stringify({
    files,
    root: resolvePath(options.root ?? '/'),
    cwd: options.cwd ?? '/',
    libraryPath,
    useCache: options.useCache ?? true,
    cpu: {
      hwcaps: cpu.hwcaps,
      isaLevel: cpu.isaLevel,
      platform: cpu.platform,
      legacyHwcap: cpu.legacyHwcap.toString(),
      legacyHwcapNames: cpu.legacyHwcapNames,
    },
  });
}

/**
 * The addon, when it exports `name`, for the walk to run there; undefined when the TypeScript
 * resolver should run instead (`DIT_NATIVE=0`, no addon, or an addon built before `name` existed).
 * With `DIT_NATIVE=1`, a missing addon or function throws `NativeError` instead.
 */
function walkBinding<Name extends keyof DepsWalkBinding>(
  name: Name,
): Pick<DepsWalkBinding, Name> | undefined {
  if (process.env.DIT_NATIVE === '0') return undefined;
  const addon = addonOnce();
  const binding = addon.binding as (typeof addon.binding & Partial<DepsWalkBinding>) | null;
  if (binding === null || typeof binding[name] !== 'function') {
    if (process.env.DIT_NATIVE === '1') {
      const reason = addon.binding === null ? addon.reason : `the addon does not export ${name} (rebuild it)`;
      throw new NativeError('NATIVE_UNAVAILABLE', `DIT_NATIVE=1 but ${reason}`, {
        cause: addon.binding === null ? addon.cause : undefined,
      });
    }
    return undefined;
  }
  return binding as Pick<DepsWalkBinding, Name>;
}

/**
 * The glibc dependency walk of many files in Rust, on all cores, with one set of caches: one result
 * per file, in input order. Returns undefined when the TypeScript resolver should run instead
 * (`DIT_NATIVE=0`, or an addon without `depsWalk`); with `DIT_NATIVE=1` a missing addon throws
 * `NativeError`. Results marked `unsupported` must be resolved with the TypeScript resolver.
 * Synchronous: the JavaScript thread waits for the walk (50 to 85 ms for 1,771 files); see
 * `depsWalkNativeAsync` for callers that must keep the event loop turning.
 */
export function depsWalkNative(
  files: readonly string[],
  options: DepsWalkOptions,
): NativeDepsResult[] | undefined {
  const binding = walkBinding('depsWalk');
  if (binding === undefined) return undefined;
  return JSON.parse(binding.depsWalk(depsWalkRequest(files, options))) as NativeDepsResult[];
}

/**
 * `depsWalkNative` off the JavaScript thread: the walk runs on libuv's pool (which hands it to
 * rayon's), so the event loop keeps turning meanwhile. The same results and the same rules: resolves
 * to undefined when the TypeScript resolver should run instead (`DIT_NATIVE=0`, or an addon without
 * `depsWalkAsync`), and rejects with `NativeError` under `DIT_NATIVE=1` when the addon or the function
 * is missing, or with the error `depsWalkNative` would throw.
 */
export async function depsWalkNativeAsync(
  files: readonly string[],
  options: DepsWalkOptions,
): Promise<NativeDepsResult[] | undefined> {
  const binding = walkBinding('depsWalkAsync');
  if (binding === undefined) return undefined;
  return JSON.parse(await binding.depsWalkAsync(depsWalkRequest(files, options))) as NativeDepsResult[];
}
