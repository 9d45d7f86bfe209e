/**
 * Tracing chrooted into a tiny root that has no shell and no libc: one static program. The
 * launcher (unshare) runs on the host first; none of what it touches may show up in the report.
 */
import { mkdirSync, readdirSync, realpathSync, symlinkSync, writeFileSync } from 'node:fs';
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

/** Prints who it runs as: uid, gid, then the supplementary groups. */
const IDS = `#include <stdio.h>
#include <unistd.h>
int main(void) {
  gid_t groups[16];
  int n = getgroups(16, groups);
  printf("%d %d", (int)getuid(), (int)getgid());
  for (int i = 0; i < n; i++) printf(" %d", (int)groups[i]);
  printf("\\n");
  return 0;
}
`;

/** What a runtime gives a container: /proc, /dev/null, a /dev/shm any user may create files in. */
const RUNTIME = `#include <fcntl.h>
#include <stdio.h>
#include <sys/stat.h>
int main(void) {
  struct stat st;
  int proc = stat("/proc/self/status", &st);
  int null = open("/dev/null", O_WRONLY);
  int shm = open("/dev/shm/segment", O_RDWR | O_CREAT, 0600);
  printf("%s %s %s\\n", proc == 0 ? "proc" : "-", null >= 0 ? "null" : "-", shm >= 0 ? "shm" : "-");
  return 0;
}
`;
const FULL_ROOT = join(realpathSync(temp.path), 'full-root');

beforeAll(() => {
  compile(PROGRAM, join(ROOT, 'bin', 't'), { flags: ['-static', '-O2'] });
  compile(RUNTIME, join(FULL_ROOT, 'bin', 'runtime'), { flags: ['-static', '-O2'] });
  for (const dir of ['proc', 'dev', 'tmp']) mkdirSync(join(FULL_ROOT, dir));
  compile(IDS, join(ROOT, 'bin', 'ids'), { flags: ['-static', '-O2'] });
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

  it('runs the command as the user given, its uid set after the chroot, and reports nothing of the launchers', async () => {
    const report = await trace(['/bin/ids'], {
      root: ROOT,
      user: { uid: 65534, gid: 65533, groups: [65532] },
      stdio: 'pipe',
    });
    expect(report.stderr?.toString()).toBe('');
    expect(report.stdout?.toString()).toBe('65534 65533 65532\n');
    expect(report.exitCode).toBe(0);
    // setpriv and unshare ran on the host before the chroot: none of their paths is reported, only
    // the command's and the launcher's --wd (/).
    const own = ['/', '/bin/ids', '/proc/self/exe'];
    expect(report.paths.map((p) => p.path).filter((path) => !own.includes(path))).toEqual([]);
    expect(report.processes[0]).toMatchObject({ executable: '/bin/ids', argv: ['/bin/ids'], exitCode: 0 });
  });

  it("gives a root that has the mount points the runtime's /proc and /dev (as a user too), leaving the root as it was", async () => {
    const report = await trace(['/bin/runtime'], {
      root: FULL_ROOT,
      user: { uid: 65534, gid: 65534, groups: [] },
      stdio: 'pipe',
    });
    expect(report.stdout?.toString()).toBe('proc null shm\n');
    expect(readdirSync(join(FULL_ROOT, 'dev'))).toEqual([]);
    // A root without them (ROOT above) is not given any: nothing is made in it.
    const bare = await trace(['/bin/t'], { root: ROOT, cwd: '/data', stdio: 'pipe' });
    expect(bare.exitCode).toBe(0);
    expect(readdirSync(ROOT).sort()).toEqual(['bin', 'data', 'etc']);
  });

  it('refuses a command that is not inside the root, even if the host has it', async () => {
    await expect(trace(['sh', '-c', 'true'], { root: ROOT })).rejects.toMatchObject({
      code: 'TRACE_COMMAND_NOT_FOUND',
    });
  });
});
