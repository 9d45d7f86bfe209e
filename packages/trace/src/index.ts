/**
 * @dit/trace: run a command under `strace -f` and report every path it executed, opened, stat'ed,
 * checked, read a link of, listed or connected to, per process, with failed lookups kept (they are
 * the search order made visible). See README.md for what ptrace cannot see.
 */
export { TraceError, type TraceErrorCode } from './errors.js';
export { childOf } from './kill.js';
export { OVERLAY_ROOT_FUNCTION } from './overlay.js';
export { type ParsedTrace, type ParseOptions, parseStraceLog, StraceLogParser } from './parse.js';
export { type ChildOutput, childOutput, OutputPipe } from './pipes.js';
export { RUNTIME_MOUNTS_FUNCTION } from './runtime-mounts.js';
export { commandChildOf, MainProcess, type ServiceHandle, type Supervisor } from './service.js';
export { isVirtualPath, summarizePaths } from './summary.js';
export { straceArguments, TRACED_SYSCALLS, trace } from './trace.js';
export type {
  AccessKind,
  ExecRecord,
  ListeningSocket,
  PathAccess,
  PathSummary,
  TracedProcess,
  TraceOptions,
  TraceReport,
} from './types.js';
