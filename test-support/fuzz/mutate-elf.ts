/**
 * ELF-aware mutations: the fields a loader follows (e_phoff, e_phnum, e_phentsize, p_type,
 * p_offset, p_vaddr, p_filesz, p_memsz, d_tag, d_val) and the strings it reads (PT_INTERP, NEEDED,
 * RPATH, RUNPATH, SONAME) are located with a reader of our own, independent of @dit/elf, and set to
 * values near the edges. Anything the layout reader cannot find falls back to byte mutations.
 */
import { interestingValue, mutateBytes, readUint, writeUint } from './mutate-bytes.js';
import type { Random } from './random.js';

const PT_LOAD = 1;
const PT_DYNAMIC = 2;
const PT_INTERP = 3;
const DT_NULL = 0;
const DT_NEEDED = 1;
const DT_STRTAB = 5;
const DT_STRSZ = 10;
const DT_SONAME = 14;
const DT_RPATH = 15;
const DT_RUNPATH = 29;
const DT_FLAGS = 30;
const DT_FLAGS_1 = 0x6ffffffb;
const STRING_TAGS = new Set([DT_NEEDED, DT_SONAME, DT_RPATH, DT_RUNPATH]);
const TAGS = [
  DT_NULL,
  DT_NEEDED,
  DT_NEEDED,
  DT_STRTAB,
  DT_STRSZ,
  DT_SONAME,
  DT_RPATH,
  DT_RUNPATH,
  DT_FLAGS,
  DT_FLAGS_1,
  0x7ffffffd,
  0x7fffffff,
];
const PROGRAM_TYPES = [0, PT_LOAD, PT_DYNAMIC, PT_INTERP, 4, 6, 7, 0x6474e551, 0x6474e553, 0x70000000];

/**
 * Strings a loader treats specially. None names a device, a FIFO or /proc: a resolver following a
 * mutant must never block on a read.
 */
const NAMES: readonly Uint8Array[] = [
  '',
  '$ORIGIN',
  '$ORIGIN/lib',
  // biome-ignore lint/suspicious/noTemplateCurlyInString: the loader's token, not a template
  '${ORIGIN}/..',
  '$ORIGIN/../../../../../../..',
  '$LIB',
  '$PLATFORM',
  '$UNKNOWN',
  '/',
  '.',
  '..',
  'lib',
  ':',
  '::',
  '$ORIGIN:$ORIGIN/lib:',
  'libc.so.6',
  'libfz1.so',
  'libfz2.so',
  'libfz1.so/',
  'a/libfz1.so',
  '/nonexistent/libx.so.1',
  '/lib64/ld-linux-x86-64.so.2',
  '/lib/ld-musl-x86_64.so.1',
  'ld-linux-x86-64.so.2',
  'libé.so',
  'x'.repeat(300),
].map((text) => new TextEncoder().encode(text));
const NOT_UTF8: readonly Uint8Array[] = [
  Uint8Array.of(0xff),
  Uint8Array.of(0x6c, 0x69, 0x62, 0xe9, 0x2e, 0x73, 0x6f),
  Uint8Array.of(0xc3),
  Uint8Array.of(0xed, 0xa0, 0x80),
];

interface Field {
  readonly at: number;
  readonly size: 1 | 2 | 4 | 8;
}

/** Where the loader-relevant parts of an ELF file lie, as far as its headers can be trusted. */
export interface ElfLayout {
  readonly wide: boolean;
  readonly little: boolean;
  readonly headerFields: readonly Field[];
  readonly programs: readonly { at: number; type: number; offset: bigint; vaddr: bigint; filesz: bigint }[];
  /** File offsets of the dynamic entries (each d_tag; d_val follows at +8 or +4). */
  readonly dynamic: readonly { at: number; tag: bigint; value: bigint }[];
  /** File offset of DT_STRTAB, or null when no PT_LOAD maps it. */
  readonly strtab: number | null;
  readonly interp: { offset: number; size: number } | null;
}

