import { lstatSync, readFileSync } from 'node:fs';
import { join, posix } from 'node:path';
import {
  EXPLAIN_RECORD,
  type ExplainRecord,
  type ExportReport,
  type PackageUsage,
  type RecordEntry,
} from '@dit/exporter';
import { ExplainError } from './errors.js';

/**
 * What explaining needs of an export: its entries with their reasons, and its packages. A report
 * of `dit export --report` is one, and so is the record an export keeps at /var/lib/dit/explain.json.
 */
export interface ExportFacts {
  readonly entries: readonly RecordEntry[];
  readonly packages?: readonly PackageUsage[];
}

/** Reads a report written by `dit export --report`; anything else is an ExplainError. */
export function readReport(file: string): ExportReport {
  let parsed: unknown;
  try {
    parsed = JSON.parse(readFileSync(file, 'utf8'));
  } catch (error) {
    const why = error instanceof SyntaxError ? 'not JSON' : (error as Error).message;
    throw new ExplainError('EXPLAIN_BAD_REPORT', `--report ${file}: ${why}`, { cause: error });
  }
  const report = parsed as Partial<ExportReport> | null;
  if (report === null || report.version !== 1 || !Array.isArray(report.entries)) {
    throw new ExplainError('EXPLAIN_BAD_REPORT', `--report ${file}: not a report of dit export (version 1)`);
  }
  return report as ExportReport;
}

/**
 * The record a finished export keeps (`dit explain --path DIR`). Read without following links
 * inside DIR: a /var that leads elsewhere is not this export's. ExplainError EXPLAIN_NOT_AN_EXPORT
 * when DIR is not a folder or carries no record (an export made with --no-explain-record, or not by
 * dit), EXPLAIN_BAD_REPORT when the record is damaged.
 */
export function readExportRecord(dir: string): ExplainRecord {
  const folder = lstatOrNull(dir);
  if (folder === null || !folder.isDirectory()) {
    const why = folder === null ? 'no such folder' : 'not a folder';
    throw new ExplainError('EXPLAIN_NOT_AN_EXPORT', `--path ${dir}: ${why}`);
  }
  const parts = EXPLAIN_RECORD.split('/').filter(Boolean);
  let current = dir;
  for (const [index, part] of parts.entries()) {
    current = join(current, part);
    const stats = lstatOrNull(current);
    const last = index === parts.length - 1;
    if (stats === null || (last ? !stats.isFile() : !stats.isDirectory())) {
      throw new ExplainError(
        'EXPLAIN_NOT_AN_EXPORT',
        `--path ${dir}: not an export of dit, or one made with --no-explain-record (it has no ${EXPLAIN_RECORD}); explain it with the --report FILE of its export`,
      );
    }
  }
  let parsed: unknown;
  try {
    parsed = JSON.parse(readFileSync(current, 'utf8'));
  } catch (error) {
    const why = error instanceof SyntaxError ? 'not JSON' : (error as Error).message;
    throw new ExplainError('EXPLAIN_BAD_REPORT', `--path ${dir}: ${EXPLAIN_RECORD}: ${why}`, {
      cause: error,
    });
  }
  const record = parsed as Partial<ExplainRecord> | null;
  if (
    record === null ||
    record.format !== 'dit explain record' ||
    record.version !== 1 ||
    !Array.isArray(record.entries) ||
    !Array.isArray(record.packages)
  ) {
    throw new ExplainError(
      'EXPLAIN_BAD_REPORT',
      `--path ${dir}: ${EXPLAIN_RECORD}: not a record of dit export (version 1)`,
    );
  }
  return record as ExplainRecord;
}

function lstatOrNull(path: string) {
  try {
    return lstatSync(path);
  } catch {
    return null;
  }
}

/**
 * The export's tree as its report describes it: entries by path, and paths resolved through the
 * exported symlinks (`/lib/x86_64-linux-gnu/libc.so.6` through `/lib -> usr/lib`), as a program
 * inside the image would resolve them.
 */
export class ReportTree {
  readonly byPath: ReadonlyMap<string, RecordEntry>;

  constructor(readonly report: ExportFacts) {
    this.byPath = new Map(report.entries.map((entry) => [entry.path, entry]));
  }

  /** The entry `path` leads to (through links), or null when the export does not have it. */
  resolve(path: string): RecordEntry | null {
    let parts = posix
      .normalize(path.startsWith('/') ? path : `/${path}`)
      .split('/')
      .filter(Boolean);
    let current = '';
    for (let hops = 0, i = 0; i < parts.length; i++) {
      const next = `${current}/${parts[i]}`;
      const entry = this.byPath.get(next);
      if (entry?.type === 'symlink' && entry.target !== undefined && hops++ < 40) {
        const target = entry.target.startsWith('/') ? entry.target : posix.join(current || '/', entry.target);
        parts = [...posix.normalize(target).split('/').filter(Boolean), ...parts.slice(i + 1)];
        current = '';
        i = -1;
        continue;
      }
      current = next;
    }
    return this.byPath.get(current || '/') ?? null;
  }

  /** Entries for what a person typed: an exact path, a path through links, or a file name (`libc.so.6`). */
  find(query: string): RecordEntry[] {
    const exact = this.byPath.get(query);
    if (exact !== undefined) return [exact];
    if (query.includes('/')) {
      const resolved = this.resolve(query);
      return resolved === null ? [] : [resolved];
    }
    return this.report.entries.filter((entry) => posix.basename(entry.path) === query);
  }
}
