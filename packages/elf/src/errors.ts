/**
 * Why an ELF file could not be read. `code` is stable (tools branch on it); the message names the
 * file and the problem in words a person can act on.
 */
export type ElfErrorCode =
  /** Not an ELF file at all (no `\x7fELF` magic): a script, a text file, a linker script. */
  | 'ELF_NOT_ELF'
  /** The file ends before a structure the headers say is there. */
  | 'ELF_TRUNCATED'
  /** A header field points somewhere impossible (an offset outside the file, an address no segment maps). */
  | 'ELF_CORRUPT'
  /**
   * The loader would read the dynamic section from memory the file does not map (no PT_LOAD there,
   * or a mapping past the end of the file): it crashes, or reads whatever else is mapped there,
   * which no static reader can know (docs/loader.md §2).
   */
  | 'ELF_UNMAPPED'
  /** A valid ELF file of a kind we do not decode (unknown class or byte order). */
  | 'ELF_UNSUPPORTED'
  /** The file could not be opened or read (missing, a directory, permissions, a symlink loop). */
  | 'ELF_IO';

/**
 * An error about one file: a stable `code`, the file's `path`, and the `problem` in words; the message
 * is `path: problem`. ElfError here and @dit/resolver's ResolveError are its kinds.
 */
export class FileError<Code extends string> extends Error {
  constructor(
    readonly code: Code,
    readonly path: string,
    readonly problem: string,
    options?: { cause?: unknown },
  ) {
    super(`${path}: ${problem}`, options);
  }
}

export class ElfError extends FileError<ElfErrorCode> {
  override readonly name = 'ElfError';
}
