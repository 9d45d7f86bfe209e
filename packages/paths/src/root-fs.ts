import { lstatSync, readdirSync, readlinkSync, type Stats } from 'node:fs';
import { posix } from 'node:path';
import { fsPath } from './byte-names.js';

/** A symlink crossed on the way to a file: where it is and what it says (both inside the root). */
export interface SymlinkHop {
  readonly path: string;
  readonly target: string;
}

export type LookupError = 'ENOENT' | 'ENOTDIR' | 'ELOOP' | 'EACCES';

/** The outcome of following a path inside the root the way the kernel's path walk does. */
export interface Lookup {
  /** The path that was asked for, absolute inside the root (not normalised). */
  readonly path: string;
  /** The canonical path inside the root, or null when the walk failed. */
  readonly realPath: string | null;
  /** Every symlink crossed, in the order the walk met them (directory links included). */
  readonly links: readonly SymlinkHop[];
  readonly error: LookupError | null;
  /** What the path finally names. */
  readonly type: 'file' | 'directory' | 'other' | null;
  /** `dev:ino` of the final file: the loader's "same file?" test. */
  readonly identity: string | null;
}

/** One name in a folder, typed as the folder lists it: a symlink is a symlink, never followed. */
export interface FolderEntry {
  readonly name: string;
  readonly type: 'file' | 'directory' | 'symlink' | 'other';
}

/** A folder's names, read inside the root. */
export interface FolderListing {
  /** The path that was asked for, absolute inside the root. */
  readonly path: string;
  /** The canonical folder that was listed, or null when it could not be. */
  readonly realPath: string | null;
  readonly entries: readonly FolderEntry[];
  /**
   * Why it could not be listed: the walk's LookupError, or the errno code of the listing itself
   * (ENOTDIR for a file, EACCES, ENAMETOOLONG past PATH_MAX, EIO...). Null when listed.
   */
  readonly error: string | null;
}

/** The kernel gives up after 40 symlinks in one walk (ELOOP). */
const MAX_LINKS = 40;

/**
 * A read-only view of a directory tree as if it were `/`: every path, and every absolute symlink
 * target, is resolved inside `root`, and `..` stops at it, so nothing can lead outside. With root
 * `/` it is simply the host. Results are cached: a resolver asks for the same directories thousands
 * of times, and the files do not change under it during one run.
 */
export class RootFs {
  readonly root: string;
  /** lstat results: null for a missing path, 'EACCES' where a directory on the way is not searchable. */
  private readonly stats = new Map<string, Stats | null | 'EACCES'>();
  private readonly targets = new Map<string, string>();
  private readonly lookups = new Map<string, Lookup>();
  /** Why lstat failed, where it was neither ENOENT nor EACCES (both already told by the lookup). */
  private readonly lstatFailures = new Map<string, string>();
  /** The real folders (not links) each listing made here holds: what readdirEntry may descend into. */
  private readonly listedFolders = new WeakMap<FolderListing, ReadonlySet<string>>();

  constructor(root = '/') {
    this.root = posix.resolve(root);
  }

  /** The host path behind a path inside the root (no symlinks resolved). */
  hostPath(path: string): string {
    return this.root === '/' ? path : posix.join(this.root, path);
  }

  /** Follows `path` (absolute inside the root, or relative to `cwd` inside the root). */
  lookup(path: string, cwd = '/'): Lookup {
    const absolute = path.startsWith('/') ? path : posix.join(cwd, path);
    const cached = this.lookups.get(absolute);
    if (cached !== undefined) return cached;
    const result = this.walk(absolute);
    this.lookups.set(absolute, result);
    return result;
  }

  private walk(path: string): Lookup {
    const links: SymlinkHop[] = [];
    // Components still to walk, in order; a symlink's target is spliced in front of the rest.
    const pending = path.split('/').filter((part) => part !== '' && part !== '.');
    const current: string[] = [];
    let linkCount = 0;
    const fail = (error: LookupError): Lookup => ({
      path,
      realPath: null,
      links,
      error,
      type: null,
      identity: null,
    });

    while (pending.length > 0) {
      const part = pending.shift()!;
      if (part === '..') {
        current.pop(); // `..` of the root is the root: nothing escapes
        continue;
      }
      const candidate = `/${[...current, part].join('/')}`;
      const stat = this.lstat(candidate);
      if (stat === null) return fail('ENOENT');
      if (stat === 'EACCES') return fail('EACCES');
      if (stat.isSymbolicLink()) {
        if (++linkCount > MAX_LINKS) return fail('ELOOP');
        const target = this.readlink(candidate);
        links.push({ path: candidate, target });
        if (target.startsWith('/')) current.length = 0;
        pending.unshift(...target.split('/').filter((p) => p !== '' && p !== '.'));
        continue;
      }
      if (pending.length > 0 && !stat.isDirectory()) return fail('ENOTDIR');
      current.push(part);
    }

    const realPath = `/${current.join('/')}`;
    const stat = this.lstat(realPath);
    if (stat === null) return fail('ENOENT');
    if (stat === 'EACCES') return fail('EACCES');
    return {
      path,
      realPath,
      links,
      error: null,
      type: stat.isFile() ? 'file' : stat.isDirectory() ? 'directory' : 'other',
      identity: `${stat.dev}:${stat.ino}`,
    };
  }

