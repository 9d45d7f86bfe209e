import { spawn, spawnSync } from 'node:child_process';
import { existsSync, type ReadStream, realpathSync, statSync } from 'node:fs';
import { posix } from 'node:path';
import { createInterface } from 'node:readline';
import { RootFs } from '@dit/paths';
import { TraceError } from './errors.js';
import { childOf, type KillList, killTracedTree, sweep } from './kill.js';
import { tracerLaunch } from './launch.js';
import { DEFAULT_PATH, findCommand, isHostExecutable, rootExecutable } from './locate.js';
import { TraceLog } from './log-file.js';
import { OVERLAY_ROOT_FUNCTION } from './overlay.js';
import { type ParsedTrace, StraceLogParser } from './parse.js';
import { childOutput } from './pipes.js';
import { RUNTIME_MOUNTS_FUNCTION } from './runtime-mounts.js';
import { commandChildOf, MainProcess } from './service.js';
import { summarizePaths } from './summary.js';
import type { PathAccess, PathSummary, TraceOptions, TraceReport } from './types.js';

/**
 * The system calls traced (docs/loader.md §11.2). Each is prefixed with `?` so strace skips the ones the
 * architecture does not have (aarch64 has no open, stat, access, readlink, getdents, fork, vfork)
 * instead of refusing to start; the `*64` forms only exist for 32-bit tracees on x86_64.
 * dup/close/fcntl are not needed: `-y` prints the path behind every fd where it is used.
 */
export const TRACED_SYSCALLS: readonly string[] = [
  'execve',
  'execveat',
  'open',
  'openat',
  'openat2',
  'creat',
  'open_by_handle_at',
  'stat',
  'lstat',
  'fstat',
  'newfstatat',
  'statx',
  'stat64',
  'lstat64',
  'fstat64',
  'fstatat64',
  'access',
  'faccessat',
  'faccessat2',
  'readlink',
  'readlinkat',
  'getdents',
  'getdents64',
  'statfs',
  'fstatfs',
  'statfs64',
  'fstatfs64',
  'chdir',
  'fchdir',
  'chroot',
  'clone',
  'clone3',
  'fork',
  'vfork',
  'connect',
  'bind',
  // Only for the ports a server listens on (ListeningSocket): no path.
  'listen',
];

/**
 * strace's arguments before `-- COMMAND`. `--seccomp-bpf` stops the tracee only on traced calls
 * (everything else runs at full speed); `-y` shows the path behind each fd; exit lines are kept
 * (only attach and personality notes are quieted) because they carry exit statuses; `-s` is large
 * enough for any path and for argv arrays (it also caps their element count).
 */
export function straceArguments(logFile: string): string[] {
  return [
    '-f',
    '--seccomp-bpf',
    '-y',
    '--quiet=attach,personality',
    '-s',
    '16384',
    '-e',
    `trace=${TRACED_SYSCALLS.map((name) => `?${name}`).join(',')}`,
    '-o',
    logFile,
  ];
}

const STRACE_HINT = 'install it: apt-get install strace (or pass `strace: PATH`)';

/** Where things run: what to spawn under strace, and how to read the log back. */
interface Plan {
  /** argv after `strace ... --`. */
  readonly argv: string[];
  /** Host directory strace is started in. */
  readonly spawnCwd: string;
  /** Host path reported paths are relative to. */
  readonly root: string;
  /** Host cwd of the first process. */
  readonly cwd: string;
  readonly rootMode: boolean;
  /** The root's RootFs: the caller's `fs`, or one made for `root`. */
  readonly fs: RootFs;
  /** Execs of a launcher before the command (setpriv for `user`): its accesses are not the command's. */
  readonly launcherExecs?: number;
}

/**
 * Runs `command` under `strace -f` and reports every path it and its descendants touched. A command
 * that runs and fails is not an error (see `exitCode`, `signal`); a command that cannot be started,
 * or strace that cannot trace, is a `TraceError`.
 */
