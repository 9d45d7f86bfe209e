import { FileError } from '@dit/elf';

/** Errors about the input itself (as opposed to what the loader would find, which is data). */
export type ResolveErrorCode =
  /** The file to resolve could not be read as ELF: missing, not ELF, truncated, a symlink loop. */
  | 'RESOLVE_BAD_INPUT'
  /** The root does not exist or is not a directory; or the RootFs given reads another root. */
  | 'RESOLVE_BAD_ROOT';

/** `code`, `path`, `problem` and the message `path: problem`, as every error about one file has them. */
export class ResolveError extends FileError<ResolveErrorCode> {
  override readonly name = 'ResolveError';
}
