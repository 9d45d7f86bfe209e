import type { RootFs, SymlinkHop } from '@dit/paths';
import type { Supervisor } from './service.js';

export interface TraceOptions {
  /** Working directory of the command: a host path, or a path inside `root` when `root` is set. Default: this process's cwd, or `/` with a root. */
  cwd?: string;
  /** The command's environment (also strace's). Default `process.env`; `undefined` values are dropped. */
  env?: Record<string, string | undefined>;
  /** Kill the whole process tree after this many milliseconds; the report then has `timedOut: true`. Default: no limit. */
  timeoutMs?: number;
  /** Kills the whole process tree when aborted; `trace()` then rejects with the signal's reason. */
  signal?: AbortSignal;
  /**
   * Run the command as this uid, gid and supplementary groups, as an image's USER runs it (through
   * the host's setpriv, whose own accesses are left out). Ignored with `root`. Default: as this process.
   */
  user?: { readonly uid: number; readonly gid: number; readonly groups: readonly number[] };
  /**
   * Service mode: called once the command is started, with a handle on its main process; when the
   * promise settles, everything left of the traced tree is killed. A rejection becomes `trace()`'s.
   */
  service?: Supervisor;
  /**
   * chroot into this directory (a host path) before running the command. Needs root
   * (CAP_SYS_CHROOT). Paths in the report are then paths inside the root, and nothing the host-side
   * launcher did before its chroot is reported.
   */
  root?: string;
  /**
   * The RootFs of `root` (of `/` without one), shared with the caller: the command is looked for
   * through it, and the reported paths are walked through it after the run, so a pipeline walks
   * each path of its root once. Made here when not given; one of another folder is refused
   * (TRACE_BAD_ROOT).
   */
  fs?: RootFs;
  /**
   * With `root`: the command sees the root through an overlay whose writes vanish with the trace,
   * so the root never changes. Needs the trace's own mount namespace (see launch.ts); where that is
   * refused, or the kernel refuses the overlay, the command writes into the root itself. Default false.
   */
  discardWrites?: boolean;
  /** `inherit` (default): the command's stdout and stderr are this process's. `pipe`: captured into the report. */
  stdio?: 'inherit' | 'pipe';
  /** Default `ignore`. With `inherit` strace stays in this process group, so a terminal's job control still works. */
  stdin?: 'inherit' | 'ignore';
  /** The strace binary. Default: `strace` on PATH (then /usr/bin, /bin). */
  strace?: string;
  /**
   * Walk every reported path inside the root afterwards (lstat/readlink, like the kernel) to fill in
   * `realPath`, `links` and `type` of each `paths` entry. Default true.
   */
  resolveLinks?: boolean;
}

export type AccessKind =
  | 'exec'
  | 'open'
  | 'stat'
  | 'access'
  | 'readlink'
  | 'list'
  | 'chdir'
  | 'connect'
  | 'statfs';

/** One system call that named a path (or used an fd whose path `-y` showed). */
export interface PathAccess {
  /**
   * Absolute, inside the root (as the process saw it), NOT symlink-resolved. Relative paths are
   * joined to the process's cwd or dirfd; `.` and `..` are removed, `..` physically (the way the
   * kernel walks it) when the directory before it could be resolved after the run, lexically if not.
   */
  path: string;
  kind: AccessKind;
  /** The call succeeded. False with `errno` null: the outcome is unknown (the process died in the call). */
  ok: boolean;
  /** `ENOENT`, `EACCES`, ... when the call failed. */
  errno: string | null;
  /** The thread that made the call (strace's pid column: a tid for threads; of the trace's own pid namespace where it has one, not the host's). */
  pid: number;
  /** `openat`, `execve`, `newfstatat`, ... (`chroot` is reported with kind `chdir`, `bind` with kind `connect`). */
  syscall: string;
  /** Opened for writing or creating (O_WRONLY, O_RDWR, O_CREAT, O_TMPFILE, creat), or a socket bound at this path. */
  write: boolean;
  /** O_DIRECTORY, getdents, chdir/fchdir/chroot. */
  directory: boolean;
  /** The call looked at a symlink itself rather than through it: lstat, AT_SYMLINK_NOFOLLOW, O_NOFOLLOW, readlink. */
  nofollow: boolean;
  /**
   * Where the kernel actually landed, symlinks resolved, when the call returned or used an fd and
   * strace showed its path (`-y`); null otherwise or when that is outside the root.
   */
  realPath: string | null;
}

