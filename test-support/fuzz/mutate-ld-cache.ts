/**
 * ld.so.cache-aware mutations (glibc's sysdeps/generic/dl-cache.h layout): entry counts, string
 * offsets, entry flags and hwcap fields, the header magic in its variants, the byte-order flags and
 * the extension directory. The fields are located from the layout itself, not through the reader
 * under test.
 */
import { concat, interestingValue, mutateBytes, readUint, writeUint } from './mutate-bytes.js';
import type { Random } from './random.js';

const NEW_MAGIC = new TextEncoder().encode('glibc-ld.so.cache1.1');
const OLD_MAGIC = new TextEncoder().encode('ld.so-1.7.0\0');
const MAGICS: readonly Uint8Array[] = [
  NEW_MAGIC,
  OLD_MAGIC,
  new TextEncoder().encode('glibc-ld.so.cache1.0'),
  new TextEncoder().encode('ld.so-1.7.0'),
  new TextEncoder().encode('ld.so-1.7.1\0'),
  new TextEncoder().encode('glibc-ld.so.cache'),
  new Uint8Array(20),
];
const ENTRY_FLAGS = [0x0303, 0x0003, 0x0001, 0x0803, 0x0a03, 0x0000, 0xffff_ffff, 0x0903, 0x0100];
const KEYS = [
  'libfoo.so.1',
  'libfoo.so.01',
  'libbar.so.1',
  'lib1',
  'libnum.so.4294967306',
  '',
  'libé.so.1',
  'z',
];

interface Block {
  /** Where the new-format header starts. */
  readonly base: number;
  readonly entrySize: 24 | 12;
  readonly headerSize: 48 | 16;
  readonly countAt: number;
  readonly count: number;
  /** The entries that lie inside the file: the count, or fewer when it claims too many. */
  readonly present: number;
  /** Where string offsets count from. */
  readonly stringsBase: number;
}

function indexOf(data: Uint8Array, needle: Uint8Array, from = 0): number {
  outer: for (let i = from; i + needle.length <= data.length; i++) {
    for (let k = 0; k < needle.length; k++) if (data[i + k] !== needle[k]) continue outer;
    return i;
  }
  return -1;
}

/** The entry tables of a cache: the old one at 0 and/or the new one (at 0 or embedded). */
function blocks(data: Uint8Array, little: boolean): Block[] {
  const found: Block[] = [];
  if (indexOf(data.subarray(0, 12), OLD_MAGIC.subarray(0, 11)) === 0) {
    const count = Number(readUint(data, 12, 4, little));
    const present = Math.max(0, Math.min(count, Math.floor((data.length - 16) / 12)));
    found.push({
      base: 0,
      entrySize: 12,
      headerSize: 16,
      countAt: 12,
      count,
      present,
      stringsBase: 16 + count * 12,
    });
  }
  const at = indexOf(data, NEW_MAGIC);
  if (at >= 0) {
    const count = Number(readUint(data, at + 20, 4, little));
    const present = Math.max(0, Math.min(count, Math.floor((data.length - at - 48) / 24)));
    found.push({
      base: at,
      entrySize: 24,
      headerSize: 48,
      countAt: at + 20,
      count,
      present,
      stringsBase: at,
    });
  }
  return found;
}

type CacheMutation = (data: Uint8Array, rng: Random, little: boolean) => Uint8Array | null;

const entryCount: CacheMutation = (data, rng, little) => {
  const block = pickBlock(data, rng, little);
  if (block === null) return null;
  const fits = Math.floor((data.length - block.base - block.headerSize) / block.entrySize);
  const value = rng.chance(0.5)
    ? BigInt(Math.max(0, rng.pick([fits, fits + 1, block.count + 1, block.count - 1, 0, 1])))
    : interestingValue(rng, 4, data.length, BigInt(block.count));
  writeUint(data, block.countAt, 4, value, little);
  return data;
};

const stringOffset: CacheMutation = (data, rng, little) => {
  const block = pickBlock(data, rng, little);
  if (block === null || block.present === 0) return null;
  const entry = entryAt(block, rng.below(block.present));
  const field = entry + (rng.chance(0.5) ? 4 : 8);
  const current = readUint(data, field, 4, little);
  let value: bigint;
  switch (rng.below(4)) {
    case 0: // another entry's string: duplicate keys, keys out of order
      value = readUint(data, entryAt(block, rng.below(block.present)) + rng.pick([4, 8]), 4, little);
      break;
    case 1:
      value = current + BigInt(rng.between(-3, 3));
      break;
    case 2: // at, just before or past the end of the file
      value = BigInt(data.length - block.stringsBase + rng.between(-2, 2));
      break;
    default:
      value = interestingValue(rng, 4, data.length, current);
  }
  writeUint(data, field, 4, value, little);
  return data;
};