export function elfLayout(data: Uint8Array): ElfLayout | null {
  if (data.length < 52 || data[0] !== 0x7f || data[1] !== 0x45 || data[2] !== 0x4c || data[3] !== 0x46) {
    return null;
  }
  const wide = data[4] === 2;
  const little = data[5] !== 2;
  const word = wide ? 8 : 4;
  const u = (at: number, size: 1 | 2 | 4 | 8) => readUint(data, at, size, little);
  const headerFields: Field[] = wide
    ? [
        { at: 4, size: 1 },
        { at: 5, size: 1 },
        { at: 6, size: 1 },
        { at: 7, size: 1 },
        { at: 16, size: 2 },
        { at: 18, size: 2 },
        { at: 20, size: 4 },
        { at: 32, size: 8 },
        { at: 48, size: 4 },
        { at: 54, size: 2 },
        { at: 56, size: 2 },
      ]
    : [
        { at: 4, size: 1 },
        { at: 5, size: 1 },
        { at: 7, size: 1 },
        { at: 16, size: 2 },
        { at: 18, size: 2 },
        { at: 28, size: 4 },
        { at: 36, size: 4 },
        { at: 42, size: 2 },
        { at: 44, size: 2 },
      ];
  const phoff = Number(u(wide ? 32 : 28, word as 4 | 8));
  const phentsize = Number(u(wide ? 54 : 42, 2));
  const phnum = Number(u(wide ? 56 : 44, 2));
  const programs: ElfLayout['programs'][number][] = [];
  if (phentsize >= (wide ? 56 : 32)) {
    for (let i = 0; i < Math.min(phnum, 64); i++) {
      const at = phoff + i * phentsize;
      if (at + phentsize > data.length) break;
      programs.push({
        at,
        type: Number(u(at, 4)),
        offset: u(at + (wide ? 8 : 4), word as 4 | 8),
        vaddr: u(at + (wide ? 16 : 8), word as 4 | 8),
        filesz: u(at + (wide ? 32 : 16), word as 4 | 8),
      });
    }
  }
  const toOffset = (vaddr: bigint): number | null => {
    for (const p of programs) {
      if (p.type === PT_LOAD && vaddr >= p.vaddr && vaddr < p.vaddr + p.filesz) {
        const offset = Number(p.offset + (vaddr - p.vaddr));
        return offset < data.length ? offset : null;
      }
    }
    return null;
  };
  const dynamic: { at: number; tag: bigint; value: bigint }[] = [];
  let strtab: number | null = null;
  const dyn = programs.find((p) => p.type === PT_DYNAMIC);
  if (dyn !== undefined && dyn.offset < BigInt(data.length)) {
    const start = Number(dyn.offset);
    for (let at = start; at + 2 * word <= data.length && dynamic.length < 256; at += 2 * word) {
      const tag = u(at, word as 4 | 8);
      const value = u(at + word, word as 4 | 8);
      dynamic.push({ at, tag, value });
      if (tag === BigInt(DT_STRTAB)) strtab = toOffset(value);
      if (tag === 0n) break;
    }
  }
  const interpHeader = programs.find((p) => p.type === PT_INTERP);
  const interp =
    interpHeader !== undefined && interpHeader.offset + interpHeader.filesz <= BigInt(data.length)
      ? { offset: Number(interpHeader.offset), size: Number(interpHeader.filesz) }
      : null;
  return { wide, little, headerFields, programs, dynamic, strtab, interp };
}

type ElfMutation = (data: Uint8Array, layout: ElfLayout, rng: Random) => boolean;

const headerField: ElfMutation = (data, layout, rng) => {
  const field = rng.pick(layout.headerFields);
  const current = readUint(data, field.at, field.size, layout.little);
  writeUint(
    data,
    field.at,
    field.size,
    interestingValue(rng, field.size, data.length, current),
    layout.little,
  );
  return true;
};

