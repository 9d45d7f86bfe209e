export type ProvenanceErrorCode =
  /** The root has a dpkg database, but a file of it cannot be read (permissions, an I/O error). */
  'PROVENANCE_UNREADABLE';

export class ProvenanceError extends Error {
  override readonly name = 'ProvenanceError';
  constructor(
    readonly code: ProvenanceErrorCode,
    message: string,
    options?: { cause?: unknown },
  ) {
    super(message, options);
  }
}
