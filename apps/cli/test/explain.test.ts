/**
 * `dit explain` on real exports (curl, python3), from their reports and from the finished export
 * folders (`--path`, the record each export keeps): the chains a person reads, sizes, SVG.
 */
import { execFileSync } from 'node:child_process';
import { createHash } from 'node:crypto';
import { existsSync, mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { tempDir } from '../../../test-support/fixtures.js';
import { dit } from './run-cli.js';

const temp = tempDir('dit-cli-explain-');
const T = temp.path;
afterAll(() => temp.cleanup());

const curlReport = join(T, 'curl.json');
const pythonReport = join(T, 'python.json');
const curlExport = join(T, 'curl');
const pythonExport = join(T, 'python');
const RECORD = '/var/lib/dit/explain.json';

beforeAll(async () => {
  const curl = await dit(
    'export',
    '-q',
    '--path',
    curlExport,
    '--report',
    curlReport,
    '--',
    '/usr/bin/curl',
    '--version',
  );
  expect(curl.status).toBe(0);
  const python = await dit(
    'export',
    '-q',
    '--path',
    pythonExport,
    '--report',
    pythonReport,
    '--include',
    '/usr/lib/python3.11/this.py',
    '--',
    '/usr/bin/python3',
    '-c',
    'import json; print(json.dumps([1]))',
  );
  expect(python.status).toBe(0);
}, 120_000);

describe('dit explain PATH...', () => {
  it('a library of the curl export: the chain of NEEDED entries up to the command', async () => {
    const { status, stdout } = await dit('explain', '--report', curlReport, 'libnghttp2.so.14');
    expect(status).toBe(0);
    expect(stdout).toContain(
      'libnghttp2.so.14 ← needed by /usr/lib/x86_64-linux-gnu/libcurl.so.4 ← needed by /usr/bin/curl (the command)\n',
    );
    expect(stdout).toMatch(
      /^libnghttp2\.so\.14 \(\/usr\/lib\/x86_64-linux-gnu\/libnghttp2\.so\.14[.\d]*\) \[libnghttp2-14:amd64\]$/m,
    );
  });

  it("a traced Python module: the process that opened it (the compiled module; the source is only stat'ed)", async () => {
    const { status, stdout } = await dit(
      'explain',
      '--report',
      pythonReport,
      '/usr/lib/python3.11/json/__pycache__/decoder.cpython-311.pyc',
    );
    expect(status).toBe(0);
    expect(stdout).toMatch(
      /^ {2}\/usr\/lib\/python3\.11\/json\/__pycache__\/decoder\.cpython-311\.pyc ← opened.* by python3(\.11)? \(pid \d+\)$/m,
    );
    // Compiled at install time by py3compile: no package lists it.
    expect(stdout).toContain('[no package]');
  });

  it('a path through a link is explained as the file it leads to; --json for tools', async () => {
    const { status, stdout } = await dit(
      'explain',
      '--report',
      curlReport,
      '--json',
      '/lib/x86_64-linux-gnu/libc.so.6',
    );
    expect(status).toBe(0);
    const [explanation] = JSON.parse(stdout);
    expect(explanation.path).toBe('/usr/lib/x86_64-linux-gnu/libc.so.6');
    expect(explanation.packages).toEqual(['libc6:amd64']);
    expect(explanation.chains.some((chain: { cause: string }) => chain.cause === 'the command')).toBe(true);
  });

  it('exit 1 for a path the export does not have, 2 for a report that is not one', async () => {
    const missing = await dit('explain', '--report', curlReport, '/usr/bin/wget');
    expect(missing.status).toBe(1);
    expect(missing.stderr).toBe('dit: explain: /usr/bin/wget: not in the export\n');
    const notJson = join(T, 'not.json');
    writeFileSync(notJson, 'hello');
    const bad = await dit('explain', '--report', notJson, 'x');
    expect(bad.status).toBe(2);
    expect(bad.stderr).toBe(`dit: explain: --report ${notJson}: not JSON\n`);
    expect((await dit('explain', 'x')).status).toBe(2);
  });
});

describe('dit explain: the causes issue 13 names', () => {
  it('a link to a folder: each path it leads to, followed up to the command', async () => {
    const { status, stdout } = await dit('explain', '--path', curlExport, '/lib');
    expect(status).toBe(0);
    expect(stdout).toMatch(/^\/lib \[/m);
    expect(stdout).toContain(
      '/lib ← link on the way to /lib/x86_64-linux-gnu/libcurl.so.4 ← needed by /usr/bin/curl (the command)\n',
    );
  });

  it('an NSS module: listed in nsswitch.conf', async () => {
    const report = JSON.parse(readFileSync(curlReport, 'utf8'));
    const modules = report.entries.filter((e: { reasons: string[] }) =>
      e.reasons.includes('runtime data: an NSS module named in /etc/nsswitch.conf'),
    );
    expect(modules.length).toBeGreaterThan(0);
    const { status, stdout } = await dit('explain', '--report', curlReport, modules[0].path);
    expect(status).toBe(0);
    expect(stdout).toContain(`${modules[0].path} ← an NSS module named in /etc/nsswitch.conf\n`);
  });

  it('an --include', async () => {
    const { status, stdout } = await dit('explain', '--path', pythonExport, '/usr/lib/python3.11/this.py');
    expect(status).toBe(0);
    expect(stdout).toContain("/usr/lib/python3.11/this.py ← --include '/usr/lib/python3.11/this.py'\n");
  });
});

describe('dit explain --sizes', () => {
  it('the table: every package and the application files, biggest first, adding up to the export', async () => {
    const { status, stdout } = await dit('explain', '--report', curlReport, '--sizes', '--json');
    expect(status).toBe(0);
    const rows: { name: string; bytes: number; share: number }[] = JSON.parse(stdout);
    const report = JSON.parse(readFileSync(curlReport, 'utf8'));
    expect(rows.map((row) => row.bytes)).toEqual([...rows.map((row) => row.bytes)].sort((a, b) => b - a));
    expect(rows.reduce((sum, row) => sum + row.bytes, 0)).toBe(report.totals.bytes);
    expect(rows.map((row) => row.name)).toContain('(application files)');
    expect(rows[0]!.name).toBe('libssl3:amd64');
  });

  it('as text, and as an SVG bar chart', async () => {
    const svg = join(T, 'sizes.svg');
    const { status, stdout } = await dit('explain', '--report', curlReport, '--sizes', '--svg', svg);
    expect(status).toBe(0);
    expect(stdout.split('\n')[0]).toMatch(/^package\s+files\s+bytes\s+share$/);
    expect(stdout).toMatch(/^libssl3:amd64\s+\d+\s+[\d.]+ MiB\s+[\d.]+%$/m);
    const drawing = readFileSync(svg, 'utf8');
    expect(drawing).toMatch(/^<svg xmlns="http:\/\/www\.w3\.org\/2000\/svg"/);
    expect(drawing).toContain('>libssl3:amd64</text>');
    expect(drawing.trim().endsWith('</svg>')).toBe(true);
  });
});

describe('dit explain --path DIR: a finished export explains itself', () => {
  it('the same chains as the report, from the record the export keeps', async () => {
    const { status, stdout } = await dit('explain', '--path', curlExport, 'libnghttp2.so.14');
    expect(status).toBe(0);
    expect(stdout).toContain(
      'libnghttp2.so.14 ← needed by /usr/lib/x86_64-linux-gnu/libcurl.so.4 ← needed by /usr/bin/curl (the command)\n',
    );
    const fromReport = await dit(
      'explain',
      '--report',
      curlReport,
      '--json',
      'libssl.so.3',
      '/lib/x86_64-linux-gnu/libc.so.6',
    );
    const fromExport = await dit(
      'explain',
      '--path',
      curlExport,
      '--json',
      'libssl.so.3',
      '/lib/x86_64-linux-gnu/libc.so.6',
    );
    expect(fromExport.status).toBe(0);
    // The record leaves out the pid of a traced process (`opened by curl (pid 5)`): the rest is equal.
    expect(JSON.parse(fromExport.stdout)).toEqual(JSON.parse(fromReport.stdout.replace(/ \(pid \d+\)/g, '')));
    expect(fromReport.stdout).toMatch(/ by curl \(pid \d+\)/);
  });

  it('a traced Python module: the program that opened it (the pid only in the report: it differs run to run)', async () => {
    const module = '/usr/lib/python3.11/json/__pycache__/decoder.cpython-311.pyc';
    const { status, stdout } = await dit('explain', '--path', pythonExport, module);
    expect(status).toBe(0);
    expect(stdout).toMatch(
      /^ {2}\/usr\/lib\/python3\.11\/json\/__pycache__\/decoder\.cpython-311\.pyc ← opened.* by python3(\.11)?$/m,
    );
  });

  it('--sizes, --json and --svg as from the report', async () => {
    const fromReport = await dit('explain', '--report', curlReport, '--sizes', '--json');
    const fromExport = await dit('explain', '--path', curlExport, '--sizes', '--json');
    expect(fromExport.status).toBe(0);
    expect(JSON.parse(fromExport.stdout)).toEqual(JSON.parse(fromReport.stdout));
    const svg = join(T, 'sizes-from-path.svg');
    const text = await dit('explain', '--path', curlExport, '--sizes', '--svg', svg);
    expect(text.status).toBe(0);
    expect(text.stdout).toMatch(/^libssl3:amd64\s+\d+\s+[\d.]+ MiB\s+[\d.]+%$/m);
    expect(readFileSync(svg, 'utf8')).toContain(`>${curlExport}: `);
  });

  it('the record: listed in the report with its digest, holding no command line, host path or pid', async () => {
    const record = readFileSync(join(pythonExport, RECORD));
    const report = JSON.parse(readFileSync(pythonReport, 'utf8'));
    const entry = report.entries.find((e: { path: string }) => e.path === RECORD);
    expect(entry.size).toBe(record.length);
    expect(entry.sha256).toBe(createHash('sha256').update(record).digest('hex'));
    const text = record.toString('utf8');
    expect(text).not.toContain('json.dumps');
    expect(text).not.toContain(T);
    expect(text).not.toMatch(/\(pid \d+\)/);
    // Every entry of the export, itself included, each with its size (the report's totals agree).
    const parsed = JSON.parse(text);
    expect(parsed.entries.map((e: { path: string }) => e.path)).toEqual(
      report.entries.map((e: { path: string }) => e.path),
    );
    const files = await dit('explain', '--path', pythonExport, RECORD);
    expect(files.stdout).toContain(`${RECORD} ← what dit explain --path reads`);
  });

  it('the same export made again elsewhere has the same record, byte for byte; its --tar carries it', async () => {
    const again = join(T, 'curl-again');
    const tar = join(T, 'curl-again.tar');
    const run = await dit(
      'export',
      '-q',
      '--no-verify',
      '--path',
      again,
      '--tar',
      tar,
      '--',
      '/usr/bin/curl',
      '--version',
    );
    expect(run.status).toBe(0);
    expect(readFileSync(join(again, RECORD))).toEqual(readFileSync(join(curlExport, RECORD)));
    // Unpacked from the archive (as from an image's layer), the export still explains itself.
    const unpacked = join(T, 'curl-unpacked');
    mkdirSync(unpacked);
    execFileSync('tar', ['-xf', tar, '-C', unpacked]);
    const { status, stdout } = await dit('explain', '--path', unpacked, 'libnghttp2.so.14');
    expect(status).toBe(0);
    expect(stdout).toContain(
      'libnghttp2.so.14 ← needed by /usr/lib/x86_64-linux-gnu/libcurl.so.4 ← needed by /usr/bin/curl (the command)\n',
    );
  });

  it('exit 1 naming a path the export does not hold', async () => {
    const missing = await dit('explain', '--path', curlExport, '/usr/bin/wget', 'libssl.so.3');
    expect(missing.status).toBe(1);
    expect(missing.stderr).toBe(`dit: explain: /usr/bin/wget: not in the export at ${curlExport}\n`);
    expect(missing.stdout).toContain('libssl.so.3 (');
  });

  it('exit 2 for a DIR that is not an export of dit, one made with --no-explain-record, or no folder', async () => {
    const plain = join(T, 'plain');
    mkdirSync(join(plain, 'var/lib'), { recursive: true });
    writeFileSync(join(plain, 'hello'), 'hi');
    const notExport = await dit('explain', '--path', plain, 'hello');
    expect(notExport.status).toBe(2);
    expect(notExport.stderr).toBe(
      `dit: explain: --path ${plain}: not an export of dit, or one made with --no-explain-record (it has no ${RECORD}); explain it with the --report FILE of its export\n`,
    );

    const bare = join(T, 'bare');
    const run = await dit(
      'export',
      '-q',
      '--no-verify',
      '--no-explain-record',
      '--path',
      bare,
      '--',
      '/usr/bin/curl',
      '--version',
    );
    expect(run.status).toBe(0);
    expect(existsSync(join(bare, 'var/lib/dit'))).toBe(false);
    expect((await dit('explain', '--path', bare, '--sizes')).status).toBe(2);

    const nowhere = await dit('explain', '--path', join(T, 'nowhere'), 'x');
    expect(nowhere.status).toBe(2);
    expect(nowhere.stderr).toBe(`dit: explain: --path ${join(T, 'nowhere')}: no such folder\n`);

    const damaged = join(T, 'damaged');
    mkdirSync(join(damaged, 'var/lib/dit'), { recursive: true });
    writeFileSync(join(damaged, RECORD), '{"format":"something else"}');
    const bad = await dit('explain', '--path', damaged, 'x');
    expect(bad.status).toBe(2);
    expect(bad.stderr).toContain('not a record of dit export');
  });

  it('--path and --report together are refused', async () => {
    const both = await dit('explain', '--path', curlExport, '--report', curlReport, 'libc.so.6');
    expect(both.status).toBe(2);
  });
});
