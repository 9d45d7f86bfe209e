/**
 * Real strace, real commands: what the tracer reports for programs whose behaviour we know
 * (because we wrote them, or because they are the shell and coreutils).
 */
import { chmodSync, existsSync, readdirSync, readFileSync, realpathSync, writeFileSync } from 'node:fs';
import { createServer } from 'node:net';
import { join } from 'node:path';
import { setTimeout as sleep } from 'node:timers/promises';
import { type Lookup, RootFs } from '@dit/paths';
import { type PathAccess, TraceError, type TraceReport, trace } from '@dit/trace';
import { afterAll, describe, expect, it } from 'vitest';
import { compile, tempDir } from '../../../test-support/fixtures.js';

const temp = tempDir('dit-trace-');
const T = realpathSync(temp.path);
afterAll(() => temp.cleanup());

const PYTHON = '/usr/bin/python3';
const STRACE = '/usr/bin/strace';

function accessesOf(report: TraceReport, path: string): PathAccess[] {
  return report.accesses.filter((a) => a.path === path);
}

/** Alive and not a zombie. */
function running(pid: number): boolean {
  try {
    const stat = readFileSync(`/proc/${pid}/stat`, 'latin1');
    return !/^[ZX]/.test(stat.slice(stat.lastIndexOf(')') + 2));
  } catch {
    return false;
  }
}

/** `sleep 1234` processes still running (the abort test has no report to take pids from). */
function sleepsOf1234(): number[] {
  const pids: number[] = [];
  for (const name of readdirSync('/proc')) {
    if (!/^\d+$/.test(name)) continue;
    try {
      const cmdline = readFileSync(`/proc/${name}/cmdline`, 'latin1');
      if (cmdline === 'sleep\u00001234\u0000' && running(Number(name))) pids.push(Number(name));
    } catch {
      // exited meanwhile
    }
  }
  return pids;
}

describe('paths', () => {
  it('resolves a relative open against the directory the shell changed into', async () => {
    const report = await trace(['/bin/sh', '-c', 'cd /usr/share && cat zoneinfo/UTC >/dev/null']);
    expect(report.exitCode).toBe(0);
    const opens = accessesOf(report, '/usr/share/zoneinfo/UTC').filter((a) => a.kind === 'open');
    expect(opens).toHaveLength(1);
    expect(opens[0]).toMatchObject({ ok: true, errno: null, syscall: 'openat', write: false });
    // The kernel's landing place (zoneinfo/UTC is a link to Etc/UTC on Debian) comes from -y.
    expect(opens[0]!.realPath).toBe(realpathSync('/usr/share/zoneinfo/UTC'));
    const cat = report.processes.find((p) => p.argv?.[0] === 'cat');
    expect(cat).toBeDefined();
    expect(opens[0]!.pid).toBe(cat!.pid);
    expect(cat!.executable).toBe('/usr/bin/cat');
    expect(accessesOf(report, '/usr/share').some((a) => a.kind === 'chdir' && a.ok)).toBe(true);
    const summary = report.paths.find((p) => p.path === '/usr/share/zoneinfo/UTC');
    expect(summary).toMatchObject({ ok: true, kinds: ['open'], failedErrnos: [] });
    // /dev/null was opened for writing by the shell's redirection.
    expect(report.paths.find((p) => p.path === '/dev/null')).toMatchObject({ write: true, virtual: true });
  });

  it.skipIf(!existsSync(PYTHON))('records the modules python opens and the lookups that failed', async () => {
    const report = await trace([PYTHON, '-c', 'import json'], { stdio: 'pipe' });
    expect(report.exitCode).toBe(0);
    const opened = report.accesses.filter((a) => a.kind === 'open' && a.ok).map((a) => a.path);
    expect(opened.some((p) => /\/json\/__init__\.py$|\/json\/__pycache__\/__init__\..*\.pyc$/.test(p))).toBe(
      true,
    );
    expect(opened.some((p) => /\/json\/decoder\.py$|\/json\/__pycache__\/decoder\..*\.pyc$/.test(p))).toBe(
      true,
    );
    const failedStats = report.accesses.filter((a) => a.kind === 'stat' && !a.ok);
    expect(failedStats.length).toBeGreaterThan(0);
    expect(failedStats.every((a) => a.errno !== null)).toBe(true);
    expect(failedStats.some((a) => a.errno === 'ENOENT')).toBe(true);
    const negative = report.paths.find((p) => !p.ok && p.failedErrnos.includes('ENOENT'));
    expect(negative).toBeDefined();
    // The python3 -> python3.11 link is recorded for the exporter to recreate.
    const exe = report.paths.find((p) => p.path === PYTHON);
    expect(exe?.kinds).toContain('exec');
    expect(exe?.links.map((l) => l.path)).toContain(PYTHON);
    expect(exe?.realPath).toBe(realpathSync(PYTHON));
  });

  it('sees a dlopen by absolute path, and the program executed', async () => {
    const dir = join(T, 'dlopen');
    const library = compile('int answer(void) { return 42; }\n', join(dir, 'libanswer.so'), {
      flags: ['-shared'],
    });
    const program = compile(
      `#include <dlfcn.h>
#include <stdio.h>
int main(void) {
  void *h = dlopen("${library}", RTLD_NOW);
  if (!h) { fprintf(stderr, "%s\\n", dlerror()); return 1; }
  int (*answer)(void) = (int (*)(void))dlsym(h, "answer");
  return answer() == 42 ? 0 : 2;
}
`,
      join(dir, 'dl'),
      { flags: ['-ldl'] },
    );
    const report = await trace([program]);
    expect(report.exitCode).toBe(0);
    expect(accessesOf(report, library).some((a) => a.kind === 'open' && a.ok)).toBe(true);
    const exec = accessesOf(report, program).find((a) => a.kind === 'exec');
    expect(exec).toMatchObject({ ok: true, syscall: 'execve', pid: report.processes[0]!.pid });
    expect(report.processes[0]).toMatchObject({ executable: program, argv: [program], parent: null });
  });
});

