/**
 * The proof sees what the runtime sees: the check's stdout and stderr are pipes (never sockets), so
 * `/dev/stderr` and `/proc/self/fd/2` open in the trace and in the verification; both phases run
 * with the image's environment (HOME from the passwd entry, not the build's); the diagnosis of a
 * failing run has the verification's /proc and /dev.
 */
import { spawnSync } from 'node:child_process';
import { existsSync, readFileSync, realpathSync, rmSync } from 'node:fs';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { exportImage, runIsolated } from '@dit/exporter';
import { trace } from '@dit/trace';
import { build } from 'esbuild';
import { afterAll, afterEach, describe, expect, it, vi } from 'vitest';
import { tempDir } from '../../../test-support/fixtures.js';

const temp = tempDir('dit-faithful-');
const T = realpathSync(temp.path);
const REPO = fileURLToPath(new URL('../../..', import.meta.url));
afterAll(() => temp.cleanup());
afterEach(() => vi.unstubAllEnvs());

const ENV = { PATH: '/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin', LANG: 'C.UTF-8' };

/** The home of the user running the tests, as the host's passwd says (what a runtime would give). */
function passwdHome(): string {
  const uid = String(process.getuid!());
  const entry = readFileSync('/etc/passwd', 'utf8')
    .split('\n')
    .map((line) => line.split(':'))
    .find((fields) => fields[2] === uid);
  return entry?.[5] || '/';
}

describe('the check writes to /dev/stderr and /proc/self/fd/2', () => {
  const script =
    'echo to-stderr > /dev/stderr && echo to-fd2 > /proc/self/fd/2 && echo to-stdout > /dev/stdout';

  it('is traced and verified, both phases opening its own stdio by name', async () => {
    const output = join(T, 'stdio');
    const report = await exportImage({
      path: output,
      command: ['/bin/sh', '-c', script],
      env: ENV,
      cwd: '/',
    });
    expect(report.verification?.note ?? null).toBeNull();
    expect(report.verification).toMatchObject({ ok: true, isolation: 'namespaces', exitCode: 0 });

    // What the verification captured came through pipes: every line arrived, on the right stream.
    const run = await runIsolated(output, ['/bin/sh', '-c', script], { env: ENV, cwd: '/' });
    expect(run.exitCode).toBe(0);
    expect(run.stdout.toString()).toBe('to-stdout\n');
    expect(run.stderr.toString()).toBe('to-stderr\nto-fd2\n');
  });

  it('a captured trace (the diagnosis) gives pipes too', async () => {
    const report = await trace(
      ['/bin/sh', '-c', `${script}; stat -L -c %F /proc/self/fd/1 /proc/self/fd/2`],
      {
        env: ENV,
        stdio: 'pipe',
      },
    );
    expect(report.exitCode).toBe(0);
    expect(report.stderr?.toString()).toBe('to-stderr\nto-fd2\n');
    const out = report.stdout?.toString() ?? '';
    expect(out).toBe('to-stdout\nfifo\nfifo\n');
  });
});

describe('dit started with sockets for stdout and stderr (by a Node parent)', () => {
  it('the traced command still gets pipes, and what it writes comes through', async () => {
    // A small program tracing with inherited stdio, bundled from the sources as the CLI is.
    const bundle = join(T, 'trace-inherit.cjs');
    await build({
      stdin: {
        contents:
          "import { trace } from './packages/trace/src/index.ts';\n" +
          "trace(['/bin/sh', '-c', process.argv[2]], { env: { PATH: '/usr/bin:/bin' } })" +
          '.then((report) => { process.exitCode = report.exitCode ?? 99; });\n',
        resolveDir: REPO,
        loader: 'ts',
      },
      outfile: bundle,
      bundle: true,
      platform: 'node',
      format: 'cjs',
      conditions: ['source'],
      logLevel: 'error',
    });
    // spawnSync's 'pipe' gives the child socketpairs: exactly the case.
    const run = spawnSync(
      process.execPath,
      [
        bundle,
        'echo to-stderr > /dev/stderr && echo to-fd1 > /proc/self/fd/1 && stat -L -c %F /proc/self/fd/2',
      ],
      { encoding: 'utf8', stdio: ['ignore', 'pipe', 'pipe'] },
    );
    expect(run.stderr).toBe('to-stderr\n');
    expect(run.stdout).toBe('to-fd1\nfifo\n');
    expect(run.status).toBe(0);
  });
});

