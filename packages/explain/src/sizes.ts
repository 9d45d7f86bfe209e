import type { ExportFacts } from './report.js';

/** One row of the sizes table: a Debian package, or the application's own files. */
export interface SizeRow {
  /** The package as dpkg names it, or `(application files)`. */
  readonly name: string;
  readonly version: string | null;
  /** Files and links. */
  readonly files: number;
  /** Bytes of regular files (a hard link counted once). */
  readonly bytes: number;
  /** Share of the export's bytes, 0 to 1. */
  readonly share: number;
}

export const APPLICATION_FILES = '(application files)';

/**
 * What each Debian package weighs in the export, biggest first, and the files no package owns as
 * one more row. The rows add up to the export's bytes, unless a file is owned by several packages
 * (Multi-Arch: same), which then counts for each.
 */
export function packageSizes(report: ExportFacts): SizeRow[] {
  // Counted as the report's totals count them: regular files, a hard link once.
  const total = report.entries.reduce(
    (sum, entry) => sum + (entry.type === 'file' && entry.hardLinkOf === undefined ? entry.size : 0),
    0,
  );
  const share = (bytes: number) => (total === 0 ? 0 : bytes / total);
  const rows: SizeRow[] = (report.packages ?? []).map((pkg) => ({
    name: pkg.id,
    version: pkg.version,
    files: pkg.files,
    bytes: pkg.bytes,
    share: share(pkg.bytes),
  }));
  const own = report.entries.filter(
    (entry) => entry.type !== 'directory' && (entry.packages ?? []).length === 0,
  );
  const ownBytes = own.reduce(
    (sum, entry) => sum + (entry.type === 'file' && entry.hardLinkOf === undefined ? entry.size : 0),
    0,
  );
  if (own.length > 0) {
    rows.push({
      name: APPLICATION_FILES,
      version: null,
      files: own.length,
      bytes: ownBytes,
      share: share(ownBytes),
    });
  }
  return rows.sort((a, b) => b.bytes - a.bytes || a.name.localeCompare(b.name));
}
