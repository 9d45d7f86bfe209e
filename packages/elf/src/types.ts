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
  /** e_phoff, exact (64 bits in ELF64). */
  readonly phoff: bigint;
  readonly phentsize: number;
  readonly phnum: number;
}

/** The fields of a program header the loaders use, exact (64 bits in ELF64: bigint, never rounded). */
export interface ProgramHeader {
  /** p_type: 1 LOAD, 2 DYNAMIC, 3 INTERP, ... */
  readonly type: number;
  readonly offset: bigint;
  readonly vaddr: bigint;
  readonly filesz: bigint;
  readonly memsz: bigint;
}

/**
 * A string from the file (a DT_NEEDED name, an RPATH): text when its bytes are UTF-8 (nearly
 * always), else the bytes themselves, because the loader opens exactly those bytes.
 */
export type ByteString = string | Buffer;

/** One dependency entry, in dynamic-section order (the loader queues them in this order). */
export interface DynamicDependency<S = ByteString> {
  readonly kind: 'needed' | 'filter' | 'auxiliary';
  /** The name; empty when it is {@link DynamicDependency.unreadable}. */
  readonly name: S;
  /** Set when the name cannot be read where the loader reads it (see {@link UnreadableString}). */
  readonly unreadable?: UnreadableString;
}

/**
 * A string the loader would read from memory that the file does not give: its address lies where
 * no PT_LOAD maps anything (or maps bytes past the end of the file), or there is no DT_STRTAB to
 * add the offset to. ld.so then crashes, or reads whatever else happens to be mapped there, which a
 * static reader cannot know. It reads such a string only when it uses it (a SONAME on a later name
 * lookup, an RPATH when a search reaches it), so the reader reports it as data, not as an error:
 * the resolver decides, at the moment the loader would read it (docs/loader.md §2).
 */
export interface UnreadableString {
  readonly problem: string;
  /**
   * true: the bytes are in memory the file does not map (a crash or unknowable contents); false:
   * mapped, but no NUL within MAX_STRING bytes (no path that long can be opened).
   */
  readonly unmapped: boolean;
}

export interface DynamicSection<S = ByteString> {
  /** DT_NEEDED names in order. */
  readonly needed: readonly S[];
  /** DT_NEEDED, DT_FILTER and DT_AUXILIARY together, in dynamic-section order. */
  readonly dependencies: readonly DynamicDependency<S>[];
  readonly soname: S | null;
  /** DT_RPATH as written (the last one counts when repeated, as in glibc). */
  readonly rpath: S | null;
  /** DT_RUNPATH as written. */
  readonly runpath: S | null;
  /** DT_FLAGS. */
  readonly flags: number;
  /** DT_FLAGS_1 (NODEFLIB 0x800, PIE 0x08000000, ...). */
  readonly flags1: number;
  /**
   * Whether PT_DYNAMIC's p_filesz is non-zero. The entries themselves are read where the loaders
   * read them, at p_vaddr in the mapped image, whatever p_filesz says; but glibc refuses to load a
   * library whose p_filesz is 0 ("object file has no dynamic section"), as objcopy's debug-only
   * files have.
   */
  readonly segmentHasFileData: boolean;
  /** PT_DYNAMIC's p_vaddr, where the entries are read (glibc takes 0 as no dynamic section). */
  readonly address: bigint;
  /** DT_SONAME, DT_RPATH or DT_RUNPATH entries whose string cannot be read (the field is then null). */
  readonly unreadable: Readonly<Partial<Record<'soname' | 'rpath' | 'runpath', UnreadableString>>>;
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

export interface ElfFile<S = ByteString> {
  readonly path: string;
  /** File size in bytes. */
  readonly size: number;
  readonly header: ElfHeader;
  readonly kind: ElfKind;
  /** PT_INTERP, the path the kernel opens as the program's loader; null when absent. */
  readonly interpreter: string | null;
  /** The PT_LOAD program headers, in file order: what a loader maps. */
  readonly loads: readonly ProgramHeader[];
  /** Why PT_INTERP cannot serve (empty, past the end of the file); `interpreter` is then ''. */
  readonly interpreterProblem: string | null;
  /** The decoded PT_DYNAMIC segment; null when the file has none. */
  readonly dynamic: DynamicSection<S> | null;
}
