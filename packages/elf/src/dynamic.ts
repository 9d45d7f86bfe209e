import { isUtf8 } from 'node:buffer';
import { DT, DYN_SIZE, MAX_STRING, PT } from './constants.js';
import { ElfError } from './errors.js';
import type { ByteSource } from './source.js';
import type {
  ByteString,
  DynamicDependency,
  DynamicSection,
  ElfHeader,
  ProgramHeader,
  UnreadableString,
} from './types.js';

/** Most dynamic sections hold a few dozen entries; more than this many is garbage: the rest are left unread. */
const MAX_DYNAMIC_ENTRIES = 1 << 16;
/** Entries are read this many at a time until DT_NULL: one read for nearly every file. */
const ENTRIES_PER_READ = 64;

/**
 * Decodes PT_DYNAMIC where the loaders read it: at its p_vaddr in the mapped image (glibc's l_ld,
 * musl's dynv), entry after entry until DT_NULL. DT_STRTAB is a virtual address too, and each
 * string is read at DT_STRTAB + its offset in that same image, up to its NUL: the loaders never
 * look at DT_STRSZ, PT_DYNAMIC's p_offset or p_filesz, or section headers (which may be stripped).
 * Only p_filesz 0 matters, to glibc (`segmentHasFileData`). See {@link MappedImage} for what the
 * image holds.
 *
 * A dynamic section in unmapped memory throws ElfError `ELF_UNMAPPED` (the loader reads it as it
 * maps the file). A string there is data ({@link UnreadableString}): the loader reads a SONAME or an
 * RPATH only when it uses it, and the resolver knows when that is.
 */
export function readDynamic(
  source: ByteSource,
  header: ElfHeader,
  programs: readonly ProgramHeader[],
): DynamicSection | null {
  const segment = programs.find((program) => program.type === PT.DYNAMIC);
  if (segment === undefined) return null;
  const image = new MappedImage(source, header, programs);
  const entries = readEntries(image, header, segment.vaddr);

  // Offsets of strings in DT_STRTAB, collected first because DT_STRTAB may come after DT_NEEDED.
  const dependencyOffsets: { kind: DynamicDependency['kind']; offset: bigint }[] = [];
  let soname: bigint | null = null;
  let rpath: bigint | null = null;
  let runpath: bigint | null = null;
  let strtab: bigint | null = null;
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
      // The flag bits the loaders test all sit in the low 32 bits.
      case DT.FLAGS:
        flags = Number(BigInt.asUintN(32, value));
        break;
      case DT.FLAGS_1:
        flags1 = Number(BigInt.asUintN(32, value));
        break;
    }
  }

  const readString = (offset: bigint, what: string): ByteString | UnreadableString => {
    if (strtab === null) {
      // glibc adds the offset to l_info[DT_STRTAB]->d_un.d_ptr with no DT_STRTAB entry: a NULL read.
      return { problem: `${what} needs DT_STRTAB, which the dynamic section lacks`, unmapped: true };
    }
    // The pointer sum wraps as the loader's does.
    return image.string(BigInt.asUintN(header.class, strtab + offset), what);
  };
  const unreadable: { -readonly [K in keyof DynamicSection['unreadable']]: UnreadableString } = {};
  const optional = (offset: bigint | null, field: 'soname' | 'rpath' | 'runpath', what: string) => {
    if (offset === null) return null;
    const value = readString(offset, what);
    if (isUnreadable(value)) {
      unreadable[field] = value;
      return null;
    }
    return value;
  };

  const dependencies: DynamicDependency[] = dependencyOffsets.map(({ kind, offset }) => {
    const name = readString(offset, `DT_${kind.toUpperCase()} string`);
    return isUnreadable(name) ? { kind, name: '', unreadable: name } : { kind, name };
  });
  return {
    needed: dependencies
      .filter((dependency) => dependency.kind === 'needed' && dependency.unreadable === undefined)
      .map((d) => d.name),
    dependencies,
    soname: optional(soname, 'soname', 'DT_SONAME string'),
    rpath: optional(rpath, 'rpath', 'DT_RPATH string'),
    runpath: optional(runpath, 'runpath', 'DT_RUNPATH string'),
    flags,
    flags1,
    segmentHasFileData: segment.filesz !== 0n,
    address: segment.vaddr,
    unreadable,
  };
}

function isUnreadable(value: ByteString | UnreadableString): value is UnreadableString {
  return typeof value === 'object' && !Buffer.isBuffer(value);
}

/**
 * Page size of the mappings. 4 KiB on x86-64 and i386 (the machines the loader judges here); a
 * 64 KiB-page aarch64 or ppc64 kernel maps more of each page, which only makes more bytes readable.
 */
const PAGE = 4096n;
const pageDown = (address: bigint) => address & ~(PAGE - 1n);
const pageUp = (address: bigint) => (address + PAGE - 1n) & ~(PAGE - 1n);

interface Area {
  readonly start: bigint;
  readonly end: bigint;
  /** File offset of `start`; null for zero-filled memory. */
  readonly fileOffset: bigint | null;
}

/**
 * The object's memory as glibc's _dl_map_segments leaves it, in p_vaddr terms (the load bias
 * cancels out): for each PT_LOAD in order, the file's whole pages from the page holding p_vaddr to
 * the page holding p_vaddr + p_filesz; then, when p_memsz > p_filesz, zeros from p_vaddr + p_filesz
 * to p_vaddr + p_memsz, or to the end of its page when that lies beyond the last file page. A
 * later segment's pages replace an earlier one's (MAP_FIXED). Everything else is unmapped, or
 * mapped by something else: unknowable. File pages past the end of the file are mapped but raise
 * SIGBUS when read: unknowable too. The kernel maps a program's segments the same way.
 */
