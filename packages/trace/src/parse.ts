/**
 * Turns the text strace writes with `-f -y -o FILE` into path accesses and a process table.
 *
 * Two passes. The first joins each `<unfinished ...>` line with its `<... resumed>` line (per pid)
 * and learns who created whom from the return values of clone/fork. That has to be known up front:
 * a child's first calls are often logged before the parent's clone has returned, and the child
 * starts with the parent's working directory *as it was at the clone*. The second pass replays the
 * calls in the order they completed, keeping per process what the kernel keeps: the working
 * directory and the root (shared by CLONE_FS threads, copied by fork), and records each path.
 *
 * Paths are kept as host paths while replaying, because strace's `-y` annotations are read from
 * /proc by strace itself and so are host paths even for a chrooted process; they are turned into
 * paths inside `root` only when recorded. A process whose root is outside `root` (the host-side
 * launcher before its chroot) is not recorded at all.
 */
import { posix } from 'node:path';
import {
  annotationPath,
  type CallResult,
  type CallText,
  type FdArg,
  flagNames,
  parseFdArg,
  parseQuoted,
  parseResult,
  parseStringArray,
  splitCall,
} from './strace-text.js';
import type { AccessKind, ListeningSocket, PathAccess, TracedProcess } from './types.js';

export interface ParseOptions {
  /** Host directory the reported paths are relative to: trace()'s `root`. Default `/`. */
  root?: string;
  /** Host working directory of the first process when the log starts. Unknown by default: its relative paths are then resolved only once an `AT_FDCWD</dir>` annotation shows the directory. */
  cwd?: string;
  /**
   * The symlink-free path of the host directory `path`, seen from a process whose root is
   * `processRoot` (both host paths), or null if it cannot be resolved. Used where the kernel
   * resolves physically: `..` after a symlinked directory, and the directory chdir/chroot land in.
   * Without it those are resolved lexically.
   */
  realDirectory?: (path: string, processRoot: string) => string | null;
}

export interface ParsedTrace {
  /** In the order the calls completed. */
  accesses: PathAccess[];
  /** In the order first seen. */
  processes: TracedProcess[];
  /** The first pid in the log: the command. */
  commandPid: number | null;
  /** Exit status and signal of the command's process, as logged (`+++ exited with N +++`). */
  exitCode: number | null;
  signal: string | null;
  /** Lines that were not understood (at most 100 kept), so a format change shows instead of silently losing data. */
  unparsed: string[];
  /** Calls with a relative path whose base directory was unknown (no cwd given and none seen yet). */
  unresolved: number;
  /** TCP ports listened on, in the order of the listen calls: see `ListeningSocket`. */
  listening: ListeningSocket[];
}

/** A complete call, or one that never returned (`complete: false`, the process died in it). */
interface CallEvent {
  readonly type: 'call';
  readonly pid: number;
  readonly call: CallText;
  /** A thread's execve that took over the thread group leader's pid (`<pid changed to N ...>`). */
  readonly tookOverFrom: number | null;
}
interface ExitEvent {
  readonly type: 'exit';
  readonly pid: number;
  readonly exitCode: number | null;
  readonly signal: string | null;
}
/** `+++ superseded by execve in pid THREAD +++`: THREAD exec'ed and now carries the leader's pid. */
interface SupersededEvent {
  readonly type: 'superseded';
  readonly pid: number;
  readonly thread: number;
}
type Event = CallEvent | ExitEvent | SupersededEvent;

interface Pending {
  readonly text: string;
  readonly tookOverFrom: number | null;
}

interface Fork {
  readonly parent: number;
  readonly flags: ReadonlySet<string>;
}

