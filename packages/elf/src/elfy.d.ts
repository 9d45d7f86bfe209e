// elfy 1.0.0 ships no types; these cover what @dit/elf calls: the header and program-header
// decoders and the name tables they use. Numbers are what elfy returns: an ELF64 word is computed as
// lo + hi * 2^32 in a double, so it is exact only up to Number.MAX_SAFE_INTEGER (see header.ts).
declare module 'elfy' {
  export interface ElfyHeader {
    class: '32' | '64';
    endian: 'lsb' | 'msb';
    /** e_type's name in `constants.type`; undefined for a number elfy has no name for. */
    type: string | undefined;
    /** e_machine's name in `constants.machine`; undefined for a number elfy has no name for. */
    machine: string | undefined;
    /** e_version (the key is written twice in elfy; the second, e_version, wins). */
    version: number;
    entry: number;
    phoff: number;
    shoff: number;
    flags: number;
    ehsize: number;
    phentsize: number;
    phnum: number;
    shentsize: number;
    shnum: number;
    shstrndx: number;
  }
  export interface ElfyProgram {
    /** p_type's name in `constants.entryType`; undefined for a number elfy has no name for. */
    type: string | undefined;
    offset: number;
    vaddr: number;
    paddr: number;
    filesz: number;
    memsz: number;
    align: number;
    flags: Record<string, true>;
    /** The segment's bytes, sliced from the buffer given to parsePrograms (clamped to it). */
    data: Buffer;
  }
  export class Parser {
    /** Decodes the file header from the start of `buf` (at least 52 or 64 bytes). */
    parseHeader(buf: Buffer): ElfyHeader;
    /** Decodes `header.phnum` entries at `header.phoff` of `buf`; none when phoff or phnum is 0. */
    parsePrograms(buf: Buffer, header: ElfyHeader): ElfyProgram[];
  }
  const elfy: {
    Parser: typeof Parser;
    constants: {
      type: Record<number, string>;
      machine: Record<number, string>;
      entryType: Record<number, string>;
    };
  };
  export default elfy;
}
