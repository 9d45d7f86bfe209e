/// <reference path="./elfy.d.ts" />
import elfy, { type ElfyHeader } from 'elfy';
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

/*
 * elfy decodes the file header and the program header table: every field below except e_ident comes
 * from its parser. It is given only those bytes (a few hundred, from the source's first read), never
 * the file, and what it cannot represent exactly is read again here from the same bytes:
 *
 * - ELF64 words (e_phoff, p_offset, p_vaddr, p_filesz, p_memsz): elfy computes lo + hi * 2^32 in a
 *   double. That is exact while the word is at most Number.MAX_SAFE_INTEGER; above it, rounding is
 *   monotonic and 2^53 is a double, so elfy's result is at least 2^53, never a safe integer. So
 *   `Number.isSafeInteger` picks out exactly the words to read again, as bigint.
 * - e_type, e_machine, p_type: elfy returns names from one-to-one tables, which map back to the
 *   numbers; a number elfy has no name for (undefined) is read again.
 * - e_ident is checked and read here first: elfy reads OSABI and the ABI version from the wrong bytes
 *   (6 and 7), and throws plain Errors where dit owes a typed ElfError.
 */

/** Number for each name in one of elfy's tables; a name given to two numbers would be left out. */
function numbersByName(table: Record<number, string>): ReadonlyMap<string, number> {
  const numbers = new Map<string, number>();
  const shared = new Set<string>();
  for (const [number, name] of Object.entries(table)) {
    if (numbers.has(name)) shared.add(name);
    numbers.set(name, Number(number));
  }
  for (const name of shared) numbers.delete(name);
  return numbers;
}
const E_TYPE = numbersByName(elfy.constants.type);
const E_MACHINE = numbersByName(elfy.constants.machine);
const P_TYPE = numbersByName(elfy.constants.entryType);

/** Where the words dit keeps sit in a program header (ELF64 moves p_flags up and widens the words). */
const PHDR_WORD_AT = {
  32: { offset: 4, vaddr: 8, filesz: 16, memsz: 20 },
  64: { offset: 8, vaddr: 16, filesz: 32, memsz: 40 },
} as const;
const EHDR_PHOFF_AT = { 32: 28, 64: 32 } as const;

/**
 * Where elfy is shown the program header table: after a gap, because elfy reads the table at
 * e_phoff of its buffer and takes e_phoff 0 for "no table".
 */
const TABLE_AT = 8;

/**
 * Reads and checks e_ident and the file header. Only what makes the file undecodable is an error
 * here (no magic, unknown class or byte order, too short); fields a loader would refuse (OSABI,
 * version, padding) are returned for the caller to judge, because loaders differ in what they refuse.
 * Offsets and addresses are bigint: an ELF64 field holds 64 bits, more than a number keeps.
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
  const parser = new elfy.Parser();
  const decoded = parser.parseHeader(asBuffer(raw));
  const exact = new ExactFields(raw, byteOrder === 'little', elfClass === 64);
  const header: ElfHeader = {
    class: elfClass,
    byteOrder,
    identVersion: ident[6]!,
    osabi: ident[7]!,
    abiVersion: ident[8]!,
    identPaddingIsZero: ident.subarray(9, 16).every((byte) => byte === 0),
    type: exact.numbered(decoded.type, E_TYPE, 16, 2),
    machine: exact.numbered(decoded.machine, E_MACHINE, 18, 2),
    version: decoded.version,
    phoff: exact.word(decoded.phoff, EHDR_PHOFF_AT[elfClass]),
    flags: decoded.flags,
    phentsize: decoded.phentsize,
    phnum: decoded.phnum,
  };
  return { header, programs: readProgramHeaders(source, header, parser, decoded) };
}

/** The program header table: p_type and the four words the loaders use, decoded by elfy, each exact. */
function readProgramHeaders(
  source: ByteSource,
  header: ElfHeader,
  parser: InstanceType<typeof elfy.Parser>,
  decodedHeader: ElfyHeader,
): ProgramHeader[] {
  if (header.phnum === 0 || header.phoff === 0n) return [];
  const size = PHDR_SIZE[header.class];
  if (header.phentsize !== size) {
    throw new ElfError(
      'ELF_CORRUPT',
      source.path,
      `program header entry size is ${header.phentsize}, expected ${size} for ELF${header.class}`,
    );
  }
  const table = source.read(header.phoff, header.phnum * size, 'the program header table');
  // Shown to elfy behind TABLE_AT bytes elfy never reads (so not zero-filled: a pooled buffer).
  const shown = Buffer.allocUnsafe(TABLE_AT + table.length);
  shown.set(table, TABLE_AT);
  const decoded = parser.parsePrograms(shown, { ...decodedHeader, phoff: TABLE_AT });
  const exact = new ExactFields(table, header.byteOrder === 'little', header.class === 64);
  const at = PHDR_WORD_AT[header.class];
  return decoded.map((program, index) => {
    const entry = index * size;
    return {
      type: exact.numbered(program.type, P_TYPE, entry, 4),
      offset: exact.word(program.offset, entry + at.offset),
      vaddr: exact.word(program.vaddr, entry + at.vaddr),
      filesz: exact.word(program.filesz, entry + at.filesz),
      memsz: exact.word(program.memsz, entry + at.memsz),
    };
  });
}

/** elfy reads through Buffer methods: the same bytes, viewed as a Buffer (no copy). */
function asBuffer(bytes: Uint8Array): Buffer {
  return Buffer.isBuffer(bytes) ? bytes : Buffer.from(bytes.buffer, bytes.byteOffset, bytes.byteLength);
}

/**
 * Exact fields of a table (the header, or the whole program header table) in the file's byte order,
 * for the values elfy rounds or cannot name. Its DataView is made on first use: most files need none.
 */
class ExactFields {
  private view: DataView | undefined;
  constructor(
    private readonly bytes: Uint8Array,
    private readonly little: boolean,
    private readonly wide: boolean,
  ) {}
  private get fields(): DataView {
    this.view ??= new DataView(this.bytes.buffer, this.bytes.byteOffset, this.bytes.byteLength);
    return this.view;
  }
  /** The number behind one of elfy's names; the field read again when elfy has no name for it. */
  numbered(name: string | undefined, numbers: ReadonlyMap<string, number>, at: number, width: 2 | 4): number {
    const number = name === undefined ? undefined : numbers.get(name);
    if (number !== undefined) return number;
    return width === 2 ? this.fields.getUint16(at, this.little) : this.fields.getUint32(at, this.little);
  }
  /**
   * An address-sized word: elfy's value when it is exact (a safe integer), else the word read
   * again. Only an ELF64 word can be unsafe; an ELF32 one always comes back from elfy as it is.
   */
  word(decoded: number, at: number): bigint {
    if (Number.isSafeInteger(decoded)) return BigInt(decoded);
    return this.wide
      ? this.fields.getBigUint64(at, this.little)
      : BigInt(this.fields.getUint32(at, this.little));
  }
}
