/** `dit export` end to end: what a user sees (summary, progress, errors, exit status) and the --report file. */
import { spawn, spawnSync } from 'node:child_process';
import { existsSync, mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import { join, resolve } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { tempDir } from '../../../test-support/fixtures.js';
import { dit } from './run-cli.js';

const temp = tempDir('dit-cli-export-');
const T = temp.path;
afterAll(() => temp.cleanup());

describe('dit export', () => {
  it('exports, verifies, prints one summary line, and writes the report', async () => {
    const out = join(T, 'getent');
    const reportFile = join(T, 'getent.json');
    const { status, stdout, stderr } = await dit(
      'export',
      '--path',
      out,
      '--report',
      reportFile,
      '--',
      '/usr/bin/getent',
      'passwd',
      'root',
    );
    expect(stderr).toContain('dit: tracing /usr/bin/getent passwd root');
    expect(stderr).toContain('dit: copied');
    expect(stderr.indexOf('dit: verifying inside the export\n')).toBeGreaterThan(
      stderr.indexOf('dit: copied'),
    );
    expect(status).toBe(0);
    expect(stdout).toMatch(
      /^exported \d+ files, \d+ symlinks \([\d.]+ \w+\) to .*; verified: the command runs inside it \(namespaces\)\n$/,
    );
    const report = JSON.parse(readFileSync(reportFile, 'utf8'));
    expect(report.verification.ok).toBe(true);
    const getent = report.entries.find((entry: { path: string }) => entry.path === '/usr/bin/getent');
    expect(getent).toMatchObject({
      type: 'file',
      mode: 0o755,
      reasons: expect.arrayContaining(['the check command']),
    });
    expect(getent.sha256).toMatch(/^[0-9a-f]{64}$/);
    expect(report.totals.files).toBe(
      report.entries.filter((e: { type: string }) => e.type === 'file').length,
    );
  });

  it('static mode with --binary and no command', async () => {
    const { status, stdout } = await dit(
      'export',
      '--path',
      join(T, 'static'),
      '--binary',
      '/usr/bin/curl',
      '-q',
    );
    expect(status).toBe(0);
    expect(stdout).toMatch(/^exported \d+ files/);
    expect(existsSync(join(T, 'static/usr/bin/curl'))).toBe(true);
  });

  it('refuses a non-empty --path with exit 2 and keeps what is there', async () => {
    const out = join(T, 'full');
    mkdirSync(out);
    writeFileSync(join(out, 'mine'), 'x');
    const { status, stderr } = await dit('export', '--path', out, '--binary', '/usr/bin/curl');
    expect(status).toBe(2);
    expect(stderr).toContain(`${out}: is not empty (use --force`);
    expect(readFileSync(join(out, 'mine'), 'utf8')).toBe('x');
    const forced = await dit('export', '--path', out, '--binary', '/usr/bin/curl', '--force', '-q');
    expect(forced.status).toBe(0);
    expect(existsSync(join(out, 'mine'))).toBe(false);
  });

  it('exits 1 and lists the --include that would fix a broken export', async () => {
    const { status, stderr } = await dit(
      'export',
      '--path',
      join(T, 'broken'),
      '-q',
      '--exclude',
      '/usr/lib/python3.11/json/decoder.py',
      '--',
      '/usr/bin/python3',
      '-c',
      'import json',
    );
    expect(status).toBe(1);
    expect(stderr).toContain('dit: verification failed: inside the export the command exited with 1');
    expect(stderr).toContain('  --include /usr/lib/python3.11/json/decoder.py');
  });

  it('usage errors exit 2', async () => {
    expect((await dit('export', '--', '/bin/true')).status).toBe(2); // no --path
    expect((await dit('export', '--path', join(T, 'x'))).status).toBe(2); // nothing to export
    expect((await dit('export', '--path', join(T, 'x'), '--timeout', 'soon', '--', '/bin/true')).status).toBe(
      2,
    );
    const missing = await dit('export', '--path', join(T, 'y'), '--', 'no-such-command-anywhere');
    expect(missing.status).toBe(2);
    expect(missing.stderr).toContain('no-such-command-anywhere: command not found');
  });

  it.runIf(existsSync(resolve(__dirname, '../dist/cli/main.cjs')))(
    'refuses an argument that is not UTF-8, which Node.js could not pass on, naming its bytes',
    () => {
      // child_process passes arguments as strings, so a shell makes the Latin-1 byte (printf).
      const out = join(T, 'latin1-argument');
      const run = spawnSync(
        'sh',
        [
          '-c',
          'exec "$1" "$2" export --path "$3" -- /bin/cat "$(printf "/srv/caf\\351")"',
          'sh',
          process.execPath,
          resolve(__dirname, '../bin/dit.cjs'),
          out,
        ],
        { encoding: 'utf8' },
      );
      expect(run.status).toBe(2);
      expect(run.stderr).toBe(
        'dit: export: "/srv/caf\\xe9" is not UTF-8; Node.js cannot pass it on as it is (it would name another file). Rename the file, or reach it from a script.\n',
      );
      expect(existsSync(out)).toBe(false);
    },
  );

  /** Runs the installed `dit ARGS`, sends it `signal` once its stderr shows `when`; its end. */
  function interrupt(args: string[], when: RegExp, signal: NodeJS.Signals) {
    return new Promise<{ status: number | null; stderr: string }>((done) => {
      const child = spawn(process.execPath, [resolve(__dirname, '../bin/dit.cjs'), ...args]);
      let stderr = '';
      let sent = false;
      child.stderr.on('data', (chunk: Buffer) => {
        stderr += chunk.toString();
        if (!sent && when.test(stderr)) {
          sent = true;
          // Give the command a moment to be running, then stop dit alone (not its process group).
          setTimeout(() => child.kill(signal), 1000);
        }
      });
      child.on('close', (status) => done({ status, stderr }));
    });
  }
  const running = (marker: string) => spawnSync('pgrep', ['-f', marker], { encoding: 'utf8' }).stdout.trim();

  it.runIf(existsSync(resolve(__dirname, '../dist/cli/main.cjs')))(
    'SIGTERM while tracing: the command and its children are killed, nothing is exported, exit 143',
    async () => {
      const out = join(T, 'interrupted-trace');
      const { status, stderr } = await interrupt(
        ['export', '--path', out, '--', '/bin/sh', '-c', 'sleep 617 & sleep 618'],
        /dit: tracing/,
        'SIGTERM',
      );
      expect(stderr).toContain(
        'dit: export: stopped by SIGTERM; the command and what it started were killed, nothing was exported\n',
      );
      expect(status).toBe(143);
      expect(running('sleep 61[78]')).toBe('');
      expect(existsSync(out)).toBe(false);
    },
  );

  it.runIf(existsSync(resolve(__dirname, '../dist/cli/main.cjs')))(
    'SIGINT while verifying: the run inside the export is killed, the export stays, exit 130',
    async () => {
      // On the host the flag exists and the check ends at once; inside the export (which leaves it
      // out: it was under /tmp before the trace, so it would be part of the application) it spins.
      const flag = join(T, 'flag-619');
      writeFileSync(flag, '');
      const out = join(T, 'interrupted-verify');
      const script = `test -e ${flag} || while :; do :; done # 619`;
      const { status, stderr } = await interrupt(
        ['export', '--path', out, '--exclude', flag, '--', '/bin/sh', '-c', script],
        /dit: verifying/,
        'SIGINT',
      );
      expect(stderr).toContain(
        `stopped by SIGINT; the command and what it started were killed, ${out} holds the export`,
      );
      expect(status).toBe(130);
      expect(running('# 619')).toBe('');
      expect(existsSync(join(out, 'bin'))).toBe(true);
      expect(existsSync(join(out, 'proc'))).toBe(false); // the verification's mount points are gone
    },
  );
});
