import { lchownSync, lstatSync, mkdirSync, utimesSync, writeFileSync } from 'node:fs';
import type { RootFs } from '@dit/paths';
import { attribute, type DpkgDatabase, type DpkgPackage, withStatus } from '@dit/provenance';
import { safeJoin } from './materialize.js';
import type { Selection } from './selection.js';
import type { ExportedEntry, PackageUsage } from './types.js';

/**
 * What vulnerability scanners read, so that a dit image is as visible to them as its build stage.
 *
 * Scanners (Trivy, Grype, Syft) find Debian packages in `/var/lib/dpkg/status` or, in minimal
 * images, in one file per package under `/var/lib/dpkg/status.d/` (distroless's layout), and the
 * distribution in `/etc/os-release` and `/etc/debian_version`. An export copies the files a program
 * needs but none of that, so it would scan as "no packages, no vulnerabilities". This module puts
 * back exactly the records of the packages whose files are in the export, and their `copyright`
 * files, which licenses such as the GPL and LGPL ask to travel with the binaries.
 */

/** Where the per-package records go (distroless's layout, which the scanners read). */
export const STATUS_D = '/var/lib/dpkg/status.d';

/** Files copied from the root so scanners can tell the distribution. */
const DISTRIBUTION_FILES = ['/etc/os-release', '/usr/lib/os-release', '/etc/debian_version'];

/**
 * Before the copy: selects the distribution's identity files and the `copyright` file of every
 * package owning an exported file, and the dpkg folder the records will be written into (so it is
 * made with the root's mode and owner). A copyright file may itself belong to another package (a
 * doc folder linked to its source package's), hence the loop until no package is new.
 */
export function selectPackageMetadata(selection: Selection, database: DpkgDatabase): void {
  const fs = selection.fs;
  for (const path of DISTRIBUTION_FILES) {
    if (fs.lookup(path).type === 'file') {
      selection.add(path, { kind: 'package-metadata', why: 'identifies the distribution for scanners' });
    }
  }
  const licensed = new Set<string>();
  for (;;) {
    const fresh = [...ownersOf(selection, database)].filter((pkg) => !licensed.has(pkg.id));
    if (fresh.length === 0) break;
    for (const pkg of fresh) {
      licensed.add(pkg.id);
      const copyright = `/usr/share/doc/${pkg.name}/copyright`;
      if (fs.lookup(copyright).type === 'file') {
        selection.add(copyright, { kind: 'package-metadata', why: `the license of ${pkg.id}` });
      }
    }
  }
  if (licensed.size > 0 && fs.lookup(STATUS_D.slice(0, STATUS_D.lastIndexOf('/'))).type === 'directory') {
    selection.add('/var/lib/dpkg', { kind: 'package-metadata', why: 'holds status.d for scanners' });
  }
}

function ownersOf(selection: Selection, database: DpkgDatabase): Set<DpkgPackage> {
  const owners = new Set<DpkgPackage>();
  for (const entry of selection.values()) {
    if (entry.type !== 'directory') for (const pkg of database.ownersOf(entry.path)) owners.add(pkg);
  }
  return owners;
}

/** Which packages the exported files and links come from, with their share of the export. */
export function packageUsage(
  database: DpkgDatabase | null,
  entries: readonly ExportedEntry[],
): PackageUsage[] {
  const byPath = new Map(entries.map((entry) => [entry.path, entry]));
  const { packages } = attribute(
    database,
    entries.filter((entry) => entry.type !== 'directory').map((entry) => entry.path),
  );
  return [...packages.values()]
    .map(({ pkg, paths }) => ({
      id: pkg.id,
      name: pkg.name,
      version: pkg.version,
      architecture: pkg.architecture,
      files: paths.length,
      // A hard link's bytes are counted at its first name only, as the export's totals count them.
      bytes: paths.reduce((sum, path) => {
        const entry = byPath.get(path)!;
        return sum + (entry.type === 'file' && entry.hardLinkOf === undefined ? entry.size : 0);
      }, 0),
    }))
    .sort((a, b) => b.bytes - a.bytes || a.id.localeCompare(b.id));
}

export interface WrittenMetadata {
  /** The status.d folder and its files, as export entries (sha256 filled in by the hashing after). */
  readonly entries: ExportedEntry[];
  /** The packages recorded, by status.d file name. */
  readonly records: ReadonlyMap<string, DpkgPackage>;
  readonly warnings: string[];
}

/**
 * After the copy, before hashing: writes `status.d/NAME` (the package's stanza as the root's dpkg
 * recorded it, with `Status: install ok installed`) and `status.d/NAME.md5sums` (dpkg's lines for
 * the package's exported regular files, at their paths in the export) for every package owning at
 * least one exported file or link. NAME is the package name, as distroless names them; two
 * architectures of one `Multi-Arch: same` package both in the export are told apart as `NAME:ARCH`.
 *
 * Written into the staging tree, which already holds the copied links: every folder on the way is
 * checked to be a real folder, and files are created exclusively, so nothing is written through a link.
 */