export async function trace(command: string[], options: TraceOptions = {}): Promise<TraceReport> {
  options.signal?.throwIfAborted();
  if (command.length === 0 || command[0] === undefined || command[0] === '') {
    throw new TraceError('TRACE_COMMAND_NOT_FOUND', 'no command given: nothing to trace');
  }
  const env = cleanEnvironment(options.env ?? process.env);
  // DIT_STRACE: the strace that ships with dit.tar (a wrapper running it through the bundled loader).
  const strace = locateStrace(options.strace ?? process.env.DIT_STRACE);
  // strace and its tracees die with this process, even by SIGKILL (see launch.ts).
  const launch = tracerLaunch(strace, hostSearchPath());
  const plan =
    options.root === undefined
      ? hostPlan(command, options, env)
      : rootPlan(command, options, env, launch.tracerIsChild);
  const pipe = options.stdio === 'pipe';
  const stdinInherited = options.stdin === 'inherit';

  const log = new TraceLog();
  try {
    const started = performance.now();
    const argv = [
      ...launch.prefix,
      strace,
      ...launch.straceOptions,
      ...straceArguments(log.path),
      '--',
      ...plan.argv,
    ];
    // Real pipes or inherited descriptors, never sockets: see pipes.ts.
    const outputs = [childOutput(1, pipe), childOutput(2, pipe)] as const;
    let child: ReturnType<typeof spawn>;
    try {
      // Its own process group, so strace and everything left in the group can be killed together,
      // except when it must read the terminal: a background group reading it would be stopped.
      child = spawn(argv[0]!, argv.slice(1), {
        cwd: plan.spawnCwd,
        env,
        stdio: [stdinInherited ? 'inherit' : 'ignore', outputs[0].stdio, outputs[1].stdio],
        detached: !stdinInherited,
      });
    } finally {
      for (const output of outputs) output.pipe?.handOver();
    }
    const stdout: Buffer[] = [];
    const stderr: Buffer[] = [];
    child.stdout?.on('data', (chunk: Buffer) => stdout.push(chunk));
    child.stderr?.on('data', (chunk: Buffer) => stderr.push(chunk));

    let timedOut = false;
    let aborted = false;
    let killing: Promise<KillList> | null = null;
    let exited = false;
    const killTree = () => {
      // Once strace has exited its pid may be reused: there is nothing left to kill anyway, since
      // strace -f only exits after the last tracee.
      if (killing === null && !exited && child.pid !== undefined) {
        killing = killTracedTree(child.pid, {
          leadsGroup: !stdinInherited,
          tracerIsChild: launch.tracerIsChild,
        });
      }
    };
    const timer =
      options.timeoutMs === undefined
        ? null
        : setTimeout(() => {
            timedOut = true;
            killTree();
          }, options.timeoutMs);
    const onAbort = () => {
      aborted = true;
      killTree();
    };
    options.signal?.addEventListener('abort', onAbort, { once: true });

    // Service mode: a supervisor queries the running command and stops it; what is left of the
    // tree once it is done is killed, as a runtime removes a stopped container's processes. The
    // main process is strace's child (see launch.ts for where strace is).
    const main = new MainProcess(() => {
      if (child.pid === undefined) return null;
      const tracer = launch.tracerIsChild ? childOf(child.pid) : child.pid;
      return tracer === null ? null : commandChildOf(tracer);
    });
    let supervisorFailure: { error: unknown } | null = null;
    const supervised =
      options.service === undefined
        ? null
        : options
            .service(main)
            .catch((error: unknown) => {
              supervisorFailure = { error };
            })
            .finally(killTree);

    let durationMs = 0;
    let straceExit: { code: number | null; signal: NodeJS.Signals | null };
    try {
      straceExit = await new Promise((resolve, reject) => {
        child.once('error', reject);
        child.once('exit', () => {
          exited = true;
          main.end();
          durationMs = performance.now() - started;
          // Every tracee is gone now, so the pipes close, unless the command passed them to a
          // process outside the trace (a running daemon): then stop waiting for that one.
          setTimeout(() => {
            child.stdout?.destroy();
            child.stderr?.destroy();
            for (const output of outputs) output.pipe?.stop();
          }, 2000).unref();
        });
        child.once('close', (code, signal) => {
          void Promise.all(outputs.map((output) => output.pipe?.closed)).then(() =>
            resolve({ code, signal }),
          );
        });
      });
    } catch (error) {
      for (const output of outputs) output.pipe?.stop();
      const code = (error as NodeJS.ErrnoException).code;
      if (code === 'ENOENT' || code === 'EACCES') {
        throw new TraceError(
          'TRACE_STRACE_MISSING',
          `strace could not be started (${strace}: ${code}): ${STRACE_HINT}`,
          {
            cause: error,
          },
        );
      }
      throw new TraceError('TRACE_FAILED', `strace could not be started: ${String(error)}`, { cause: error });
    } finally {
      if (timer !== null) clearTimeout(timer);
      options.signal?.removeEventListener('abort', onAbort);
    }
    main.end();
    await supervised;
    if (killing !== null) sweep(await killing);
    if (aborted) throw options.signal?.reason ?? new Error('aborted');
    if (supervisorFailure !== null) throw (supervisorFailure as { error: unknown }).error;

    const parsed = await parseLog(log.read(), plan);
    const capturedOut = outputs[0].pipe?.bytes() ?? Buffer.concat(stdout);
    const capturedErr = outputs[1].pipe?.bytes() ?? Buffer.concat(stderr);
    const stderrText = capturedErr.toString('utf8');
    if (!timedOut) checkStarted(parsed, plan, command, strace, straceExit, pipe ? stderrText : null);

    let exitCode = parsed.exitCode;
    let signal = parsed.signal;
    if (parsed.exitCode === null && parsed.signal === null) {
      // No exit line for the command (a truncated log): strace exits with the command's status.
      exitCode = straceExit.code;
      signal = straceExit.signal;
    }
    if (timedOut) exitCode = null;

    const accesses = dropLauncher(parsed, plan.launcherExecs ?? 0);
    const paths = summarizePaths(accesses);
    if (options.resolveLinks ?? true) resolveLinks(paths, plan.fs);
    return {
      version: 1,
      command: [...command],
      exitCode,
      signal,
      timedOut,
      durationMs: Math.round(durationMs * 10) / 10,
      stdout: pipe ? capturedOut : null,
      stderr: pipe ? capturedErr : null,
      accesses,
      processes: parsed.processes,
      paths,
      listening: parsed.listening,
    };
  } finally {
    log.dispose();
  }
}

