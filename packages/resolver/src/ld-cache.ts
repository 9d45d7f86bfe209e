/**
 * Reader for glibc's /etc/ld.so.cache, and the lookup ld.so performs on it (docs/loader.md §9).
 *
 * Semantics follow glibc 2.36: elf/dl-cache.c (`_dl_load_cache_lookup`, `search_cache`,
 * `_dl_cache_libcmp`, `glibc_hwcaps_priorities_init`) and sysdeps/generic/dl-cache.h
 * (`cache_extension_load`), with the 2.37 removal of legacy hwcap entries available as an option.
 * ld.so trusts a few fields it never checks; where it would read outside the file we call the datum
 * unusable instead (each such place says so).
 */

export interface LdCacheEntry {
  /** SONAME (DT_SONAME, or the file name when there is none). */
  key: string;
  /** Path string as stored; for `ldconfig -r ROOT` caches it is relative to the root (starts with '/'). */
  value: string;
  /** i32 flags: low byte library type, high byte ABI. */
  flags: number;
  /** u64 hwcap field; 0n for old-format entries. */
  hwcap: bigint;
}

export interface LdCache {
  format: 'new' | 'old' | 'compat';
  byteOrder: 'little' | 'big';
  /** In file order, which ldconfig sorts descending by `_dl_cache_libcmp`. */
  entries: LdCacheEntry[];
  /** Extension tag 1: glibc-hwcaps subdirectory names, indexed by an entry's low 32 hwcap bits; [] if none. */
  hwcapSubdirs: string[];
  /** Extension tag 0: the ldconfig that wrote the file. */
  generator: string | null;
}

export class LdCacheError extends Error {
  override readonly name = 'LdCacheError';
  readonly code = 'LDCACHE_INVALID';
  constructor(
    readonly path: string,
    message: string,
    options?: { cause?: unknown },
  ) {
    super(`${path}: ${message}`, options);
  }
}

export interface LdCacheLookupOptions {
  /** Flags values the loader accepts (`_dl_cache_check_flags`), e.g. [0x0303] for x86_64; see abiCacheFlags. */
  acceptedFlags: readonly number[];
  /** Active glibc-hwcaps subdirectory names in priority order, best first; prepended names come first. */
  activeHwcaps: readonly string[];
  /** x86 ISA level the CPU reaches: 0 baseline, 1 v2, 2 v3, 3 v4. Other architectures have no such check: pass 31. */
  isaLevel: number;
  /** glibc <= 2.36: the CPU's legacy hwcap bits; null for glibc >= 2.37 (legacy entries are skipped). */
  legacyHwcap: bigint | null;
}

const NEW_MAGIC = 'glibc-ld.so.cache1.1';
const OLD_MAGIC = 'ld.so-1.7.0';
const NEW_HEADER_SIZE = 48;
const NEW_ENTRY_SIZE = 24;
const OLD_HEADER_SIZE = 16;
const OLD_ENTRY_SIZE = 12;
const EXTENSION_MAGIC = 0xeaa42174;
const TAG_GENERATOR = 0;
const TAG_GLIBC_HWCAPS = 1;
/** DL_CACHE_HWCAP_EXTENSION (bit 62) as seen in the upper 32 bits of hwcap. */
const HWCAP_EXTENSION_HIGH = 0x4000_0000;
/** DL_CACHE_HWCAP_ISA_LEVEL_MASK: bits 32-41 of hwcap. */
const ISA_LEVEL_MASK = 0x3ff;
/** _DL_HWCAP_TLS_MASK: 2.36 never excludes this bit (`tls` subdirectories). */
const HWCAP_TLS = 1n << 63n;
/** x86's _DL_HWCAP_PLATFORM: _DL_PLATFORMS_COUNT (4) bits from _DL_FIRST_PLATFORM (48). */
const X86_PLATFORM_BITS = 0xfn << 48n;
/** The cache flags of x86-64 and x32 libraries (FLAG_X8664_LIB64, FLAG_X8664_LIBX32 with libc6). */
const X86_FLAGS = new Set([0x0303, 0x0803]);
const U64_MASK = (1n << 64n) - 1n;
/** FLAG_ELF_LIBC6, the generic `_DL_CACHE_DEFAULT_ID`. */
const FLAG_ELF_LIBC6 = 0x0003;
/**
 * Entry strings are decoded for display up to this many bytes (PATH_MAX: the kernel refuses longer
 * paths, and no SONAME is that long). Lookups compare and return the full bytes regardless.
 */
