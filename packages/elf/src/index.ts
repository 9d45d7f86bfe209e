/**
 * @dit/elf: the parts of an ELF file that dynamic loaders read (header, PT_INTERP, the dynamic
 * section), read with a few small reads so that a 100 MB library costs a few kilobytes of I/O.
 */
export { DF_1, DT, EM, ET, PT } from './constants.js';
export { ElfError, type ElfErrorCode, FileError } from './errors.js';
export { isElfMagic, parseElf, readElfHeaderSync, readElfSync } from './read.js';
export type {
  ByteString,
  DynamicDependency,
  DynamicSection,
  ElfFile,
  ElfHeader,
  ElfKind,
  ProgramHeader,
  UnreadableString,
} from './types.js';