export function writePackageMetadata(options: {
  readonly fs: RootFs;
  readonly staging: string;
  readonly entries: readonly ExportedEntry[];
  readonly database: DpkgDatabase;
}): WrittenMetadata {
  const { fs, staging, database } = options;
  const warnings: string[] = [];
  const exported = options.entries.filter((entry) => entry.type !== 'directory');
  const { packages } = attribute(
    database,
    exported.map((entry) => entry.path),
  );
  if (packages.size === 0) return { entries: [], records: new Map(), warnings };

  for (const folder of ['/var', '/var/lib', '/var/lib/dpkg']) {
    const stats = lstatOrNull(safeJoin(staging, folder));
    if (stats === null || !stats.isDirectory()) {
      // The root's /var/lib/dpkg is not a plain folder (a link): writing through it could leave the export.
      warnings.push(`${folder} in the export is not a folder: no package records were written for scanners`);
      return { entries: [], records: new Map(), warnings };
    }
  }

  const source = fs.stat('/var/lib/dpkg/status');
  const uid = source?.uid ?? 0;
  const gid = source?.gid ?? 0;
  // The records take the time of the dpkg database they come from: the same root exports the same bytes.
  const time = source?.mtime ?? new Date(0);
  const isFile = new Map(exported.map((entry) => [entry.path, entry.type === 'file']));

  const folder = safeJoin(staging, STATUS_D);
  mkdirSync(folder, { mode: 0o755 });
  const written: ExportedEntry[] = [];
  const records = new Map<string, DpkgPackage>();
  const names = recordNames([...packages.values()].map(({ pkg }) => pkg));
  for (const [name, pkg] of [...names].sort(([a], [b]) => (a < b ? -1 : 1))) {
    records.set(name, pkg);
    const paths = packages.get(pkg.id)!.paths;
    const stanza = withStatus(pkg.stanza, 'install ok installed');
    written.push(writeRecord(`${STATUS_D}/${name}`, stanza, `the dpkg record of ${pkg.id}`));
    const md5Lines = paths
      .filter((path) => isFile.get(path) === true)
      .sort()
      .flatMap((path) => {
        const line = database.md5Of(pkg, path);
        return line === undefined ? [] : [`${line.md5}  ${path.slice(1)}\n`];
      });
    if (md5Lines.length > 0) {
      written.push(
        writeRecord(
          `${STATUS_D}/${name}.md5sums`,
          md5Lines.join(''),
          `the md5sums of ${pkg.id}'s exported files`,
        ),
      );
    }
  }
  utimesSync(folder, time, time);
  const dpkgFolder = fs.stat('/var/lib/dpkg');
  // Writing status.d changed the folder's time, which the copy had set to the root's.
  if (dpkgFolder !== null) utimesSync(safeJoin(staging, '/var/lib/dpkg'), dpkgFolder.atime, dpkgFolder.mtime);

  const folderEntry: ExportedEntry = {
    path: STATUS_D,
    type: 'directory',
    size: 0,
    mode: 0o755,
    uid,
    gid,
    sha256: null,
    reasons: ['package metadata: per-package dpkg records for scanners'],
  };
  lchown(folder, uid, gid);
  return { entries: [folderEntry, ...written], records, warnings };

  function writeRecord(path: string, content: string, why: string): ExportedEntry {
    const file = safeJoin(staging, path);
    writeFileSync(file, content, { flag: 'wx', mode: 0o644 });
    lchown(file, uid, gid);
    utimesSync(file, time, time);
    return {
      path,
      type: 'file',
      size: Buffer.byteLength(content),
      mode: 0o644,
      uid,
      gid,
      sha256: null,
      reasons: [`package metadata: ${why}`],
    };
  }
}

/** File names in status.d: the package name, or `NAME:ARCH` when two architectures share the name. */
function recordNames(packages: readonly DpkgPackage[]): Map<string, DpkgPackage> {
  const count = new Map<string, number>();
  for (const pkg of packages) count.set(pkg.name, (count.get(pkg.name) ?? 0) + 1);
  return new Map(
    packages.map((pkg) => [count.get(pkg.name)! > 1 ? `${pkg.name}:${pkg.architecture}` : pkg.name, pkg]),
  );
}

function lstatOrNull(path: string) {
  try {
    return lstatSync(path);
  } catch {
    return null;
  }
}

function lchown(path: string, uid: number, gid: number): void {
  // The owner of the root's dpkg database, as the copy keeps the root's owners (materialize.ts).
  lchownSync(path, uid, gid);
}

/** `entries` with the packages owning each file and link (application files have none). */
export function withOwners(
  database: DpkgDatabase | null,
  entries: readonly ExportedEntry[],
): ExportedEntry[] {
  if (database === null) return [...entries];
  return entries.map((entry) => {
    if (entry.type === 'directory') return entry;
    const owners = database.ownersOf(entry.path);
    return owners.length === 0 ? entry : { ...entry, packages: owners.map((pkg) => pkg.id) };
  });
}

/** What the metadata added: entries that are in the export for no other reason. */
export function metadataCost(
  entries: readonly ExportedEntry[],
  records: number,
): { packages: number; files: number; bytes: number } {
  const only = entries.filter(
    (entry) =>
      entry.type !== 'directory' && entry.reasons.every((reason) => reason.startsWith('package metadata:')),
  );
  return {
    packages: records,
    files: only.length,
    bytes: only.reduce(
      (sum, entry) => sum + (entry.type === 'file' && entry.hardLinkOf === undefined ? entry.size : 0),
      0,
    ),
  };
}
