import {
  EHDR_SIZE,
  ELF_MAGIC,
  ELFCLASS32,
  ELFCLASS64,
  ELFDATA2LSB,
  ELFDATA2MSB,
  PHDR_SIZE,
} from './constants.js';
import { ElfError } from './errors.js';
import type { ByteSource } from './source.js';
import type { ElfHeader, ProgramHeader } from './types.js';

/**
 * Reads and checks e_ident and the file header. Only what makes the file undecodable is an error
 * here (no magic, unknown class or byte order, too short); fields a loader would refuse (OSABI,
 * version, padding) are returned for the caller to judge, because loaders differ in what they refuse.
 * Offsets and addresses are read as bigint: an ELF64 field holds 64 bits, more than a number keeps.
 */
export function readHeaders(source: ByteSource): { header: ElfHeader; programs: ProgramHeader[] } {
  const ident = source.readUpTo(0, 16);
  if (ident.length < 4 || ELF_MAGIC.some((byte, i) => ident[i] !== byte)) {
    throw new ElfError('ELF_NOT_ELF', source.path, 'not an ELF file (no \\x7fELF magic at the start)');
  }
  if (ident.length < 16) {
    throw new ElfError(
      'ELF_TRUNCATED',
      source.path,
      `file too short for an ELF header (${source.size} bytes)`,
    );
  }
  const elfClass = ident[4] === ELFCLASS32 ? 32 : ident[4] === ELFCLASS64 ? 64 : null;
  if (elfClass === null) {
    throw new ElfError('ELF_UNSUPPORTED', source.path, `unknown ELF class ${ident[4]} (expected 1 or 2)`);
  }
  const byteOrder = ident[5] === ELFDATA2LSB ? 'little' : ident[5] === ELFDATA2MSB ? 'big' : null;
  if (byteOrder === null) {
    throw new ElfError(
      'ELF_UNSUPPORTED',
      source.path,
      `unknown ELF byte order ${ident[5]} (expected 1 or 2)`,
    );
  }
  const raw = source.read(0, EHDR_SIZE[elfClass], 'the ELF file header');
  const fields = new Fields(raw, byteOrder === 'little', elfClass === 64);
  // e_phoff and the fields after it sit 12 bytes further on in ELF64 (e_entry and e_phoff are wider).
  const header: ElfHeader = {
    class: elfClass,
    byteOrder,
    identVersion: ident[6]!,
    osabi: ident[7]!,
    abiVersion: ident[8]!,
    identPaddingIsZero: ident.subarray(9, 16).every((byte) => byte === 0),
    type: fields.u16(16),
    machine: fields.u16(18),
    version: fields.u32(20),
    phoff: fields.word(elfClass === 64 ? 32 : 28),
    flags: fields.u32(elfClass === 64 ? 48 : 36),
    phentsize: fields.u16(elfClass === 64 ? 54 : 42),
    phnum: fields.u16(elfClass === 64 ? 56 : 44),
  };
  return { header, programs: readProgramHeaders(source, header) };
}

/** Fixed-width fields of one table entry, in the file's byte order; `word` is ELF's address size. */
class Fields {
  private readonly view: DataView;
  constructor(
    bytes: Uint8Array,
    private readonly little: boolean,
    private readonly wide: boolean,
  ) {
    this.view = new DataView(bytes.buffer, bytes.byteOffset, bytes.byteLength);
  }
  u16(at: number): number {
    return this.view.getUint16(at, this.little);
  }
  u32(at: number): number {
    return this.view.getUint32(at, this.little);
  }
  word(at: number): bigint {
    return this.wide ? this.view.getBigUint64(at, this.little) : BigInt(this.view.getUint32(at, this.little));
  }
}

/** The program header table: p_type and the four fields the loaders use, each exact. */
function readProgramHeaders(source: ByteSource, header: ElfHeader): ProgramHeader[] {
  if (header.phnum === 0 || header.phoff === 0n) return [];
  const expected = PHDR_SIZE[header.class];
  if (header.phentsize !== expected) {
    throw new ElfError(
      'ELF_CORRUPT',
      source.path,
      `program header entry size is ${header.phentsize}, expected ${expected} for ELF${header.class}`,
    );
  }
  const table = source.read(header.phoff, header.phnum * expected, 'the program header table');
  const wide = header.class === 64;
  const programs: ProgramHeader[] = [];
  for (let index = 0; index < header.phnum; index++) {
    const entry = new Fields(
      table.subarray(index * expected, (index + 1) * expected),
      header.byteOrder === 'little',
      wide,
    );
    // ELF64 puts p_flags second; ELF32 puts it after p_memsz.
    programs.push(
      wide
        ? {
            type: entry.u32(0),
            offset: entry.word(8),
            vaddr: entry.word(16),
            filesz: entry.word(32),
            memsz: entry.word(40),
          }
        : {
            type: entry.u32(0),
            offset: entry.word(4),
            vaddr: entry.word(8),
            filesz: entry.word(16),
            memsz: entry.word(20),
          },
    );
  }
  return programs;
}