describe('exit status and output', () => {
  it('reports a non-zero exit as data', async () => {
    const report = await trace(['sh', '-c', 'exit 7']);
    expect(report).toMatchObject({ exitCode: 7, signal: null, timedOut: false, stdout: null, stderr: null });
  });

  it('captures stdout and stderr byte for byte with stdio pipe', async () => {
    const report = await trace(['sh', '-c', "printf 'out\\000\\377\\n'; printf 'err\\001\\200' >&2"], {
      stdio: 'pipe',
    });
    expect(report.exitCode).toBe(0);
    expect(report.stdout).toEqual(Buffer.from([0x6f, 0x75, 0x74, 0x00, 0xff, 0x0a]));
    expect(report.stderr).toEqual(Buffer.from([0x65, 0x72, 0x72, 0x01, 0x80]));
  });

  it('reports the signal a command died of', async () => {
    const report = await trace(['sh', '-c', 'kill -TERM $$']);
    expect(report).toMatchObject({ exitCode: null, signal: 'SIGTERM', timedOut: false });
  });
});

describe('servers', () => {
  /** A port free on loopback now (the kernel's pick, released at once). */
  async function freePort(): Promise<number> {
    const server = createServer();
    await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
    const { port } = server.address() as { port: number };
    await new Promise((resolve) => server.close(resolve));
    return port;
  }

  it('lists the TCP port a real server listened on, not the same number bound over UDP', async () => {
    const port = await freePort();
    const script = join(T, 'serve.py');
    writeFileSync(
      script,
      [
        'import socket, sys',
        'from http.server import HTTPServer, SimpleHTTPRequestHandler',
        'port = int(sys.argv[1])',
        '# The same number over UDP: bound, never listened on, so not a served port.',
        'udp = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)',
        "udp.bind(('127.0.0.1', port))",
        "HTTPServer(('127.0.0.1', port), SimpleHTTPRequestHandler).serve_forever()",
      ].join('\n'),
    );
    let answered = false;
    const report = await trace([PYTHON, script, String(port)], {
      cwd: T,
      stdio: 'pipe',
      timeoutMs: 30_000, // only so that a broken server cannot hang the suite
      // Ready when it answers HTTP (asked from outside the trace), then stopped as a runtime would.
      service: async (service) => {
        while (!answered && !service.mainExited()) {
          answered = await fetch(`http://127.0.0.1:${port}/`).then(
            (response) => response.ok,
            () => false,
          );
          if (!answered) await sleep(20);
        }
        service.signal('SIGTERM');
      },
    });
    expect(answered).toBe(true);
    expect(report.signal).toBe('SIGTERM');
    expect(report.listening).toEqual([
      { port, address: '127.0.0.1', family: 'AF_INET', pid: report.processes[0]!.pid },
    ]);
  });
});

