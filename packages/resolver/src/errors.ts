/** Errors about the input itself (as opposed to what the loader would find, which is data). */
export type ResolveErrorCode =
  /** The file to resolve could not be read as ELF: missing, not ELF, truncated, a symlink loop. */
  | 'RESOLVE_BAD_INPUT'
  /** The root does not exist or is not a directory; or the RootFs given reads another root. */
  | 'RESOLVE_BAD_ROOT';

export class ResolveError extends Error {
  override readonly name = 'ResolveError';
  constructor(
    readonly code: ResolveErrorCode,
    readonly path: string,
    readonly problem: string,
    options?: { cause?: unknown },
  ) {
    super(`${path}: ${problem}`, options);
  }
}
