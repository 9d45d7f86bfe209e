import type { ByteString } from '@dit/elf';
import type { RootFs, SymlinkHop } from '@dit/paths';
import type { CpuProfile } from './cpu.js';

export interface ResolveOptions {
  /** Resolve inside this unpacked image root; the host is never consulted. Default `/`, or `fs`'s root. */
  readonly root?: string;
  /**
   * The root to read through, shared with the caller (a pipeline passes its one RootFs down, so its
   * walks are cached once). Made from `root` when not given; given with `root`, both must name the
   * same folder.
   */
  readonly fs?: RootFs;
  /** LD_LIBRARY_PATH (a string split like the loader does, or a list of directories). */
  readonly libraryPath?: string | readonly string[];
  /** LD_PRELOAD entries (glibc and musl both load them before the program's own needs). */
  readonly preload?: string | readonly string[];
  /** The process's working directory, for relative names and empty path elements. Default `/`. */
  readonly cwd?: string;
  /** CPU to resolve for (glibc-hwcaps, $PLATFORM). Default: this machine's CPU. */
  readonly cpu?: CpuProfile;
  /** Use /etc/ld.so.cache (default true, as the loader does; false is like `--inhibit-cache`). */
  readonly useCache?: boolean;
}

/** How a library was found, in the loader's own terms. */
export type FoundBy =
  | 'rpath'
  | 'ld-library-path'
  | 'runpath'
  | 'cache'
  | 'default-dirs'
  | 'musl-path'
  | 'path'
  | 'interpreter'
  | 'preload';

/**
 * Names and paths that come from an ELF file (and paths built from them) are `ByteString`s: text
 * when UTF-8, else the exact bytes the loader would open.
 */
export interface ResolvedLibrary {
  /** The name it was first asked for (a DT_NEEDED entry, or a preload). */
  readonly name: ByteString;
  /** The path as the loader would print it (`=> PATH` in ldd), inside the root; null when not found. */
  readonly path: ByteString | null;
  /** The canonical path inside the root. */
  readonly realPath: ByteString | null;
  /** Every symlink between `path` and `realPath` (directory links included), for exporters. */
  readonly links: readonly SymlinkHop[];
  /** The object whose request first loaded it (a path as printed; the main program's own path for it). */
  readonly neededBy: ByteString;
  readonly foundBy: FoundBy | null;
  /** The object's DT_SONAME, if it has one. */
  readonly soname: ByteString | null;
}

export interface MissingLibrary {
  readonly name: ByteString;
  readonly neededBy: ByteString;
}

/** A problem that would stop the loader before the program starts ("error while loading shared libraries"). */
export interface LoadFailure {
  /**
   * FATAL_LOAD_ERROR: the loader refuses a file and stops. UNMAPPED_READ: it would read a dynamic
   * section or a string where the file maps nothing; it crashes, or reads whatever else is mapped
   * there, which no static reader can know: dit says it stops (docs/loader.md §2).
   */
  readonly code: 'FATAL_LOAD_ERROR' | 'UNMAPPED_READ';
  /** The file the loader choked on. */
  readonly path: ByteString;
  readonly message: string;
}

export interface Resolution {
  /** The file as given. */
  readonly file: string;
  /** How it runs: by glibc's or musl's loader, statically (no loader), or not at all. */
  readonly loader: 'glibc' | 'musl' | 'static' | 'unknown';
  /** PT_INTERP as written, or null. */
  readonly interpreter: string | null;
  /** Symlinks crossed to reach the interpreter (`/lib64/ld-linux-x86-64.so.2` is one). */
  readonly interpreterLinks: readonly SymlinkHop[];
  /** The interpreter's canonical path inside the root, or null when it is missing. */
  readonly interpreterRealPath: string | null;
  /** Symlinks crossed to reach the file itself. */
  readonly fileLinks: readonly SymlinkHop[];
  /** The whole transitive set in load order, each object once; missing ones have `path: null`. */
  readonly libraries: readonly ResolvedLibrary[];
  readonly missing: readonly MissingLibrary[];
  /** Set when the loader would refuse to start the program (garbage in a search directory, ...). */
  readonly failure: LoadFailure | null;
}