describe('errors', () => {
  it('refuses a command that does not exist, naming it', async () => {
    const error = await trace(['dit-no-such-command-xyz']).catch((e: unknown) => e);
    expect(error).toBeInstanceOf(TraceError);
    expect(error).toMatchObject({ code: 'TRACE_COMMAND_NOT_FOUND' });
    expect((error as Error).message).toContain('dit-no-such-command-xyz');
    await expect(trace([join(T, 'missing', 'prog')])).rejects.toMatchObject({
      code: 'TRACE_COMMAND_NOT_FOUND',
    });
  });

  it('says how to install strace when it is missing', async () => {
    const error = await trace(['true'], { strace: '/nonexistent/strace' }).catch((e: unknown) => e);
    expect(error).toBeInstanceOf(TraceError);
    expect(error).toMatchObject({ code: 'TRACE_STRACE_MISSING' });
    expect((error as Error).message).toContain('apt-get install strace');
  });

  it('tells a file that cannot be executed from one that does not exist', async () => {
    const text = join(T, 'not-a-program');
    writeFileSync(text, 'just text\n');
    chmodSync(text, 0o755);
    await expect(trace([text], { stdio: 'pipe' })).rejects.toMatchObject({
      code: 'TRACE_FAILED',
      message: expect.stringContaining('ENOEXEC'),
    });
    chmodSync(text, 0o644);
    await expect(trace([text], { stdio: 'pipe' })).rejects.toMatchObject({
      code: 'TRACE_FAILED',
      message: expect.stringContaining('EACCES'),
    });
  });

  it("says so when ptrace is refused (a seccomp filter like a container runtime's)", async () => {
    // Real strace, under a real kernel filter that fails ptrace(2) with EPERM.
    const wrapper = compile(
      `#include <errno.h>
#include <linux/filter.h>
#include <linux/seccomp.h>
#include <stddef.h>
#include <sys/prctl.h>
#include <sys/syscall.h>
#include <unistd.h>
int main(int argc, char **argv) {
  struct sock_filter filter[] = {
    BPF_STMT(BPF_LD | BPF_W | BPF_ABS, offsetof(struct seccomp_data, nr)),
    BPF_JUMP(BPF_JMP | BPF_JEQ | BPF_K, __NR_ptrace, 0, 1),
    BPF_STMT(BPF_RET | BPF_K, SECCOMP_RET_ERRNO | EPERM),
    BPF_STMT(BPF_RET | BPF_K, SECCOMP_RET_ALLOW),
  };
  struct sock_fprog prog = { sizeof filter / sizeof filter[0], filter };
  if (prctl(PR_SET_NO_NEW_PRIVS, 1, 0, 0, 0) || prctl(PR_SET_SECCOMP, SECCOMP_MODE_FILTER, &prog)) return 125;
  (void)argc;
  execv("${STRACE}", argv);
  return 126;
}
`,
      join(T, 'no-ptrace', 'strace'),
    );
    for (const stdio of ['pipe', 'inherit'] as const) {
      const error = await trace(['true'], { strace: wrapper, stdio }).catch((e: unknown) => e);
      expect(error).toBeInstanceOf(TraceError);
      expect(error).toMatchObject({
        code: 'TRACE_PTRACE_DENIED',
        message: expect.stringContaining('CAP_SYS_PTRACE'),
      });
    }
  });

  it('refuses a root that does not exist', async () => {
    await expect(trace(['true'], { root: join(T, 'no-root') })).rejects.toMatchObject({
      code: 'TRACE_BAD_ROOT',
    });
  });

  it("refuses a caller's RootFs of another folder than the root", async () => {
    await expect(trace(['true'], { fs: new RootFs(T) })).rejects.toMatchObject({
      code: 'TRACE_BAD_ROOT',
      message: expect.stringContaining(`reads ${T}, not the root /`),
    });
  });
});

describe("the caller's RootFs", () => {
  it('finds the command and walks the reported paths through it', async () => {
    const asked: string[] = [];
    const fs = new (class extends RootFs {
      override lookup(path: string, cwd?: string): Lookup {
        asked.push(path);
        return super.lookup(path, cwd);
      }
    })('/');
    const report = await trace(['/bin/sh', '-c', 'cat /usr/share/zoneinfo/UTC >/dev/null'], { fs });
    expect(report.exitCode).toBe(0);
    const utc = report.paths.find((entry) => entry.path === '/usr/share/zoneinfo/UTC');
    expect(utc?.type).toBe('file');
    // Each reported path was walked through the caller's instance, and the entry says what it said.
    expect(asked).toContain('/usr/share/zoneinfo/UTC');
    expect(utc?.links).toEqual(fs.lookup('/usr/share/zoneinfo/UTC').links);
  });
});

describe('timeout', () => {
  it('kills the whole tree and returns quickly', async () => {
    const started = Date.now();
    const report = await trace(['sh', '-c', 'sleep 1234 & sleep 1234'], { timeoutMs: 500 });
    expect(Date.now() - started).toBeLessThan(5000);
    expect(report).toMatchObject({ timedOut: true, exitCode: null });
    const sleeps = report.processes.filter((p) => p.argv?.[0] === 'sleep');
    expect(sleeps).toHaveLength(2);
    // The report's pids are those of the trace's own pid namespace: look for the sleeps on the host.
    expect(sleepsOf1234()).toEqual([]);
  });

  it('kills the tree when aborted, and rejects with the reason', async () => {
    const controller = new AbortController();
    setTimeout(() => controller.abort(new Error('stop')), 300);
    const started = Date.now();
    await expect(
      trace(['sh', '-c', 'sleep 1234 & sleep 1234'], { signal: controller.signal }),
    ).rejects.toThrow('stop');
    expect(Date.now() - started).toBeLessThan(5000);
    expect(sleepsOf1234()).toEqual([]);
  });

  it('also kills a process that left the process group and the parent (setsid, double fork)', async () => {
    const report = await trace(['sh', '-c', '(setsid sleep 1234 &) ; sleep 1234'], { timeoutMs: 500 });
    expect(report.timedOut).toBe(true);
    const sleeps = report.processes.filter((p) => p.argv?.[0] === 'sleep' || p.argv?.[0] === 'setsid');
    expect(sleeps.length).toBeGreaterThanOrEqual(2);
    expect(sleepsOf1234()).toEqual([]);
  });
});
