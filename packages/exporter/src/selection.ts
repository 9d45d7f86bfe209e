import type { Lookup, RootFs } from '@dit/paths';
import { denyReason } from './deny.js';
import { refuseNameNotUtf8 } from './names.js';
import { secretContentRule } from './secrets.js';
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

/** A secret left out of the export: reported (path and rule) and warned about, never copied. */
export interface Withheld {
  readonly path: string;
  /** The rule that matched: a name rule of secrets.ts, `private-key-content` or `hard-link-to-withheld`. */
  readonly rule: string;
  /** Why, for the warning (`holds a -----BEGIN RSA PRIVATE KEY----- block`). */
  readonly detail: string;
}

/**
 * The set of paths to export, keyed by where they are in the root: regular files and directories at
 * their canonical paths, symlinks at the path of the link itself. Adding a path adds every link on
 * the way to it, so `/lib64/ld-linux-x86-64.so.2` arrives with `/lib64 -> usr/lib64` and the file.
 *
 * Every path not named exactly passes the deny list here, the one door into the set: virtual
 * filesystems are left out silently, secrets (by name, by content, or as another name of a withheld
 * file) are withheld and listed in `withheld`.
 */
export class Selection {
  private readonly entries = new Map<string, Selected>();
  /** Left out without a word: virtual filesystems, runtime state, sockets and devices. */
  readonly denied = new Map<string, string>();
  /** Secrets left out, by path: the report and the warnings name each one. */
  readonly withheld = new Map<string, Withheld>();
  /** `dev:ino` of withheld files with other names, and the path withheld. */
  private readonly withheldFiles = new Map<string, string>();
  /** `dev:ino` of selected files with several names (hard links), and those names. */
  private readonly linkedFiles = new Map<string, string[]>();
  /** Paths the user named exactly: taken whatever they hold. */
  private readonly exact = new Set<string>();

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
      if (options.exact) {
        // Named exactly: "yes, I mean it", even if an earlier, broader request withheld it.
        this.withheld.delete(candidate);
        continue;
      }
      const denial = denyReason(candidate, lookup.type === 'directory');
      if (denial?.kind === 'virtual') {
        this.denied.set(candidate, `${denial.rule} is virtual or runtime state`);
        return null;
      }
      if (denial?.kind === 'secret') {
        this.withhold(lookup, { path: candidate, rule: denial.rule, detail: 'by its name' });
        return null;
      }
    }
    if (lookup.type === 'file' && lookup.realPath !== null) {
      if (options.exact) this.exact.add(lookup.realPath);
      else if (this.isWithheldFile(lookup)) return null;
    }
    for (const hop of lookup.links) {
      this.put(hop.path, 'symlink', { kind: 'link-on-the-way', to: lookup.path }, hop.target);
    }
    if (lookup.realPath === null) return lookup; // a dangling link: the links are still worth keeping
    if (lookup.type === 'file') {
      this.put(lookup.realPath, 'file', reason);
      this.noteLinks(lookup);
    } else if (lookup.type === 'directory') this.put(lookup.realPath, 'directory', reason);
    else {
      this.denied.set(lookup.realPath, 'not a regular file (socket, device or fifo)');
      return null;
    }
    return lookup;
  }

  /**
   * Whether the regular file `lookup` names must be withheld for what it is rather than what it is
   * called: another name of a withheld file, or a head holding a private key. Read once per file:
   * a file already selected has passed, one already withheld stays so.
   */
  private isWithheldFile(lookup: Lookup): boolean {
    const realPath = lookup.realPath!;
    if (this.entries.has(realPath)) return false;
    if (this.withheld.has(realPath)) return true;
    const original = lookup.identity === null ? undefined : this.withheldFiles.get(lookup.identity);
    if (original !== undefined) {
      this.withhold(lookup, {
        path: realPath,
        rule: 'hard-link-to-withheld',
        detail: `the same file as ${original}`,
      });
      return true;
    }
    const content = secretContentRule(this.fs.hostPath(realPath));
    if (content === null) return false;
    this.withhold(lookup, { path: realPath, ...content });
    return true;
  }

  /**
   * Records a withheld secret. A regular file with other names (hard links) is withheld under all of
   * them: names selected before are taken out again (unless named exactly), later ones are refused.
   */
  private withhold(lookup: Lookup, withheld: Withheld): void {
    this.withheld.set(withheld.path, withheld);
    if (lookup.type !== 'file' || lookup.identity === null || lookup.realPath === null) return;
    if ((this.fs.stat(lookup.realPath)?.nlink ?? 1) < 2) return;
    this.withheldFiles.set(lookup.identity, withheld.path);
    for (const other of this.linkedFiles.get(lookup.identity) ?? []) {
      if (this.exact.has(other) || !this.entries.has(other)) continue;
      this.entries.delete(other);
      this.withheld.set(other, {
        path: other,
        rule: 'hard-link-to-withheld',
        detail: `the same file as ${withheld.path}`,
      });
    }
  }

  /** Remembers the names of a selected file with hard links, in case one of them is withheld later. */
  private noteLinks(lookup: Lookup): void {
    const realPath = lookup.realPath!;
    if (lookup.identity === null || (this.fs.stat(realPath)?.nlink ?? 1) < 2) return;
    const names = this.linkedFiles.get(lookup.identity) ?? [];
    if (!names.includes(realPath)) names.push(realPath);
    this.linkedFiles.set(lookup.identity, names);
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

/** The warning for a withheld secret: what, which rule, why, and how to take it anyway. */
export function describeWithheld(withheld: Withheld): string {
  return `withheld ${withheld.path}: ${withheld.rule} (${withheld.detail}; --include ${withheld.path} takes it)`;
}

function sameReason(a: Reason, b: Reason): boolean {
  return JSON.stringify(a) === JSON.stringify(b);
}
