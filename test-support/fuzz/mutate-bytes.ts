/**
 * Format-blind mutations of a byte string: bit flips, bytes and words set to values parsers trip
 * over, truncation, splicing with another seed, chunks deleted, repeated or inserted. The
 * format-aware mutators (ELF, ld.so.cache, strace logs) fall back on these and stack them.
 */
import type { Random } from './random.js';

/** No mutant grows past this: the targets read whole files, and the point is shapes, not sizes. */
export const MAX_MUTANT_BYTES = 1 << 20;

export const INTERESTING_8 = [0x00, 0x01, 0x7f, 0x80, 0xff, 0x20, 0x2f, 0x2e, 0x24] as const;
export const INTERESTING_16 = [0x0000, 0x0001, 0x7fff, 0x8000, 0xffff, 0x00ff, 0x0100] as const;
export const INTERESTING_32 = [
  0x0000_0000, 0x0000_0001, 0x7fff_ffff, 0x8000_0000, 0xffff_ffff, 0x0000_ffff, 0x0001_0000, 0x7fff_fffe,
  0xffff_fffe, 0x0000_1000, 0x4000_0000,
] as const;
export const INTERESTING_64: readonly bigint[] = [
  0n,
  1n,
  (1n << 31n) - 1n,
  1n << 31n,
  (1n << 32n) - 1n,
  1n << 32n,
  (1n << 53n) + 1n,
  (1n << 63n) - 1n,
  1n << 63n,
  (1n << 63n) + 8n,
  (1n << 64n) - 1n,
  (1n << 64n) - 16n,
];

/** Writes `value` as a `size`-byte unsigned integer at `at` (bytes past the end are dropped). */
export function writeUint(
  data: Uint8Array,
  at: number,
  size: 1 | 2 | 4 | 8,
  value: bigint | number,
  little: boolean,
): void {
  let v = BigInt.asUintN(size * 8, BigInt(value));
  for (let k = 0; k < size; k++) {
    const index = little ? at + k : at + size - 1 - k;
    if (index >= 0 && index < data.length) data[index] = Number(v & 0xffn);
    v >>= 8n;
  }
}

/** Reads a `size`-byte unsigned integer at `at` (bytes past the end read as 0). */
export function readUint(data: Uint8Array, at: number, size: 1 | 2 | 4 | 8, little: boolean): bigint {
  let v = 0n;
  for (let k = 0; k < size; k++) {
    const index = little ? at + size - 1 - k : at + k;
    v = (v << 8n) | BigInt(data[index] ?? 0);
  }
  return v;
}

/** A value worth writing into a field of `size` bytes: interesting, near the file size, or random. */
export function interestingValue(
  rng: Random,
  size: 1 | 2 | 4 | 8,
  fileSize: number,
  current: bigint,
): bigint {
  switch (rng.below(6)) {
    case 0:
      return BigInt(rng.pick(size === 1 ? INTERESTING_8 : size === 2 ? INTERESTING_16 : INTERESTING_32));
    case 1:
      return rng.pick(INTERESTING_64);
    case 2:
      return BigInt(fileSize + rng.between(-16, 16));
    case 3:
      return current + BigInt(rng.between(-8, 8));
    case 4:
      return current ^ (1n << BigInt(rng.below(size * 8)));
    default:
      return rng.u64();
  }
}

type ByteMutation = (data: Uint8Array, rng: Random, others: readonly Uint8Array[]) => Uint8Array;

const flipBit: ByteMutation = (data, rng) => {
  if (data.length === 0) return data;
  const out = Uint8Array.from(data);
  const at = rng.below(out.length);
  out[at]! ^= 1 << rng.below(8);
  return out;
};

const setByte: ByteMutation = (data, rng) => {
  if (data.length === 0) return data;
  const out = Uint8Array.from(data);
  out[rng.below(out.length)] = rng.chance(0.5) ? rng.pick(INTERESTING_8) : rng.below(256);
  return out;
};

