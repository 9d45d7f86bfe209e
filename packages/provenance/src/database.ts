import { readFileSync } from 'node:fs';
import { posix } from 'node:path';
import type { RootFs } from '@dit/paths';
import { field, parseStanzas, type Stanza } from './control.js';
import { type Diversion, parseDiversions } from './diversions.js';
import { ProvenanceError } from './errors.js';

/** dpkg's administrative folder, inside the root. */
export const DPKG_ADMINDIR = '/var/lib/dpkg';

export interface DpkgPackage {
  /** `Package`. */
  readonly name: string;
  /**
   * How dpkg names the package in its info files and in `dpkg -S`: `libc6:amd64` for a
   * `Multi-Arch: same` package (several architectures can be installed side by side), else the name.
   */
  readonly id: string;
  readonly version: string;
  readonly architecture: string;
  /** The `Status` field: `install ok installed` for an installed package. */
  readonly status: string;
  readonly installed: boolean;
  /** The stanza exactly as the root's `status` file holds it. */
  readonly stanza: Stanza;
}

/** One line of a package's `md5sums`: the digest and the path as dpkg wrote it (no leading `/`). */
export interface Md5Line {
  readonly md5: string;
  readonly listedPath: string;
}

/**
 * A root's dpkg database, read through its RootFs (so `--root` never reads the host's), answering
 * "which package put this file here". Paths are matched where they really are in the root: dpkg
 * records the path a package shipped (`/lib/x86_64-linux-gnu/libc.so.6`), while on a merged-/usr
 * system that file is found at `/usr/lib/x86_64-linux-gnu/libc.so.6`; every listed path's folder is
 * resolved through the root's own links, so `/bin`, `/lib`, `/lib64`, `/sbin` (and any other
 * folder link) agree with the paths an export holds. Diversions move ownership as dpkg does: the
 * file at a diverted path belongs to the diverting package, its displaced copy to the others.
 */
export class DpkgDatabase {
  /** Installed (or otherwise recorded) packages by id, in the status file's order. */
  readonly packages: ReadonlyMap<string, DpkgPackage>;
  readonly diversions: readonly Diversion[];
  /**
   * Every listed path by its last name: a question reads only the few entries sharing that name, so
   * only their folders are looked up in the root (resolving all ~10,000 folders of a large system
   * up front cost more than the rest of an export).
   */
  private readonly byName = new Map<string, { readonly listed: string; readonly pkg: DpkgPackage }[]>();
  private readonly folders = new Map<string, string>();
  private readonly md5sums = new Map<string, Map<string, Md5Line>>();
  private divertedFrom: Map<string, Diversion> | null = null;
  private divertedTo: Map<string, Diversion> | null = null;

  private constructor(
    private readonly fs: RootFs,
    private readonly admindir: string,
    packages: Map<string, DpkgPackage>,
    diversions: Diversion[],
  ) {
    this.packages = packages;
    this.diversions = diversions;
    const lists: [DpkgPackage, string[]][] = [];
    for (const pkg of packages.values()) {
      const list = readInRoot(fs, `${admindir}/info/${pkg.id}.list`);
      // A package with no files (or only config-files left without a list) owns nothing.
      if (list !== null) lists.push([pkg, list.split('\n')]);
    }
    // A folder is named by every package with files in it (`/lib` by dozens, and base-files lists
    // `/bin` although the root now has a link there): it says nothing about where a file came from.
    // A listed path is a folder when any list names something inside it.
    const folders = new Set<string>();
    for (const [, lines] of lists)
      for (const listed of lines) folders.add(listed.slice(0, listed.lastIndexOf('/')));
    for (const [pkg, lines] of lists) {
      for (const listed of lines) {
        if (listed === '' || listed === '/.' || folders.has(listed)) continue;
        const name = listed.slice(listed.lastIndexOf('/') + 1);
        const entries = this.byName.get(name);
        if (entries === undefined) this.byName.set(name, [{ listed, pkg }]);
        else entries.push({ listed, pkg });
      }
    }
  }

  /**
   * Reads the database at `admindir` inside `fs`'s root. Null when the root has no dpkg database
   * (not a Debian-like root): every file is then an application file.
   */
  static read(fs: RootFs, admindir = DPKG_ADMINDIR): DpkgDatabase | null {
    const status = readInRoot(fs, `${admindir}/status`);
    if (status === null) return null;
    const packages = new Map<string, DpkgPackage>();
    for (const stanza of parseStanzas(status)) {
      const pkg = toPackage(stanza);
      if (pkg !== null) packages.set(pkg.id, pkg);
    }
    const diversions = parseDiversions(readInRoot(fs, `${admindir}/diversions`) ?? '');
    return new DpkgDatabase(fs, admindir, packages, diversions);
  }

