/** The parts of an ELF file that decide how, and whether, a loader loads it. */

/** `e_ident` and the fixed header fields, as raw numbers: the resolver judges them like the loader does. */
export interface ElfHeader {
  /** EI_CLASS as a word size. */
  readonly class: 32 | 64;
  /** EI_DATA. */
  readonly byteOrder: 'little' | 'big';
  /** EI_VERSION (must be 1). */
  readonly identVersion: number;
  /** EI_OSABI: 0 SYSV, 3 GNU/Linux, ... */
  readonly osabi: number;
  /** EI_ABIVERSION. */
  readonly abiVersion: number;
  /** Whether bytes 9-15 of e_ident are all zero (glibc refuses files where they are not). */
  readonly identPaddingIsZero: boolean;
  /** e_type: 1 REL, 2 EXEC, 3 DYN, 4 CORE. */
  readonly type: number;
  /** e_machine: 62 x86-64, 3 i386, 183 AArch64, ... */
  readonly machine: number;
  /** e_version (must be 1). */
  readonly version: number;
  /** e_flags (ABI bits on ARM, MIPS, RISC-V, ppc64). */
  readonly flags: number;
  readonly phoff: number;
  readonly phentsize: number;
  readonly phnum: number;
}

export interface ProgramHeader {
  /** p_type: 1 LOAD, 2 DYNAMIC, 3 INTERP, ... */
  readonly type: number;
  readonly offset: number;
  readonly vaddr: number;
  readonly filesz: number;
  readonly memsz: number;
}

/** One dependency entry, in dynamic-section order (the loader queues them in this order). */
export interface DynamicDependency {
  readonly kind: 'needed' | 'filter' | 'auxiliary';
  readonly name: string;
}

export interface DynamicSection {
  /** DT_NEEDED names in order. */
  readonly needed: readonly string[];
  /** DT_NEEDED, DT_FILTER and DT_AUXILIARY together, in dynamic-section order. */
  readonly dependencies: readonly DynamicDependency[];
  readonly soname: string | null;
  /** DT_RPATH as written (the last one counts when repeated, as in glibc). */
  readonly rpath: string | null;
  /** DT_RUNPATH as written. */
  readonly runpath: string | null;
  /** DT_FLAGS. */
  readonly flags: number;
  /** DT_FLAGS_1 (NODEFLIB 0x800, PIE 0x08000000, ...). */
  readonly flags1: number;
}

export type ElfKind =
  /** ET_EXEC without PT_INTERP or PT_DYNAMIC. */
  | 'static'
  /** ET_DYN with DF_1_PIE and no PT_INTERP: relocates itself, loads nothing. */
  | 'static-pie'
  /** ET_DYN with DF_1_PIE and PT_INTERP. */
  | 'pie'
  /** ET_EXEC with PT_INTERP. */
  | 'executable'
  /** ET_DYN without DF_1_PIE (some, like libc.so.6, also have PT_INTERP). */
  | 'shared-library'
  /** ET_REL: object files and kernel modules. */
  | 'relocatable'
  | 'other';

export interface ElfFile {
  readonly path: string;
  /** File size in bytes. */
  readonly size: number;
  readonly header: ElfHeader;
  readonly kind: ElfKind;
  /** PT_INTERP, the path the kernel opens as the program's loader; null when absent. */
  readonly interpreter: string | null;
  /** The decoded PT_DYNAMIC segment; null when the file has none. */
  readonly dynamic: DynamicSection | null;
}
