/**
 * The parser on strace text: logs captured from strace 6.1 on this machine (trimmed), and
 * handwritten ones for orderings that are hard to provoke on purpose.
 */
import { describe, expect, it } from 'vitest';
import { parseStraceLog } from './parse.js';
import type { PathAccess } from './types.js';

/** Joins lines written as a template (leading indentation removed). */
function log(text: string): string {
  return text
    .split('\n')
    .map((line) => line.trim())
    .filter((line) => line !== '')
    .join('\n');
}

function pick(accesses: PathAccess[]) {
  return accesses.map((a) => ({ path: a.path, kind: a.kind, ok: a.ok, errno: a.errno, pid: a.pid }));
}

describe('one process', () => {
  // `sh -c 'cd /usr/share && cat zoneinfo/UTC >/dev/null'`, captured and trimmed.
  const shell = log(`
    22986 execve("/bin/sh", ["/bin/sh", "-c", "cd /usr/share && cat zoneinfo/UTC >/dev/null"], 0x7ffdbbe98860 /* 39 vars */) = 0
    22986 access("/etc/ld.so.preload", R_OK) = -1 ENOENT (No such file or directory)
    22986 openat(AT_FDCWD</tmp/st>, "/etc/ld.so.cache", O_RDONLY|O_CLOEXEC) = 3</etc/ld.so.cache>
    22986 newfstatat(3</etc/ld.so.cache>, "", {st_mode=S_IFREG|0644, st_size=35143, ...}, AT_EMPTY_PATH) = 0
    22986 openat(AT_FDCWD</tmp/st>, "/lib/x86_64-linux-gnu/libc.so.6", O_RDONLY|O_CLOEXEC) = 3</usr/lib/x86_64-linux-gnu/libc.so.6>
    22986 chdir("/usr/share")               = 0
    22986 openat(AT_FDCWD</usr/share>, "/dev/null", O_WRONLY|O_CREAT|O_TRUNC, 0666) = 3</dev/null>
    22986 newfstatat(AT_FDCWD</usr/share>, "/root/.cargo/bin/cat", 0x7ffda8105d40, 0) = -1 ENOENT (No such file or directory)
    22986 newfstatat(AT_FDCWD</usr/share>, "/usr/bin/cat", {st_mode=S_IFREG|0755, st_size=44016, ...}, 0) = 0
    22986 vfork( <unfinished ...>
    22987 execve("/usr/bin/cat", ["cat", "zoneinfo/UTC"], 0x559626397d68 /* 39 vars */ <unfinished ...>
    22986 <... vfork resumed>)              = 22987
    22987 <... execve resumed>)             = 0
    22987 openat(AT_FDCWD</usr/share>, "zoneinfo/UTC", O_RDONLY) = 3</usr/share/zoneinfo/Etc/UTC>
    22987 newfstatat(3</usr/share/zoneinfo/Etc/UTC>, "", {st_mode=S_IFREG|0644, st_size=114, ...}, AT_EMPTY_PATH) = 0
    22987 +++ exited with 0 +++
    22986 --- SIGCHLD {si_signo=SIGCHLD, si_code=CLD_EXITED, si_pid=22987, si_uid=0, si_status=0, si_utime=0, si_stime=0} ---
    22986 +++ exited with 3 +++
  `);

  it('records each path-bearing call with its outcome, in completion order', () => {
    const parsed = parseStraceLog(shell, { cwd: '/tmp/st' });
    expect(parsed.commandPid).toBe(22986);
    expect(parsed.exitCode).toBe(3);
    expect(parsed.unparsed).toEqual([]);
    expect(pick(parsed.accesses)).toEqual([
      { path: '/bin/sh', kind: 'exec', ok: true, errno: null, pid: 22986 },
      { path: '/etc/ld.so.preload', kind: 'access', ok: false, errno: 'ENOENT', pid: 22986 },
      { path: '/etc/ld.so.cache', kind: 'open', ok: true, errno: null, pid: 22986 },
      { path: '/etc/ld.so.cache', kind: 'stat', ok: true, errno: null, pid: 22986 },
      { path: '/lib/x86_64-linux-gnu/libc.so.6', kind: 'open', ok: true, errno: null, pid: 22986 },
      { path: '/usr/share', kind: 'chdir', ok: true, errno: null, pid: 22986 },
      { path: '/dev/null', kind: 'open', ok: true, errno: null, pid: 22986 },
      { path: '/root/.cargo/bin/cat', kind: 'stat', ok: false, errno: 'ENOENT', pid: 22986 },
      { path: '/usr/bin/cat', kind: 'stat', ok: true, errno: null, pid: 22986 },
      { path: '/usr/bin/cat', kind: 'exec', ok: true, errno: null, pid: 22987 },
      { path: '/usr/share/zoneinfo/UTC', kind: 'open', ok: true, errno: null, pid: 22987 },
      { path: '/usr/share/zoneinfo/Etc/UTC', kind: 'stat', ok: true, errno: null, pid: 22987 },
    ]);
  });

  it('keeps flags and where the kernel landed', () => {
    const { accesses } = parseStraceLog(shell, { cwd: '/tmp/st' });
    const libc = accesses.find((a) => a.path === '/lib/x86_64-linux-gnu/libc.so.6');
    expect(libc).toMatchObject({
      realPath: '/usr/lib/x86_64-linux-gnu/libc.so.6',
      write: false,
      syscall: 'openat',
    });
    expect(accesses.find((a) => a.path === '/dev/null')).toMatchObject({ write: true, directory: false });
    expect(accesses.find((a) => a.kind === 'chdir')).toMatchObject({ directory: true, realPath: null });
  });

  it('builds the process table with each execve', () => {
    const { processes } = parseStraceLog(shell);
    expect(processes).toEqual([
      {
        pid: 22986,
        parent: null,
        argv: ['/bin/sh', '-c', 'cd /usr/share && cat zoneinfo/UTC >/dev/null'],
        executable: '/bin/sh',
        thread: false,
        execs: [{ path: '/bin/sh', argv: ['/bin/sh', '-c', 'cd /usr/share && cat zoneinfo/UTC >/dev/null'] }],
        exitCode: 3,
        signal: null,
      },
      {
        pid: 22987,
        parent: 22986,
        argv: ['cat', 'zoneinfo/UTC'],
        executable: '/usr/bin/cat',
        thread: false,
        execs: [{ path: '/usr/bin/cat', argv: ['cat', 'zoneinfo/UTC'] }],
        exitCode: 0,
        signal: null,
      },
    ]);
  });

  it('reads paths with escapes, AT_EMPTY_PATH fds, deleted files, lstat-like flags', () => {
    const parsed = parseStraceLog(
      log(`
        10 openat(AT_FDCWD</tmp/st>, "del.txt", O_RDONLY) = 7</tmp/st/del.txt>
        10 openat(AT_FDCWD</tmp/st>, "/tmp/gone", O_RDONLY) = 4</tmp/gone>
        10 openat(AT_FDCWD</tmp/st>, "/usr/share", O_RDONLY|O_DIRECTORY) = 6</usr/share>
        10 openat(AT_FDCWD</tmp/st>, "/proc/self/mounts", O_RDONLY) = 3</proc/10/mounts>
        10 openat(AT_FDCWD</tmp/st/we\\74i\\76rd>, "a\\"b\\nc\\303\\251>d", O_RDONLY) = 3</tmp/st/we\\74i\\76rd/a\\"b\\nc\\303\\251\\76d>
        10 newfstatat(7</tmp/st/del.txt>(deleted), "", {st_mode=S_IFREG|0644, st_size=0, ...}, AT_EMPTY_PATH) = 0
        10 newfstatat(4</tmp/gone (deleted)>, "", {st_mode=S_IFREG|0644, st_size=0, ...}, AT_EMPTY_PATH) = 0
        10 newfstatat(AT_FDCWD</tmp/st>, "/lib", {st_mode=S_IFLNK|0777, st_size=7, ...}, AT_SYMLINK_NOFOLLOW) = 0
        10 statx(AT_FDCWD</tmp/st>, "sub/f", AT_STATX_SYNC_AS_STAT|AT_SYMLINK_NOFOLLOW, STATX_ALL, 0x7ffc) = -1 ENOENT (No such file or directory)
        10 openat(AT_FDCWD</usr/share>, "/tmp/st/nofollow", O_RDONLY|O_CREAT|O_NOFOLLOW|O_CLOEXEC, 0777) = 8</tmp/st/nofollow>
        10 openat(AT_FDCWD</tmp/st>, "/etc/default", O_RDONLY|O_NONBLOCK|O_CLOEXEC|O_DIRECTORY) = 7</etc/default>
        10 getdents64(7</etc/default>, 0x56bfb40 /* 8 entries */, 32768) = 224
        10 newfstatat(6</usr/share>, "zoneinfo", {st_mode=S_IFDIR|0755, st_size=4096, ...}, 0) = 0
        10 readlink("/lib", "usr/lib", 4096) = 7
        10 readlinkat(6</usr/share>, "zoneinfo/localtime", 0x7ff, 4096) = -1 EINVAL (Invalid argument)
        10 fchdir(6</usr/share>)             = 0
        10 access("zoneinfo", F_OK) = 0
        10 faccessat2(AT_FDCWD</usr/share>, "x", R_OK, AT_EACCESS) = -1 EACCES (Permission denied)
        10 statfs("/sys/fs/selinux", 0x7ffd) = -1 ENOENT (No such file or directory)
        10 fstatfs(3</proc/self/mounts>, {f_type=PROC_SUPER_MAGIC, ...}) = 0
        10 creat("/tmp/new", 0644) = 9</tmp/new>
        10 openat2(AT_FDCWD</usr/share>, "p", {flags=O_RDONLY|O_CLOEXEC, resolve=RESOLVE_BENEATH}, 24) = -1 EXDEV (Invalid cross-device link)
        10 open_by_handle_at(5</>, {handle_bytes=8, handle_type=1}, O_RDONLY) = 9</var/handled>
        10 fstat(1<pipe:[181496]>, {st_mode=S_IFIFO|0600, st_size=0, ...}) = 0
      `),
    );
    expect(parsed.unparsed).toEqual([]);
    const got = parsed.accesses.map((a) => [a.path, a.kind, a.ok, a.errno, a.write, a.directory, a.nofollow]);
    expect(got).toEqual([
      ['/tmp/st/del.txt', 'open', true, null, false, false, false],
      ['/tmp/gone', 'open', true, null, false, false, false],
      ['/usr/share', 'open', true, null, false, true, false],
      ['/proc/self/mounts', 'open', true, null, false, false, false],
      ['/tmp/st/we<i>rd/a"b\ncé>d', 'open', true, null, false, false, false],
      ['/tmp/st/del.txt', 'stat', true, null, false, false, false],
      ['/tmp/gone', 'stat', true, null, false, false, false],
      ['/lib', 'stat', true, null, false, false, true],
      ['/tmp/st/sub/f', 'stat', false, 'ENOENT', false, false, true],
      ['/tmp/st/nofollow', 'open', true, null, true, false, true],
      ['/etc/default', 'open', true, null, false, true, false],
      ['/etc/default', 'list', true, null, false, true, false],
      ['/usr/share/zoneinfo', 'stat', true, null, false, false, false],
      ['/lib', 'readlink', true, null, false, false, true],
      ['/usr/share/zoneinfo/localtime', 'readlink', false, 'EINVAL', false, false, true],
      ['/usr/share', 'chdir', true, null, false, true, false],
      ['/usr/share/zoneinfo', 'access', true, null, false, false, false],
      ['/usr/share/x', 'access', false, 'EACCES', false, false, false],
      ['/sys/fs/selinux', 'statfs', false, 'ENOENT', false, false, false],
      ['/proc/self/mounts', 'statfs', true, null, false, false, false],
      ['/tmp/new', 'open', true, null, true, false, false],
      ['/usr/share/p', 'open', false, 'EXDEV', false, false, false],
      ['/var/handled', 'open', true, null, false, false, false],
    ]);
    expect(parsed.accesses[4]!.realPath).toBe('/tmp/st/we<i>rd/a"b\ncé>d');
  });

  it('records unix sockets connected to or bound, not abstract ones', () => {
    const { accesses } = parseStraceLog(
      log(`
        5 connect(3<socket:[214499]>, {sa_family=AF_UNIX, sun_path="/run/nscd/socket"}, 24) = -1 ENOENT (No such file or directory)
        5 bind(4<socket:[214500]>, {sa_family=AF_UNIX, sun_path="/tmp/st/bound.sock"}, 21) = 0
        5 bind(5<socket:[214501]>, {sa_family=AF_UNIX, sun_path=@"abstract"}, 11) = 0
        5 connect(6<socket:[214502]>, {sa_family=AF_INET, sin_port=htons(53), sin_addr=inet_addr("127.0.0.53")}, 16) = 0
      `),
    );
    expect(accesses.map((a) => [a.path, a.kind, a.syscall, a.ok, a.write])).toEqual([
      ['/run/nscd/socket', 'connect', 'connect', false, false],
      ['/tmp/st/bound.sock', 'connect', 'bind', true, true],
    ]);
  });

  it('lists the TCP ports listened on: bound to a port, then listened on, by socket inode', () => {
    // Lines as strace 6.1 prints them (python3 -m http.server, a Node server on ::1, a UDP socket),
    // and a master that binds while its forked worker listens on the inherited socket.
    const parsed = parseStraceLog(
      log(`
        10 bind(3<socket:[2495917]>, {sa_family=AF_INET, sin_port=htons(18765), sin_addr=inet_addr("127.0.0.1")}, 16) = 0
        10 listen(3<socket:[2495917]>, 5) = 0
        10 bind(19<socket:[2496069]>, {sa_family=AF_INET6, sin6_port=htons(8443), sin6_flowinfo=htonl(0), inet_pton(AF_INET6, "::1", &sin6_addr), sin6_scope_id=0}, 28) = 0
        10 listen(19<socket:[2496069]>, 511) = 0
        10 bind(20<socket:[2496074]>, {sa_family=AF_INET, sin_port=htons(5353), sin_addr=inet_addr("0.0.0.0")}, 16) = 0
        10 bind(21<socket:[2496080]>, {sa_family=AF_INET, sin_port=htons(40000), sin_addr=inet_addr("127.0.0.1")}, 16) = 0
        10 connect(21<socket:[2496080]>, {sa_family=AF_INET, sin_port=htons(5432), sin_addr=inet_addr("127.0.0.1")}, 16) = 0
        10 bind(4<socket:[2496090]>, {sa_family=AF_INET, sin_port=htons(9000), sin_addr=inet_addr("0.0.0.0")}, 16) = 0
        10 clone(child_stack=NULL, flags=CLONE_CHILD_CLEARTID|CLONE_CHILD_SETTID|SIGCHLD) = 11
        11 listen(4<socket:[2496090]>, 128) = 0
        10 bind(5<socket:[2496091]>, {sa_family=AF_INET, sin_port=htons(80), sin_addr=inet_addr("0.0.0.0")}, 16) = -1 EACCES (Permission denied)
        10 listen(5<socket:[2496091]>, 128) = 0
        10 bind(6<socket:[2496092]>, {sa_family=AF_INET, sin_port=htons(0), sin_addr=inet_addr("127.0.0.1")}, 16) = 0
        10 listen(6<socket:[2496092]>, 128) = 0
        10 bind(7<socket:[2496093]>, {sa_family=AF_UNIX, sun_path="/tmp/st/app.sock"}, 19) = 0
        10 listen(7<socket:[2496093]>, 128) = 0
        10 bind(8<socket:[2496094]>, {sa_family=AF_INET, sin_port=htons(7000), sin_addr=inet_addr("127.0.0.1")}, 16) = 0
        10 listen(8<socket:[2496094]>, 128) = -1 EADDRINUSE (Address already in use)
        10 listen(3<socket:[2495917]>, 5) = 0
      `),
    );
    // Not listed: UDP 5353 and the client's 40000 (never listened on), 80 (the bind failed), port 0
    // (the kernel's pick is not in the log), the unix socket, 7000 (the listen failed), a repeat.
    expect(parsed.listening).toEqual([
      { port: 18765, address: '127.0.0.1', family: 'AF_INET', pid: 10 },
      { port: 8443, address: '::1', family: 'AF_INET6', pid: 10 },
      { port: 9000, address: '0.0.0.0', family: 'AF_INET', pid: 11 },
    ]);
  });

  it('leaves relative paths unresolved until the working directory is known', () => {
    const parsed = parseStraceLog(
      log(`
        1 stat("a", 0x7ffc) = -1 ENOENT (No such file or directory)
        1 openat(AT_FDCWD</w>, "b", O_RDONLY) = 3</w/b>
        1 stat("c", {st_mode=S_IFREG|0644, ...}) = 0
      `),
    );
    expect(parsed.unresolved).toBe(1);
    expect(parsed.accesses.map((a) => a.path)).toEqual(['/w/b', '/w/c']);
  });

  it('reads the other prefix forms and keeps lines it does not understand', () => {
    const parsed = parseStraceLog(
      log(`
        [pid  7] openat(AT_FDCWD</>, "/a", O_RDONLY) = 3</a>
        openat(AT_FDCWD</>, "/b", O_RDONLY) = 3</b>
        7 something odd
      `),
    );
    expect(parsed.accesses.map((a) => [a.pid, a.path])).toEqual([
      [7, '/a'],
      [0, '/b'],
    ]);
    expect(parsed.unparsed).toEqual(['7 something odd']);
  });
});