  /**
   * The packages that own the file at `path` (absolute, with its folders as they really are in the
   * root, as an export names its entries); empty for an application file. Several packages can own
   * one path (`Multi-Arch: same` packages of two architectures). Folders are nobody's: a listed path
   * with listed paths under it (in any package's list) is a folder.
   */
  ownersOf(path: string): readonly DpkgPackage[] {
    const canonical = this.canonical(path);
    this.divertedFrom ??= new Map(this.diversions.map((d) => [this.canonical(d.from), d]));
    this.divertedTo ??= new Map(this.diversions.map((d) => [this.canonical(d.to), d]));
    // dpkg-divert: the file unpacked at `from` is the diverting package's own (if it ships one), and
    // every other package that lists `from` had its copy unpacked at `to` instead.
    const from = this.divertedFrom.get(canonical);
    const to = this.divertedTo.get(canonical);
    const owners = this.listing(canonical).filter((pkg) => from === undefined || pkg.name === from.by);
    if (to !== undefined) {
      for (const pkg of this.listing(this.canonical(to.from)))
        if (pkg.name !== to.by && !owners.includes(pkg)) owners.push(pkg);
    }
    return owners;
  }

  /** The packages whose list holds `canonical`, in whatever spelling of its folders. */
  private listing(canonical: string): DpkgPackage[] {
    const name = canonical.slice(canonical.lastIndexOf('/') + 1);
    const owners: DpkgPackage[] = [];
    for (const { listed, pkg } of this.byName.get(name) ?? []) {
      if (this.canonical(listed) === canonical && !owners.includes(pkg)) owners.push(pkg);
    }
    return owners;
  }

  /** The `md5sums` line of `pkg` for the file at `path`, or undefined (conffiles and links have none). */
  md5Of(pkg: DpkgPackage, path: string): Md5Line | undefined {
    let lines = this.md5sums.get(pkg.id);
    if (lines === undefined) {
      lines = new Map();
      const text = readInRoot(this.fs, `${this.admindir}/info/${pkg.id}.md5sums`) ?? '';
      for (const line of text.split('\n')) {
        // `<32 hex digits>  <path without its leading slash>`, as md5sum prints it.
        const match = /^([0-9a-f]{32}) [ *](.+)$/.exec(line);
        if (match === null) continue;
        lines.set(this.canonical(`/${match[2]!}`), { md5: match[1]!, listedPath: match[2]! });
      }
      this.md5sums.set(pkg.id, lines);
    }
    return lines.get(this.canonical(path));
  }

  /** `path` with its folder resolved through the root's links (the last name is kept as it is). */
  canonical(path: string): string {
    // Lists are clean absolute paths; normalizing only the odd one keeps a query cheap.
    const normalized = /\/\/|\/\.\.?(\/|$)|.\/$/.test(path) ? posix.normalize(path) : path;
    const slash = normalized.lastIndexOf('/');
    if (slash <= 0) return normalized;
    const folder = normalized.slice(0, slash);
    let real = this.folders.get(folder);
    if (real === undefined) {
      const lookup = this.fs.lookup(folder);
      // A folder the root lacks (files dpkg was told not to unpack) keeps its recorded spelling.
      real = lookup.type === 'directory' && lookup.realPath !== null ? lookup.realPath : folder;
      this.folders.set(folder, real);
    }
    return real === '/' ? normalized.slice(slash) : `${real}${normalized.slice(slash)}`;
  }
}

function toPackage(stanza: Stanza): DpkgPackage | null {
  const name = field(stanza, 'package');
  if (name === undefined) return null;
  const architecture = field(stanza, 'architecture') ?? 'all';
  const status = field(stanza, 'status') ?? '';
  // dpkg names a Multi-Arch: same package's files `name:arch.list`, and prints it so in `dpkg -S`.
  const multiArchSame = field(stanza, 'multi-arch') === 'same';
  return {
    name,
    id: multiArchSame ? `${name}:${architecture}` : name,
    version: field(stanza, 'version') ?? '',
    architecture,
    status,
    installed: status.split(/\s+/)[2] === 'installed',
    stanza,
  };
}

/** A file inside the root, read through its links as the root sees them; null when it is not there. */
function readInRoot(fs: RootFs, path: string): string | null {
  const lookup = fs.lookup(path);
  if (lookup.type !== 'file' || lookup.realPath === null) return null;
  try {
    return readFileSync(fs.hostPath(lookup.realPath), 'utf8');
  } catch (error) {
    throw new ProvenanceError(
      'PROVENANCE_UNREADABLE',
      `${path}: cannot read the dpkg database of ${fs.root}: ${(error as Error).message}`,
      { cause: error },
    );
  }
}