describe('the environment is the image’s', () => {
  const home = passwdHome();

  it('HOME comes from the passwd entry, not the build’s HOME, in the trace and the verification', async () => {
    vi.stubEnv('HOME', join(T, 'build-home'));
    vi.stubEnv('DIT_BUILD_ONLY', 'leaks');
    const output = join(T, 'home');
    const check = `test "$HOME" = "${home}" && test -z "$DIT_BUILD_ONLY"`;
    const report = await exportImage({ path: output, command: ['/bin/sh', '-c', check], cwd: '/' });
    expect(report.verification).toMatchObject({ ok: true, exitCode: 0 });
    // The runtime computes HOME from the same entry: it is exported.
    expect(report.entries.map((entry) => entry.path)).toContain('/etc/passwd');
  });

  it('--env sets a variable for both phases (HOME too), --keep-env keeps the build’s environment', async () => {
    vi.stubEnv('HOME', join(T, 'build-home'));
    const set = await exportImage({
      path: join(T, 'set-env'),
      command: ['/bin/sh', '-c', 'test "$HOME" = /srv && test "$GREETING" = "a b"'],
      setEnv: { HOME: '/srv', GREETING: 'a b' },
      cwd: '/',
    });
    expect(set.verification).toMatchObject({ ok: true });

    const kept = await exportImage({
      path: join(T, 'keep-env'),
      command: ['/bin/sh', '-c', `test "$HOME" = "${join(T, 'build-home')}"`],
      env: process.env,
      cwd: '/',
    });
    expect(kept.verification).toMatchObject({ ok: true });
  });
});

describe('what a runtime mounts', () => {
  it('/dev/shm is there for POSIX shared memory (PostgreSQL), writable, and private to the run', async () => {
    const output = join(T, 'shm');
    const script = 'echo shared > /dev/shm/dit-test && cat /dev/shm/dit-test && stat -c %a /dev/shm';
    const report = await exportImage({
      path: output,
      command: ['/bin/sh', '-c', script],
      env: ENV,
      cwd: '/',
    });
    expect(report.verification).toMatchObject({ ok: true, isolation: 'namespaces' });
    rmSync('/dev/shm/dit-test', { force: true }); // the traced run's, on this machine
    const inside = script.replaceAll('dit-test', 'dit-test-inside');
    const run = await runIsolated(output, ['/bin/sh', '-c', inside], { env: ENV, cwd: '/' });
    expect(run.stderr.toString()).toBe('');
    expect(run.stdout.toString()).toBe('shared\n1777\n');
    expect(existsSync('/dev/shm/dit-test-inside')).toBe(false);
  });
});

describe('the diagnosis of a failing run', () => {
  it('runs with the verification’s /dev and /proc inside the export', async () => {
    const output = join(T, 'diagnosis');
    await exportImage({
      path: output,
      command: ['/bin/sh', '-c', 'true'],
      env: ENV,
      cwd: '/',
      verify: false,
    });
    // What the diagnosis does (verify.ts): trace the command inside the export, writes discarded.
    const report = await trace(
      ['/bin/sh', '-c', 'sleep_not_needed=1; : > /dev/null && test -r /proc/self/status && test -d /tmp'],
      { root: output, cwd: '/', env: ENV, stdio: 'pipe', discardWrites: true },
    );
    expect(report.stderr?.toString()).toBe('');
    expect(report.exitCode).toBe(0);
  });
});