function cleanEnvironment(env: Record<string, string | undefined>): Record<string, string> {
  const out: Record<string, string> = {};
  for (const [key, value] of Object.entries(env)) if (value !== undefined) out[key] = value;
  return out;
}

function hostSearchPath(): string {
  return `${process.env.PATH ?? ''}:/usr/local/bin:/usr/bin:/bin:/usr/sbin:/sbin`;
}

function locateStrace(explicit: string | undefined): string {
  if (explicit !== undefined) {
    const found = findCommand(explicit, hostSearchPath(), process.cwd(), isHostExecutable);
    if (found === null)
      throw new TraceError('TRACE_STRACE_MISSING', `strace not found at ${explicit}: ${STRACE_HINT}`);
    return found;
  }
  const found = findCommand('strace', hostSearchPath(), '/', isHostExecutable);
  if (found === null)
    throw new TraceError('TRACE_STRACE_MISSING', `strace is not installed (not on PATH): ${STRACE_HINT}`);
  return found;
}

function hostPlan(command: string[], options: TraceOptions, env: Record<string, string>): Plan {
  const asked = posix.resolve(options.cwd ?? process.cwd());
  if (!isDirectory(asked)) {
    throw new TraceError('TRACE_FAILED', `working directory ${asked} does not exist or is not a directory`);
  }
  // The kernel keeps the directory, not the name: getcwd() and strace's annotations are physical.
  const cwd = realpathSync(asked);
  const searchPath = env.PATH ?? DEFAULT_PATH;
  if (
    findCommand(command[0]!, searchPath, cwd, commandCandidate(command[0]!, isHostExecutable, existsSync)) ===
    null
  ) {
    throw new TraceError('TRACE_COMMAND_NOT_FOUND', `${command[0]}: command not found (PATH=${searchPath})`);
  }
  const user = asUser(options.user);
  return {
    argv: [...user, ...command],
    spawnCwd: cwd,
    root: '/',
    cwd,
    rootMode: false,
    fs: rootFsFor('/', options.fs),
    launcherExecs: user.length > 0 ? 1 : 0,
  };
}

