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
