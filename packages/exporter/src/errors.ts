/** Why an export was refused or stopped. Nothing is left half-written when one of these is thrown. */
export type ExportErrorCode =
  /** --path exists and is not empty, and --force was not given. */
  | 'EXPORT_OUTPUT_NOT_EMPTY'
  /** --path is unusable: a file, inside the root it exports from, or its parent cannot be written. */
  | 'EXPORT_BAD_OUTPUT'
  /** --root is missing or not a directory. */
  | 'EXPORT_BAD_ROOT'
  /** A --binary, the command, or an --include names something that does not exist. */
  | 'EXPORT_NOT_FOUND'
  /** An --include or --exclude pattern reaches outside the root. */
  | 'EXPORT_PATH_ESCAPES_ROOT'
  /** The check command exited non-zero or died of a signal: an export of a failing run proves nothing. */
  | 'EXPORT_COMMAND_FAILED'
  /**
   * Service mode: the traced server exited before it was ready, was not ready in time, failed a
   * probe, or did not stop on its stop signal (its whole process tree was killed).
   */
  | 'EXPORT_SERVICE_FAILED'
  /** The check command ran past --timeout (its whole process tree was killed). */
  | 'EXPORT_TIMEOUT'
  /** Tracing is impossible here (no strace, ptrace not permitted). */
  | 'EXPORT_TRACE_UNAVAILABLE'
  /** A file the export needs has a name that is not UTF-8, which dit cannot copy as it is. */
  | 'EXPORT_NAME_NOT_UTF8'
  /**
   * A program the user named (the command, a --binary) or a library of one needs a library the
   * loader would not find, or the loader would refuse to start it: the export could not run.
   */
  | 'EXPORT_LIBRARY_MISSING'
  /** Copying failed part-way (disk full, permissions); the partial copy was removed. */
  | 'EXPORT_WRITE_FAILED';

export class ExportError extends Error {
  override readonly name = 'ExportError';
  constructor(
    readonly code: ExportErrorCode,
    message: string,
    options?: { cause?: unknown },
  ) {
    super(message, options);
  }
}
