/**
 * Applications that live under /tmp: exported and verified like any other, while what the check
 * itself writes to /tmp stays out, the verification never changes the export, and the caller's own
 * stdout file (an inherited descriptor) is neither exported nor named as missing.
 */
import { spawn } from 'node:child_process';
import { createHash } from 'node:crypto';
import {
  chmodSync,
  closeSync,
  existsSync,
  lstatSync,
  mkdirSync,
  openSync,
  readdirSync,
  readFileSync,
  readlinkSync,
  realpathSync,
  writeFileSync,
} from 'node:fs';
import { join } from 'node:path';
import { type ExportReport, exportImage, runIsolated } from '@dit/exporter';
import { afterAll, describe, expect, it } from 'vitest';
import { compile, tempDir } from '../../../test-support/fixtures.js';
import { nodeScript } from '../../../test-support/node-script.js';

// Under /tmp on purpose: that is the case.
const temp = tempDir('dit-tmp-apps-');
const T = realpathSync(temp.path);
afterAll(() => temp.cleanup());

const ENV = { PATH: '/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin', LANG: 'C.UTF-8' };

function exportedPaths(report: ExportReport): string[] {
  return report.entries.map((entry) => entry.path);
}

/** Every path under `root` with its type, mode, size, link target and content hash. */
function snapshot(root: string): string[] {
  const lines: string[] = [];
  const walk = (dir: string) => {
    for (const name of readdirSync(dir).sort()) {
      const path = join(dir, name);
      const stat = lstatSync(path);
      let what = '';
      if (stat.isSymbolicLink()) what = `-> ${readlinkSync(path)}`;
      else if (stat.isFile()) what = createHash('sha256').update(readFileSync(path)).digest('hex');
      lines.push(`${path.slice(root.length)} ${stat.mode.toString(8)} ${stat.size} ${stat.mtimeMs} ${what}`);
      if (stat.isDirectory()) walk(path);
    }
  };
  walk(root);
  return lines;
}

function expectVerified(report: ExportReport) {
  expect(report.verification?.note ?? null).toBeNull();
  expect(report.verification).toMatchObject({ ok: true, isolation: 'namespaces' });
}

describe('an application under /tmp', () => {
  it('a script whose command lives there exports and verifies', async () => {
    const app = join(T, 'script-app');
    mkdirSync(app);
    writeFileSync(join(app, 'greeting'), 'hello from /tmp\n');
    writeFileSync(join(app, 'run.sh'), `#!/bin/sh\nexec cat ${app}/greeting\n`);
    chmodSync(join(app, 'run.sh'), 0o755);
    const output = join(T, 'script-out');
    const report = await exportImage({ path: output, command: [join(app, 'run.sh')], env: ENV, cwd: '/' });
    expectVerified(report);
    expect(exportedPaths(report)).toEqual(expect.arrayContaining([`${app}/run.sh`, `${app}/greeting`]));
    const run = await runIsolated(output, [join(app, 'run.sh')], { env: ENV, cwd: '/' });
    expect(run.stdout.toString('utf8')).toBe('hello from /tmp\n');
  });

  it('a program reading its data there, included with --include, exports and verifies', async () => {
    const app = join(T, 'c-app');
    const program = compile(
      `#include <stdio.h>
int main(void) {
  FILE *f = fopen("${app}/data", "r");
  if (!f) return 3;
  char line[64];
  if (!fgets(line, sizeof line, f)) return 4;
  fputs(line, stdout);
  return 0;
}
`,
      join(app, 'prog'),
    );
    writeFileSync(join(app, 'data'), 'payload\n');
    writeFileSync(join(app, 'unused'), 'only here because of --include\n');
    const output = join(T, 'c-out');
    const report = await exportImage({
      path: output,
      command: [program],
      include: [`${app}/**`],
      env: ENV,
      cwd: '/',
    });
    expectVerified(report);
    expect(exportedPaths(report)).toEqual(
      expect.arrayContaining([`${app}/prog`, `${app}/data`, `${app}/unused`]),
    );
    const run = await runIsolated(output, [program], { env: ENV, cwd: '/' });
    expect(run).toMatchObject({ exitCode: 0, isolation: 'namespaces' });
    expect(run.stdout.toString('utf8')).toBe('payload\n');
  });

  it('what the check writes to /tmp is not exported: a file it opens, a folder it makes', async () => {
    const app = join(T, 'writer');
    mkdirSync(app);
    writeFileSync(join(app, 'input'), 'kept\n');
    const check = `cat ${app}/input > ${app}/scratch.txt && mkdir ${app}/made && ls ${app}/made && cat ${app}/scratch.txt`;
    const output = join(T, 'writer-out');
    const report = await exportImage({ path: output, command: ['/bin/sh', '-c', check], env: ENV, cwd: '/' });
    expectVerified(report);
    const paths = exportedPaths(report);
    expect(paths).toContain(`${app}/input`);
    expect(paths).not.toContain(`${app}/scratch.txt`);
    expect(paths).not.toContain(`${app}/made`);
    // The verification ran the check, which wrote both again: into memory, not into the export.
    expect(existsSync(join(output, app, 'scratch.txt'))).toBe(false);
    expect(existsSync(join(output, app, 'made'))).toBe(false);
  });
});