  /**
   * Lists a folder inside the root. `path` is walked like any other (links on the way followed
   * inside the root), and only the canonical folder it reaches is read on the host, whose path holds
   * no symlink: nothing outside the root is ever listed. Not cached: a tree walk reads each once.
   */
  readdir(path: string): FolderListing {
    const lookup = this.lookup(path);
    const fail = (error: string): FolderListing => ({
      path,
      realPath: lookup.realPath,
      entries: [],
      error,
    });
    if (lookup.error !== null) return fail(lookup.error === 'ENOENT' ? this.whyMissing(path) : lookup.error);
    if (lookup.type !== 'directory') return fail('ENOTDIR');
    return this.list(path, lookup.realPath!);
  }

  /**
   * ENOENT, or the errno of an lstat on the way that failed otherwise (ENAMETOOLONG past PATH_MAX),
   * found where the path's own names were walked (a link on the way walks other names: ENOENT).
   */
  private whyMissing(path: string): string {
    const parts = posix
      .resolve('/', path)
      .split('/')
      .filter((part) => part !== '');
    for (let length = 1; length <= parts.length; length++) {
      const failure = this.lstatFailures.get(`/${parts.slice(0, length).join('/')}`);
      if (failure !== undefined) return failure;
    }
    return 'ENOENT';
  }

  /**
   * Lists a folder met in a listing: `name` must be an entry of type 'directory' of `parent`, a
   * listing this RootFs made. Such a folder is canonical by construction (a real folder, not a link,
   * in a canonical folder), so no path walk is needed: a tree walk pays one getdents per folder and
   * no lstat. Anything else (a link, a file, a name not listed) is refused with ENOTDIR or ENOENT.
   */
  readdirEntry(parent: FolderListing, name: string): FolderListing {
    const path = parent.path === '/' ? `/${name}` : `${parent.path}/${name}`;
    const folders = this.listedFolders.get(parent);
    if (folders === undefined || parent.realPath === null || !folders.has(name)) {
      const listed = parent.entries.some((entry) => entry.name === name);
      return { path, realPath: null, entries: [], error: listed ? 'ENOTDIR' : 'ENOENT' };
    }
    return this.list(path, parent.realPath === '/' ? `/${name}` : `${parent.realPath}/${name}`);
  }

  private list(path: string, realPath: string): FolderListing {
    let listing: FolderListing;
    const folders = new Set<string>();
    try {
      const entries = readdirSync(this.hostPath(realPath), { withFileTypes: true }).map(
        (dirent): FolderEntry => {
          if (dirent.isDirectory()) folders.add(dirent.name);
          return {
            name: dirent.name,
            type: dirent.isSymbolicLink()
              ? 'symlink'
              : dirent.isDirectory()
                ? 'directory'
                : dirent.isFile()
                  ? 'file'
                  : 'other',
          };
        },
      );
      listing = { path, realPath, entries, error: null };
    } catch (error) {
      listing = { path, realPath, entries: [], error: (error as NodeJS.ErrnoException).code ?? 'EIO' };
    }
    this.listedFolders.set(listing, folders);
    return listing;
  }

  /** lstat of a path inside the root, without following a final link (cached); null when unreadable or missing. */
  stat(path: string): Stats | null {
    const stat = this.lstat(path);
    return stat === 'EACCES' ? null : stat;
  }

  private lstat(path: string): Stats | null | 'EACCES' {
    let stat = this.stats.get(path);
    if (stat === undefined) {
      try {
        stat = lstatSync(fsPath(this.hostPath(path)), { throwIfNoEntry: false }) ?? null;
      } catch (error) {
        // Anything else (ENAMETOOLONG, EIO) makes the path unusable, like a missing one.
        const code = (error as NodeJS.ErrnoException).code ?? 'EIO';
        stat = code === 'EACCES' ? 'EACCES' : null;
        if (code !== 'EACCES' && code !== 'ENOENT') this.lstatFailures.set(path, code);
      }
      this.stats.set(path, stat);
    }
    return stat;
  }

  private readlink(path: string): string {
    let target = this.targets.get(path);
    if (target === undefined) {
      target = readlinkSync(fsPath(this.hostPath(path)), 'utf8');
      this.targets.set(path, target);
    }
    return target;
  }
}
