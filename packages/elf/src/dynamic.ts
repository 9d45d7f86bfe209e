import { isUtf8 } from 'node:buffer';
import { DT, DYN_SIZE, MAX_STRING, PT } from './constants.js';
import { ElfError } from './errors.js';
import type { ByteSource } from './source.js';
import type { ByteString, DynamicDependency, DynamicSection, ElfHeader, ProgramHeader } from './types.js';

/** Most dynamic sections hold a few dozen entries; thousands mean garbage (and a slow read). */
const MAX_DYNAMIC_ENTRIES = 1 << 16;
/** Entries are read this many at a time until DT_NULL: one read for nearly every file. */
const ENTRIES_PER_READ = 64;

/**
 * Decodes PT_DYNAMIC where the loaders read it: at its p_vaddr in the mapped image (glibc's l_ld,
 * musl's dynv), entry after entry until DT_NULL. The bytes come from the PT_LOAD segment that maps
 * that address: its file-backed part, and past that zeros (the kernel and ld.so zero the rest of a
 * segment), which read as DT_NULL. PT_DYNAMIC's own p_offset, p_filesz and p_memsz bound nothing the
 * loaders read; only a p_filesz of 0 matters, to glibc (`segmentHasFileData`).
 *
 * DT_STRTAB is a virtual address too, mapped the same way, because section headers may be stripped.
 * Only the strings we need are read.
 */
export function readDynamic(
  source: ByteSource,
  header: ElfHeader,
  programs: readonly ProgramHeader[],
): DynamicSection | null {
  const segment = programs.find((program) => program.type === PT.DYNAMIC);
  if (segment === undefined) return null;
  const entries = readEntries(source, header, programs, segment.vaddr);

  // Offsets of strings in DT_STRTAB, collected first because DT_STRTAB may come after DT_NEEDED.
  const dependencyOffsets: { kind: DynamicDependency['kind']; offset: bigint }[] = [];
  let soname: bigint | null = null;
  let rpath: bigint | null = null;
  let runpath: bigint | null = null;
  let strtab: bigint | null = null;
  let strsz: bigint | null = null;
  let flags = 0;
  let flags1 = 0;

  for (const { tag, value } of entries) {
    switch (tag) {
      case DT.NEEDED:
        dependencyOffsets.push({ kind: 'needed', offset: value });
        break;
      case DT.FILTER:
        dependencyOffsets.push({ kind: 'filter', offset: value });
        break;
      case DT.AUXILIARY:
        dependencyOffsets.push({ kind: 'auxiliary', offset: value });
        break;
      case DT.SONAME:
        soname = value;
        break;
      // glibc keeps the last of a repeated tag (it fills l_info[tag] in order).
      case DT.RPATH:
        rpath = value;
        break;
      case DT.RUNPATH:
        runpath = value;
        break;
      case DT.STRTAB:
        strtab = value;
        break;
      case DT.STRSZ:
        strsz = value;
        break;
      // The flag bits the loaders test all sit in the low 32 bits.
      case DT.FLAGS:
        flags = Number(BigInt.asUintN(32, value));
        break;
      case DT.FLAGS_1:
        flags1 = Number(BigInt.asUintN(32, value));
        break;
    }
  }

  const needsStrings = dependencyOffsets.length > 0 || soname !== null || rpath !== null || runpath !== null;
  let readString = (_offset: bigint, _what: string): ByteString => '';
  if (needsStrings) {
    if (strtab === null) {
      throw new ElfError(
        'ELF_CORRUPT',
        source.path,
        'the dynamic section names strings but has no DT_STRTAB',
      );
    }
    const strtabOffset = addressToOffset(source, programs, strtab);
    const tableSize = strsz ?? BigInt(source.size) - strtabOffset;
    readString = (offset, what) => readTableString(source, strtabOffset, tableSize, offset, what);
  }

  const dependencies = dependencyOffsets.map(({ kind, offset }) => ({
    kind,
    name: readString(offset, `DT_${kind.toUpperCase()} string`),
  }));
  return {
    needed: dependencies.filter((dependency) => dependency.kind === 'needed').map((d) => d.name),
    dependencies,
    soname: soname === null ? null : readString(soname, 'DT_SONAME string'),
    rpath: rpath === null ? null : readString(rpath, 'DT_RPATH string'),
    runpath: runpath === null ? null : readString(runpath, 'DT_RUNPATH string'),
    flags,
    flags1,
    segmentHasFileData: segment.filesz !== 0n,
  };
}

interface Entry {
  /** d_tag; -1 for a 64-bit tag beyond 32 bits (no tag we know is). */
  readonly tag: number;
  readonly value: bigint;
}

/** The tags readDynamic reads a value of; the rest are only walked over to DT_NULL. */
const WANTED_TAGS: ReadonlySet<number> = new Set([
  DT.NEEDED,
  DT.FILTER,
  DT.AUXILIARY,
  DT.SONAME,
  DT.RPATH,
  DT.RUNPATH,
  DT.STRTAB,
  DT.STRSZ,
  DT.FLAGS,
  DT.FLAGS_1,
]);

