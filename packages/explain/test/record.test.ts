/** readExportRecord on small folders: links inside DIR are not followed; the record explains like a report. */
import { mkdirSync, symlinkSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { ExplainError, explainPaths, formatChain, packageSizes, readExportRecord } from '@dit/explain';
import { afterAll, describe, expect, it } from 'vitest';
import { tempDir } from '../../../test-support/fixtures.js';

const temp = tempDir('dit-explain-record-');
const T = temp.path;
afterAll(() => temp.cleanup());

const record = {
  format: 'dit explain record',
  version: 1,
  packages: [
    { id: 'libc6:amd64', name: 'libc6', version: '2.36', architecture: 'amd64', files: 1, bytes: 100 },
  ],
  entries: [
    { path: '/app', type: 'directory', size: 0, reasons: ['parent directory'] },
    { path: '/app/run', type: 'file', size: 10, reasons: ['the check command'] },
    {
      path: '/lib',
      type: 'symlink',
      size: 7,
      target: 'usr/lib',
      reasons: ['symlink on the way to /lib/libc.so.6'],
    },
    { path: '/usr', type: 'directory', size: 0, reasons: ['parent directory'] },
    { path: '/usr/lib', type: 'directory', size: 0, reasons: ['parent directory'] },
    {
      path: '/usr/lib/libc.so.6',
      type: 'file',
      size: 100,
      reasons: ['needed by /app/run', 'traced (open) by run'],
      packages: ['libc6:amd64'],
    },
  ],
};

function exportWith(name: string, text: string): string {
  const dir = join(T, name);
  mkdirSync(join(dir, 'var/lib/dit'), { recursive: true });
  writeFileSync(join(dir, 'var/lib/dit/explain.json'), text);
  return dir;
}

function codeOf(run: () => unknown): string | null {
  try {
    run();
    return null;
  } catch (error) {
    expect(error).toBeInstanceOf(ExplainError);
    return (error as ExplainError).code;
  }
}

describe('readExportRecord', () => {
  it('reads the record, which explains and sizes as a report does', () => {
    const dir = exportWith('good', JSON.stringify(record));
    const read = readExportRecord(dir);
    const [libc] = explainPaths(read, ['libc.so.6']);
    expect(libc!.chains.map((chain) => formatChain('libc.so.6', chain))).toEqual([
      'libc.so.6 ← needed by /app/run (the command)',
      'libc.so.6 ← opened by run',
    ]);
    // A link to a folder is explained as itself, through the path as written.
    const [lib] = explainPaths(read, ['/lib']);
    expect(lib!.path).toBe('/lib');
    expect(lib!.chains.map((chain) => formatChain('/lib', chain))).toEqual([
      '/lib ← link on the way to /lib/libc.so.6 ← needed by /app/run (the command)',
    ]);
    expect(packageSizes(read).map((row) => [row.name, row.bytes, row.share])).toEqual([
      ['libc6:amd64', 100, 100 / 110],
      ['(application files)', 10, 10 / 110],
    ]);
  });

  it('does not follow a link inside DIR: a /var leading elsewhere is not this export', () => {
    const elsewhere = exportWith('elsewhere', JSON.stringify(record));
    const dir = join(T, 'linked');
    mkdirSync(dir);
    symlinkSync(join(elsewhere, 'var'), join(dir, 'var'));
    expect(codeOf(() => readExportRecord(dir))).toBe('EXPLAIN_NOT_AN_EXPORT');
  });

  it('refuses a missing folder, a file, a folder without a record, and a record that is not one', () => {
    expect(codeOf(() => readExportRecord(join(T, 'missing')))).toBe('EXPLAIN_NOT_AN_EXPORT');
    writeFileSync(join(T, 'file'), '');
    expect(codeOf(() => readExportRecord(join(T, 'file')))).toBe('EXPLAIN_NOT_AN_EXPORT');
    mkdirSync(join(T, 'empty'));
    expect(codeOf(() => readExportRecord(join(T, 'empty')))).toBe('EXPLAIN_NOT_AN_EXPORT');
    expect(codeOf(() => readExportRecord(exportWith('not-json', '{')))).toBe('EXPLAIN_BAD_REPORT');
    const report = JSON.stringify({ version: 1, entries: [] });
    expect(codeOf(() => readExportRecord(exportWith('a-report', report)))).toBe('EXPLAIN_BAD_REPORT');
  });
});