const MAX_DISPLAY_STRING = 4096;
/**
 * Real caches hold well under 1 MiB of strings. Entries pointing at thousands of overlapping
 * unterminated strings could otherwise make parsing quadratic in time and memory.
 */
const MAX_DECODED_TOTAL = 64 * 1024 * 1024;
/** ld.so maps the cache whole; bytes past its end up to the page boundary read as zeros. */
const PAGE_SIZE = 4096;

type ByteOrder = 'little' | 'big';

/** Raw positions behind one parsed entry (absolute file offsets, -1 when out of range). */
interface RawEntry {
  keyPos: number;
  valuePos: number;
}
/** The bytes behind one parsed cache, for lookups that compare bytes as ld.so does. */
interface RawCache {
  data: Uint8Array;
  hwcapNamePos: number[];
}
// Kept beside the public objects rather than in them, so LdCache stays plain data. A cache built by
// hand (or cloned) has no entry here and is looked up through its strings instead.
const rawEntries = new WeakMap<LdCacheEntry, RawEntry>();
const rawCaches = new WeakMap<LdCache, RawCache>();

const utf8Decoder = new TextDecoder('utf-8', { ignoreBOM: true });
const utf8Encoder = new TextEncoder();

// ---------------------------------------------------------------------------------------------
// Parsing

export function parseLdCache(data: Uint8Array, path: string): LdCache {
  const fail = (message: string): never => {
    throw new LdCacheError(path, message);
  };
  const strings = new StringDecoderBudget(data, fail);

  // _dl_load_cache_lookup tries the new format first: magic, `cachesize > sizeof *cache_new` and
  // enough room for nlibs entries. If that fails it tries the old magic, which cannot match either.
  if (hasMagic(data, 0, NEW_MAGIC)) {
    if (data.length <= NEW_HEADER_SIZE) {
      fail(`only ${data.length} bytes: ld.so ignores a new-format cache not larger than its 48-byte header`);
    }
    const declared = headerByteOrder(data, 0, fail);
    const candidates: ByteOrder[] = declared === null ? ['little', 'big'] : [declared];
    const fitting = candidates.filter((order) => newTableFits(data, 0, order));
    if (fitting.length === 0) {
      const nlibs = u32(data, 20, (declared ?? 'little') === 'little');
      fail(
        `header claims ${nlibs} entries of 24 bytes but only ${data.length - NEW_HEADER_SIZE} bytes follow it; ` +
          'ld.so ignores such a cache',
      );
    }
    const order = pickByteOrder(fitting, (o) => newBlockScore(data, 0, o));
    return readNewBlock(data, 0, order, 'new', strings);
  }

  if (hasMagic(data, 0, OLD_MAGIC)) {
    if (data.length <= OLD_HEADER_SIZE) {
      fail(`only ${data.length} bytes: ld.so ignores an old-format cache not larger than its 16-byte header`);
    }
    // The old header carries no byte order: the reading ld.so uses its own. We accept the order in
    // which the file is self-consistent, and report it.
    const fitting = (['little', 'big'] as const).filter(
      (order) =>
        Math.floor((data.length - OLD_HEADER_SIZE) / OLD_ENTRY_SIZE) >= u32(data, 12, order === 'little'),
    );
    if (fitting.length === 0) {
      fail(
        `old header claims ${u32(data, 12, true)} entries of 12 bytes but only ${data.length - OLD_HEADER_SIZE} bytes ` +
          'follow it; ld.so ignores such a cache',
      );
    }
    let mismatch: string | null = null;
    for (const order of fitting) {
      const nlibs = u32(data, 12, order === 'little');
      const end = OLD_HEADER_SIZE + nlibs * OLD_ENTRY_SIZE;
      // ALIGN_CACHE uses __alignof__(struct cache_file_new): 8 on LP64, 4 on i386. ldconfig pads the
      // old table to an even count so both agree; for an odd count we try the LP64 place first.
      for (const offset of new Set([alignUp(end, 8), alignUp(end, 4)])) {
        if (data.length < offset + NEW_HEADER_SIZE || !hasMagic(data, offset, NEW_MAGIC)) continue;
        // A wrong or "invalid" byte order in the embedded header makes ld.so drop the whole file,
        // old table included.
        const blockOrder = headerByteOrder(data, offset, fail);
        if (blockOrder !== null && blockOrder !== order) {
          mismatch = `the embedded new-format header is marked ${blockOrder}-endian but the old header only fits ${order}-endian`;
          continue;
        }
        // ld.so does not check the embedded table's nlibs against the file size (only the
        // new-only layout gets that check), so it would read past the end of the file.
        if (!newTableFits(data, offset, order)) {
          fail(
            `the embedded new-format table at offset ${offset} claims ${u32(data, offset + 20, order === 'little')} ` +
              'entries, more than the file holds; ld.so does not check this and would read past the end of the file',
          );
        }
        return readNewBlock(data, offset, order, 'compat', strings);
      }
    }
    if (mismatch !== null) fail(`${mismatch}; ld.so ignores such a cache`);
    const order = pickByteOrder(fitting, (o) => oldTableScore(data, o));
    return readOldTable(data, order, strings);
  }

  if (data.length === 0) fail('empty file: ld.so ignores it');
  return fail(`no "${NEW_MAGIC}" or "${OLD_MAGIC}" magic at offset 0: ld.so ignores the file`);
}

