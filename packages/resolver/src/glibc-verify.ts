/**
 * glibc's checks on a candidate file before it maps it (elf/dl-load.c open_verify), as a pure
 * function of the file's first bytes. A failed check either skips the candidate (the search goes
 * on) or is fatal (the program does not start): docs/loader.md §8.
 */
export type Verdict =
  | { readonly kind: 'accept' }
  | { readonly kind: 'skip'; readonly reason: string }
  | { readonly kind: 'fatal'; readonly reason: string };

export interface HostAbi {
  readonly class: 32 | 64;
  readonly byteOrder: 'little' | 'big';
  readonly machine: number;
}

const ACCEPT: Verdict = { kind: 'accept' };

/** ELFOSABI_SYSV and ELFOSABI_GNU; LIBC_ABI_MAX is 4 on x86_64 (sysdeps/generic/ldsodefs.h). */
const OSABI_SYSV = 0;
const OSABI_GNU = 3;
const LIBC_ABI_MAX = 4;

export function verifyGlibcCandidate(ident: Uint8Array, host: HostAbi): Verdict {
  const headerSize = host.class === 64 ? 64 : 52;
  if (ident.length < headerSize) return { kind: 'fatal', reason: 'file too short' };
  if (ident[0] !== 0x7f || ident[1] !== 0x45 || ident[2] !== 0x4c || ident[3] !== 0x46) {
    return { kind: 'fatal', reason: 'invalid ELF header' };
  }
  const wantClass = host.class === 64 ? 2 : 1;
  if (ident[4] !== wantClass)
    return { kind: 'skip', reason: `wrong ELF class: ELFCLASS${ident[4] === 1 ? 32 : 64}` };
  const wantData = host.byteOrder === 'little' ? 1 : 2;
  if (ident[5] !== wantData) return { kind: 'fatal', reason: 'ELF file data encoding not little-endian' };
  if (ident[6] !== 1) return { kind: 'fatal', reason: 'ELF file version ident does not match current one' };
  const osabi = ident[7]!;
  if (osabi !== OSABI_SYSV && osabi !== OSABI_GNU)
    return { kind: 'fatal', reason: 'ELF file OS ABI invalid' };
  const abiVersion = ident[8]!;
  if (osabi === OSABI_SYSV ? abiVersion !== 0 : abiVersion >= LIBC_ABI_MAX) {
    return { kind: 'fatal', reason: 'ELF file ABI version invalid' };
  }
  if (!ident.subarray(9, 16).every((byte) => byte === 0))
    return { kind: 'fatal', reason: 'nonzero padding in e_ident' };
  const view = new DataView(ident.buffer, ident.byteOffset, ident.byteLength);
  const little = host.byteOrder === 'little';
  if (view.getUint32(20, little) !== 1)
    return { kind: 'fatal', reason: 'ELF file version does not match current one' };
  if (view.getUint16(18, little) !== host.machine) return { kind: 'skip', reason: 'wrong machine' };
  const type = view.getUint16(16, little);
  if (type !== 2 && type !== 3) return { kind: 'fatal', reason: 'only ET_DYN and ET_EXEC can be loaded' };
  const phentsize = view.getUint16(host.class === 64 ? 54 : 42, little);
  if (phentsize !== (host.class === 64 ? 56 : 32))
    return { kind: 'fatal', reason: "ELF file's phentsize not the expected size" };
  return ACCEPT;
}

/** The page size glibc rounds segments to on x86-64 (GLRO(dl_pagesize)). */
const PAGE = 4096n;

/**
 * glibc's checks on a library's PT_LOAD segments before and while it maps them (elf/dl-load.c
 * _dl_map_object_from_fd, elf/dl-map-segments.h), those that depend only on the file: null when
 * they pass, else ld.so's message (fatal). Whether the mmap calls themselves succeed ("failed to
 * map segment", "cannot map zero-fill pages") depends on the address space and on how much memory
 * the machine lets a process reserve, so it is not judged here.
 */
export function glibcSegmentProblem(
  loads: readonly { vaddr: bigint; offset: bigint; filesz: bigint; memsz: bigint }[],
  wordBits: 32 | 64,
): string | null {
  if (loads.length === 0) return 'object file has no loadable segments';
  const wrap = (value: bigint) => BigInt.asUintN(wordBits, value);
  for (const load of loads) {
    if (wrap(load.vaddr - load.offset) % PAGE !== 0n)
      return 'ELF load command address/offset not page-aligned';
  }
  // Segments with a gap between them are mapped as one reservation whose gap is made inaccessible,
  // which glibc does only when the last segment starts past the first one's file pages.
  const mapStart = (load: (typeof loads)[number]) => load.vaddr & ~(PAGE - 1n);
  const mapEnd = (load: (typeof loads)[number]) => wrap(load.vaddr + load.filesz + PAGE - 1n) & ~(PAGE - 1n);
  let holes = false;
  for (let i = 1; i < loads.length; i++) if (mapEnd(loads[i - 1]!) !== mapStart(loads[i]!)) holes = true;
  if (holes && mapStart(loads[loads.length - 1]!) < mapEnd(loads[0]!)) {
    return 'ELF load command address/offset not page-aligned';
  }
  return null;
}