/**
 * The entries before DT_NULL whose tag readDynamic uses, read from the image at `address` (see
 * readDynamic). The others are skipped without decoding their value: a library has dozens, and a
 * 64-bit value costs a bigint.
 */
function readEntries(
  source: ByteSource,
  header: ElfHeader,
  programs: readonly ProgramHeader[],
  address: bigint,
): Entry[] {
  const load = programs.find(
    (program) =>
      program.type === PT.LOAD && address >= program.vaddr && address < program.vaddr + program.memsz,
  );
  if (load === undefined) {
    throw new ElfError(
      'ELF_CORRUPT',
      source.path,
      `PT_DYNAMIC address 0x${address.toString(16)} is not inside any PT_LOAD segment (the loader would read unmapped memory)`,
    );
  }
  const entrySize = DYN_SIZE[header.class];
  const into = address - load.vaddr;
  // Bytes of the segment's file-backed part from the address on; the zeros after them end the list.
  const backed = load.filesz > into ? load.filesz - into : 0n;
  const available = Math.min(Number(backed / BigInt(entrySize)), MAX_DYNAMIC_ENTRIES);
  const little = header.byteOrder === 'little';
  const wide = header.class === 64;
  const entries: Entry[] = [];
  for (let first = 0; first < available; first += ENTRIES_PER_READ) {
    const count = Math.min(ENTRIES_PER_READ, available - first);
    const bytes = source.read(
      load.offset + into + BigInt(first * entrySize),
      count * entrySize,
      'the dynamic section (PT_DYNAMIC)',
    );
    const view = new DataView(bytes.buffer, bytes.byteOffset, bytes.byteLength);
    for (let i = 0; i < count; i++) {
      const at = i * entrySize;
      let tag: number;
      if (wide) {
        // The 64-bit tag as two halves: a tag beyond 32 bits is none we know (-1).
        const low = view.getUint32(little ? at : at + 4, little);
        const high = view.getUint32(little ? at + 4 : at, little);
        tag = high === 0 ? low : -1;
      } else {
        tag = view.getUint32(at, little);
      }
      if (tag === DT.NULL) return entries;
      if (!WANTED_TAGS.has(tag)) continue;
      const value = wide ? view.getBigUint64(at + 8, little) : BigInt(view.getUint32(at + 4, little));
      entries.push({ tag, value });
    }
  }
  return entries;
}

/** Maps a virtual address to a file offset through the PT_LOAD segment whose file bytes hold it. */
function addressToOffset(source: ByteSource, programs: readonly ProgramHeader[], address: bigint): bigint {
  for (const program of programs) {
    if (program.type !== PT.LOAD) continue;
    if (address >= program.vaddr && address < program.vaddr + program.filesz) {
      return program.offset + (address - program.vaddr);
    }
  }
  throw new ElfError(
    'ELF_CORRUPT',
    source.path,
    `DT_STRTAB address 0x${address.toString(16)} is not inside any PT_LOAD segment`,
  );
}

function readTableString(
  source: ByteSource,
  tableOffset: bigint,
  tableSize: bigint,
  offset: bigint,
  what: string,
): ByteString {
  if (offset >= tableSize) {
    throw new ElfError(
      'ELF_CORRUPT',
      source.path,
      `${what} offset ${offset} is outside the string table (${tableSize} bytes)`,
    );
  }
  const limit = Number(tableSize - offset < BigInt(MAX_STRING) ? tableSize - offset : BigInt(MAX_STRING));
  const exactStart = tableOffset + offset;
  if (exactStart < 0n || exactStart >= BigInt(source.size)) {
    throw new ElfError(
      'ELF_CORRUPT',
      source.path,
      `${what} at string table offset ${offset} runs past the end of the file`,
    );
  }
  const start = Number(exactStart);
  // Most names are short: one small read usually finds the NUL.
  let chunk = source.readUpTo(start, Math.min(limit, 256));
  let end = chunk.indexOf(0);
  if (end < 0 && chunk.length < limit) {
    chunk = source.readUpTo(start, limit);
    end = chunk.indexOf(0);
  }
  if (end < 0) {
    const reason =
      chunk.length < limit ? 'runs past the end of the file' : `is not NUL-terminated within ${limit} bytes`;
    throw new ElfError('ELF_CORRUPT', source.path, `${what} at string table offset ${offset} ${reason}`);
  }
  const bytes = chunk.subarray(0, end);
  // A name that is not UTF-8 stays bytes: the loader opens exactly these.
  const view = Buffer.from(bytes.buffer, bytes.byteOffset, bytes.byteLength);
  return isUtf8(view) ? view.toString('utf8') : Buffer.from(view);
}
