/**
 * Descriptors the command inherited from its caller are not accesses of the application: a path
 * the traced tree only reached through such an fd is left out of the parse.
 */
import { describe, expect, it } from 'vitest';
import { parseStraceLog } from './parse.js';

function log(text: string): string {
  return text
    .split('\n')
    .map((line) => line.trim())
    .filter((line) => line !== '')
    .join('\n');
}

describe('inherited descriptors', () => {
  // `dit export ... >/tmp/out.log 2>/tmp/err.log <input.txt`: libc's fstat of stdout, a program
  // reading its stdin, and a child listing a folder its parent opened.
  const text = log(`
    100 execve("/usr/bin/prog", ["prog"], 0x7ffd /* 3 vars */) = 0
    100 openat(AT_FDCWD</>, "/lib/libx.so.1", O_RDONLY|O_CLOEXEC) = 3</usr/lib/libx.so.1>
    100 newfstatat(3</usr/lib/libx.so.1>, "", {st_mode=S_IFREG|0644, st_size=10, ...}, AT_EMPTY_PATH) = 0
    100 newfstatat(1</tmp/out.log>, "", {st_mode=S_IFREG|0644, st_size=0, ...}, AT_EMPTY_PATH) = 0
    100 fstat(2</tmp/err.log>, {st_mode=S_IFREG|0644, st_size=0, ...}) = 0
    100 fstatfs(0</home/u/input.txt>, {f_type=EXT2_SUPER_MAGIC, ...}) = 0
    100 openat(AT_FDCWD</>, "/var/data", O_RDONLY|O_DIRECTORY) = 4</var/data>
    100 clone(child_stack=NULL, flags=SIGCHLD) = 101
    101 getdents64(4</var/data>, 0x5600 /* 3 entries */, 32768) = 72
    101 fchdir(4</var/data>) = 0
    101 fstat(1</tmp/out.log>, {st_mode=S_IFREG|0644, st_size=0, ...}) = 0
    101 +++ exited with 0 +++
    100 +++ exited with 0 +++
  `);

  it('leaves out paths reached only through an inherited fd', () => {
    const parsed = parseStraceLog(text);
    const paths = [...new Set(parsed.accesses.map((a) => a.path))];
    expect(paths).toEqual(['/usr/bin/prog', '/lib/libx.so.1', '/usr/lib/libx.so.1', '/var/data']);
    // The fd calls on what the tree opened itself are kept, with the process that made them.
    expect(parsed.accesses.filter((a) => a.path === '/var/data').map((a) => [a.kind, a.pid])).toEqual([
      ['open', 100],
      ['list', 101],
      ['chdir', 101],
    ]);
    expect(parsed.accesses.some((a) => a.path === '/usr/lib/libx.so.1' && a.kind === 'stat')).toBe(true);
  });

  it('keeps such a path when some traced process also reached it by name', () => {
    const parsed = parseStraceLog(
      `${text}\n102 openat(AT_FDCWD</>, "/tmp/out.log", O_RDONLY) = 3</tmp/out.log>\n102 +++ exited with 0 +++`,
    );
    const outLog = parsed.accesses.filter((a) => a.path === '/tmp/out.log');
    expect(outLog.map((a) => [a.syscall, a.pid])).toEqual([
      ['newfstatat', 100],
      ['fstat', 101],
      ['openat', 102],
    ]);
    expect(parsed.accesses.some((a) => a.path === '/tmp/err.log' || a.path === '/home/u/input.txt')).toBe(
      false,
    );
  });

  it('applies inside a root too: the fd paths are host paths like every annotation', () => {
    const parsed = parseStraceLog(
      log(`
        7 execve("/usr/sbin/unshare", ["unshare", "--root=/r", "--", "/app"], 0x7ffd /* 3 vars */) = 0
        7 chroot("/r") = 0
        7 execve("/app", ["/app"], 0x7ffd /* 3 vars */) = 0
        7 openat(AT_FDCWD</r>, "/etc/conf", O_RDONLY) = 3</r/etc/conf>
        7 fstat(3</r/etc/conf>, {st_mode=S_IFREG|0644, st_size=1, ...}) = 0
        7 fstat(1</r/tmp/host-out>, {st_mode=S_IFREG|0644, st_size=1, ...}) = 0
      `),
      { root: '/r', cwd: '/' },
    );
    expect([...new Set(parsed.accesses.map((a) => a.path))]).toEqual(['/app', '/etc/conf']);
  });
});
