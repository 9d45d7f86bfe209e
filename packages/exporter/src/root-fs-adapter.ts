import type { Stats } from 'node:fs';
import { posix } from 'node:path';
import type { FolderEntry, FolderListing, RootFs } from '@dit/paths';
import type FastGlob from 'fast-glob';

/** A folder that could not be listed, as the glob named it, and the errno that said why. */
export interface SkippedFolder {
  readonly path: string;
  readonly error: string;
}

/**
 * fast-glob's `fs` option answered through RootFs, so that a glob walks the root and never the host.
 *
 * fast-glob (with `cwd: '/'` and absolute patterns) names paths inside the root: the base of each
 * pattern (`/usr/share/zoneinfo`), then each folder it meets below by joining names. A base is
 * resolved by `RootFs.readdir`, links on it followed inside the root as the kernel would for a named
 * path; a folder met below is listed by `RootFs.readdirEntry` from its parent's listing, which opens
 * only a real folder (never a link) in a canonical folder. So the host only ever sees paths that
 * hold no symlink, under the root. With `followSymbolicLinks: false` fast-glob never descends into
 * an entry typed as a link, and the entries are typed as the folder lists them.
 *
 * A folder that cannot be listed (ELOOP, ENOTDIR, EACCES, ENAMETOOLONG...) is recorded in `skipped`
 * and handed to fast-glob as empty: the walk goes on, and the caller warns. Only a missing path is
 * left unrecorded: a pattern whose base does not exist matches nothing, as a shell's glob does.
 * Nothing is thrown to fast-glob but ENOENT, which it takes as "not there"; any other exception is a
 * bug and surfaces.
 */
export class RootFsAdapter {
  readonly skipped: SkippedFolder[] = [];
  /** Bases fast-glob walked from that crossed symlinks inside the root (named as fast-glob named them). */
  readonly via = new Set<string>();
  /** Folders listed, by the path fast-glob named them: children are listed from them, matches made canonical. */
  private readonly listings = new Map<string, FolderListing>();
  /** Canonical paths of what fast-glob stat'ed by name (a brace's literal alternatives). */
  private readonly named = new Map<string, string>();

  constructor(private readonly fs: RootFs) {}

  /**
   * Hands over the listing of the pattern's literal part, made before the glob ran, under the
   * canonical path fast-glob is given: it is not read twice, and what lies below is still named as
   * the pattern reached it (the listing's own path) in `skipped`.
   */
  seed(path: string, listing: FolderListing): void {
    if (listing.error === null) this.listings.set(path, listing);
  }

  /**
   * The canonical path inside the root of a path fast-glob returned: its parent's canonical folder
   * and its own name (itself possibly a symlink, which stays one). Null for a path fast-glob did not
   * reach through this adapter.
   */
  canonical(path: string): string | null {
    const named = this.named.get(path);
    if (named !== undefined) return named;
    // Called for every match: plain string work, no path normalisation (fast-glob's paths are normal).
    const slash = path.lastIndexOf('/');
    const parent = this.listings.get(slash === 0 ? '/' : path.slice(0, slash))?.realPath;
    if (parent === undefined || parent === null) return null;
    return parent === '/' ? path.slice(slash) : parent + path.slice(slash);
  }

  /**
   * The six methods fast-glob's `fs` option takes. fast-glob calls only the Sync ones from `sync()`
   * (`readdirSync(path, { withFileTypes: true })`, and `lstatSync` for a pattern's static parts); the
   * callback ones are given too, so that no method falls back to Node's own fs, which reads the host.
   */
  methods(): FastGlob.FileSystemAdapter {
    const readdirSync = (path: string, options?: { withFileTypes?: boolean }) => {
      const entries = this.readdir(path);
      return options?.withFileTypes
        ? entries.map((entry) => new ListedEntry(entry))
        : entries.map((e) => e.name);
    };
    const lstatSync = (path: string) => this.lstat(path);
    const statSync = (path: string) => this.statFollowing(path);
    const methods = {
      readdirSync,
      lstatSync,
      statSync,
      readdir: callbackForm(readdirSync),
      lstat: callbackForm(lstatSync),
      stat: callbackForm(statSync),
    };
    // fast-glob types each method as Node's (every overload); these answer the calls it makes.
    return methods as unknown as FastGlob.FileSystemAdapter;
  }

  private readdir(path: string): readonly FolderEntry[] {
    const listing = this.list(absolute(path));
    if (listing.error !== null) {
      if (listing.error !== 'ENOENT') this.skipped.push({ path: listing.path, error: listing.error });
      return [];
    }
    return listing.entries;
  }

