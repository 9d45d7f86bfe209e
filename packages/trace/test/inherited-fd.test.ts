/**
 * Real strace, with the caller's stdout redirected to a file (`dit ... > out.log`): the traced
 * command's libc fstat()s its stdout, strace's `-y` shows the file behind fd 1, and yet the file is
 * not an access of the command, which never opened it.
 */
import { spawn } from 'node:child_process';
import { closeSync, openSync, readFileSync, realpathSync } from 'node:fs';
import { join } from 'node:path';
import type { TraceReport } from '@dit/trace';
import { afterAll, expect, it } from 'vitest';
import { tempDir } from '../../../test-support/fixtures.js';
import { nodeScript } from '../../../test-support/node-script.js';

const temp = tempDir('dit-trace-inherited-');
const T = realpathSync(temp.path);
afterAll(() => temp.cleanup());

async function traceWithStdout(command: string[], stdoutFile: string): Promise<TraceReport> {
  const reportFile = join(T, 'report.json');
  const script = await nodeScript(`
import { writeFileSync } from 'node:fs';
import { trace } from '@dit/trace';
const report = await trace(${JSON.stringify(command)}, { cwd: '/' });
writeFileSync(${JSON.stringify(reportFile)}, JSON.stringify(report));
`);
  const fd = openSync(stdoutFile, 'w');
  try {
    const status = await new Promise((resolve) => {
      spawn(process.execPath, [script.path], { stdio: ['ignore', fd, 'inherit'] }).once('exit', resolve);
    });
    expect(status).toBe(0);
  } finally {
    closeSync(fd);
    script.cleanup();
  }
  return JSON.parse(readFileSync(reportFile, 'utf8')) as TraceReport;
}

it('a stdout redirected to a file is not an access of the traced command', async () => {
  const out = join(T, 'out.log');
  const report = await traceWithStdout(['cat', '/etc/hostname'], out);
  expect(readFileSync(out, 'utf8')).toBe(readFileSync('/etc/hostname', 'utf8'));
  // cat did look at its stdout (to refuse copying a file onto itself), through the inherited fd.
  expect(report.accesses.some((a) => a.path === '/etc/hostname' && a.kind === 'open' && a.ok)).toBe(true);
  expect(report.accesses.filter((a) => a.path === out)).toEqual([]);
  expect(report.paths.map((p) => p.path)).not.toContain(out);
});

it('the same file is kept when the traced command opens it by name', async () => {
  const out = join(T, 'out2.log');
  const report = await traceWithStdout(['sh', '-c', `cat /etc/hostname; wc -c ${out} >&2`], out);
  const accesses = report.accesses.filter((a) => a.path === out);
  expect(accesses.some((a) => a.kind === 'open' && a.ok)).toBe(true);
  // ... and then its fstat through fd 1 counts too.
  expect(accesses.some((a) => a.kind === 'stat')).toBe(true);
});
