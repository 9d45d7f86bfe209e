/**
 * Why a trace could not be taken. A command that runs and fails is not one of these: its exit status
 * and signal are data in the report.
 */
export type TraceErrorCode =
  /** No strace binary where it was looked for. */
  | 'TRACE_STRACE_MISSING'
  /** strace is there but may not ptrace here (no CAP_SYS_PTRACE, Yama, a container's seccomp profile). */
  | 'TRACE_PTRACE_DENIED'
  /** The command does not exist (on PATH, or inside the root). */
  | 'TRACE_COMMAND_NOT_FOUND'
  /** The root is missing, not a directory, or chroot into it was refused. */
  | 'TRACE_BAD_ROOT'
  /** Anything else that kept the command from being traced: it cannot be executed, strace failed, ... */
  | 'TRACE_FAILED';

export class TraceError extends Error {
  override readonly name = 'TraceError';
  constructor(
    readonly code: TraceErrorCode,
    message: string,
    options?: { cause?: unknown },
  ) {
    super(message, options);
  }
}
