/// <reference path="./elfy.d.ts" />
import elfy, { type ElfyHeader } from 'elfy';
import { EHDR_SIZE, ELF_MAGIC, ELFCLASS32, ELFCLASS64, ELFDATA2LSB, ELFDATA2MSB } from './constants.js';
import { ElfError } from './errors.js';
import type { ByteSource } from './source.js';
import type { ElfHeader, ProgramHeader } from './types.js';

/** p_type numbers for elfy's names (elfy hands back names, we keep numbers). */
const PROGRAM_TYPE_NUMBER = new Map<string, number>(
  Object.entries(elfy.constants.entryType).map(([number, name]) => [name, Number(number)]),
);

/**
 * Reads and checks e_ident and the file header. Only what makes the file undecodable is an error
 * here (no magic, unknown class or byte order, too short); fields a loader would refuse (OSABI,
 * version, padding) are returned for the caller to judge, because loaders differ in what they refuse.
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
  // elfy decodes the header's geometry; it mislabels the e_ident bytes (OSABI is byte 7), which we
  // read ourselves, and names the numeric fields, which we also read ourselves as numbers.
  const parser = new elfy.Parser();
  const geometry = parser.parseHeader(Buffer.from(raw.buffer, raw.byteOffset, raw.byteLength));
  const view = new DataView(raw.buffer, raw.byteOffset, raw.byteLength);
  const little = byteOrder === 'little';
  const header: ElfHeader = {
    class: elfClass,
    byteOrder,
    identVersion: ident[6]!,
    osabi: ident[7]!,
    abiVersion: ident[8]!,
    identPaddingIsZero: ident.subarray(9, 16).every((byte) => byte === 0),
    type: view.getUint16(16, little),
    machine: view.getUint16(18, little),
    version: view.getUint32(20, little),
    flags: geometry.flags,
    phoff: geometry.phoff,
    phentsize: geometry.phentsize,
    phnum: geometry.phnum,
  };
  return { header, programs: readProgramHeaders(source, header, parser, geometry) };
}

/** Program headers, decoded by elfy from just the bytes of the table (elfy wants the whole file otherwise). */
function readProgramHeaders(
  source: ByteSource,
  header: ElfHeader,
  parser: InstanceType<typeof elfy.Parser>,
  geometry: ElfyHeader,
): ProgramHeader[] {
  if (header.phnum === 0 || header.phoff === 0) return [];
  const expected = header.class === 64 ? 56 : 32;
  if (header.phentsize !== expected) {
    throw new ElfError(
      'ELF_CORRUPT',
      source.path,
      `program header entry size is ${header.phentsize}, expected ${expected} for ELF${header.class}`,
    );
  }
  const table = source.read(header.phoff, header.phnum * header.phentsize, 'the program header table');
  // elfy reads the table at `phoff` of the buffer it is given and treats phoff 0 as "no table", so
  // we hand it the table behind a small gap instead of the whole file.
  const GAP = 8;
  const padded = Buffer.alloc(GAP + table.length); // elfy reads through Buffer methods
  padded.set(table, GAP);
  return parser.parsePrograms(padded, { ...geometry, phoff: GAP }).map((program, index) => {
    for (const field of ['offset', 'vaddr', 'filesz', 'memsz'] as const) {
      if (!Number.isSafeInteger(program[field])) {
        throw new ElfError('ELF_CORRUPT', source.path, `program header ${index} has an impossible ${field}`);
      }
    }
    return {
      type: program.type === undefined ? -1 : (PROGRAM_TYPE_NUMBER.get(program.type) ?? -1),
      offset: program.offset,
      vaddr: program.vaddr,
      filesz: program.filesz,
      memsz: program.memsz,
    };
  });
}
