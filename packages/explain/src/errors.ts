export type ExplainErrorCode =
  /** The report cannot be read, is not JSON, or is not a report of `dit export`. */
  'EXPLAIN_BAD_REPORT';

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
