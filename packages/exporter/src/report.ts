import { renameSync, rmSync, writeFileSync } from 'node:fs';
import { ExportError } from './errors.js';
import { partialFile } from './leftovers.js';
import { metadataCost, packageUsage } from './package-metadata.js';
import type { FileSet } from './select.js';
import type { ExportReport, Verification } from './types.js';
import type { Written } from './write.js';
import { describeWriteError } from './write-errors.js';

/** The report of a finished export: every entry and why, totals, what was withheld, the proof. */
export function buildReport(context: {
  readonly output: string;
  readonly root: string;
  readonly command: readonly string[] | null;
  readonly files: FileSet;
  readonly written: Written;
  readonly verification: Verification | null;
}): ExportReport {
  const { files, written } = context;
  const { entries } = written;
  const regular = entries.filter((e) => e.type === 'file');
  const traced = files.traced;
  return {
    version: 1,
    output: context.output,
    root: context.root,
    command: context.command,
    entries,
    totals: {
      files: regular.length,
      symlinks: entries.filter((e) => e.type === 'symlink').length,
      directories: entries.filter((e) => e.type === 'directory').length,
      bytes: regular.filter((e) => e.hardLinkOf === undefined).reduce((sum, e) => sum + e.size, 0),
    },
    warnings: [...files.warnings, ...written.warnings],
    withheld: files.withheld.map(({ path, rule }) => ({ path, rule })),
    packages: packageUsage(files.database, entries),
    packageMetadata: files.packageMetadata ? metadataCost(entries, written.records) : null,
    trace:
      traced === null
        ? null
        : {
            exitCode: traced.exitCode,
            durationMs: traced.durationMs,
            paths: traced.paths.length,
            listening: traced.listening,
            service: files.supervision?.summary(),
          },
    verification: context.verification,
  };
}

/** The JSON report, written beside its place and renamed into it (never half-written). */
export function writeReport(file: string, report: ExportReport): void {
  const partial = partialFile(file);
  try {
    writeFileSync(partial, `${JSON.stringify(report, null, 1)}\n`);
    renameSync(partial, file);
  } catch (error) {
    rmSync(partial, { force: true });
    throw new ExportError(
      'EXPORT_WRITE_FAILED',
      `--report ${file}: ${describeWriteError(error)}; the export at ${report.output} is complete${report.verification?.ok ? ' and verified' : ''}`,
      { cause: error },
    );
  }
}