/**
 * Byte 28 of a new-format header. ld.so accepts flags == 0 (written before 2.33: unknown order) or
 * `(flags & 3)` equal to its own order (cache_file_new_matches_endian); 1 means ldconfig marked the
 * file invalid, and any other nonzero value with low bits 0 matches no machine.
 */
function headerByteOrder(data: Uint8Array, base: number, fail: (message: string) => never): ByteOrder | null {
  const flags = data[base + 28] ?? 0;
  if (flags === 0) return null;
  switch (flags & 3) {
    case 2:
      return 'little';
    case 3:
      return 'big';
    case 1:
      return fail(`header flags 0x${hex(flags)} mark the cache invalid; ld.so ignores it`);
    default:
      return fail(`header flags 0x${hex(flags)} name no byte order; ld.so on any machine ignores the cache`);
  }
}

/** `(cachesize - sizeof *cache_new) / sizeof (struct file_entry_new) >= nlibs`, for a block at `base`. */
function newTableFits(data: Uint8Array, base: number, order: ByteOrder): boolean {
  const nlibs = u32(data, base + 20, order === 'little');
  return Math.floor((data.length - base - NEW_HEADER_SIZE) / NEW_ENTRY_SIZE) >= nlibs;
}

/** With no byte order recorded, prefer the reading whose string offsets land inside the file. */
function pickByteOrder(candidates: readonly ByteOrder[], score: (order: ByteOrder) => number): ByteOrder {
  let best = candidates[0] ?? 'little';
  if (candidates.length > 1) {
    let bestScore = -1;
    for (const order of candidates) {
      const s = score(order);
      if (s > bestScore) {
        best = order;
        bestScore = s;
      }
    }
  }
  return best;
}

function newBlockScore(data: Uint8Array, base: number, order: ByteOrder): number {
  const little = order === 'little';
  const nlibs = u32(data, base + 20, little);
  let score = 0;
  for (let i = 0; i < nlibs; i++) {
    const at = base + NEW_HEADER_SIZE + i * NEW_ENTRY_SIZE;
    if (base + u32(data, at + 4, little) < data.length) score++;
    if (base + u32(data, at + 8, little) < data.length) score++;
  }
  return score;
}

function oldTableScore(data: Uint8Array, order: ByteOrder): number {
  const little = order === 'little';
  const nlibs = u32(data, 12, little);
  const stringsAt = OLD_HEADER_SIZE + nlibs * OLD_ENTRY_SIZE;
  let score = 0;
  for (let i = 0; i < nlibs; i++) {
    const at = OLD_HEADER_SIZE + i * OLD_ENTRY_SIZE;
    if (stringsAt + u32(data, at + 4, little) < data.length) score++;
    if (stringsAt + u32(data, at + 8, little) < data.length) score++;
  }
  return score;
}

