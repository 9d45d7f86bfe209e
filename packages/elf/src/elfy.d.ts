// elfy ships no types; these cover the two parser methods we use.
declare module 'elfy' {
  export interface ElfyHeader {
    class: '32' | '64';
    endian: 'lsb' | 'msb';
    phoff: number;
    phentsize: number;
    phnum: number;
    flags: number;
    [key: string]: unknown;
  }
  interface ElfyProgram {
    type: string | undefined;
    offset: number;
    vaddr: number;
    filesz: number;
    memsz: number;
  }
  class Parser {
    parseHeader(buf: Uint8Array): ElfyHeader;
    parsePrograms(buf: Uint8Array, header: ElfyHeader): ElfyProgram[];
  }
  const elfy: { Parser: typeof Parser; constants: { entryType: Record<number, string> } };
  export default elfy;
}
