import { existsSync } from 'node:fs';
import { createRequire } from 'node:module';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import type { FilePath } from '@dit/paths';
import type { NativeStatus } from './types.js';

/**
 * The interface this package was written for: `interfaceVersion` of rust/node/src/lib.rs. Bumped on
 * both sides with every change of what the addon exports, so a build from older sources is refused
 * with "rebuild it" instead of being used in part.
 */
export const ADDON_INTERFACE = 4;

/** What the Rust side (rust/node/src/lib.rs) exports. */
export interface NativeBinding {
  /** INTERFACE_VERSION of the sources it was built from. */
  readonly interfaceVersion: number;
  /** Per path, in order: 64 hex digits, or the errno (positive) that stopped it. */
  hashFiles(paths: FilePath[]): Promise<Array<string | number>>;
  /** `walkFiles`, the errors as `[path, errno]`. */
  walkFiles(paths: FilePath[]): NativeWalked;
  /**
   * The stream `plan` encodes (src/layer.ts), written to `target` as gzip at `level` (0: as it is),
   * or as zstd at `level` with `format` 'zstd'.
   */
  writeLayer(
    plan: Buffer,
    target: FilePath,
    level: number,
    format?: 'gzip' | 'zstd',
  ): Promise<NativeLayerOutcome>;
  /** The version of the process's zlib that `writeLayer` would use; null when there is none. */
  layerZlib(): string | null;
  /** The version of libzstd.so.1 that `writeLayer` would use for zstd; null when it cannot be loaded. */
  layerZstd(): string | null;
}

/** What the addon's `writeLayer` resolves to: the result, or the failure as data. */
export type NativeLayerOutcome =
  | { readonly digest: string; readonly diffId: string; readonly size: number; readonly error?: undefined }
  | {
      readonly error: 'read' | 'shrank' | 'grew' | 'write' | 'zlib';
      readonly path?: FilePath;
      readonly errno?: number;
      readonly message?: string;
    };

/** What the addon's `walkFiles` returns: the files, and what could not be looked at with its errno. */
export interface NativeWalked {
  readonly files: FilePath[];
  readonly errors: Array<[path: FilePath, errno: number]>;
}

/**
 * Where the addon is looked for, in order. The folder of this very module first: a bundle of dit
 * (dit.tar's dit.d/cli/*.cjs) carries the `.node` file beside it. Then the package folder, where
 * `napi build --platform` writes `dit-native.<platform>.node` (this module being src/loader.ts or
 * dist/loader.js, one level below). Worked out when the addon is first loaded, not on import: with
 * DIT_NATIVE=0 nothing is looked up.
 */
function addonDirs(): string[] {
  return [
    fileURLToPath(new URL('.', import.meta.url)).replace(/\/$/, ''),
    fileURLToPath(new URL('..', import.meta.url)).replace(/\/$/, ''),
    ...installedPackageDir(),
  ];
}

/**
 * The @dit/native package as Node resolves it from here: the place to look when this module is part
 * of a bundle that has no `.node` file beside it (the `dit` command's own bundles, in the CLI package).
 */
function installedPackageDir(): string[] {
  try {
    return [dirname(createRequire(import.meta.url).resolve('@dit/native/package.json'))];
  } catch {
    return [];
  }
}

/**
 * File names napi-rs gives each platform's build, most likely first. On Linux both C libraries are
 * tried: loading the other one's build fails, and that failure is kept as the cause.
 */
export function addonFileNames(platform: string = process.platform, arch: string = process.arch): string[] {
  const base = `dit-native.${platform}-${arch}`;
  if (platform === 'linux') return [`${base}-gnu.node`, `${base}-musl.node`];
  if (platform === 'win32') return [`${base}-msvc.node`];
  return [`${base}.node`];
}

export type LoadedAddon =
  | { readonly binding: NativeBinding; readonly path: string }
  | { readonly binding: null; readonly reason: string; readonly cause?: unknown };

/**
 * Loads the addon from the first of `dirs` that has a build (default: beside this module, then this
 * package), whatever DIT_NATIVE says. Never throws: a missing or broken build is reported with the
 * error that loading it raised.
 */
export function loadAddon(dirs: string | readonly string[] = addonDirs()): LoadedAddon {
  const require = createRequire(import.meta.url);
  const searched = [...new Set(typeof dirs === 'string' ? [dirs] : dirs)];
  const present = searched
    .flatMap((dir) => addonFileNames().map((name) => join(dir, name)))
    .filter((path) => existsSync(path));
  if (present.length === 0) {
    return {
      binding: null,
      reason: `the addon is not built (no ${addonFileNames().join(' or ')} in ${searched.join(' or ')}; run \`pnpm --filter @dit/native build\`)`,
    };
  }
  let lastError: unknown;
  for (const path of present) {
    try {
      return checkInterface(require(path) as Partial<NativeBinding>, path);
    } catch (error) {
      lastError = error;
    }
  }
  const message = lastError instanceof Error ? lastError.message : String(lastError);
  return { binding: null, reason: `the addon could not be loaded: ${message}`, cause: lastError };
}

/**
 * A loaded addon is used only when it was built from the sources this package was written for; any
 * other build is refused as a whole, with the command that rebuilds it.
 */
export function checkInterface(binding: Partial<NativeBinding>, path: string): LoadedAddon {
  if (binding.interfaceVersion === ADDON_INTERFACE) return { binding: binding as NativeBinding, path };
  const built =
    binding.interfaceVersion === undefined
      ? 'an older interface'
      : `interface version ${binding.interfaceVersion}`;
  return {
    binding: null,
    reason: `the addon at ${path} was built from other sources (${built}; this dit needs version ${ADDON_INTERFACE}): rebuild it with \`pnpm --filter @dit/native build\``,
  };
}

let addon: LoadedAddon | undefined;

/** The addon, loaded once per process. */
export function addonOnce(): LoadedAddon {
  addon ??= loadAddon();
  return addon;
}

/**
 * What every capability should use, in order: the DIT_NATIVE override (`0`: TypeScript, `1`: the
 * addon or an error), then the built addon, then the TypeScript fallback with the load error as
 * `cause`.
 */
export function decide(
  env: NodeJS.ProcessEnv = process.env,
  load: () => LoadedAddon = addonOnce,
): NativeStatus {
  if (env.DIT_NATIVE === '0') return { native: false, reason: 'DIT_NATIVE=0 selects the TypeScript path' };
  const loaded = load();
  if (loaded.binding !== null) return { native: true, path: loaded.path };
  return loaded.cause === undefined
    ? { native: false, reason: loaded.reason }
    : { native: false, reason: loaded.reason, cause: loaded.cause };
}