const setWord: ByteMutation = (data, rng) => {
  if (data.length === 0) return data;
  const out = Uint8Array.from(data);
  const size = rng.pick([2, 4, 8] as const);
  const at = rng.below(out.length);
  const little = rng.chance(0.8);
  writeUint(out, at, size, interestingValue(rng, size, out.length, readUint(out, at, size, little)), little);
  return out;
};

const truncate: ByteMutation = (data, rng) => data.slice(0, rng.below(data.length + 1));

const deleteChunk: ByteMutation = (data, rng) => {
  if (data.length === 0) return data;
  const at = rng.below(data.length);
  const length = rng.between(1, Math.min(data.length - at, 256));
  return concat(data.subarray(0, at), data.subarray(at + length));
};

const repeatChunk: ByteMutation = (data, rng) => {
  if (data.length === 0) return data;
  const at = rng.below(data.length);
  const length = rng.between(1, Math.min(data.length - at, 64));
  const times = rng.chance(0.1) ? rng.between(100, 4096) : rng.between(2, 8);
  const chunk = data.subarray(at, at + length);
  return concat(data.subarray(0, at), ...new Array<Uint8Array>(times).fill(chunk), data.subarray(at));
};

const insertRandom: ByteMutation = (data, rng) => {
  const at = rng.below(data.length + 1);
  const bytes = new Uint8Array(rng.between(1, 32));
  const fill = rng.chance(0.5) ? rng.pick(INTERESTING_8) : -1;
  for (let i = 0; i < bytes.length; i++) bytes[i] = fill >= 0 ? fill : rng.below(256);
  return concat(data.subarray(0, at), bytes, data.subarray(at));
};

/** The head of one input joined to the tail of another (or of itself, elsewhere). */
const splice: ByteMutation = (data, rng, others) => {
  const other = others.length > 0 && rng.chance(0.7) ? rng.pick(others) : data;
  if (other.length === 0) return data;
  const cut = rng.below(data.length + 1);
  const from = rng.below(other.length);
  const length = rng.chance(0.5) ? other.length - from : rng.between(1, Math.min(other.length - from, 512));
  const tail = rng.chance(0.5) ? data.subarray(cut) : data.subarray(Math.min(data.length, cut + length));
  return concat(data.subarray(0, cut), other.subarray(from, from + length), tail);
};

/** Overwrites a chunk with bytes copied from elsewhere in the same input (offsets pointing at offsets). */
const copyWithin: ByteMutation = (data, rng) => {
  if (data.length < 2) return data;
  const out = Uint8Array.from(data);
  const length = rng.between(1, Math.min(64, out.length));
  const from = rng.below(out.length - length + 1);
  out.copyWithin(rng.below(out.length), from, from + length);
  return out;
};

const MUTATIONS: readonly ByteMutation[] = [
  flipBit,
  flipBit,
  setByte,
  setByte,
  setWord,
  setWord,
  truncate,
  deleteChunk,
  repeatChunk,
  insertRandom,
  splice,
  copyWithin,
];

/** One to a few format-blind mutations, stacked. */
export function mutateBytes(data: Uint8Array, rng: Random, others: readonly Uint8Array[] = []): Uint8Array {
  let out = data;
  const rounds = rng.count(6);
  for (let i = 0; i < rounds; i++) out = rng.pick(MUTATIONS)(out, rng, others);
  return out.length > MAX_MUTANT_BYTES ? out.slice(0, MAX_MUTANT_BYTES) : out;
}

export function concat(...parts: readonly Uint8Array[]): Uint8Array {
  let length = 0;
  for (const part of parts) length += part.length;
  const out = new Uint8Array(Math.min(length, MAX_MUTANT_BYTES));
  let at = 0;
  for (const part of parts) {
    if (at >= out.length) break;
    const take = part.subarray(0, out.length - at);
    out.set(take, at);
    at += take.length;
  }
  return out;
}