const entryFields: CacheMutation = (data, rng, little) => {
  const block = pickBlock(data, rng, little);
  if (block === null || block.present === 0) return null;
  const entry = entryAt(block, rng.below(block.present));
  if (block.entrySize === 12 || rng.chance(0.4)) {
    writeUint(data, entry, 4, rng.pick(ENTRY_FLAGS), little);
    return data;
  }
  // hwcap: a glibc-hwcaps entry (bit 62, an ISA level, a name index), a legacy bit, or anything.
  const hwcap = rng.pick([
    (1n << 62n) | (BigInt(rng.below(6)) << 32n) | BigInt(rng.below(5)),
    (1n << 62n) | (BigInt(rng.pick([0, 1, 2, 3, 31, 32, 0x3ff])) << 32n) | BigInt(rng.next()),
    1n << BigInt(rng.below(64)),
    1n << 63n,
    0n,
    rng.u64(),
  ]);
  writeUint(data, entry + 16, 8, hwcap, little);
  return data;
};

const swapEntries: CacheMutation = (data, rng, little) => {
  const block = pickBlock(data, rng, little);
  if (block === null || block.present < 2) return null;
  const a = entryAt(block, rng.below(block.present));
  const b = entryAt(block, rng.below(block.present));
  const saved = data.slice(a, a + block.entrySize);
  data.copyWithin(a, b, b + block.entrySize);
  data.set(saved, b);
  return data;
};

const magic: CacheMutation = (data, rng) => {
  const replacement = rng.pick(MAGICS);
  if (rng.chance(0.3)) return concat(replacement, data.subarray(replacement.length), new Uint8Array(0));
  const at = indexOf(data, NEW_MAGIC) >= 0 && rng.chance(0.5) ? indexOf(data, NEW_MAGIC) : 0;
  data.set(replacement.subarray(0, Math.max(0, data.length - at)), at);
  return data;
};

const headerFlags: CacheMutation = (data, rng, little) => {
  const at = indexOf(data, NEW_MAGIC);
  if (at < 0) return null;
  if (rng.chance(0.6)) {
    if (at + 28 < data.length) data[at + 28] = rng.pick([0, 1, 2, 3, 4, 6, 0x40, 0xff]);
  } else {
    const extension = readUint(data, at + 32, 4, little);
    writeUint(data, at + 32, 4, interestingValue(rng, 4, data.length, extension) & ~3n, little);
  }
  return data;
};

/** The extension directory: its magic, section count, a section's tag, offset or size. */
const extension: CacheMutation = (data, rng, little) => {
  const at = indexOf(data, NEW_MAGIC);
  if (at < 0) return null;
  const offset = Number(readUint(data, at + 32, 4, little));
  if (offset === 0 || offset + 8 > data.length) return null;
  const count = Number(readUint(data, offset + 4, 4, little));
  const field =
    count > 0 && rng.chance(0.8)
      ? offset + 8 + rng.below(Math.min(count, 8)) * 16 + rng.pick([0, 8, 12])
      : offset + rng.pick([0, 4]);
  writeUint(data, field, 4, interestingValue(rng, 4, data.length, readUint(data, field, 4, little)), little);
  return data;
};

/** A key string overwritten in place: equal-by-libcmp names, long digit runs, bytes >= 0x80. */
const keyContent: CacheMutation = (data, rng, little) => {
  const block = pickBlock(data, rng, little);
  if (block === null || block.present === 0) return null;
  const entry = entryAt(block, rng.below(block.present));
  const at = block.stringsBase + Number(readUint(data, entry + 4, 4, little));
  if (at >= data.length) return null;
  const name = new TextEncoder().encode(rng.pick(KEYS));
  data.set(name.subarray(0, data.length - at), at);
  if (at + name.length < data.length) data[at + name.length] = 0;
  return data;
};

function pickBlock(data: Uint8Array, rng: Random, little: boolean): Block | null {
  const found = blocks(data, little);
  return found.length === 0 ? null : rng.pick(found);
}

function entryAt(block: Block, index: number): number {
  return block.base + block.headerSize + index * block.entrySize;
}

const CACHE_MUTATIONS: readonly CacheMutation[] = [
  entryCount,
  stringOffset,
  stringOffset,
  stringOffset,
  entryFields,
  entryFields,
  swapEntries,
  magic,
  headerFlags,
  extension,
  keyContent,
];

/** A mutant of an ld.so.cache seed. Caches here are little-endian; big-endian readings come from mutation. */
export function mutateLdCache(seed: Uint8Array, rng: Random, others: readonly Uint8Array[]): Uint8Array {
  if (rng.chance(0.15)) return mutateBytes(seed, rng, others);
  let data: Uint8Array = Uint8Array.from(seed);
  const little = rng.chance(0.95);
  const rounds = rng.count(4, 0.4);
  for (let i = 0; i < rounds; i++) {
    const next = rng.pick(CACHE_MUTATIONS)(data, rng, little);
    if (next === null) return mutateBytes(data, rng, others);
    data = next;
  }
  return rng.chance(0.15) ? mutateBytes(data, rng, others) : data;
}
