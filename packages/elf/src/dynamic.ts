import { DT, DYN_SIZE, MAX_STRING, PT } from './constants.js';
import { ElfError } from './errors.js';
import type { ByteSource } from './source.js';
import type { DynamicDependency, DynamicSection, ElfHeader, ProgramHeader } from './types.js';

/** Most dynamic sections hold a few dozen entries; thousands mean garbage (and a slow read). */
const MAX_DYNAMIC_ENTRIES = 1 << 16;

/**
 * Decodes PT_DYNAMIC. DT_STRTAB is a virtual address: we map it through the PT_LOAD segments, as
 * the loader does, because section headers may be stripped. Only the strings we need are read.
 */
export function readDynamic(
  source: ByteSource,
  header: ElfHeader,
  programs: readonly ProgramHeader[],
): DynamicSection | null {
  const segment = programs.find((program) => program.type === PT.DYNAMIC);
  if (segment === undefined) return null;
  const entrySize = DYN_SIZE[header.class];
  const count = Math.min(Math.floor(segment.filesz / entrySize), MAX_DYNAMIC_ENTRIES);
  const bytes = source.read(segment.offset, count * entrySize, 'the dynamic section (PT_DYNAMIC)');
  const view = new DataView(bytes.buffer, bytes.byteOffset, bytes.byteLength);
  const little = header.byteOrder === 'little';
  const wide = header.class === 64;

  // Offsets of strings in DT_STRTAB, collected first because DT_STRTAB may come after DT_NEEDED.
  const dependencyOffsets: { kind: DynamicDependency['kind']; offset: number }[] = [];
  let soname: number | null = null;
  let rpath: number | null = null;
  let runpath: number | null = null;
  let strtab: number | null = null;
  let strsz: number | null = null;
  let flags = 0;
  let flags1 = 0;

  for (let i = 0; i < count; i++) {
    const at = i * entrySize;
    let tag: number;
    let value: number;
    if (wide) {
      // Tags we know fit in 32 bits; a non-zero high half means some other (OS- or CPU-specific) tag.
      const tagHigh = view.getUint32(little ? at + 4 : at, little);
      tag = tagHigh === 0 ? view.getUint32(little ? at : at + 4, little) : -1;
      const low = view.getUint32(little ? at + 8 : at + 12, little);
      const high = view.getUint32(little ? at + 12 : at + 8, little);
      value = high * 0x1_0000_0000 + low;
    } else {
      tag = view.getUint32(at, little);
      value = view.getUint32(at + 4, little);
    }
    if (tag === DT.NULL) break;
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
      case DT.FLAGS:
        flags = value;
        break;
      case DT.FLAGS_1:
        flags1 = value;
        break;
    }
  }

  const needsStrings = dependencyOffsets.length > 0 || soname !== null || rpath !== null || runpath !== null;
  let readString = (_offset: number, _what: string): string => '';
  if (needsStrings) {
    if (strtab === null) {
      throw new ElfError(
        'ELF_CORRUPT',
        source.path,
        'the dynamic section names strings but has no DT_STRTAB',
      );
    }
    const strtabOffset = addressToOffset(source, programs, strtab);
    const tableSize = strsz ?? source.size - strtabOffset;
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
  };
}

/** Maps a virtual address to a file offset through the PT_LOAD segment that contains it. */
function addressToOffset(source: ByteSource, programs: readonly ProgramHeader[], address: number): number {
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

const decoder = new TextDecoder('utf-8', { fatal: false });

function readTableString(
  source: ByteSource,
  tableOffset: number,
  tableSize: number,
  offset: number,
  what: string,
): string {
  if (offset >= tableSize) {
    throw new ElfError(
      'ELF_CORRUPT',
      source.path,
      `${what} offset ${offset} is outside the string table (${tableSize} bytes)`,
    );
  }
  const limit = Math.min(tableSize - offset, MAX_STRING);
  const start = tableOffset + offset;
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
  return decoder.decode(chunk.subarray(0, end));
}
