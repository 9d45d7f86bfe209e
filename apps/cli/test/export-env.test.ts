/** `dit export --env` and `--keep-env`: the check runs with the image's environment, not the build's. */
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { afterAll, afterEach, describe, expect, it, vi } from 'vitest';
import { tempDir } from '../../../test-support/fixtures.js';
import { dit } from './run-cli.js';

const temp = tempDir('dit-cli-env-');
const T = temp.path;
afterAll(() => temp.cleanup());
afterEach(() => vi.unstubAllEnvs());

describe('dit export --env / --keep-env', () => {
  it('a variable of the build does not reach the check; --env sets one for the trace and the verification', async () => {
    vi.stubEnv('DIT_TEST_BUILD_ONLY', 'from-the-build');
    const check = ['--', '/bin/sh', '-c', 'test -z "$DIT_TEST_BUILD_ONLY" && test "$APP_MODE" = "prod=1"'];
    const set = await dit('export', '--path', join(T, 'set'), '--env', 'APP_MODE=prod=1', '-q', ...check);
    expect(set.stderr).toBe('');
    expect(set.status).toBe(0);
    expect(set.stdout).toContain('verified');

    // Without --env the check fails while traced: exit 2, nothing exported.
    const unset = await dit('export', '--path', join(T, 'unset'), '-q', ...check);
    expect(unset.status).toBe(2);
    expect(unset.stderr).toMatch(/^dit: export: .* exited with status 1: the check must succeed/);
  });

  it('--keep-env gives the check dit’s own environment', async () => {
    vi.stubEnv('DIT_TEST_BUILD_ONLY', 'from-the-build');
    const result = await dit(
      'export',
      '--path',
      join(T, 'keep'),
      '--keep-env',
      '-q',
      '--',
      '/bin/sh',
      '-c',
      'test "$DIT_TEST_BUILD_ONLY" = from-the-build',
    );
    expect(result.status).toBe(0);
  });

  it('--user runs the check as that user in the trace as well as in the verification', async () => {
    const result = await dit(
      'export',
      '--path',
      join(T, 'as-nobody'),
      '--user',
      'nobody',
      '--report',
      join(T, 'as-nobody.json'),
      '-q',
      '--',
      '/bin/sh',
      '-c',
      'test "$(id -u):$(id -g)" = 65534:65534',
    );
    expect(result.stderr).toBe('');
    expect(result.status).toBe(0);
    // What made it run as nobody (setpriv) is dit's, not the application's: it is not exported.
    const report = JSON.parse(readFileSync(join(T, 'as-nobody.json'), 'utf8')) as {
      entries: { path: string }[];
    };
    const paths = report.entries.map((entry) => entry.path);
    expect(paths).toContain('/usr/bin/id');
    expect(paths.filter((path) => path.includes('setpriv') || path.includes('libcap-ng'))).toEqual([]);
  });

  it('refuses an --env that is not NAME=VALUE with exit 2', async () => {
    const result = await dit('export', '--path', join(T, 'bad'), '--env', 'NOEQUALS', '--', '/bin/true');
    expect(result.status).toBe(2);
    expect(result.stderr).toBe('dit: export: --env NOEQUALS: expected NAME=VALUE\n');
  });
});
