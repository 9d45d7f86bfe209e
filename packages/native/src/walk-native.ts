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

/** What the addon exports for the walk (src/napi.rs `depsWalk`). */
interface DepsWalkBinding {
  depsWalk(request: string): string;
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
 * The glibc dependency walk of many files in Rust, on all cores, with one set of caches: one result
 * per file, in input order. Returns undefined when the TypeScript resolver should run instead
 * (`DIT_NATIVE=0`, or an addon without `depsWalk`); with `DIT_NATIVE=1` a missing addon throws
 * `NativeError`. Results marked `unsupported` must be resolved with the TypeScript resolver.
 */
export function depsWalkNative(
  files: readonly string[],
  options: DepsWalkOptions,
): NativeDepsResult[] | undefined {
  if (process.env.DIT_NATIVE === '0') return undefined;
  const addon = addonOnce();
  const binding = addon.binding as (typeof addon.binding & Partial<DepsWalkBinding>) | null;
  if (binding === null || typeof binding.depsWalk !== 'function') {
    if (process.env.DIT_NATIVE === '1') {
      const reason =
        addon.binding === null ? addon.reason : 'the addon does not export depsWalk (rebuild it)';
      throw new NativeError('NATIVE_UNAVAILABLE', `DIT_NATIVE=1 but ${reason}`, {
        cause: addon.binding === null ? addon.cause : undefined,
      });
    }
    return undefined;
  }
  return JSON.parse(binding.depsWalk(depsWalkRequest(files, options))) as NativeDepsResult[];
}
