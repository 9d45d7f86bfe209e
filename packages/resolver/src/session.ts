import { closeSync, openSync, readFileSync, readSync } from 'node:fs';
import { posix } from 'node:path';
import { type ByteString, ElfError, type ElfFile, readElfSync } from '@dit/elf';
import { fromByteString, fsPath, RootFs } from '@dit/paths';
import { type CpuProfile, hostCpuProfile } from './cpu.js';
import { ResolveError } from './errors.js';
import { type LdCache, parseLdCache } from './ld-cache.js';
import type { ResolveOptions } from './types.js';

/** The first (up to) 64 bytes of a file: enough for every check a loader makes before mapping it. */
export type Ident = Uint8Array;

/**
 * Everything one resolver run shares between the files it resolves: the root, the CPU, parsed ELF
 * files and the ld.so.cache. Resolving thousands of programs reads each library once.
 */
export class Session {
  readonly fs: RootFs;
  readonly cwd: string;
  readonly cpu: CpuProfile;
  readonly useCache: boolean;
  readonly libraryPath: string | null;
  readonly preload: string | null;
  /** Memo of per-search-candidate verdicts, owned by the loader models. */
  readonly memo = new Map<string, unknown>();
  private readonly elfs = new Map<string, ElfFile<string> | ElfError>();
  private readonly idents = new Map<string, Ident | null>();
  private ldCacheValue: LdCache | null | undefined;

  constructor(options: ResolveOptions = {}) {
    this.fs = rootFs(options);
    this.cwd = options.cwd ?? '/';
    this.cpu = options.cpu ?? hostCpuProfile();
    this.useCache = options.useCache ?? true;
    this.libraryPath = joinList(options.libraryPath);
    this.preload = joinList(options.preload);
  }

  /**
   * The parsed ELF file at a canonical path inside the root (throws ElfError, cached either way),
   * its names as the resolver carries them (@dit/paths' byte-names.ts).
   */
  elf(realPath: string): ElfFile<string> {
    let entry = this.elfs.get(realPath);
    if (entry === undefined) {
      try {
        entry = withNamesAsStrings(readElfSync(fsPath(this.fs.hostPath(realPath))));
      } catch (error) {
        if (!(error instanceof ElfError)) throw error;
        entry = error;
      }
      this.elfs.set(realPath, entry);
    }
    if (entry instanceof ElfError) throw entry;
    return entry;
  }

  /** The first 64 bytes of a file (fewer if it is shorter), or null if it cannot be read. */
  ident(realPath: string): Ident | null {
    let entry = this.idents.get(realPath);
    if (entry === undefined) {
      entry = readIdent(fsPath(this.fs.hostPath(realPath)));
      this.idents.set(realPath, entry);
    }
    return entry;
  }

  /** /etc/ld.so.cache of the root, parsed once; null when absent or unusable (the loader ignores it then). */
  ldCache(): LdCache | null {
    if (this.ldCacheValue === undefined) {
      this.ldCacheValue = null;
      const lookup = this.fs.lookup('/etc/ld.so.cache');
      if (lookup.realPath !== null && lookup.type === 'file') {
        try {
          this.ldCacheValue = parseLdCache(
            readFileSync(this.fs.hostPath(lookup.realPath)),
            '/etc/ld.so.cache',
          );
        } catch {
          this.ldCacheValue = null;
        }
      }
    }
    return this.ldCacheValue;
  }
}

function joinList(value: string | readonly string[] | undefined): string | null {
  if (value === undefined) return null;
  return typeof value === 'string' ? value : value.join(':');
}

function withNamesAsStrings(elf: ElfFile): ElfFile<string> {
  const dynamic = elf.dynamic;
  if (dynamic === null) return { ...elf, dynamic: null };
  const text = (name: ByteString | null) => (name === null ? null : fromByteString(name));
  return {
    ...elf,
    dynamic: {
      ...dynamic,
      needed: dynamic.needed.map(fromByteString),
      dependencies: dynamic.dependencies.map((dependency) => ({
        ...dependency,
        name: fromByteString(dependency.name),
      })),
      soname: text(dynamic.soname),
      rpath: text(dynamic.rpath),
      runpath: text(dynamic.runpath),
    },
  };
}

function readIdent(path: string | Buffer): Ident | null {
  let fd: number;
  try {
    fd = openSync(path, 'r');
  } catch {
    return null;
  }
  try {
    const bytes = Buffer.alloc(64);
    const got = readSync(fd, bytes, 0, 64, 0);
    return bytes.subarray(0, got);
  } catch {
    return null;
  } finally {
    closeSync(fd);
  }
}

/** The caller's RootFs, or one made for `root`; a RootFs of another folder than `root` is refused. */
function rootFs(options: ResolveOptions): RootFs {
  if (options.fs === undefined) return new RootFs(options.root ?? '/');
  if (options.root !== undefined && posix.resolve(options.root) !== options.fs.root) {
    throw new ResolveError(
      'RESOLVE_BAD_ROOT',
      options.root,
      `the RootFs given reads another root (${options.fs.root})`,
    );
  }
  return options.fs;
}