class MappedImage {
  private readonly areas: Area[] = [];
  private readonly wrap: number;

  constructor(
    private readonly source: ByteSource,
    header: ElfHeader,
    programs: readonly ProgramHeader[],
  ) {
    this.wrap = header.class;
    for (const load of programs) {
      if (load.type !== PT.LOAD) continue;
      const start = pageDown(load.vaddr);
      const dataEnd = load.vaddr + load.filesz;
      if (load.filesz > 0n) {
        this.areas.push({ start, end: pageUp(dataEnd), fileOffset: pageDown(load.offset) });
      }
      if (load.memsz > load.filesz) {
        // glibc clears the last file page only up to p_memsz when the segment ends inside it (the
        // rest keeps the file's bytes), and maps anonymous zero pages when it goes further.
        const allocEnd = load.vaddr + load.memsz;
        const end = allocEnd <= pageUp(dataEnd) ? allocEnd : pageUp(allocEnd);
        this.areas.push({ start: dataEnd, end, fileOffset: null });
      }
    }
  }

  get path(): string {
    return this.source.path;
  }

  /**
   * Up to `length` bytes from `address` on, as far as one area goes (at least one byte); null when
   * the byte at `address` is not readable from the file (see the class comment).
   */
  private bytesAt(address: bigint, length: number): Uint8Array | null {
    for (let i = this.areas.length - 1; i >= 0; i--) {
      const area = this.areas[i]!;
      if (address < area.start || address >= area.end) continue;
      // The next area that overrides part of this one ends this read early.
      let end = area.end;
      for (let j = i + 1; j < this.areas.length; j++) {
        const later = this.areas[j]!;
        if (later.start > address && later.start < end) end = later.start;
      }
      const count = Number(end - address < BigInt(length) ? end - address : BigInt(length));
      if (area.fileOffset === null) return new Uint8Array(count);
      const offset = area.fileOffset + (address - area.start);
      const size = BigInt(this.source.size);
      if (offset < size) return this.source.readUpTo(Number(offset), count);
      // The rest of the file's last page reads as zeros; a whole page past the end raises SIGBUS.
      if (offset < pageUp(size)) return new Uint8Array(Math.min(count, Number(pageUp(size) - offset)));
      return null;
    }
    return null;
  }

  /** Exactly `length` bytes at `address`, across areas; null when any of them is unreadable. */
  bytes(address: bigint, length: number): Uint8Array | null {
    const parts: Uint8Array[] = [];
    let got = 0;
    while (got < length) {
      const part = this.bytesAt(BigInt.asUintN(this.wrap, address + BigInt(got)), length - got);
      if (part === null || part.length === 0) return null;
      parts.push(part);
      got += part.length;
    }
    return parts.length === 1 ? parts[0]! : Buffer.concat(parts);
  }

  /** The NUL-terminated string at `address`, as the loader would read it. */
  string(address: bigint, what: string): ByteString | UnreadableString {
    const parts: Uint8Array[] = [];
    let got = 0;
    while (got < MAX_STRING) {
      const at = BigInt.asUintN(this.wrap, address + BigInt(got));
      const part = this.bytesAt(at, Math.min(256, MAX_STRING - got));
      if (part === null || part.length === 0) {
        return {
          problem: `${what} at 0x${at.toString(16)} lies in memory the file does not map (the loader would crash or read unknown bytes)`,
          unmapped: true,
        };
      }
      const end = part.indexOf(0);
      if (end >= 0) {
        parts.push(part.subarray(0, end));
        const bytes = parts.length === 1 ? parts[0]! : Buffer.concat(parts);
        // A name that is not UTF-8 stays bytes: the loader opens exactly these.
        const view = Buffer.from(bytes.buffer, bytes.byteOffset, bytes.byteLength);
        return isUtf8(view) ? view.toString('utf8') : Buffer.from(view);
      }
      parts.push(part);
      got += part.length;
    }
    return {
      problem: `${what} at 0x${address.toString(16)} is not NUL-terminated within ${MAX_STRING} bytes`,
      unmapped: false,
    };
  }
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
  DT.FLAGS,
  DT.FLAGS_1,
]);

/**
 * The entries before DT_NULL whose tag readDynamic uses, read from the image at `address` (see
 * readDynamic). The others are skipped without decoding their value: a library has dozens, and a
 * 64-bit value costs a bigint.
 */
function readEntries(image: MappedImage, header: ElfHeader, address: bigint): Entry[] {
  const entrySize = DYN_SIZE[header.class];
  const little = header.byteOrder === 'little';
  const wide = header.class === 64;
  const entries: Entry[] = [];
  for (let first = 0; first < MAX_DYNAMIC_ENTRIES; first += ENTRIES_PER_READ) {
    const at = address + BigInt(first * entrySize);
    // A whole batch when it is readable; else entry by entry up to the first unreadable one.
    let bytes = image.bytes(at, ENTRIES_PER_READ * entrySize);
    let count = ENTRIES_PER_READ;
    if (bytes === null) {
      count = 1;
      bytes = image.bytes(at, entrySize);
      if (bytes === null) {
        throw new ElfError(
          'ELF_UNMAPPED',
          image.path,
          `the dynamic section (PT_DYNAMIC at 0x${address.toString(16)}) reaches 0x${at.toString(16)}, memory the file does not map, before DT_NULL (the loader would crash or read unknown bytes)`,
        );
      }
      first -= ENTRIES_PER_READ - 1;
    }
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
