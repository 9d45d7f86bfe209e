import { readFileSync } from 'node:fs';
import { posix } from 'node:path';
import type { ExportedEntry, ExportReport } from '@dit/exporter';
import { ExplainError } from './errors.js';

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
 * The export's tree as its report describes it: entries by path, and paths resolved through the
 * exported symlinks (`/lib/x86_64-linux-gnu/libc.so.6` through `/lib -> usr/lib`), as a program
 * inside the image would resolve them.
 */
export class ReportTree {
  readonly byPath: ReadonlyMap<string, ExportedEntry>;

  constructor(readonly report: ExportReport) {
    this.byPath = new Map(report.entries.map((entry) => [entry.path, entry]));
  }

  /** The entry `path` leads to (through links), or null when the export does not have it. */
  resolve(path: string): ExportedEntry | null {
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
  find(query: string): ExportedEntry[] {
    const exact = this.byPath.get(query);
    if (exact !== undefined) return [exact];
    if (query.includes('/')) {
      const resolved = this.resolve(query);
      return resolved === null ? [] : [resolved];
    }
    return this.report.entries.filter((entry) => posix.basename(entry.path) === query);
  }
}