  private list(path: string): FolderListing {
    const known = this.listings.get(path);
    if (known !== undefined) return known;
    const parent = path === '/' ? undefined : this.listings.get(posix.dirname(path));
    // A real folder of a listed folder: listed without a path walk. Anything else (a base of the
    // pattern, a link named by a brace's literal alternative) takes the path walk inside the root.
    let listing = parent === undefined ? null : this.fs.readdirEntry(parent, posix.basename(path));
    if (listing === null || listing.realPath === null) {
      listing = this.fs.readdir(path);
      if (listing.error === null && this.fs.lookup(path).links.length > 0) this.via.add(path);
    }
    if (listing.error === null) this.listings.set(path, listing);
    return listing;
  }

  /** lstat of a name: its folder resolved inside the root, the name itself not followed. */
  private lstat(path: string): Stats {
    const named = absolute(path);
    if (named === '/') return this.statOrMissing('/', path);
    const folder = posix.dirname(named);
    let realFolder = this.listings.get(folder)?.realPath ?? null;
    if (realFolder === null) {
      const lookup = this.fs.lookup(folder);
      if (lookup.error !== null || lookup.type !== 'directory') {
        const error = lookup.error ?? 'ENOTDIR';
        if (error !== 'ENOENT') this.skipped.push({ path: folder, error });
        throw missing(path);
      }
      realFolder = lookup.realPath!;
      if (lookup.links.length > 0) this.via.add(folder);
    }
    const real = posix.join(realFolder, posix.basename(named));
    const stats = this.statOrMissing(real, path);
    this.named.set(named, real);
    return stats;
  }

  /** stat of a path, the final link followed too (inside the root). */
  private statFollowing(path: string): Stats {
    const lookup = this.fs.lookup(absolute(path));
    if (lookup.realPath === null) throw missing(path);
    return this.statOrMissing(lookup.realPath, path);
  }

  /** RootFs.stat of a canonical path; an unreadable one is missing to fast-glob. */
  private statOrMissing(real: string, asked: string): Stats {
    const stats = this.fs.stat(real);
    if (stats === null) throw missing(asked);
    return stats;
  }
}

/** An entry of a RootFs listing, shaped as the `fs.Dirent` fast-glob reads (name, type tests). */
class ListedEntry {
  readonly name: string;
  private readonly type: FolderEntry['type'];

  constructor(entry: FolderEntry) {
    this.name = entry.name;
    this.type = entry.type;
  }

  isFile(): boolean {
    return this.type === 'file';
  }
  isDirectory(): boolean {
    return this.type === 'directory';
  }
  isSymbolicLink(): boolean {
    return this.type === 'symlink';
  }
  // A listing says 'other' for sockets, FIFOs and devices alike: none is claimed.
  isBlockDevice(): boolean {
    return false;
  }
  isCharacterDevice(): boolean {
    return false;
  }
  isFIFO(): boolean {
    return false;
  }
  isSocket(): boolean {
    return false;
  }
}

/**
 * A path fast-glob named, absolute inside the root. fast-glob's own are absolute and normal already
 * (its `cwd` is `/`); any other is taken from `/`. A `..` is left to RootFs, which reads it as the
 * kernel does (after a link, the parent of where the link led), not lexically.
 */
function absolute(path: string): string {
  return path.startsWith('/') ? path : `/${path}`;
}

/** ENOENT as Node's fs throws it: the one error fast-glob takes as "not there" rather than fatal. */
function missing(path: string): NodeJS.ErrnoException {
  return Object.assign(new Error(`ENOENT: no such file or directory inside the root, '${path}'`), {
    code: 'ENOENT',
    path,
  });
}

/** The `(path, [options,] callback)` form of a sync method, for callers of fs's callback API. */
function callbackForm<T>(
  sync: (path: string, options?: { withFileTypes?: boolean }) => T,
): (path: string, ...rest: unknown[]) => void {
  return (path, ...rest) => {
    const callback = rest.pop() as (error: NodeJS.ErrnoException | null, result?: T) => void;
    const options = rest[0] as { withFileTypes?: boolean } | undefined;
    let result: T;
    try {
      result = sync(path, options);
    } catch (error) {
      queueMicrotask(() => callback(error as NodeJS.ErrnoException));
      return;
    }
    queueMicrotask(() => callback(null, result));
  };
}
