/** Numeric constants of the ELF format that the loaders look at (docs/loader.md §2). */

export const ELF_MAGIC = [0x7f, 0x45, 0x4c, 0x46] as const;

/** Size of the file header: the loader calls anything shorter "file too short". */
export const EHDR_SIZE = { 32: 52, 64: 64 } as const;
export const PHDR_SIZE = { 32: 32, 64: 56 } as const;
export const DYN_SIZE = { 32: 8, 64: 16 } as const;

export const ELFCLASS32 = 1;
export const ELFCLASS64 = 2;
export const ELFDATA2LSB = 1;
export const ELFDATA2MSB = 2;

export const ET = { REL: 1, EXEC: 2, DYN: 3, CORE: 4 } as const;

export const EM = {
  I386: 3,
  PPC: 20,
  PPC64: 21,
  S390: 22,
  ARM: 40,
  SPARCV9: 43,
  X86_64: 62,
  AARCH64: 183,
  RISCV: 243,
  LOONGARCH: 258,
} as const;

export const PT = { LOAD: 1, DYNAMIC: 2, INTERP: 3 } as const;

export const DT = {
  NULL: 0,
  NEEDED: 1,
  STRTAB: 5,
  STRSZ: 10,
  SONAME: 14,
  RPATH: 15,
  FLAGS: 30,
  RUNPATH: 29,
  FLAGS_1: 0x6ffffffb,
  AUXILIARY: 0x7ffffffd,
  FILTER: 0x7fffffff,
} as const;

export const DF_1 = { NOOPEN: 0x40, NODEFLIB: 0x800, PIE: 0x08000000 } as const;

/** Upper bound for one string from DT_STRTAB: longer than PATH_MAX is garbage, not a library name. */
export const MAX_STRING = 4096;