const CREATORS = new Set(['clone', 'clone3', 'fork', 'vfork']);
// Matched without a leading `\s*`: a regex starting with one retries at every blank of a long run
// (an argument of 16,384 spaces), quadratic in it. The blanks before the marker are trimmed instead.
const UNFINISHED = /<unfinished \.\.\.>$/;
const DETACHED = /<detached \.\.\.>$/;
const PID_CHANGED = /<pid changed to (\d+) \.\.\.>$/;
const RESUMED = /^<\.\.\. ([a-z0-9_]+) resumed>(.*)$/;
const MAX_UNPARSED = 100;

/** Parses a whole log. */
export function parseStraceLog(text: string, options: ParseOptions = {}): ParsedTrace {
  const parser = new StraceLogParser(options);
  for (const line of text.split('\n')) parser.feed(line);
  return parser.finish();
}

/** The same, fed line by line (a large log need not be held as one string). */
export class StraceLogParser {
  private readonly options: ParseOptions;
  private readonly events: Event[] = [];
  private readonly pending = new Map<number, Pending>();
  /** Entries of execve calls that moved to another pid, waiting for that pid's `superseded` line. */
  private readonly migrating = new Map<number, Pending>();
  /** Per child pid, the creations that returned it, in log order (a pid can be reused). */
  private readonly forks = new Map<number, Fork[]>();
  private readonly unparsed: string[] = [];
  private firstPid: number | null = null;

  constructor(options: ParseOptions = {}) {
    this.options = options;
  }

  feed(rawLine: string): void {
    const line = rawLine.endsWith('\r') ? rawLine.slice(0, -1) : rawLine;
    if (line.trim() === '') return;
    // `-o FILE -f` prefixes the pid; strace on stderr writes `[pid  N] `; a single process has none.
    const prefixed = /^(?:(\d+)|\[pid\s+(\d+)\])\s+/.exec(line);
    const pid = prefixed === null ? 0 : Number(prefixed[1] ?? prefixed[2]);
    if (!Number.isSafeInteger(pid)) {
      this.noteUnparsed(line); // hundreds of digits: no pid, a damaged line
      return;
    }
    const rest = prefixed === null ? line : line.slice(prefixed[0].length);
    this.firstPid ??= pid;

    if (rest.startsWith('+++ ')) {
      this.feedExit(pid, rest, line);
      return;
    }
    if (rest.startsWith('--- ')) return; // signal delivery: nothing to do with paths
    const resumed = RESUMED.exec(rest);
    if (resumed !== null) {
      const started = this.pending.get(pid);
      this.pending.delete(pid);
      // Killed in the middle of the call: `<... openat resumed> <unfinished ...>) = ?`.
      const tail = resumed[2]!.replace(/^\s*<unfinished \.\.\.>\)/, ')');
      if (started === undefined) {
        this.noteUnparsed(line); // the log began mid-call: its arguments are lost
        return;
      }
      this.emitCall(pid, started.text + tail, started.tookOverFrom, line);
      return;
    }
    const changed = PID_CHANGED.exec(rest);
    if (changed !== null) {
      this.migrating.set(Number(changed[1]), {
        text: rest.slice(0, changed.index).trimEnd(),
        tookOverFrom: pid,
      });
      return;
    }
    const unfinished = UNFINISHED.exec(rest);
    if (unfinished !== null) {
      this.pending.set(pid, { text: rest.slice(0, unfinished.index).trimEnd(), tookOverFrom: null });
      return;
    }
    const detached = DETACHED.exec(rest);
    if (detached !== null) {
      this.emitIncomplete(pid, { text: rest.slice(0, detached.index).trimEnd(), tookOverFrom: null });
      return;
    }
    this.emitCall(pid, rest, null, line);
  }

  finish(): ParsedTrace {
    for (const [pid, started] of this.pending) this.emitIncomplete(pid, started);
    this.pending.clear();
    return new Replay(this.options, this.forks, this.firstPid, this.unparsed).run(this.events);
  }

  private feedExit(pid: number, rest: string, line: string): void {
    const superseded = /^\+\+\+ superseded by execve in pid (\d+) \+\+\+/.exec(rest);
    if (superseded !== null) {
      // The old leader vanished in the middle of whatever it was doing.
      const lost = this.pending.get(pid);
      if (lost !== undefined) this.emitIncomplete(pid, lost);
      this.events.push({ type: 'superseded', pid, thread: Number(superseded[1]) });
      const moved = this.migrating.get(pid);
      this.migrating.delete(pid);
      if (moved !== undefined) this.pending.set(pid, moved);
      else this.pending.delete(pid);
      return;
    }
    const exited = /^\+\+\+ exited with (\d+) \+\+\+/.exec(rest);
    const killed = /^\+\+\+ killed by (SIG[A-Z0-9+-]+)/.exec(rest);
    if (exited === null && killed === null) {
      this.noteUnparsed(line);
      return;
    }
    const started = this.pending.get(pid);
    if (started !== undefined) {
      this.pending.delete(pid);
      this.emitIncomplete(pid, started);
    }
    this.events.push({
      type: 'exit',
      pid,
      exitCode: exited === null ? null : Number(exited[1]),
      signal: killed === null ? null : killed[1]!,
    });
  }

  private emitIncomplete(pid: number, started: Pending): void {
    // Close the argument list so the arguments that were printed can still be read; `?` = no result.
    const call = splitCall(`${started.text.replace(/,\s*$/, '')}) = ?`);
    if (call !== null) this.events.push({ type: 'call', pid, call, tookOverFrom: started.tookOverFrom });
  }

  private emitCall(pid: number, text: string, tookOverFrom: number | null, line: string): void {
    const call = splitCall(text);
    if (call === null) {
      this.noteUnparsed(line);
      return;
    }
    this.events.push({ type: 'call', pid, call, tookOverFrom });
    if (CREATORS.has(call.name)) {
      const child = parseResult(call.result).value;
      if (child !== null && child > 0 && Number.isSafeInteger(child)) {
        const list = this.forks.get(child) ?? [];
        list.push({ parent: pid, flags: cloneFlags(call) });
        this.forks.set(child, list);
      }
    }
  }

  private noteUnparsed(line: string): void {
    if (this.unparsed.length < MAX_UNPARSED) this.unparsed.push(line);
  }
}