function readNewBlock(
  data: Uint8Array,
  base: number,
  order: ByteOrder,
  format: 'new' | 'compat',
  strings: StringDecoderBudget,
): LdCache {
  const little = order === 'little';
  const nlibs = u32(data, base + 20, little);
  const entries: LdCacheEntry[] = [];
  for (let i = 0; i < nlibs; i++) {
    const at = base + NEW_HEADER_SIZE + i * NEW_ENTRY_SIZE;
    // String offsets count from this header. ld.so bounds them by the whole file size even in the
    // compat layout ("it is not exact"), where it could read past the end; we bound by the data.
    const keyPos = stringPos(data, base, u32(data, at + 4, little));
    const valuePos = stringPos(data, base, u32(data, at + 8, little));
    const entry: LdCacheEntry = {
      key: strings.display(keyPos),
      value: strings.display(valuePos),
      flags: i32(data, at, little),
      hwcap: u64(data, at + 16, little),
    };
    rawEntries.set(entry, { keyPos, valuePos });
    entries.push(entry);
  }
  const ext = loadExtensions(data, u32(data, base + 32, little), little);
  const cache: LdCache = {
    format,
    byteOrder: order,
    entries,
    hwcapSubdirs: ext.hwcapNamePos.map((pos) => strings.display(pos)),
    generator: ext.generator,
  };
  rawCaches.set(cache, { data, hwcapNamePos: ext.hwcapNamePos });
  return cache;
}

function readOldTable(data: Uint8Array, order: ByteOrder, strings: StringDecoderBudget): LdCache {
  const little = order === 'little';
  const nlibs = u32(data, 12, little);
  // Old-format string offsets count from the end of the entry array.
  const stringsAt = OLD_HEADER_SIZE + nlibs * OLD_ENTRY_SIZE;
  const entries: LdCacheEntry[] = [];
  for (let i = 0; i < nlibs; i++) {
    const at = OLD_HEADER_SIZE + i * OLD_ENTRY_SIZE;
    const keyPos = stringPos(data, stringsAt, u32(data, at + 4, little));
    const valuePos = stringPos(data, stringsAt, u32(data, at + 8, little));
    const entry: LdCacheEntry = {
      key: strings.display(keyPos),
      value: strings.display(valuePos),
      flags: i32(data, at, little),
      hwcap: 0n,
    };
    rawEntries.set(entry, { keyPos, valuePos });
    entries.push(entry);
  }
  const cache: LdCache = { format: 'old', byteOrder: order, entries, hwcapSubdirs: [], generator: null };
  rawCaches.set(cache, { data, hwcapNamePos: [] });
  return cache;
}

/**
 * `_dl_cache_verify_ptr`: an offset at or past the end of the file makes the string unusable. ld.so
 * checks the offset against the size of the whole file even where the strings start further in (the
 * old table, the compat layout), and then reads past the end: the rest of the mapping's last page is
 * zeros there, an empty string (`data.length` stands for it). Past that page it would fault: we call
 * the string unusable. Found by the fuzzer: we gave up a lookup where ld.so read "" and went on.
 */
function stringPos(data: Uint8Array, base: number, offset: number): number {
  const pos = base + offset;
  if (pos < data.length) return pos;
  return offset < data.length && pos < alignUp(data.length, PAGE_SIZE) ? data.length : -1;
}

interface Extensions {
  generator: string | null;
  hwcapNamePos: number[];
}

/**
 * cache_extension_load + cache_extension_verify. Any structural fault makes ld.so drop all
 * extensions (so no glibc-hwcaps entry can be used) but keep the cache.
 */
function loadExtensions(data: Uint8Array, offset: number, little: boolean): Extensions {
  const none: Extensions = { generator: null, hwcapNamePos: [] };
  // extension_offset is a file offset even in the compat layout (dl-cache.h passes the file start).
  if (offset === 0 || offset % 4 !== 0 || offset + 8 > data.length) return none;
  if (u32(data, offset, little) !== EXTENSION_MAGIC) return none;
  const count = u32(data, offset + 4, little);
  if (offset + 8 + count * 16 > data.length) return none;
  const sections: ({ offset: number; size: number } | undefined)[] = [];
  for (let i = 0; i < count; i++) {
    const at = offset + 8 + i * 16;
    const tag = u32(data, at, little);
    const section = { offset: u32(data, at + 8, little), size: u32(data, at + 12, little) };
    if (section.offset + section.size > data.length) return none;
    // Unknown tags are skipped; a repeated tag replaces the earlier one, as in the C loop.
    if (tag === TAG_GENERATOR || tag === TAG_GLIBC_HWCAPS) sections[tag] = section;
  }
  const generator = sections[TAG_GENERATOR];
  let hwcaps = sections[TAG_GLIBC_HWCAPS];
  // The hwcaps section must be non-empty, 4-aligned and a multiple of 4 bytes, else it is ignored.
  if (hwcaps !== undefined && (hwcaps.size === 0 || hwcaps.offset % 4 !== 0 || hwcaps.size % 4 !== 0)) {
    hwcaps = undefined;
  }
  const hwcapNamePos: number[] = [];
  if (hwcaps !== undefined) {
    for (let i = 0; i < hwcaps.size / 4; i++) {
      // glibc_hwcaps_compare reads these relative to the file start, while ldconfig writes them
      // relative to the new-format header. They agree only in the new-only layout: in a compat
      // file the names come out wrong, for ld.so and for `ldconfig -p` alike.
      hwcapNamePos.push(stringPos(data, 0, u32(data, hwcaps.offset + i * 4, little)));
    }
  }
  // Not NUL-terminated: the section size is the length (ldconfig -p fwrites exactly that many bytes).
  // One string, so no budget: its cost is bounded by the file size.
  const text =
    generator === undefined
      ? null
      : utf8Decoder.decode(data.subarray(generator.offset, generator.offset + generator.size));
  return { generator: text, hwcapNamePos };
}

