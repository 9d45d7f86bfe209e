/**
 * Tracing chrooted into a tiny root that has no shell and no libc: one static program. The
 * launcher (unshare) runs on the host first; none of what it touches may show up in the report.
 */
import { mkdirSync, realpathSync, symlinkSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { trace } from '@dit/trace';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { compile, tempDir } from '../../../test-support/fixtures.js';

const temp = tempDir('dit-trace-root-');
const ROOT = join(realpathSync(temp.path), 'root');
afterAll(() => temp.cleanup());

const PROGRAM = `#include <fcntl.h>
#include <stdio.h>
#include <sys/stat.h>
#include <unistd.h>
int main(int argc, char **argv) {
  char buf[256];
  struct stat st;
  int rel = open("rel.txt", O_RDONLY);
  int abs = open("/etc/abs.txt", O_RDONLY);
  int linked = open("/etc/linked.txt", O_RDONLY);
  int missing = stat("/etc/missing.conf", &st);
  ssize_t n = readlink("/etc/linked.txt", buf, sizeof buf);
  int up = open("../etc/abs.txt", O_RDONLY);
  printf("%d %d %d %d %zd %d\\n", rel, abs, linked, missing, n, up);
  return rel < 0 || abs < 0 || linked < 0 || missing == 0 || n < 0 || up < 0 ? 1 : 0;
}
`;

beforeAll(() => {
  compile(PROGRAM, join(ROOT, 'bin', 't'), { flags: ['-static', '-O2'] });
  mkdirSync(join(ROOT, 'data'), { recursive: true });
  mkdirSync(join(ROOT, 'etc'), { recursive: true });
  writeFileSync(join(ROOT, 'data', 'rel.txt'), 'relative\n');
  writeFileSync(join(ROOT, 'etc', 'abs.txt'), 'absolute\n');
  // An absolute link: inside the root it means ROOT/data/rel.txt, never the host's /data.
  symlinkSync('/data/rel.txt', join(ROOT, 'etc', 'linked.txt'));
});

describe('root', () => {
  it('reports paths inside the root and nothing from the host-side launcher', async () => {
    const report = await trace(['t'], {
      root: ROOT,
      cwd: '/data',
      env: { PATH: '/sbin:/bin' },
      stdio: 'pipe',
    });
    expect(report.stderr?.toString()).toBe('');
    expect(report.exitCode).toBe(0);
    expect(report.stdout?.toString()).toMatch(/^\d+ \d+ \d+ -1 \d+ \d+\n$/);

    const byPath = new Map(report.paths.map((p) => [p.path, p]));
    expect(byPath.get('/data/rel.txt')).toMatchObject({
      ok: true,
      kinds: ['open'],
      realPath: '/data/rel.txt',
      type: 'file',
    });
    expect(byPath.get('/etc/abs.txt')).toMatchObject({ ok: true, realPath: '/etc/abs.txt' });
    expect(byPath.get('/etc/linked.txt')).toMatchObject({
      ok: true,
      kinds: ['open', 'readlink'],
      realPath: '/data/rel.txt',
      links: [{ path: '/etc/linked.txt', target: '/data/rel.txt' }],
    });
    expect(byPath.get('/etc/missing.conf')).toMatchObject({
      ok: false,
      failedErrnos: ['ENOENT'],
      type: null,
    });
    // execvp's PATH search inside the root, failed candidate included.
    expect(byPath.get('/sbin/t')).toMatchObject({ ok: false, kinds: ['exec'], failedErrnos: ['ENOENT'] });
    expect(byPath.get('/bin/t')).toMatchObject({ ok: true, kinds: ['exec'] });
    // The launcher's --wd.
    expect(byPath.get('/data')).toMatchObject({ ok: true, kinds: ['chdir'], directory: true });

    // Nothing the host's unshare loaded before its chroot, and no host path at all.
    for (const path of report.paths) {
      expect(path.path.startsWith(ROOT), path.path).toBe(false);
      expect(path.realPath === null || !path.realPath.startsWith(ROOT), path.path).toBe(true);
    }
    expect(byPath.has('/etc/ld.so.cache')).toBe(false);
    expect(report.paths.some((p) => p.path.includes('libc.so'))).toBe(false);
    expect(report.paths.map((p) => p.path).sort()).toEqual(
      ['/bin/t', '/data', '/data/rel.txt', '/etc/abs.txt', '/etc/linked.txt', '/etc/missing.conf', '/sbin/t']
        .concat(
          // glibc's static startup asks for its own executable; there is no /proc inside this root.
          report.paths.some((p) => p.path === '/proc/self/exe') ? ['/proc/self/exe'] : [],
        )
        .sort(),
    );

    const [command] = report.processes;
    expect(command).toMatchObject({ parent: null, executable: '/bin/t', argv: ['t'], exitCode: 0 });
    expect(command!.execs).toEqual([{ path: '/bin/t', argv: ['t'] }]);
  });

  it('starts in / by default', async () => {
    const report = await trace(['/bin/t'], { root: ROOT, stdio: 'pipe' });
    // rel.txt is not in /, so the relative open fails there and the program exits 1.
    expect(report.exitCode).toBe(1);
    expect(report.paths.find((p) => p.path === '/rel.txt')).toMatchObject({
      ok: false,
      failedErrnos: ['ENOENT'],
    });
  });

  it('refuses a command that is not inside the root, even if the host has it', async () => {
    await expect(trace(['sh', '-c', 'true'], { root: ROOT })).rejects.toMatchObject({
      code: 'TRACE_COMMAND_NOT_FOUND',
    });
  });
});