function cloneFlags(call: CallText): Set<string> {
  if (call.name === 'clone' || call.name === 'clone3') {
    for (const arg of call.args) {
      const match = /(?:^|[{,\s])flags=([A-Z0-9_|]+)/.exec(arg);
      if (match !== null) return new Set(match[1]!.split('|'));
    }
  }
  return new Set(); // fork and vfork copy everything that matters here
}

/** What the kernel keeps per process that path resolution depends on (host paths). */
interface FsState {
  cwd: string | null;
  root: string;
}

interface Proc {
  readonly info: TracedProcess;
  fs: FsState;
  dead: boolean;
}

interface AccessDetails {
  write?: boolean;
  directory?: boolean;
  nofollow?: boolean;
  /** Host path of the fd the call returned or used. */
  realHostPath?: string | null;
  /** Overrides the ok/errno taken from the result. */
  ok?: boolean;
  /** The call named no path, only an fd (fstat, getdents, AT_EMPTY_PATH): see `inheritedOnly`. */
  viaFd?: boolean;
}

/** The second pass. */
class Replay {
  private readonly root: string;
  private readonly realDirectory: ParseOptions['realDirectory'];
  private readonly live = new Map<number, Proc>();
  private readonly processes: TracedProcess[] = [];
  private readonly accesses: PathAccess[] = [];
  /** Host paths some traced process reached by name (the path it passed, and where its fd landed). */
  private readonly named = new Set<string>();
  /** Accesses through an fd, with the host path behind it, decided on at the end. */
  private readonly throughFd: { access: PathAccess; host: string }[] = [];
  private unresolved = 0;
  /** Per socket inode, the IP address it was bound to: a later listen on that inode makes it a server's port. */
  private readonly boundTo = new Map<string, Omit<ListeningSocket, 'pid'>>();
  private readonly listening: ListeningSocket[] = [];
  private exitCode: number | null = null;
  private signal: string | null = null;
  private commandExited = false;

  constructor(
    private readonly options: ParseOptions,
    private readonly forks: Map<number, Fork[]>,
    private readonly commandPid: number | null,
    private readonly unparsed: string[],
  ) {
    this.root = posix.resolve(options.root ?? '/');
    this.realDirectory = options.realDirectory;
  }

  run(events: readonly Event[]): ParsedTrace {
    for (const event of events) {
      if (event.type === 'call') this.call(event);
      else if (event.type === 'exit') this.exit(event);
      else this.superseded(event);
    }
    return {
      accesses: this.withoutInherited(),
      processes: this.processes,
      commandPid: this.commandPid,
      exitCode: this.exitCode,
      signal: this.signal,
      unparsed: this.unparsed,
      unresolved: this.unresolved,
      listening: this.listening,
    };
  }

  /**
   * The accesses, less those made only through descriptors the command inherited from its caller.
   * An fd call (fstat, getdents, fstatfs, fchdir, AT_EMPTY_PATH) shows the path behind the fd, but
   * if no traced process ever reached that path by name, the fd came from outside the trace: the
   * caller's stdout redirected to a file (`dit export ... > /tmp/out.log` makes libc's fstat(1)
   * show /tmp/out.log), a file on stdin. That file is the caller's, not the application's: it must
   * not be exported, nor named as missing. Decided once the whole log is read, so that the order of
   * the lines cannot matter.
   */
  private withoutInherited(): PathAccess[] {
    const inherited = new Set<PathAccess>();
    for (const { access, host } of this.throughFd) if (!this.named.has(host)) inherited.add(access);
    return inherited.size === 0 ? this.accesses : this.accesses.filter((access) => !inherited.has(access));
  }

  private proc(pid: number): Proc {
    const known = this.live.get(pid);
    if (known !== undefined && !known.dead) return known;
    // Met before the clone that made it returned, its creator may be unknown too, and so on up a
    // chain as long as the log: the missing ones are made oldest first, in a loop (recursion
    // overflowed the stack on a chain of a few thousand).
    const chain: { pid: number; fork: Fork | null }[] = [];
    for (let current: number | null = pid; current !== null; ) {
      const fork: Fork | null = this.forks.get(current)?.shift() ?? null;
      chain.push({ pid: current, fork });
      const parent: Proc | undefined = fork === null ? undefined : this.live.get(fork.parent);
      current = fork === null || (parent !== undefined && !parent.dead) ? null : fork.parent;
    }
    let made: Proc | undefined;
    for (let k = chain.length - 1; k >= 0; k--) made = this.create(chain[k]!.pid, chain[k]!.fork);
    return made!;
  }

  private create(pid: number, fork: Fork | null): Proc {
    let fs: FsState;
    let parent: number | null = null;
    if (fork !== null) {
      const parentProc = this.proc(fork.parent);
      parent = fork.parent;
      fs = fork.flags.has('CLONE_FS') ? parentProc.fs : { ...parentProc.fs };
    } else {
      // The command itself starts where trace() started it; anything else unknown starts unknown.
      const isCommand = pid === this.commandPid && !this.live.has(pid);
      fs = { cwd: isCommand ? (this.options.cwd ?? null) : null, root: '/' };
    }
    const info: TracedProcess = {
      pid,
      parent,
      argv: null,
      executable: null,
      thread: fork?.flags.has('CLONE_THREAD') ?? false,
      execs: [],
      exitCode: null,
      signal: null,
    };
    const proc: Proc = { info, fs, dead: false };
    this.live.set(pid, proc);
    this.processes.push(info);
    return proc;
  }

  private exit(event: ExitEvent): void {
    const proc = this.proc(event.pid);
    proc.info.exitCode = event.exitCode;
    proc.info.signal = event.signal;
    proc.dead = true;
    if (event.pid === this.commandPid && !this.commandExited) {
      this.commandExited = true;
      this.exitCode = event.exitCode;
      this.signal = event.signal;
    }
  }

  private superseded(event: SupersededEvent): void {
    const leader = this.proc(event.pid);
    const thread = this.live.get(event.thread);
    if (thread !== undefined && !thread.dead) {
      leader.fs = thread.fs;
      thread.dead = true; // it lives on under the leader's pid
    }
  }

  private call(event: CallEvent): void {
    const { call } = event;
    const proc = this.proc(event.pid);
    const result = parseResult(call.result);
    const a = call.args;
    switch (call.name) {
      case 'execve':
        this.exec(proc, call, result, null, a[0], a[1], event.tookOverFrom !== null);
        return;
      case 'execveat':
        this.exec(proc, call, result, fd(a[0]), a[1], a[2], event.tookOverFrom !== null, a[4]);
        return;
      case 'open':
        this.open(proc, call, result, null, a[0], flagNames(a[1] ?? ''));
        return;
      case 'openat':
        this.open(proc, call, result, fd(a[0]), a[1], flagNames(a[2] ?? ''));
        return;
      case 'openat2':
        this.open(proc, call, result, fd(a[0]), a[1], flagNames(a[2] ?? '', 'flags'));
        return;
      case 'creat':
        this.open(proc, call, result, null, a[0], new Set(['O_CREAT', 'O_WRONLY', 'O_TRUNC']));
        return;
      case 'open_by_handle_at':
        // No path was passed: where it landed is all there is.
        this.record(proc, 'open', call, result, annotationPath(result.annotation), {
          realHostPath: annotationPath(result.annotation),
        });
        return;
      case 'stat':
      case 'stat64':
        this.pathCall(proc, 'stat', call, result, null, a[0]);
        return;
      case 'lstat':
      case 'lstat64':
        this.pathCall(proc, 'stat', call, result, null, a[0], { nofollow: true });
        return;
      case 'fstat':
      case 'fstat64':
        this.fdCall(proc, 'stat', call, result, a[0]);
        return;
      case 'newfstatat':
      case 'fstatat64':
        this.atCall(proc, 'stat', call, result, a[0], a[1], a[3]);
        return;
      case 'statx':
        this.atCall(proc, 'stat', call, result, a[0], a[1], a[2]);
        return;
      case 'access':
        this.pathCall(proc, 'access', call, result, null, a[0]);
        return;
      case 'faccessat':
        this.atCall(proc, 'access', call, result, a[0], a[1], undefined);
        return;
      case 'faccessat2':
        this.atCall(proc, 'access', call, result, a[0], a[1], a[3]);
        return;
      case 'readlink':
        this.pathCall(proc, 'readlink', call, result, null, a[0], { nofollow: true });
        return;
      case 'readlinkat':
        this.pathCall(proc, 'readlink', call, result, fd(a[0]), a[1], { nofollow: true });
        return;
      case 'getdents':
      case 'getdents64':
        this.fdCall(proc, 'list', call, result, a[0], { directory: true });
        return;
      case 'statfs':
      case 'statfs64':
        this.pathCall(proc, 'statfs', call, result, null, a[0]);
        return;
      case 'fstatfs':
      case 'fstatfs64':
        this.fdCall(proc, 'statfs', call, result, a[0]);
        return;
      case 'chdir':
      case 'chroot':
        this.changeDirectory(proc, call, result, a[0]);
        return;
      case 'fchdir': {
        this.fdCall(proc, 'chdir', call, result, a[0], { directory: true });
        const host = annotationPath(fd(a[0]).annotation);
        if (host !== null && succeeded(result)) proc.fs.cwd = host;
        return;
      }
      case 'clone':
      case 'clone3':
      case 'fork':
      case 'vfork':
        this.created(proc, result);
        return;
      case 'connect':
        this.socket(proc, call, result);
        return;
      case 'bind':
        this.socket(proc, call, result);
        this.bound(call, result);
        return;
      case 'listen':
        this.listened(proc, call, result);
        return;
      default:
        return;
    }
  }

  private exec(
    proc: Proc,
    call: CallText,
    result: CallResult,
    dir: FdArg | null,
    pathArg: string | undefined,
    argvArg: string | undefined,
    tookOver: boolean,
    flagsArg?: string,
  ): void {
    // A thread's exec that took over the leader's pid returns garbage to strace; it did succeed.
    const ok = tookOver || result.value === 0;
    const emptyPath = flagsArg !== undefined && flagNames(flagsArg).has('AT_EMPTY_PATH');
    const host = emptyPath ? annotationPath(dir?.annotation ?? null) : this.resolveArg(proc, dir, pathArg);
    const path = this.record(proc, 'exec', call, result, host, {
      ok,
      realHostPath: emptyPath ? host : null,
      viaFd: emptyPath,
    });
    if (ok && path !== null) {
      const argv = argvArg === undefined ? null : parseStringArray(argvArg);
      proc.info.execs.push({ path, argv });
      proc.info.argv = argv;
      proc.info.executable = path;
    }
  }

  private open(
    proc: Proc,
    call: CallText,
    result: CallResult,
    dir: FdArg | null,
    pathArg: string | undefined,
    flags: Set<string>,
  ): void {
    const host = this.resolveArg(proc, dir, pathArg);
    this.record(proc, 'open', call, result, host, {
      write: flags.has('O_WRONLY') || flags.has('O_RDWR') || flags.has('O_CREAT') || flags.has('O_TMPFILE'),
      directory: flags.has('O_DIRECTORY') || flags.has('O_TMPFILE'),
      nofollow: flags.has('O_NOFOLLOW'),
      realHostPath: annotationPath(result.annotation),
    });
  }

  /** A `*at` call with an AT_* flags argument (AT_EMPTY_PATH, AT_SYMLINK_NOFOLLOW). */
  private atCall(
    proc: Proc,
    kind: AccessKind,
    call: CallText,
    result: CallResult,
    dirArg: string | undefined,
    pathArg: string | undefined,
    flagsArg: string | undefined,
  ): void {
    const flags = flagNames(flagsArg ?? '');
    const dir = fd(dirArg);
    const path = pathArg === undefined ? null : parseQuoted(pathArg);
    if (path !== null && path.value === '' && flags.has('AT_EMPTY_PATH')) {
      // ld.so's fstat of each object it maps: `newfstatat(3</usr/lib/libc.so.6>, "", ..., AT_EMPTY_PATH)`.
      const host = annotationPath(dir.annotation);
      this.record(proc, kind, call, result, host, { realHostPath: host, viaFd: true });
      return;
    }
    this.pathCall(proc, kind, call, result, dir, pathArg, { nofollow: flags.has('AT_SYMLINK_NOFOLLOW') });
  }

  private pathCall(
    proc: Proc,
    kind: AccessKind,
    call: CallText,
    result: CallResult,
    dir: FdArg | null,
    pathArg: string | undefined,
    details: AccessDetails = {},
  ): void {
    this.record(proc, kind, call, result, this.resolveArg(proc, dir, pathArg), details);
  }

  /** A call on an fd: the path is the one strace showed for it. */
  private fdCall(
    proc: Proc,
    kind: AccessKind,
    call: CallText,
    result: CallResult,
    fdArg: string | undefined,
    details: AccessDetails = {},
  ): void {
    const host = annotationPath(fd(fdArg).annotation);
    if (host !== null)
      this.record(proc, kind, call, result, host, { ...details, realHostPath: host, viaFd: true });
  }

  private changeDirectory(proc: Proc, call: CallText, result: CallResult, pathArg: string | undefined): void {
    const host = this.resolveArg(proc, null, pathArg);
    this.record(proc, 'chdir', call, result, host, { directory: true });
    if (host === null || !succeeded(result)) return;
    // The kernel keeps the directory itself, not the name used to reach it.
    const physical = this.realDirectory?.(host, proc.fs.root) ?? host;
    if (call.name === 'chdir') proc.fs.cwd = physical;
    else proc.fs.root = physical;
  }

  private created(proc: Proc, result: CallResult): void {
    const child = result.value;
    // A return of hundreds of digits (a damaged log) is no pid: it would make a process `Infinity`.
    if (child === null || child <= 0 || !Number.isSafeInteger(child)) return;
    const known = this.live.get(child);
    if (known !== undefined && !known.dead) return; // its first calls were logged before this return
    const fork = this.forks.get(child)?.shift();
    this.create(child, fork ?? { parent: proc.info.pid, flags: new Set() });
  }

  private socket(proc: Proc, call: CallText, result: CallResult): void {
    const address = call.args[1] ?? '';
    if (!address.includes('AF_UNIX')) return;
    const match = /sun_path=("(?:[^"\\]|\\.)*")/.exec(address);
    if (match === null) return; // unnamed, or abstract (`sun_path=@"..."`): no file
    const path = parseQuoted(match[1]!);
    if (path === null || path.value === '') return;
    const host = this.resolve(proc, null, path.value);
    this.record(proc, 'connect', call, result, host, { write: call.name === 'bind' });
  }

  /**
   * A successful bind to an IPv4 or IPv6 address, remembered by socket inode rather than fd: the fd
   * may be passed on (a master binds, a forked worker listens), the inode is the socket itself.
   */
  private bound(call: CallText, result: CallResult): void {
    if (!succeeded(result)) return;
    const inode = socketInode(call.args[0]);
    const address = (call.args[1] ?? '').trim();
    if (inode === null) return;
    // Field by field, each regex anchored on its own name: no `.*` to backtrack over a damaged line.
    const family = /^\{sa_family=(AF_INET6?),/.exec(address)?.[1];
    const port = /\bsin6?_port=htons\((\d+)\)/.exec(address)?.[1];
    const ip =
      family === 'AF_INET'
        ? /\bsin_addr=inet_addr\("([^"]*)"\)/.exec(address)?.[1]
        : /\binet_pton\(AF_INET6, "([^"]*)"/.exec(address)?.[1];
    if ((family !== 'AF_INET' && family !== 'AF_INET6') || port === undefined || ip === undefined) {
      this.boundTo.delete(inode); // a unix socket or another family: no port
      return;
    }
    this.boundTo.set(inode, { port: Number(port), address: ip, family });
  }

  /**
   * A successful listen on a socket bound to a port: a server's port. A socket bound and never
   * listened on (UDP, or a client choosing its source port) is not one. Port 0 asks the kernel to
   * pick one, which the traced calls do not show (getsockname is not traced): left out, as is a
   * listen without a bind (the kernel picks then too). Only processes inside the root count.
   */
  private listened(proc: Proc, call: CallText, result: CallResult): void {
    if (!succeeded(result) || this.inside(proc.fs.root) === null) return;
    const inode = socketInode(call.args[0]);
    const bound = inode === null ? undefined : this.boundTo.get(inode);
    if (bound === undefined || bound.port === 0 || bound.port > 65535) return;
    const same = this.listening.some((l) => l.port === bound.port && l.address === bound.address);
    if (!same) this.listening.push({ ...bound, pid: proc.info.pid });
  }

  /** Resolves a quoted path argument to a host path. */
  private resolveArg(proc: Proc, dir: FdArg | null, pathArg: string | undefined): string | null {
    const path = pathArg === undefined ? null : parseQuoted(pathArg);
    if (path === null) return null;
    return this.resolve(proc, dir, path.value);
  }

  private resolve(proc: Proc, dir: FdArg | null, path: string): string | null {
    if (path === '') return null; // names nothing (ENOENT without AT_EMPTY_PATH): not the directory
    if (path.startsWith('/')) return this.walk(proc.fs.root, proc.fs.root, path);
    let base: string | null;
    if (dir === null || dir.fd === 'AT_FDCWD' || dir.fd === '-100') {
      const shown = annotationPath(dir?.annotation ?? null);
      // strace read the cwd from /proc as the call was made: the kernel's view beats our bookkeeping.
      if (shown !== null) proc.fs.cwd = shown;
      base = proc.fs.cwd;
    } else {
      base = annotationPath(dir.annotation);
    }
    if (base === null) {
      this.unresolved++;
      return null;
    }
    return this.walk(proc.fs.root, base, path);
  }

  /**
   * Joins `path` to the host directory `base`. `..` never climbs above the process's root (when the
   * base is inside it), and is taken physically when `realDirectory` can resolve what precedes it.
   */
  private walk(processRoot: string, base: string, path: string): string {
    const rootParts = split(processRoot);
    const parts = split(base);
    const floor = isWithin(base, processRoot) ? rootParts.length : 0;
    let resolved = false;
    for (const part of path.split('/')) {
      if (part === '' || part === '.') continue;
      if (part === '..') {
        if (!resolved && this.realDirectory !== undefined && parts.length > floor) {
          const real = this.realDirectory(`/${parts.join('/')}`, processRoot);
          if (real !== null) parts.splice(0, parts.length, ...split(real));
          resolved = true;
        }
        if (parts.length > floor) parts.pop();
        continue;
      }
      parts.push(part);
      resolved = false;
    }
    return `/${parts.join('/')}`;
  }

  /** Records the access if the process is inside the root; returns the recorded path. */
  private record(
    proc: Proc,
    kind: AccessKind,
    call: CallText,
    result: CallResult,
    host: string | null,
    details: AccessDetails,
  ): string | null {
    if (host === null || this.inside(proc.fs.root) === null) return null;
    const path = this.inside(host);
    if (path === null) return null;
    const ok = details.ok ?? succeeded(result);
    const real = details.realHostPath ?? null;
    const access: PathAccess = {
      path,
      kind,
      ok,
      errno: ok ? null : result.errno,
      pid: proc.info.pid,
      syscall: call.name,
      write: details.write ?? false,
      directory: details.directory ?? false,
      nofollow: details.nofollow ?? false,
      realPath: ok && real !== null ? this.inside(real) : null,
    };
    this.accesses.push(access);
    if (details.viaFd) {
      this.throughFd.push({ access, host });
    } else {
      this.named.add(host);
      if (real !== null) this.named.add(real);
    }
    return path;
  }

  /** A host path as a path inside the root, or null when it is outside. */
  private inside(host: string): string | null {
    if (this.root === '/') return host;
    if (host === this.root) return '/';
    return host.startsWith(`${this.root}/`) ? host.slice(this.root.length) : null;
  }
}

function succeeded(result: CallResult): boolean {
  return result.value !== null && result.value >= 0;
}

/** The inode of a socket fd from its `-y` annotation (`3<socket:[2495917]>`), or null. */
function socketInode(arg: string | undefined): string | null {
  const annotation = fd(arg).annotation;
  const match = annotation === null ? null : /^socket:\[(\d+)\]$/.exec(annotation);
  return match === null ? null : match[1]!;
}

function fd(arg: string | undefined): FdArg {
  return parseFdArg(arg ?? '');
}

function split(path: string): string[] {
  return path.split('/').filter((part) => part !== '' && part !== '.');
}

function isWithin(path: string, dir: string): boolean {
  return dir === '/' || path === dir || path.startsWith(`${dir}/`);
}