/** Decodes NUL-terminated strings once per offset, within a total budget. */
class StringDecoderBudget {
  private readonly memo = new Map<number, string>();
  private remaining = MAX_DECODED_TOTAL;
  constructor(
    private readonly data: Uint8Array,
    private readonly fail: (message: string) => never,
  ) {}

  display(pos: number): string {
    if (pos < 0) return '';
    const known = this.memo.get(pos);
    if (known !== undefined) return known;
    const window = this.data.subarray(pos, pos + MAX_DISPLAY_STRING);
    const nul = window.indexOf(0);
    const text = this.decode(nul === -1 ? window : window.subarray(0, nul));
    this.memo.set(pos, text);
    return text;
  }

  private decode(bytes: Uint8Array): string {
    this.remaining -= bytes.length;
    if (this.remaining < 0) {
      this.fail(
        `entries point at more than ${MAX_DECODED_TOTAL} bytes of distinct string data; no real cache does ` +
          '(ld.so would still read it)',
      );
    }
    return utf8Decoder.decode(bytes);
  }
}

// ---------------------------------------------------------------------------------------------
// Lookup

/**
 * The path ld.so's `_dl_load_cache_lookup` returns for `name`, or null. ld.so then opens and
 * verifies it; when that fails the search goes on to the default directories.
 */
