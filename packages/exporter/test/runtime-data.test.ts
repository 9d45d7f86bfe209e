/**
 * Runtime data as `--help` promises it: the zone database when a zone is read by name (not for
 * /etc/localtime alone), /var/tmp like /tmp, and no false "not found" for a library the program
 * loads itself before the libraries that need it (the JVM's libjvm.so).
 */
import { realpathSync, statSync } from 'node:fs';
import { join } from 'node:path';
import { exportImage, runIsolated } from '@dit/exporter';
import { afterAll, describe, expect, it } from 'vitest';
import { tempDir } from '../../../test-support/fixtures.js';

const temp = tempDir('dit-runtime-data-');
const T = realpathSync(temp.path);
afterAll(() => temp.cleanup());

const ENV = { PATH: '/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin', LANG: 'C.UTF-8' };
const paths = (report: { entries: readonly { path: string }[] }) =>
  new Set(report.entries.map((e) => e.path));

describe('the time zone database', () => {
  it('comes whole when a zone was read by name: another zone then works in the export', async () => {
    const output = join(T, 'tz-named');
    const report = await exportImage({
      path: output,
      command: ['/bin/date', '-d', '@0', '+%H:%M %Z'],
      env: { ...ENV, TZ: 'Europe/Berlin' },
      cwd: '/',
    });
    expect(report.verification).toMatchObject({ ok: true });
    expect(paths(report)).toContain('/usr/share/zoneinfo/Asia/Tokyo');
    // A zone the check never touched, asked for at run time.
    const run = await runIsolated(output, ['/bin/date', '-d', '@0', '+%H:%M %Z'], {
      env: { ...ENV, TZ: 'America/New_York' },
      cwd: '/',
    });
    expect(run.stdout.toString()).toBe('19:00 EST\n');
  });

  it('does not come for /etc/localtime alone: its one zone comes through the link', async () => {
    const report = await exportImage({
      path: join(T, 'tz-local'),
      command: ['/bin/date'],
      env: ENV,
      cwd: '/',
    });
    expect(report.verification).toMatchObject({ ok: true });
    const exported = paths(report);
    expect(exported).toContain('/etc/localtime');
    const zones = [...exported].filter((path) => /^\/usr\/share\/zoneinfo\/.+/.test(path));
    expect(zones.length).toBeLessThanOrEqual(3); // the zone and the folders on its way
  });
});

describe('/var/tmp', () => {
  it('exists in every export with mode 1777, like /tmp', async () => {
    const output = join(T, 'var-tmp');
    const report = await exportImage({ path: output, command: ['/bin/true'], env: ENV, cwd: '/' });
    for (const dir of ['/tmp', '/var/tmp']) {
      expect(statSync(join(output, dir)).mode & 0o7777).toBe(0o1777);
      expect(report.entries.find((entry) => entry.path === dir)).toMatchObject({
        type: 'directory',
        mode: 0o1777,
      });
    }
    expect(statSync(join(output, 'var')).mode & 0o7777).toBe(statSync('/var').mode & 0o7777);
  });
});

describe('a library the program loads by path before those that need it', () => {
  it('java: no "libjvm.so was not found" warning, and the export verifies', async () => {
    const report = await exportImage({
      path: join(T, 'java'),
      command: ['java', '-Xshare:off', '-version'],
      env: ENV,
      cwd: '/',
      timeoutMs: 120_000,
    });
    expect(report.warnings.filter((warning) => warning.includes('libjvm.so'))).toEqual([]);
    expect(report.verification).toMatchObject({ ok: true });
    expect([...paths(report)].some((path) => path.endsWith('/server/libjvm.so'))).toBe(true);
  }, 180_000);
});