/**
 * A TCP port the command served: a socket bound to an IPv4 or IPv6 address with a port, then
 * listened on (the same socket, by inode, in any process of the tree). Kept once per port and address.
 */
export interface ListeningSocket {
  port: number;
  /** The bound address as strace printed it: `127.0.0.1`, `0.0.0.0`, `::`, `::1`. */
  address: string;
  family: 'AF_INET' | 'AF_INET6';
  /** The process that listened. */
  pid: number;
}

/** A successful execve. */
export interface ExecRecord {
  /** The path passed to execve, made absolute inside the root. */
  path: string;
  /** As strace printed it: cut after 16384 elements or bytes per element. */
  argv: string[] | null;
}

export interface TracedProcess {
  /** pid, or tid for a thread (of the trace's own pid namespace where it has one, not the host's). */
  pid: number;
  /** The process or thread that created it; null for the command itself (or when the log did not say). */
  parent: number | null;
  /** argv of the last successful execve inside the root; null if it never exec'ed (a fork, a thread). */
  argv: string[] | null;
  /** Path of that execve. */
  executable: string | null;
  /** Created with CLONE_THREAD. */
  thread: boolean;
  /** Every successful execve inside the root, in order (a shell that `exec`s has two). */
  execs: ExecRecord[];
  exitCode: number | null;
  /** The signal it died of (`SIGKILL`, ...). */
  signal: string | null;
}

/** Everything that happened to one path. */
export interface PathSummary {
  path: string;
  /** The kinds of access, in the order first seen. */
  kinds: AccessKind[];
  /** At least one access succeeded. */
  ok: boolean;
  /** Distinct errnos of the failed accesses: ENOENT/ENOTDIR/EACCES on a never-successful path are negative dependencies. */
  failedErrnos: string[];
  pids: number[];
  /** Some access wrote or created it: the command made it, it need not be shipped. */
  write: boolean;
  /** Used as a directory (listed, chdir'ed, opened with O_DIRECTORY). */
  directory: boolean;
  /** Under /proc, /sys or /dev: provided by the runtime, record but do not copy. */
  virtual: boolean;
  /** Canonical path inside the root: from strace's fd annotations, else from walking the path after the run; null if missing. */
  realPath: string | null;
  /** Every symlink crossed walking `path` after the run (directory links too), in order. Empty with `resolveLinks: false`. */
  links: SymlinkHop[];
  /** What `path` names after the run (following links); null when it does not exist (or was not walked). */
  type: 'file' | 'directory' | 'other' | null;
}

export interface TraceReport {
  version: 1;
  command: string[];
  /** The command's own exit status (not strace's); null if it died of a signal or timed out. */
  exitCode: number | null;
  /** The signal the command died of. */
  signal: string | null;
  timedOut: boolean;
  durationMs: number;
  /** Captured output with `stdio: 'pipe'`, else null. */
  stdout: Buffer | null;
  stderr: Buffer | null;
  /** Every path-bearing call, in the order the calls completed. */
  accesses: PathAccess[];
  /** Every process and thread, in the order first seen; the first is the command. */
  processes: TracedProcess[];
  /** Distinct paths with the union of what happened to them: the exporter's main input. */
  paths: PathSummary[];
  /** TCP ports the command listened on, in the order first listened on. */
  listening: ListeningSocket[];
}