export function lookupLdCache(cache: LdCache, name: string, options: LdCacheLookupOptions): string | null {
  const raw = rawCaches.get(cache);
  const entries = cache.entries;
  const nameBytes = cString(utf8Encoder.encode(name));
  const accepted = new Set(options.acceptedFlags);
  // `_DL_CACHE_DEFAULT_ID`: the flags value that ends the search at a plain entry. Ports that accept
  // two values (i386 and other generic ports: 1 and 3; ARM: its ABI and 3) keep the generic 3.
  const defaultId = options.acceptedFlags.length === 1 ? options.acceptedFlags[0] : FLAG_ELF_LIBC6;
  // Entries of the old format are 12 bytes: no hwcap field, so none of the hwcap rules apply.
  const hasHwcap = cache.format !== 'old';
  const cpuIsa = isaMask(options.isaLevel);
  // 2.36's hwcap_exclude also spares _DL_HWCAP_PLATFORM, whatever the CPU: on x86 the four platform
  // bits from 48 (i586, i686, haswell, xeon_phi). Found by the fuzzer with ld.so as the judge.
  const platformBits = options.acceptedFlags.some((flags) => X86_FLAGS.has(flags)) ? X86_PLATFORM_BITS : 0n;
  const legacyAllowed =
    options.legacyHwcap === null ? null : (options.legacyHwcap | HWCAP_TLS | platformBits) & U64_MASK;
  let priorities: number[] | null = null;

  const keyAt = (index: number): Uint8Array | null => {
    const entry = entries[index];
    if (entry === undefined) return null;
    const rawEntry = raw === undefined ? undefined : rawEntries.get(entry);
    if (raw === undefined || rawEntry === undefined) return cString(utf8Encoder.encode(entry.key));
    return rawEntry.keyPos < 0 ? null : raw.data.subarray(rawEntry.keyPos);
  };
  const valueAt = (entry: LdCacheEntry): string | null => {
    const rawEntry = raw === undefined ? undefined : rawEntries.get(entry);
    if (raw === undefined || rawEntry === undefined) return entry.value;
    if (rawEntry.valuePos < 0) return null;
    return utf8Decoder.decode(cString(raw.data.subarray(rawEntry.valuePos)));
  };

  // search_cache: a binary search over the descending libcmp order, then a walk over the run of
  // equal names. ld.so gives up entirely when it meets an unusable key during the search.
  let left = 0;
  let right = entries.length - 1;
  let best: string | null = null;
  let bestPriority = 0;
  while (left <= right) {
    let middle = Math.floor((left + right) / 2);
    const key = keyAt(middle);
    if (key === null) return null;
    const cmp = libcmpBytes(nameBytes, key);
    if (cmp === 0) {
      // LEFT marks the last entry known to match; step back to the first entry of the run.
      left = middle;
      while (middle > 0) {
        const previous = keyAt(middle - 1);
        if (previous === null || libcmpBytes(nameBytes, previous) !== 0) break;
        middle--;
      }
      do {
        if (middle > left) {
          const next = keyAt(middle);
          if (next === null || libcmpBytes(nameBytes, next) !== 0) break;
        }
        const entry = entries[middle];
        if (entry === undefined || !accepted.has(entry.flags)) continue;
        const value = valueAt(entry);
        if (value === null) continue;
        let named = false;
        if (hasHwcap) {
          const high = Number((entry.hwcap >> 32n) & 0xffff_ffffn);
          named = (high & ~ISA_LEVEL_MASK) >>> 0 === HWCAP_EXTENSION_HIGH;
          // dl_cache_hwcap_isa_level_compatible: `1 << level` must be among the CPU's isa_1 bits.
          // JavaScript masks the shift count to 5 bits exactly as the x86 shift instruction does.
          if (named) {
            const bit = 1 << (high & ISA_LEVEL_MASK);
            if ((bit & cpuIsa) !== bit) continue;
          }
          // glibc-hwcaps entries sort before the plain ones: the first plain entry that passes the
          // flags check ends the walk once something has been chosen.
          if (!named && best !== null) break;
          if (!named && entry.hwcap !== 0n) {
            // 2.36: legacy bits must be a subset of the CPU's (TLS always allowed); 2.37+: skipped.
            if (legacyAllowed === null || (entry.hwcap & ~legacyAllowed & U64_MASK) !== 0n) continue;
          }
          if (named) {
            priorities ??= hwcapsPriorities(cache, raw, options.activeHwcaps);
            const priority = priorities[Number(entry.hwcap & 0xffff_ffffn)] ?? 0;
            if (priority === 0) continue;
            if (best !== null && priority >= bestPriority) continue;
            bestPriority = priority;
          }
        }
        best = value;
        // An exact-ABI plain entry cannot be bettered; otherwise keep looking.
        if (!named && entry.flags === defaultId) break;
      } while (++middle <= right);
      break;
    }
    if (cmp < 0) left = middle + 1;
    else right = middle - 1;
  }
  // An entry whose path is empty still ends the walk, but ld.so's open("") fails with ENOENT and
  // the search goes on to the default directories, exactly as when the cache has no entry. Found by
  // the fuzzer: taken as a path, "" named the root directory, which the loader would stop at.
  return best === '' ? null : best;
}

/** The CPU's isa_1 bits for a level (bit 0 baseline ... bit 3 v4); 31 or more accepts every level. */
function isaMask(level: number): number {
  if (level >= 31) return -1;
  if (!(level >= 0)) return 0;
  return ((1 << (Math.floor(level) + 1)) - 1) | 0;
}

/**
 * glibc_hwcaps_priorities_init: merges the cache's name array (sorted by strcmp when ldconfig wrote
 * it) with the active names sorted by name, giving each cache name its rank (1 = best) or 0.
 */
function hwcapsPriorities(cache: LdCache, raw: RawCache | undefined, active: readonly string[]): number[] {
  const names: (Uint8Array | null)[] =
    raw === undefined
      ? cache.hwcapSubdirs.map((n) => cString(utf8Encoder.encode(n)))
      : raw.hwcapNamePos.map((pos) => (pos < 0 ? null : cString(raw.data.subarray(pos))));
  // _dl_hwcaps_split skips empty elements; the insertion sort in dl-hwcaps.c is stable, so a name
  // given twice keeps its better rank.
  const ranked = active
    .filter((n) => n.length > 0)
    .map((n, i) => ({ bytes: utf8Encoder.encode(n), priority: i + 1 }))
    .sort((a, b) => compareBytes(a.bytes, b.bytes));
  const result = new Array<number>(names.length).fill(0);
  let l = 0;
  let r = 0;
  while (l < names.length && r < ranked.length) {
    const name = names[l];
    const candidate = ranked[r];
    if (candidate === undefined) break;
    if (name === null || name === undefined) {
      // glibc does not advance here (it loops writing past its array); the name is simply unusable.
      l++;
      continue;
    }
    const cmp = compareBytes(name, candidate.bytes);
    if (cmp === 0) {
      result[l++] = candidate.priority;
      r++;
    } else if (cmp < 0) {
      l++;
    } else {
      r++;
    }
  }
  return result;
}