/**
 * The launcher that makes the command run as `user`: the host's setpriv, traced (strace's own -u
 * would drop the uid before it attaches, which needs CAP_SYS_PTRACE, absent in a build's RUN step);
 * what it does before it execs the command is left out of the report (see `dropLauncher`).
 */
function asUser(user: TraceOptions['user']): string[] {
  return user === undefined ? [] : setpriv(user, true);
}

/**
 * The host's setpriv with the gid and groups of `user`, and its uid when `uid` (without it the uid
 * stays 0, for a launcher that must still chroot and mount before the command).
 */
function setpriv(user: NonNullable<TraceOptions['user']>, uid: boolean): string[] {
  const found = findCommand('setpriv', hostSearchPath(), '/', isHostExecutable);
  if (found === null) {
    throw new TraceError(
      'TRACE_FAILED',
      `running the command as uid ${user.uid} needs util-linux's setpriv on PATH`,
    );
  }
  const groups = user.groups.length === 0 ? ['--clear-groups'] : [`--groups=${user.groups.join(',')}`];
  return [found, ...(uid ? [`--reuid=${user.uid}`] : []), `--regid=${user.gid}`, ...groups, '--'];
}

/** The command's accesses before its launcher's `execs` successful execs: the launcher's, not the command's. */
function dropLauncher(parsed: ParsedTrace, execs: number): PathAccess[] {
  if (execs === 0 || parsed.commandPid === null) return parsed.accesses;
  let seen = 0;
  let start = 0;
  parsed.accesses.forEach((access, index) => {
    if (access.pid !== parsed.commandPid || access.kind !== 'exec' || !access.ok || seen > execs) return;
    seen++;
    if (seen === execs + 1) start = index;
  });
  return parsed.accesses.filter((access, index) => access.pid !== parsed.commandPid || index >= start);
}

/**
 * Run by the launcher inside the trace's own mount namespace, before it chroots: the root behind an
 * overlay whose writes vanish (`discardWrites`), with the runtime's /proc and /dev, or as it is
 * where the kernel refuses the overlay.
 */
const DISCARD_WRITES = `${OVERLAY_ROOT_FUNCTION}${RUNTIME_MOUNTS_FUNCTION}
root=$1; shift
# /proc and /dev as the verification has them, only where the overlay keeps the mount points out of the root.
if overlay_root "$root"; then runtime_mounts "$root" || true; fi
exec "$@"
`;

/**
 * The same, for a run whose writes are the command's own (the traced check of `dit export --root`
 * and `dit minify`): no overlay, only the runtime's /proc and /dev (/dev/shm a tmpfs of its own, for
 * POSIX shared memory: PostgreSQL as a user needs it writable), as a container runtime gives an
 * image and as the verification has them. Only where the root has those mount points as folders of
 * its own: nothing is created in the root, and no mount follows a link out of it.
 */
const RUNTIME_ONLY = `${RUNTIME_MOUNTS_FUNCTION}
root=$1; shift
real_dir() { [ -d "$1" ] && [ ! -L "$1" ]; }
if real_dir "$root/proc" && real_dir "$root/dev" && real_dir "$root/tmp"; then runtime_mounts "$root" || true; fi
exec "$@"
`;

