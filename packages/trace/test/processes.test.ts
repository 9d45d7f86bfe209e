/**
 * Several processes and threads at once: each access belongs to the thread that made it, relative
 * paths follow each one's own working directory (shared by threads, copied by fork), and every
 * execve's argv is kept.
 */
import { realpathSync } from 'node:fs';
import { join } from 'node:path';
import { trace } from '@dit/trace';
import { afterAll, describe, expect, it } from 'vitest';
import { compile, tempDir } from '../../../test-support/fixtures.js';

const temp = tempDir('dit-trace-proc-');
const T = realpathSync(temp.path);
afterAll(() => temp.cleanup());

const THREADS_AND_FORKS = `#include <fcntl.h>
#include <pthread.h>
#include <stdlib.h>
#include <sys/wait.h>
#include <unistd.h>
static void *worker(void *arg) {
  (void)arg;
  chdir("/usr");                       /* CLONE_FS: the whole process moves */
  close(open("share/zoneinfo/UTC", O_RDONLY));
  return NULL;
}
int main(void) {
  pthread_t thread;
  pthread_create(&thread, NULL, worker, NULL);
  pthread_join(thread, NULL);
  close(open("lib/os-release", O_RDONLY));          /* /usr/lib/os-release: the thread moved us */
  pid_t child = fork();
  if (child == 0) {
    chdir("/etc");                     /* a fork's cwd is its own */
    close(open("hostname", O_RDONLY));
    char *argv[] = {"cat", "passwd", NULL};
    execv("/bin/cat", argv);
    _exit(127);
  }
  int status;
  waitpid(child, &status, 0);
  close(open("share/zoneinfo/UTC", O_RDONLY));   /* still /usr here */
  return WIFEXITED(status) ? WEXITSTATUS(status) : 99;
}
`;

describe('processes', () => {
  it('follows threads and forks, each with its own working directory', async () => {
    const program = compile(THREADS_AND_FORKS, join(T, 'tf'), { flags: ['-pthread'] });
    const report = await trace([program], { cwd: '/', stdio: 'pipe' });
    expect(report.exitCode).toBe(0);

    const [main, ...others] = report.processes;
    expect(main).toMatchObject({ parent: null, thread: false, executable: program, argv: [program] });
    const thread = others.find((p) => p.thread);
    expect(thread).toMatchObject({ parent: main!.pid, argv: null });
    const child = others.find((p) => !p.thread);
    expect(child).toMatchObject({
      parent: main!.pid,
      thread: false,
      argv: ['cat', 'passwd'],
      executable: '/bin/cat',
    });

    const opens = report.accesses.filter((a) => a.kind === 'open' && a.ok && !a.path.includes('.so'));
    const who = (path: string) => opens.filter((a) => a.path === path).map((a) => a.pid);
    expect(who('/usr/share/zoneinfo/UTC')).toEqual([thread!.pid, main!.pid]);
    expect(who('/usr/lib/os-release')).toEqual([main!.pid]);
    expect(who('/etc/hostname')).toEqual([child!.pid]);
    // cat's relative argument, opened after its exec, in the cwd its process inherited from itself.
    expect(who('/etc/passwd')).toEqual([child!.pid]);
    expect(report.accesses.find((a) => a.path === '/usr' && a.kind === 'chdir')?.pid).toBe(thread!.pid);
  });

  it('keeps the argv of every process in a pipeline', async () => {
    const report = await trace(['sh', '-c', 'cat /etc/hostname | wc -c >/dev/null; ls /usr >/dev/null'], {
      cwd: '/',
    });
    expect(report.exitCode).toBe(0);
    const argvs = report.processes.map((p) => p.argv);
    expect(argvs).toContainEqual(['sh', '-c', 'cat /etc/hostname | wc -c >/dev/null; ls /usr >/dev/null']);
    expect(argvs).toContainEqual(['cat', '/etc/hostname']);
    expect(argvs).toContainEqual(['wc', '-c']);
    expect(argvs).toContainEqual(['ls', '/usr']);
    const cat = report.processes.find((p) => p.argv?.[0] === 'cat')!;
    const ls = report.processes.find((p) => p.argv?.[0] === 'ls')!;
    const hostname = report.accesses.filter((a) => a.path === '/etc/hostname' && a.kind === 'open');
    expect(hostname.map((a) => a.pid)).toEqual([cat.pid]);
    expect(report.accesses.some((a) => a.path === '/usr' && a.kind === 'list' && a.pid === ls.pid)).toBe(
      true,
    );
    for (const process of report.processes.slice(1)) expect(process.parent).toBe(report.processes[0]!.pid);
  });

  it('follows an exec from a non-leader thread (the thread takes over the process id)', async () => {
    const program = compile(
      `#include <pthread.h>
#include <unistd.h>
static void *worker(void *arg) {
  (void)arg;
  chdir("/etc");
  char *argv[] = {"cat", "hostname", NULL};
  execv("/bin/cat", argv);
  return NULL;
}
int main(void) {
  pthread_t thread;
  pthread_create(&thread, NULL, worker, NULL);
  pause();
  return 3;
}
`,
      join(T, 'thread-exec'),
      { flags: ['-pthread'] },
    );
    const report = await trace([program], { cwd: '/', stdio: 'pipe' });
    expect(report.exitCode).toBe(0);
    const main = report.processes[0]!;
    expect(main.execs.map((e) => e.argv)).toEqual([[program], ['cat', 'hostname']]);
    const hostname = report.accesses.filter((a) => a.path === '/etc/hostname' && a.kind === 'open');
    expect(hostname).toHaveLength(1);
    expect(hostname[0]).toMatchObject({ ok: true, pid: main.pid });
  });
});