// ---------------------------------------------------------------------------------------------
// Comparison

/**
 * `_dl_cache_libcmp` on the UTF-8 bytes of both strings: runs of digits compare numerically (so
 * "01" equals "1"), a digit sorts above a non-digit, other bytes compare as C `char`.
 */
export function libcmp(a: string, b: string): number {
  return libcmpBytes(cString(utf8Encoder.encode(a)), cString(utf8Encoder.encode(b)));
}

/**
 * Reads past the end of either array as NUL, as a zero-filled page tail would. Bytes compare as
 * signed `char`, as on x86, where ldconfig sorted the caches we check against ("libé" < "liba").
 * Digit runs accumulate in a wrapping 32-bit int, like the C code.
 */
function libcmpBytes(p1: Uint8Array, p2: Uint8Array): number {
  let i = 0;
  let j = 0;
  for (;;) {
    const c1 = p1[i] ?? 0;
    if (c1 === 0) break;
    const c2 = p2[j] ?? 0;
    if (isDigit(c1)) {
      if (!isDigit(c2)) return 1;
      let v1 = c1 - 48;
      let v2 = c2 - 48;
      i++;
      j++;
      for (let d = p1[i] ?? 0; isDigit(d); d = p1[++i] ?? 0) v1 = (Math.imul(v1, 10) + d - 48) | 0;
      for (let d = p2[j] ?? 0; isDigit(d); d = p2[++j] ?? 0) v2 = (Math.imul(v2, 10) + d - 48) | 0;
      if (v1 !== v2) return (v1 - v2) | 0;
    } else if (isDigit(c2)) {
      return -1;
    } else if (c1 !== c2) {
      return signedChar(c1) - signedChar(c2);
    } else {
      i++;
      j++;
    }
  }
  return 0 - signedChar(p2[j] ?? 0);
}

function isDigit(c: number): boolean {
  return c >= 0x30 && c <= 0x39;
}

function signedChar(c: number): number {
  return c >= 0x80 ? c - 0x100 : c;
}

/** memcmp over the shorter length, then the shorter sorts first (glibc_hwcaps_compare). */
function compareBytes(a: Uint8Array, b: Uint8Array): number {
  const n = Math.min(a.length, b.length);
  for (let k = 0; k < n; k++) {
    const d = (a[k] ?? 0) - (b[k] ?? 0);
    if (d !== 0) return d;
  }
  return a.length - b.length;
}

// ---------------------------------------------------------------------------------------------
// ABI flags

// e_machine values (elf.h).
const EM_SPARC = 2;
const EM_386 = 3;
const EM_68K = 4;
const EM_MIPS = 8;
const EM_PARISC = 15;
const EM_SPARC32PLUS = 18;
const EM_PPC = 20;
const EM_PPC64 = 21;
const EM_S390 = 22;
const EM_ARM = 40;
const EM_SH = 42;
const EM_SPARCV9 = 43;
const EM_IA_64 = 50;
const EM_X86_64 = 62;
const EM_OPENRISC = 92;
const EM_ALTERA_NIOS2 = 113;
const EM_AARCH64 = 183;
const EM_MICROBLAZE = 189;
const EM_ARCV2 = 195;
const EM_RISCV = 243;
const EM_CSKY = 252;
const EM_LOONGARCH = 258;
const EM_ALPHA = 0x9026;

/** Ports without their own dl-cache.h use the generic check: flags 1 (ELF) or 3 (libc6). */
const GENERIC_FLAGS: readonly number[] = [0x0001, 0x0003];
const GENERIC_MACHINES = new Set([
  EM_SPARC,
  EM_386,
  EM_68K,
  EM_PARISC,
  EM_SPARC32PLUS,
  EM_PPC,
  EM_S390,
  EM_SH,
  EM_OPENRISC,
  EM_ALTERA_NIOS2,
  EM_MICROBLAZE,
  EM_ARCV2,
  EM_CSKY,
  EM_ALPHA,
]);