const programField: ElfMutation = (data, layout, rng) => {
  if (layout.programs.length === 0) return false;
  // The headers loaders act on, more often than PT_NOTE and friends.
  const interesting = layout.programs.filter((p) => [PT_LOAD, PT_DYNAMIC, PT_INTERP].includes(p.type));
  const program = rng.pick(interesting.length > 0 && rng.chance(0.8) ? interesting : layout.programs);
  const w = layout.wide;
  const size = (w ? 8 : 4) as 4 | 8;
  const fields: Field[] = w
    ? [
        { at: 8, size },
        { at: 16, size },
        { at: 32, size },
        { at: 40, size },
      ]
    : [
        { at: 4, size },
        { at: 8, size },
        { at: 16, size },
        { at: 20, size },
      ];
  if (rng.chance(0.2)) {
    writeUint(data, program.at, 4, rng.pick(PROGRAM_TYPES), layout.little);
    return true;
  }
  const field = rng.pick(fields);
  const at = program.at + field.at;
  const current = readUint(data, at, field.size, layout.little);
  // p_filesz 0 with the rest intact is a case loaders and readers disagree on: try it often.
  const value = rng.chance(0.15) ? 0n : interestingValue(rng, field.size, data.length, current);
  writeUint(data, at, field.size, value, layout.little);
  return true;
};

const dynamicEntry: ElfMutation = (data, layout, rng) => {
  if (layout.dynamic.length === 0) return false;
  const entry = rng.pick(layout.dynamic);
  const word = (layout.wide ? 8 : 4) as 4 | 8;
  switch (rng.below(4)) {
    case 0:
      writeUint(data, entry.at, word, rng.pick(TAGS), layout.little);
      return true;
    case 1: {
      // A string offset a little off: into the middle of another string, or just past the table.
      const value = STRING_TAGS.has(Number(entry.tag))
        ? entry.value + BigInt(rng.between(-4, 24))
        : interestingValue(rng, word, data.length, entry.value);
      writeUint(data, entry.at + word, word, value, layout.little);
      return true;
    }
    case 2: {
      // One entry copied over another: two STRTABs, a NEEDED where DT_NULL was, ...
      const other = rng.pick(layout.dynamic);
      data.copyWithin(other.at, entry.at, entry.at + 2 * word);
      return true;
    }
    default:
      writeUint(
        data,
        entry.at + word,
        word,
        interestingValue(rng, word, data.length, entry.value),
        layout.little,
      );
      return true;
  }
};

/** Overwrites a NEEDED/RPATH/RUNPATH/SONAME string (or PT_INTERP) in place with a loaded name. */
const stringContent: ElfMutation = (data, layout, rng) => {
  const strings = layout.dynamic.filter((e) => STRING_TAGS.has(Number(e.tag)));
  const targets: number[] = [];
  if (layout.strtab !== null) for (const e of strings) targets.push(layout.strtab + Number(e.value));
  if (layout.interp !== null) targets.push(layout.interp.offset);
  const valid = targets.filter((at) => at >= 0 && at < data.length);
  if (valid.length === 0) return false;
  const at = rng.pick(valid);
  const name = rng.chance(0.2) ? rng.pick(NOT_UTF8) : rng.pick(NAMES);
  const end = Math.min(data.length, at + name.length);
  data.set(name.subarray(0, end - at), at);
  if (end < data.length) data[end] = 0;
  return true;
};

const ELF_MUTATIONS: readonly ElfMutation[] = [
  headerField,
  programField,
  programField,
  dynamicEntry,
  dynamicEntry,
  dynamicEntry,
  stringContent,
  stringContent,
];

/** A mutant of an ELF seed: mostly structure-aware edits, sometimes with byte mutations stacked on. */
export function mutateElf(seed: Uint8Array, rng: Random, others: readonly Uint8Array[]): Uint8Array {
  if (rng.chance(0.15)) return mutateBytes(seed, rng, others);
  const data = Uint8Array.from(seed);
  const rounds = rng.count(4, 0.4);
  for (let i = 0; i < rounds; i++) {
    const layout = elfLayout(data);
    if (layout === null || !rng.pick(ELF_MUTATIONS)(data, layout, rng)) {
      return mutateBytes(data, rng, others);
    }
  }
  return rng.chance(0.2) ? mutateBytes(data, rng, others) : data;
}