describe('paths', () => {
  it('removes . and .. lexically without a file system, never above /', () => {
    const { accesses } = parseStraceLog(
      log(`
        1 openat(AT_FDCWD</usr/lib>, "../share/./x/../y", O_RDONLY) = -1 ENOENT (No such file or directory)
        1 stat("/../../etc//passwd", 0x1) = 0
        1 readlink("../../../../x", 0x1, 4096) = -1 ENOENT (No such file or directory)
      `),
    );
    expect(accesses.map((a) => a.path)).toEqual(['/usr/share/y', '/etc/passwd', '/x']);
  });

  it('takes .. physically where the directory before it can be resolved', () => {
    // /opt/app/lib -> /usr/lib/app: `$ORIGIN/../share` from a symlinked directory.
    const links: Record<string, string> = { '/opt/app/lib': '/usr/lib/app' };
    const { accesses } = parseStraceLog(
      log(`
        1 openat(AT_FDCWD</>, "/opt/app/lib/../share/data", O_RDONLY) = 3</usr/lib/share/data>
        1 openat(AT_FDCWD</>, "/opt/app/bin/../share/data", O_RDONLY) = -1 ENOENT (No such file or directory)
      `),
      { realDirectory: (path) => links[path] ?? path },
    );
    expect(accesses.map((a) => a.path)).toEqual(['/usr/lib/share/data', '/opt/app/share/data']);
  });

  it('follows chdir physically for the plain-path calls that strace does not annotate', () => {
    const { accesses } = parseStraceLog(
      log(`
        1 chdir("/lib") = 0
        1 stat("../bin/x", 0x1) = -1 ENOENT (No such file or directory)
      `),
      { cwd: '/', realDirectory: (path) => (path === '/lib' ? '/usr/lib' : path) },
    );
    expect(accesses.map((a) => a.path)).toEqual(['/lib', '/usr/bin/x']);
  });
});

