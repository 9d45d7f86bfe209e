export type ExplainErrorCode =
  /** The report cannot be read, is not JSON, or is not a report of `dit export`. */
  | 'EXPLAIN_BAD_REPORT'
  /** `--path DIR` is not a folder, or not an export that carries dit's record (explain-record.ts in @dit/exporter). */
  | 'EXPLAIN_NOT_AN_EXPORT';

export class ExplainError extends Error {
  override readonly name = 'ExplainError';
  constructor(
    readonly code: ExplainErrorCode,
    message: string,
    options?: { cause?: unknown },
  ) {
    super(message, options);
  }
}