function rootPlan(
  command: string[],
  options: TraceOptions,
  env: Record<string, string>,
  ownMountNamespace: boolean,
): Plan {
  let root: string;
  try {
    // Canonical, because strace's fd annotations are canonical host paths and are matched against it.
    root = realpathSync(options.root!);
  } catch (error) {
    throw new TraceError('TRACE_BAD_ROOT', `root ${options.root} does not exist`, { cause: error });
  }
  if (!isDirectory(root)) throw new TraceError('TRACE_BAD_ROOT', `root ${options.root} is not a directory`);
  const fs = rootFsFor(root, options.fs);
  const cwd = posix.resolve('/', options.cwd ?? '/');
  if (fs.lookup(cwd).type !== 'directory') {
    throw new TraceError('TRACE_FAILED', `working directory ${cwd} does not exist inside the root ${root}`);
  }
  const searchPath = env.PATH ?? DEFAULT_PATH;
  const exists = (path: string) => fs.lookup(path).type !== null;
  if (
    findCommand(command[0]!, searchPath, cwd, commandCandidate(command[0]!, rootExecutable(fs), exists)) ===
    null
  ) {
    throw new TraceError(
      'TRACE_COMMAND_NOT_FOUND',
      `${command[0]}: command not found inside the root ${root} (PATH=${searchPath})`,
    );
  }
  // The launcher runs on the host, chroots, then execs the command: no shell is needed inside the
  // root. Its own accesses before the chroot are host paths and the parser leaves them out.
  // util-linux's unshare with no namespace flags only does --root and --wd; coreutils' chroot
  // cannot start in another directory than `/` (--skip-chdir is refused with a new root).
  const unshare = findCommand('unshare', hostSearchPath(), '/', isHostExecutable);
  // The user (a server such as PostgreSQL refuses root; `dit minify` of an image with a USER): the
  // host's setpriv sets the gid and groups first, still as uid 0 so that the chroot and the mounts
  // work, and unshare sets the uid last, after the chroot, as the verification does (isolate.ts).
  const user = options.user;
  const asUser = user === undefined || user.uid === 0 ? [] : [`--setuid=${user.uid}`];
  let launcher: string[];
  if (unshare !== null) {
    launcher = [unshare, `--root=${root}`, `--wd=${cwd}`, ...asUser, '--'];
    // Never mounted where the mount would be the host's: only in the trace's own namespace. The
    // shell is the host's /bin/sh, as for the verification run (no PATH search on the host).
    if (ownMountNamespace)
      launcher = [
        '/bin/sh',
        '-c',
        options.discardWrites ? DISCARD_WRITES : RUNTIME_ONLY,
        'dit-trace',
        root,
        ...launcher,
      ];
  } else {
    const chroot = findCommand('chroot', hostSearchPath(), '/', isHostExecutable);
    if (chroot === null || cwd !== '/' || asUser.length > 0) {
      throw new TraceError(
        'TRACE_FAILED',
        `tracing inside a root needs util-linux's unshare (--root/--wd${asUser.length > 0 ? '/--setuid' : ''}) on PATH`,
      );
    }
    launcher = [chroot, root];
  }
  if (user !== undefined) launcher = [...setpriv(user, false), ...launcher];
  return { argv: [...launcher, ...command], spawnCwd: '/', root, cwd: '/', rootMode: true, fs };
}

/** The caller's RootFs when it reads `root` (a canonical host path), else one made for it. */
function rootFsFor(root: string, given: RootFs | undefined): RootFs {
  if (given === undefined) return new RootFs(root);
  let reads: string;
  try {
    reads = realpathSync(given.root);
  } catch (error) {
    throw new TraceError('TRACE_BAD_ROOT', `the RootFs given reads ${given.root}, which does not exist`, {
      cause: error,
    });
  }
  if (reads !== root) {
    throw new TraceError('TRACE_BAD_ROOT', `the RootFs given reads ${given.root}, not the root ${root}`);
  }
  return given;
}

/**
 * A PATH search only stops at executable files, as execvp does. A path with a `/` only has to
 * exist: if it cannot be executed, the exec itself says why (EACCES, ENOEXEC) and that is reported
 * as such rather than as "not found".
 */
function commandCandidate(
  name: string,
  isExecutable: (path: string) => boolean,
  exists: (path: string) => boolean,
): (path: string) => boolean {
  return name.includes('/') ? exists : isExecutable;
}

function isDirectory(path: string): boolean {
  try {
    return statSync(path).isDirectory();
  } catch {
    return false;
  }
}

async function parseLog(input: ReadStream, plan: Plan): Promise<ParsedTrace> {
  // The traced root's own RootFs serves the processes that stay in it; a process that chroots
  // elsewhere (its own root, a host path) is walked through a RootFs made here for that folder.
  const roots = new Map<string, RootFs>([[plan.root, plan.fs]]);
  const parser = new StraceLogParser({
    root: plan.root,
    cwd: plan.cwd,
    realDirectory: (path, processRoot) => {
      let fs = roots.get(processRoot);
      if (fs === undefined) {
        fs = new RootFs(processRoot);
        roots.set(processRoot, fs);
      }
      const inside = insideRoot(path, processRoot);
      if (inside === null) return null;
      const found = fs.lookup(inside);
      return found.type === 'directory' && found.realPath !== null ? fs.hostPath(found.realPath) : null;
    },
  });
  // An empty log (strace stopped before writing): checkStarted() reports why.
  for await (const line of createInterface({ input, crlfDelay: Number.POSITIVE_INFINITY })) parser.feed(line);
  return parser.finish();
}

