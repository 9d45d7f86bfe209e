import { createHash } from 'node:crypto';
import { lchownSync, lstatSync, mkdirSync, unlinkSync, utimesSync, writeFileSync } from 'node:fs';
import { safeJoin } from './materialize.js';
import type { ExportedEntry, PackageUsage } from './types.js';

/**
 * Where an export keeps the record `dit explain --path` reads: why each path is in, and the
 * packages, so a finished export (or the image made from it) explains itself without the --report
 * its author may not have kept. A dit-owned path under /var/lib, as dpkg keeps its own there.
 */
export const EXPLAIN_RECORD = '/var/lib/dit/explain.json';

export const EXPLAIN_RECORD_REASON = 'explain record: what dit explain --path reads';

/** An entry as the record keeps it: what explaining and sizing need, nothing of the build host. */
export type RecordEntry = Pick<
  ExportedEntry,
  'path' | 'type' | 'size' | 'target' | 'hardLinkOf' | 'reasons' | 'packages'
>;

/**
 * The record's content. It ships in the image, so it holds only what the image shows anyway (its
 * paths, sizes and links, the packages status.d names) and the reasons: never the command line
 * (it may carry a token), the host's folders, the warnings, the withheld secrets' names or the
 * timings. Pids are left out too: they change from run to run, and the same export must make the
 * same bytes (the program that used a file stays; `--report` keeps the pid).
 */
export interface ExplainRecord {
  readonly format: 'dit explain record';
  readonly version: 1;
  readonly packages: readonly PackageUsage[];
  /** Sorted by path; the record's own file and folders included. */
  readonly entries: readonly RecordEntry[];
}

/**
 * Writes the record into the staging tree, after the hashing and before the archive, so it
 * describes the export as it ends up (owners, hard links) and is archived with it. Returns the
 * entries it added (its folders where they were missing, and its file, hashed; an entry of the same
 * path copied from the root is replaced); a /var or /var/lib that is a link in the export gets a
 * warning and no record, as nothing is written through a link.
 */
export function writeExplainRecord(options: {
  readonly staging: string;
  readonly entries: readonly ExportedEntry[];
  readonly packages: readonly PackageUsage[];
}): { entries: ExportedEntry[]; warnings: string[] } {
  const { staging } = options;
  const added: ExportedEntry[] = [];
  for (const folder of ['/var', '/var/lib', '/var/lib/dit']) {
    const path = safeJoin(staging, folder);
    const stats = lstatOrNull(path);
    if (stats?.isDirectory()) continue;
    if (stats !== null) {
      return {
        entries: [],
        warnings: [`${folder} in the export is not a folder: no record for dit explain --path was written`],
      };
    }
    const parent = safeJoin(staging, folder.slice(0, folder.lastIndexOf('/')) || '/');
    const parentStats = lstatSync(parent);
    mkdirSync(path, { mode: 0o755 });
    rootOwned(path);
    utimesSync(path, 0, 0);
    // Making the folder changed its parent's time, which the copy had set to the root's.
    utimesSync(parent, parentStats.atime, parentStats.mtime);
    added.push({
      path: folder,
      type: 'directory',
      size: 0,
      mode: 0o755,
      uid: 0,
      gid: 0,
      sha256: null,
      reasons: [folder === '/var/lib/dit' ? EXPLAIN_RECORD_REASON : 'parent directory'],
    });
  }

  // A root that is itself a dit export (dit minify of a dit image) brings its own record, which
  // describes that export: this one replaces it.
  const file = safeJoin(staging, EXPLAIN_RECORD);
  const existing = lstatOrNull(file);
  if (existing !== null && !existing.isFile()) {
    return {
      entries: [],
      warnings: [
        `${EXPLAIN_RECORD} in the export is not a file: no record for dit explain --path was written`,
      ],
    };
  }
  if (existing !== null) unlinkSync(file);

  const self: ExportedEntry = {
    path: EXPLAIN_RECORD,
    type: 'file',
    size: 0,
    mode: 0o644,
    uid: 0,
    gid: 0,
    sha256: null,
    reasons: [EXPLAIN_RECORD_REASON],
  };
  const all = [...options.entries.filter((entry) => entry.path !== EXPLAIN_RECORD), ...added].sort((a, b) =>
    a.path.localeCompare(b.path),
  );
  // The record lists itself with its own size: a few rounds settle the digits of that number.
  let text = '';
  for (let size = 0, round = 0; round < 8; round++) {
    const entries = [...all, { ...self, size }].sort((a, b) => a.path.localeCompare(b.path));
    text = serialize(options.packages, entries);
    const length = Buffer.byteLength(text);
    if (length === size) break;
    size = length;
  }
  writeFileSync(file, text, { flag: 'wx', mode: 0o644 });
  rootOwned(file);
  utimesSync(file, 0, 0);
  utimesSync(safeJoin(staging, '/var/lib/dit'), 0, 0);
  const sha256 = createHash('sha256').update(text).digest('hex');
  return { entries: [...added, { ...self, size: Buffer.byteLength(text), sha256 }], warnings: [] };
}

/** One entry a line: small, readable inside the image with any pager, and diffable. */
function serialize(packages: readonly PackageUsage[], entries: readonly ExportedEntry[]): string {
  const lines = entries.map((entry) => JSON.stringify(recordEntry(entry)));
  return `{"format":"dit explain record","version":1,\n"packages":${JSON.stringify(packages)},\n"entries":[\n${lines.join(',\n')}\n]}\n`;
}

function recordEntry(entry: ExportedEntry): RecordEntry {
  return {
    path: entry.path,
    type: entry.type,
    size: entry.size,
    ...(entry.target === undefined ? {} : { target: entry.target }),
    ...(entry.hardLinkOf === undefined ? {} : { hardLinkOf: entry.hardLinkOf }),
    reasons: entry.reasons.map(withoutPid),
    ...(entry.packages === undefined || entry.packages.length === 0 ? {} : { packages: entry.packages }),
  };
}

/** `traced (open) by python3 (pid 12)` → `traced (open) by python3`; `… by pid 12` → `traced (open)`. */
function withoutPid(reason: string): string {
  if (!reason.startsWith('traced (')) return reason;
  return reason.replace(/ by pid \d+$/, '').replace(/ \(pid \d+\)$/, '');
}

function rootOwned(path: string): void {
  // As root the owner is set; otherwise it stays the exporter's, as every copied file does (identity.ts).
  if (process.getuid?.() === 0) lchownSync(path, 0, 0);
}

function lstatOrNull(path: string) {
  try {
    return lstatSync(path);
  } catch {
    return null;
  }
}