describe('processes', () => {
  it('gives a child the working directory its parent had at the fork, even when logged before the fork returned', () => {
    const parsed = parseStraceLog(
      log(`
        100 chdir("/a") = 0
        100 clone(child_stack=NULL, flags=CLONE_CHILD_CLEARTID|CLONE_CHILD_SETTID|SIGCHLD <unfinished ...>
        101 stat("early", 0x7ff) = -1 ENOENT (No such file or directory)
        100 <... clone resumed>, child_tidptr=0x7f) = 101
        100 chdir("/b") = 0
        101 stat("late", 0x7ff) = -1 ENOENT (No such file or directory)
        100 clone(child_stack=NULL, flags=CLONE_CHILD_CLEARTID|CLONE_CHILD_SETTID|SIGCHLD, child_tidptr=0x7f) = 102
        100 chdir("/c") = 0
        102 stat("second", 0x7ff) = 0
        100 stat("parent", 0x7ff) = 0
      `),
      { cwd: '/' },
    );
    expect(parsed.accesses.filter((a) => a.kind === 'stat').map((a) => [a.pid, a.path])).toEqual([
      [101, '/a/early'],
      [101, '/a/late'],
      [102, '/b/second'],
      [100, '/c/parent'],
    ]);
    expect(parsed.processes.map((p) => [p.pid, p.parent])).toEqual([
      [100, null],
      [101, 100],
      [102, 100],
    ]);
  });

  it('shares the working directory with CLONE_FS threads', () => {
    const parsed = parseStraceLog(
      log(`
        200 clone3({flags=CLONE_VM|CLONE_FS|CLONE_FILES|CLONE_SIGHAND|CLONE_THREAD|CLONE_SYSVSEM, exit_signal=0, stack=0x7f} => {parent_tid=[201]}, 88) = 201
        201 chdir("/usr") = 0
        200 stat("bin", 0x7ff) = 0
        200 vfork() = 202
        202 chdir("/etc") = 0
        200 stat("lib", 0x7ff) = 0
      `),
      { cwd: '/' },
    );
    expect(parsed.accesses.filter((a) => a.kind === 'stat').map((a) => a.path)).toEqual([
      '/usr/bin',
      '/usr/lib',
    ]);
    expect(parsed.processes.map((p) => [p.pid, p.thread])).toEqual([
      [200, false],
      [201, true],
      [202, false],
    ]);
  });

  it('follows a thread that execs and takes over the leader pid', () => {
    // Captured: a thread of 23521 chdir'ed to /usr and exec'ed /bin/true.
    const parsed = parseStraceLog(
      log(`
        23521 execve("./th", ["./th", "x"], 0x7ffefc5dde08 /* 39 vars */) = 0
        23521 clone3({flags=CLONE_VM|CLONE_FS|CLONE_FILES|CLONE_SIGHAND|CLONE_THREAD|CLONE_SYSVSEM|CLONE_SETTLS|CLONE_PARENT_SETTID|CLONE_CHILD_CLEARTID, child_tid=0x7fd6b9e55990, parent_tid=0x7fd6b9e55990, exit_signal=0, stack=0x7fd6b9655000, stack_size=0x7fff80, tls=0x7fd6b9e556c0} => {parent_tid=[23522]}, 88) = 23522
        23522 chdir("/usr")                     = 0
        23522 openat(AT_FDCWD</usr>, "share/zoneinfo/UTC", O_RDONLY) = 3</usr/share/zoneinfo/Etc/UTC>
        23522 execve("/bin/true", ["true"], 0x7ffec1b0b180 /* 39 vars */ <pid changed to 23521 ...>
        23521 +++ superseded by execve in pid 23522 +++
        23521 <... execve resumed>)             = -1 (errno 18446744073709551359)
        23521 stat("lib", 0x7ff) = 0
        23521 +++ exited with 0 +++
      `),
      { cwd: '/tmp/st' },
    );
    expect(pick(parsed.accesses)).toEqual([
      { path: '/tmp/st/th', kind: 'exec', ok: true, errno: null, pid: 23521 },
      { path: '/usr', kind: 'chdir', ok: true, errno: null, pid: 23522 },
      { path: '/usr/share/zoneinfo/UTC', kind: 'open', ok: true, errno: null, pid: 23522 },
      { path: '/bin/true', kind: 'exec', ok: true, errno: null, pid: 23521 },
      { path: '/usr/lib', kind: 'stat', ok: true, errno: null, pid: 23521 },
    ]);
    expect(parsed.processes[0]).toMatchObject({
      pid: 23521,
      argv: ['true'],
      executable: '/bin/true',
      exitCode: 0,
    });
    expect(parsed.processes[0]!.execs).toHaveLength(2);
  });

  it('keeps calls a killed process never finished, with an unknown outcome', () => {
    const parsed = parseStraceLog(
      log(`
        300 openat(AT_FDCWD</x>, "a", O_RDONLY <unfinished ...>
        301 openat(AT_FDCWD</x>, "b", O_RDONLY <unfinished ...>
        301 <... openat resumed> <unfinished ...>) = ?
        300 +++ killed by SIGKILL +++
        301 +++ killed by SIGKILL +++
      `),
    );
    expect(pick(parsed.accesses)).toEqual([
      { path: '/x/b', kind: 'open', ok: false, errno: null, pid: 301 },
      { path: '/x/a', kind: 'open', ok: false, errno: null, pid: 300 },
    ]);
    expect(parsed).toMatchObject({ exitCode: null, signal: 'SIGKILL' });
  });

  it('starts a new process when a pid is reused after its exit', () => {
    const parsed = parseStraceLog(
      log(`
        1 fork() = 2
        2 chdir("/one") = 0
        2 +++ exited with 0 +++
        1 fork() = 2
        2 stat("x", 0x7ff) = 0
      `),
      { cwd: '/zero' },
    );
    expect(parsed.processes.map((p) => [p.pid, p.parent, p.exitCode])).toEqual([
      [1, null, null],
      [2, 1, 0],
      [2, 1, null],
    ]);
    expect(parsed.accesses.at(-1)?.path).toBe('/zero/x');
  });

  it('shows a command that was never found: no successful exec, failed attempts', () => {
    const parsed = parseStraceLog(
      log(`
        40 execve("/nope", ["/nope"], 0x7fff /* 1 var */) = -1 ENOENT (No such file or directory)
        40 +++ exited with 1 +++
      `),
    );
    expect(parsed.processes[0]!.execs).toEqual([]);
    expect(parsed.accesses).toMatchObject([{ kind: 'exec', ok: false, errno: 'ENOENT' }]);
  });
});