function insideRoot(path: string, root: string): string | null {
  if (root === '/') return path;
  if (path === root) return '/';
  return path.startsWith(`${root}/`) ? path.slice(root.length) : null;
}

/** Turns "the command never ran" into the right error. */
function checkStarted(
  parsed: ParsedTrace,
  plan: Plan,
  command: string[],
  strace: string,
  straceExit: { code: number | null; signal: NodeJS.Signals | null },
  stderr: string | null,
): void {
  if (parsed.commandPid === null) {
    if (straceExit.code === 0) return; // nothing ran and nothing failed: cannot happen, but is not an error
    throw diagnoseStrace(strace, stderr);
  }
  const top = parsed.processes.find((p) => p.pid === parsed.commandPid);
  if (top === undefined || top.execs.length > 0) return;
  const attempts = parsed.accesses.filter((a) => a.pid === parsed.commandPid && a.kind === 'exec');
  const errnos = [...new Set(attempts.map((a) => a.errno ?? 'unknown'))];
  if (attempts.length === 0) {
    // In a root, the launcher's exec is not reported: it never got past its chroot.
    if (plan.rootMode) {
      throw new TraceError(
        'TRACE_BAD_ROOT',
        `could not enter the root ${plan.root} (chroot needs root or CAP_SYS_CHROOT)${stderr ? `: ${stderr.trim()}` : ''}`,
      );
    }
    throw new TraceError(
      'TRACE_FAILED',
      `${command[0]}: the command never started${stderr ? `: ${stderr.trim()}` : ''}`,
    );
  }
  if (errnos.every((errno) => errno === 'ENOENT' || errno === 'ENOTDIR')) {
    throw new TraceError(
      'TRACE_COMMAND_NOT_FOUND',
      `${command[0]}: command not found${plan.rootMode ? ` inside the root ${plan.root}` : ''}`,
    );
  }
  throw new TraceError('TRACE_FAILED', `${command[0]}: cannot be executed (${errnos.join(', ')})`);
}

/** strace wrote nothing: ask it again, this time reading what it says. */
function diagnoseStrace(strace: string, stderr: string | null): TraceError {
  let text = stderr ?? '';
  if (text.trim() === '') {
    // The same flags on a harmless command: reproduces refused ptrace and rejected options alike,
    // without running the command a second time.
    const probe = spawnSync(strace, [...straceArguments('/dev/null'), '--', strace, '-V'], {
      encoding: 'utf8',
      timeout: 10_000,
    });
    text = probe.stderr ?? '';
  }
  if (/ptrace|Operation not permitted/i.test(text)) {
    return new TraceError(
      'TRACE_PTRACE_DENIED',
      `strace may not trace here (${text.trim().split('\n')[0]}): run as root or with CAP_SYS_PTRACE, ` +
        'set kernel.yama.ptrace_scope to 0 or 1, and in a container add --cap-add=SYS_PTRACE',
    );
  }
  return new TraceError(
    'TRACE_FAILED',
    `strace failed before the command ran${text.trim() ? `: ${text.trim()}` : ''}`,
  );
}

/**
 * Walks each path inside the root, as the kernel would, for the symlinks an exporter must recreate.
 * Through the root's one RootFs: a path the caller walked before the run is answered as the caller
 * saw it, so the report and the caller's own walks agree.
 */
function resolveLinks(paths: PathSummary[], fs: RootFs): void {
  for (const entry of paths) {
    if (entry.virtual) continue; // /proc/self and friends describe the tracer's moment, not the image
    try {
      const found = fs.lookup(entry.path);
      entry.links = [...found.links];
      entry.type = found.type;
      entry.realPath ??= found.realPath;
    } catch {
      // A link that vanished or became unreadable between lstat and readlink: leave the entry unwalked.
    }
  }
}
