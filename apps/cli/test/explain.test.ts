/** `dit explain` on the reports of real exports (curl, python3): the chains a person reads, sizes, SVG. */
import { readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { tempDir } from '../../../test-support/fixtures.js';
import { dit } from './run-cli.js';

const temp = tempDir('dit-cli-explain-');
const T = temp.path;
afterAll(() => temp.cleanup());

const curlReport = join(T, 'curl.json');
const pythonReport = join(T, 'python.json');

beforeAll(async () => {
  const curl = await dit(
    'export',
    '-q',
    '--path',
    join(T, 'curl'),
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
    join(T, 'python'),
    '--report',
    pythonReport,
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
