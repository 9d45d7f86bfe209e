import type { Lookup, RootFs } from '@dit/resolver';
import { denyReason } from './deny.js';
import { refuseNameNotUtf8 } from './names.js';
import type { Reason } from './types.js';

export interface Selected {
  readonly path: string;
  readonly type: 'file' | 'symlink' | 'directory';
  /** For symlinks: the target as written. */
  readonly target?: string;
  readonly reasons: Reason[];
  /** A directory whose whole tree was asked for (an exact --include of a folder). */
  recursive?: boolean;
}

/**
 * The set of paths to export, keyed by where they are in the root: regular files and directories at
 * their canonical paths, symlinks at the path of the link itself. Adding a path adds every link on
 * the way to it, so `/lib64/ld-linux-x86-64.so.2` arrives with `/lib64 -> usr/lib64` and the file.
 */
export class Selection {
  private readonly entries = new Map<string, Selected>();
  readonly denied = new Map<string, string>();

  constructor(
    readonly fs: RootFs,
    /** Paths never selected (the output folder itself, when it lies inside the root). */
    private readonly outside: readonly string[] = [],
  ) {}

  /**
   * Selects `path` and the links on the way. `exact` (a path the user named) bypasses the deny
   * list. Returns the lookup (null when the path is denied), so callers can inspect the file.
   */
  add(path: string, reason: Reason, options: { exact?: boolean; cwd?: string } = {}): Lookup | null {
    const lookup = this.fs.lookup(path, options.cwd ?? '/');
    if (lookup.error !== null) refuseNameNotUtf8(this.fs, lookup.path, reason);
    const candidates = [lookup.path, ...(lookup.realPath === null ? [] : [lookup.realPath])];
    for (const candidate of candidates) {
      if (this.outside.some((dir) => candidate === dir || candidate.startsWith(`${dir}/`))) return null;
      const denied = options.exact ? null : denyReason(candidate);
      if (denied !== null) {
        this.denied.set(candidate, denied);
        return null;
      }
    }
    for (const hop of lookup.links) {
      this.put(hop.path, 'symlink', { kind: 'link-on-the-way', to: lookup.path }, hop.target);
    }
    if (lookup.realPath === null) return lookup; // a dangling link: the links are still worth keeping
    if (lookup.type === 'file') this.put(lookup.realPath, 'file', reason);
    else if (lookup.type === 'directory') this.put(lookup.realPath, 'directory', reason);
    else {
      this.denied.set(lookup.realPath, 'not a regular file (socket, device or fifo)');
      return null;
    }
    return lookup;
  }

  get(path: string): Selected | undefined {
    return this.entries.get(path);
  }

  values(): IterableIterator<Selected> {
    return this.entries.values();
  }

  get size(): number {
    return this.entries.size;
  }

  remove(path: string): void {
    this.entries.delete(path);
  }

  private put(path: string, type: Selected['type'], reason: Reason, target?: string): void {
    const existing = this.entries.get(path);
    if (existing !== undefined) {
      if (!existing.reasons.some((known) => sameReason(known, reason))) existing.reasons.push(reason);
      return;
    }
    this.entries.set(path, { path, type, target, reasons: [reason] });
  }
}

function sameReason(a: Reason, b: Reason): boolean {
  return JSON.stringify(a) === JSON.stringify(b);
}
