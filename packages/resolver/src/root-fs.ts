import { lstatSync, readlinkSync, type Stats } from 'node:fs';
import { posix } from 'node:path';

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

  /** lstat of a path inside the root, without following a final link (cached); null when unreadable or missing. */
  stat(path: string): Stats | null {
    const stat = this.lstat(path);
    return stat === 'EACCES' ? null : stat;
  }

  private lstat(path: string): Stats | null | 'EACCES' {
    let stat = this.stats.get(path);
    if (stat === undefined) {
      try {
        stat = lstatSync(this.hostPath(path), { throwIfNoEntry: false }) ?? null;
      } catch (error) {
        // Anything else (ENAMETOOLONG, EIO) makes the path unusable, like a missing one.
        stat = (error as NodeJS.ErrnoException).code === 'EACCES' ? 'EACCES' : null;
      }
      this.stats.set(path, stat);
    }
    return stat;
  }

  private readlink(path: string): string {
    let target = this.targets.get(path);
    if (target === undefined) {
      target = readlinkSync(this.hostPath(path), 'utf8');
      this.targets.set(path, target);
    }
    return target;
  }
}