describe('the verification run', () => {
  it('sees what the export holds under /tmp and /var/tmp, and changes nothing of it', async () => {
    const app = join(T, 'seen');
    mkdirSync(app);
    writeFileSync(join(app, 'data'), 'exported\n');
    mkdirSync('/var/tmp', { recursive: true });
    const output = join(T, 'seen-out');
    const report = await exportImage({
      path: output,
      command: ['/bin/sh', '-c', `cat ${app}/data`],
      binaries: ['/usr/bin/ls', '/usr/bin/rm', '/usr/bin/mkdir'],
      include: ['/var/tmp'],
      env: ENV,
      cwd: '/',
    });
    expectVerified(report);
    mkdirSync(join(output, 'var/tmp/cache'), { recursive: true });
    writeFileSync(join(output, 'var/tmp/cache/entry'), 'cached\n');
    const before = snapshot(output);
    const script = [
      `cat ${app}/data /var/tmp/cache/entry`,
      `echo changed > ${app}/data`,
      `rm /var/tmp/cache/entry`,
      'echo new > /tmp/new; echo new > /var/tmp/new; mkdir /made; echo x > /bin/sh-was-here',
      `cat ${app}/data`,
    ].join('; ');
    const run = await runIsolated(output, ['/bin/sh', '-c', script], { env: ENV, cwd: '/' });
    expect(run).toMatchObject({ isolation: 'namespaces', exitCode: 0 });
    expect(run.stdout.toString('utf8')).toBe('exported\ncached\nchanged\n');
    expect(snapshot(output)).toEqual(before);
  });
});

describe('a verification that fails', () => {
  it('is traced for hints without writing into the export either', async () => {
    const app = join(T, 'diagnosed');
    mkdirSync(app);
    writeFileSync(join(app, 'kept'), 'kept\n');
    writeFileSync(join(app, 'needed'), 'needed\n');
    const output = join(T, 'diagnosed-out');
    const report = await exportImage({
      path: output,
      command: ['/bin/sh', '-c', `cat ${app}/kept; echo x > ${app}/written; cat ${app}/needed`],
      exclude: [`${app}/needed`],
      env: ENV,
      cwd: '/',
    });
    expect(report.verification).toMatchObject({ ran: true, ok: false, missing: [`${app}/needed`] });
    expect(existsSync(join(output, app, 'kept'))).toBe(true);
    expect(existsSync(join(output, app, 'written'))).toBe(false);
  });
});

describe('descriptors inherited from the caller', () => {
  it('a stdout redirected to a file under /tmp, and scratch, are neither exported nor named as missing', async () => {
    const app = join(T, 'redirected');
    mkdirSync(app);
    writeFileSync(join(app, 'needed'), 'needed\n');
    const output = join(T, 'redirected-out');
    const reportFile = join(T, 'redirected-report.json');
    // `dit export ... > out.log`: the check's stdout is the caller's file. The export leaves out the
    // file the check reads, so the verification fails and the hints are computed; the scratch file
    // the check wrote is no hint either (it cannot help).
    const script = await nodeScript(`
import { writeFileSync } from 'node:fs';
import { exportImage } from '@dit/exporter';
const report = await exportImage({
  path: ${JSON.stringify(output)},
  command: ['/bin/sh', '-c', ${JSON.stringify(`echo scratch > ${app}/scratch; cat ${app}/needed`)}],
  exclude: [${JSON.stringify(`${app}/needed`)}],
  env: ${JSON.stringify(ENV)},
  cwd: '/',
});
writeFileSync(${JSON.stringify(reportFile)}, JSON.stringify(report));
`);
    const outLog = join(T, 'out.log');
    const fd = openSync(outLog, 'w');
    try {
      const status = await new Promise((resolve) => {
        const child = spawn(process.execPath, [script.path], {
          stdio: ['ignore', fd, 'inherit'],
          env: { ...process.env, DIT_NATIVE: '0' },
        });
        child.once('exit', resolve);
      });
      expect(status).toBe(0);
    } finally {
      closeSync(fd);
      script.cleanup();
    }
    expect(readFileSync(outLog, 'utf8')).toBe('needed\n');
    const report = JSON.parse(readFileSync(reportFile, 'utf8')) as ExportReport;
    expect(report.verification).toMatchObject({ ran: true, ok: false });
    expect(report.verification?.missing).toEqual([`${app}/needed`]);
    expect(exportedPaths(report)).not.toContain(outLog);
  });
});