describe('root', () => {
  // `unshare --root=/tmp/st/root --wd=/data /bin/t`, captured and trimmed: the launcher loads on
  // the host, chroots, changes directory and execs the program inside.
  const rooted = log(`
    23331 execve("/usr/bin/unshare", ["unshare", "--root=/tmp/st/root", "--wd=/data", "/bin/t"], 0x7ffd8ddb9c58 /* 39 vars */) = 0
    23331 access("/etc/ld.so.preload", R_OK) = -1 ENOENT (No such file or directory)
    23331 openat(AT_FDCWD</tmp/st>, "/etc/ld.so.cache", O_RDONLY|O_CLOEXEC) = 3</etc/ld.so.cache>
    23331 openat(AT_FDCWD</tmp/st>, "/lib/x86_64-linux-gnu/libc.so.6", O_RDONLY|O_CLOEXEC) = 3</usr/lib/x86_64-linux-gnu/libc.so.6>
    23331 openat(AT_FDCWD</tmp/st>, "/tmp/st/root/data/rel.txt", O_RDONLY) = 3</tmp/st/root/data/rel.txt>
    23331 chroot("/tmp/st/root")            = 0
    23331 stat("rel", 0x7ff) = -1 ENOENT (No such file or directory)
    23331 chdir("/data")                    = 0
    23331 execve("/sbin/t", ["t"], 0x7ffde5400500 /* 39 vars */) = -1 ENOENT (No such file or directory)
    23331 execve("/bin/t", ["t"], 0x7ffde5400500 /* 39 vars */) = 0
    23331 readlink("/proc/self/exe", 0x7ffcf95830e0, 4096) = -1 ENOENT (No such file or directory)
    23331 openat(AT_FDCWD</tmp/st/root/data>, "rel.txt", O_RDONLY) = 3</tmp/st/root/data/rel.txt>
    23331 openat(AT_FDCWD</tmp/st/root/data>, "/etc/abs.txt", O_RDONLY) = 4</tmp/st/root/etc/abs.txt>
    23331 openat(AT_FDCWD</tmp/st/root/data>, "/etc/link", O_RDONLY) = 5</tmp/st/root/data/rel.txt>
    23331 openat(AT_FDCWD</tmp/st/root/data>, "../../../etc/abs.txt", O_RDONLY) = 6</tmp/st/root/etc/abs.txt>
    23331 newfstatat(1</dev/pts/0>, "", {st_mode=S_IFCHR|0620, st_rdev=makedev(0x88, 0), ...}, AT_EMPTY_PATH) = 0
    23331 +++ exited with 0 +++
  `);

  it('reports paths inside the root and nothing from before the chroot', () => {
    const parsed = parseStraceLog(rooted, { root: '/tmp/st/root', cwd: '/tmp/st' });
    expect(parsed.accesses.map((a) => [a.path, a.kind, a.ok, a.realPath])).toEqual([
      // The cwd is still the host's right after chroot: the relative stat is outside, and dropped.
      ['/data', 'chdir', true, null],
      ['/sbin/t', 'exec', false, null],
      ['/bin/t', 'exec', true, null],
      ['/proc/self/exe', 'readlink', false, null],
      ['/data/rel.txt', 'open', true, '/data/rel.txt'],
      ['/etc/abs.txt', 'open', true, '/etc/abs.txt'],
      ['/etc/link', 'open', true, '/data/rel.txt'],
      ['/etc/abs.txt', 'open', true, '/etc/abs.txt'],
      // fd 1 is the host's terminal: outside the root, so not reported.
    ]);
    expect(parsed.processes[0]).toMatchObject({
      argv: ['t'],
      executable: '/bin/t',
      execs: [{ path: '/bin/t', argv: ['t'] }],
    });
  });

  it('reports everything, as host paths, without a root', () => {
    const parsed = parseStraceLog(rooted, { cwd: '/tmp/st' });
    expect(parsed.accesses.map((a) => a.path)).toContain('/etc/ld.so.cache');
    expect(parsed.accesses.map((a) => a.path)).toContain('/tmp/st/root/etc/abs.txt');
    expect(parsed.processes[0]!.execs.map((e) => e.path)).toEqual(['/usr/bin/unshare', '/tmp/st/root/bin/t']);
  });
});