/**
 * The cache flags the loader for a main program of this class, machine and e_flags accepts
 * (sysdeps/unix/sysv/linux/<arch>/dl-cache.h, `_dl_cache_check_flags`). [] for machines glibc has
 * no loader for.
 */
export function abiCacheFlags(elfClass: 32 | 64, machine: number, eFlags: number): number[] {
  switch (machine) {
    case EM_X86_64:
      return elfClass === 64 ? [0x0303] : [0x0803]; // x86-64, x32
    case EM_AARCH64:
      return elfClass === 64 ? [0x0a03] : []; // ILP32 never reached glibc
    case EM_PPC64:
      return elfClass === 64 ? [0x0503] : [];
    case EM_S390:
      return elfClass === 64 ? [0x0403] : [...GENERIC_FLAGS];
    case EM_SPARCV9:
      return elfClass === 64 ? [0x0103] : [...GENERIC_FLAGS];
    case EM_IA_64:
      return elfClass === 64 ? [0x0203] : [];
    case EM_ARM:
      // Unmarked (0x0003) objects are accepted by both float ABIs. EF_ARM_ABI_FLOAT_HARD = 0x400.
      if (elfClass !== 32) return [];
      return (eFlags & 0x400) !== 0 ? [0x0903, 0x0003] : [0x0b03, 0x0003];
    case EM_RISCV:
      // EF_RISCV_FLOAT_ABI (0x6): soft 0, double 4; glibc has no single- or quad-float ABI.
      switch (eFlags & 0x6) {
        case 0x0:
          return [0x0f03];
        case 0x4:
          return [0x1003];
        default:
          return [];
      }
    case EM_LOONGARCH:
      // EF_LOONGARCH_ABI_MODIFIER_MASK (0x7): soft 1, double 3 (glibc master; before ldconfig
      // support landed the port used the generic check).
      switch (eFlags & 0x7) {
        case 0x1:
          return [0x1103];
        case 0x3:
          return [0x1203];
        default:
          return [];
      }
    case EM_MIPS: {
      // EF_MIPS_NAN2008 = 0x400, EF_MIPS_ABI2 (n32) = 0x20. Legacy-NaN o32 keeps the generic check.
      const nan2008 = (eFlags & 0x400) !== 0;
      if (elfClass === 64) return [nan2008 ? 0x0e03 : 0x0703];
      if ((eFlags & 0x20) !== 0) return [nan2008 ? 0x0d03 : 0x0603];
      return nan2008 ? [0x0c03] : [...GENERIC_FLAGS];
    }
    default:
      if (GENERIC_MACHINES.has(machine)) {
        // The 64-bit generic port is alpha; the rest are 32-bit only.
        const expected = machine === EM_ALPHA ? 64 : 32;
        return elfClass === expected ? [...GENERIC_FLAGS] : [];
      }
      return [];
  }
}

// ---------------------------------------------------------------------------------------------
// Bytes

function hasMagic(data: Uint8Array, at: number, magic: string): boolean {
  if (at < 0 || at + magic.length > data.length) return false;
  for (let k = 0; k < magic.length; k++) {
    if (data[at + k] !== magic.charCodeAt(k)) return false;
  }
  return true;
}

/** Reads outside the data yield zero bytes; callers check bounds first, this only keeps it total. */
function u32(data: Uint8Array, at: number, little: boolean): number {
  const b0 = data[at] ?? 0;
  const b1 = data[at + 1] ?? 0;
  const b2 = data[at + 2] ?? 0;
  const b3 = data[at + 3] ?? 0;
  return little
    ? (b0 | (b1 << 8) | (b2 << 16) | (b3 << 24)) >>> 0
    : ((b0 << 24) | (b1 << 16) | (b2 << 8) | b3) >>> 0;
}

function i32(data: Uint8Array, at: number, little: boolean): number {
  return u32(data, at, little) | 0;
}

function u64(data: Uint8Array, at: number, little: boolean): bigint {
  const lo = BigInt(u32(data, little ? at : at + 4, little));
  const hi = BigInt(u32(data, little ? at + 4 : at, little));
  return (hi << 32n) | lo;
}

/** The bytes up to the first NUL (or the end). */
function cString(bytes: Uint8Array): Uint8Array {
  const nul = bytes.indexOf(0);
  return nul === -1 ? bytes : bytes.subarray(0, nul);
}

function alignUp(value: number, alignment: number): number {
  return Math.ceil(value / alignment) * alignment;
}

function hex(value: number): string {
  return value.toString(16).padStart(2, '0');
}
