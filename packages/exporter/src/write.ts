import { statfsSync } from 'node:fs';
import type { RootFs } from '@dit/paths';
import { writeArchive } from './archive.js';
import { dedupeEntries } from './dedupe.js';
import { ExportError } from './errors.js';
import { EXPLAIN_RECORD, writeExplainRecord } from './explain-record.js';
import { hashEntries } from './hash.js';
import { type Identity, writeIdentity } from './identity.js';
import { materialize } from './materialize.js';
import type { OutputTarget } from './output.js';
import { packageUsage, withOwners, writePackageMetadata } from './package-metadata.js';
import type { FileSet } from './select.js';
import type { Selected } from './selection.js';
import type { StagedOutput } from './staging.js';
import type { ExportedEntry, ExportOptions } from './types.js';

export interface WriteContext {
  readonly options: ExportOptions;
  readonly fs: RootFs;
  readonly target: OutputTarget;
  readonly staged: StagedOutput;
  readonly identity: Identity | null;
  readonly tarFile: string | undefined;
}

export interface Written {
  /** Every entry of the export as written, hashed, sorted by path. */
  readonly entries: ExportedEntry[];
  readonly warnings: string[];
  /** How many status.d records were written (package-metadata.ts). */
  readonly records: number;
}

/**
 * Writes the file set into the staging folder — the copies, then what dit generates (package
 * records, users) — hashes it, adds the record `dit explain --path` reads (explain-record.ts), writes the --tar from it, and only then puts it in place of --path
 * (staging.ts). Until that last step, --path is as it was.
 */
export async function writeExport(context: WriteContext, files: FileSet): Promise<Written> {
  const { options, fs, target, staged } = context;
  const warnings: string[] = [];
  // The last moment at which stopping leaves nothing behind: the copy is renamed into place at its end.
  options.signal?.throwIfAborted();
  const entriesToWrite = [...files.selection.values()];
  checkFreeSpace(staged.staging, target.path, entriesToWrite, fs);
  const materialized = materialize({
    fs,
    entries: entriesToWrite,
    output: target.path,
    staging: staged.staging,
    keepSetuid: options.keepSetuid ?? false,
    onProgress: (done, total) => options.onProgress?.({ stage: 'copy', done, total }),
  });
  warnings.push(...materialized.warnings);
  options.onProgress?.({ stage: 'hash', files: materialized.entries.length });
  let written = materialized.entries;
  let records = 0;
  if (files.packageMetadata && files.database !== null) {
    // Generated, not copied: written into the staging tree now, hashed and archived with the rest.
    const metadata = writePackageMetadata({
      fs,
      staging: staged.staging,
      entries: written,
      database: files.database,
    });
    warnings.push(...metadata.warnings);
    records = metadata.records.size;
    written = [...written, ...metadata.entries].sort((a, b) => a.path.localeCompare(b.path));
  }
  if (context.identity !== null) {
    const users = writeIdentity(staged.staging, written, context.identity);
    warnings.push(...users.warnings);
    const changed = new Set(users.entries.map((entry) => entry.path));
    written = [...written.filter((entry) => !changed.has(entry.path)), ...users.entries].sort((a, b) =>
      a.path.localeCompare(b.path),
    );
  }
  let entries = withOwners(files.database, await hashEntries(staged.staging, written));
  if (options.dedupe) entries = dedupeEntries(staged.staging, entries).entries;
  if (options.explainRecord !== false) {
    // Last, so it describes the export as written; before the archive, which must hold it too.
    const record = writeExplainRecord({
      staging: staged.staging,
      entries,
      packages: packageUsage(files.database, entries),
    });
    warnings.push(...record.warnings);
    if (record.entries.length > 0) {
      const added = new Set(record.entries.map((entry) => entry.path));
      entries = [
        ...entries.filter((entry) => entry.path !== EXPLAIN_RECORD && !added.has(entry.path)),
        ...record.entries,
      ].sort((a, b) => a.path.localeCompare(b.path));
    }
  }

  // The archive is written from the staging tree too, and put in place only with the folder.
  const archive = context.tarFile === undefined ? null : await writeArchive(staged.staging, context.tarFile);
  options.signal?.throwIfAborted();
  try {
    staged.commit();
  } catch (error) {
    archive?.discard();
    throw error;
  }
  archive?.commit();
  return { entries, warnings, records };
}

/** Fails before copying when the target's filesystem clearly cannot hold the export. */
function checkFreeSpace(staging: string, path: string, entries: readonly Selected[], fs: RootFs): void {
  let needed = 0;
  for (const entry of entries) if (entry.type === 'file') needed += fs.stat(entry.path)?.size ?? 0;
  let free: number;
  try {
    const stats = statfsSync(staging);
    free = stats.bavail * stats.bsize;
  } catch {
    return; // no figures (an unusual filesystem): the copy itself will say if it runs out
  }
  if (needed > free) {
    throw new ExportError(
      'EXPORT_WRITE_FAILED',
      `--path ${path}: not enough space: the export needs ${mebibytes(needed)}, the filesystem has ${mebibytes(free)} free (ENOSPC)`,
    );
  }
}

function mebibytes(bytes: number): string {
  return `${(bytes / 1024 / 1024).toFixed(1)} MiB`;
}
