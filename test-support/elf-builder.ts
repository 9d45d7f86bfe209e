/**
 * Writes synthetic ELF files byte by byte from the format's published layout, for the variants no
 * compiler here produces (big-endian, other machines, corrupt fields). Tests check these files with
 * binutils' `readelf`, an independent reader, so the builder cannot quietly agree with our parser.
 */
export interface SyntheticElf {
  class: 32 | 64;
  byteOrder: 'little' | 'big';
  machine: number;
  type?: number;
  osabi?: number;
  interpreter?: string;
  needed?: string[];
  soname?: string;
  rpath?: string;
  runpath?: string;
  flags1?: number;
  /** Where the image is linked: PT_LOAD maps file offset 0 at this address. */
  baseAddress?: number;
}

const DT = {
  NULL: 0,
  NEEDED: 1,
  STRTAB: 5,
  STRSZ: 10,
  SONAME: 14,
  RPATH: 15,
  RUNPATH: 29,
  FLAGS_1: 0x6ffffffb,
};

export function buildElf(spec: SyntheticElf): Uint8Array {
  const wide = spec.class === 64;
  const little = spec.byteOrder === 'little';
  const ehdrSize = wide ? 64 : 52;
  const phdrSize = wide ? 56 : 32;
  const dynSize = wide ? 16 : 8;
  const base = spec.baseAddress ?? 0x400000;

  // String table: offset 0 is the empty string, as linkers write it.
  const strings: number[] = [0];
  const intern = (text: string): number => {
    const offset = strings.length;
    strings.push(...Buffer.from(text, 'utf8'), 0);
    return offset;
  };
  const dynamic: [number, number][] = [];
  for (const name of spec.needed ?? []) dynamic.push([DT.NEEDED, intern(name)]);
  if (spec.soname !== undefined) dynamic.push([DT.SONAME, intern(spec.soname)]);
  if (spec.rpath !== undefined) dynamic.push([DT.RPATH, intern(spec.rpath)]);
  if (spec.runpath !== undefined) dynamic.push([DT.RUNPATH, intern(spec.runpath)]);
  if (spec.flags1 !== undefined) dynamic.push([DT.FLAGS_1, spec.flags1]);

  const programCount = 2 + (spec.interpreter === undefined ? 0 : 1);
  const interpOffset = ehdrSize + programCount * phdrSize;
  const interpBytes = spec.interpreter === undefined ? [] : [...Buffer.from(spec.interpreter), 0];
  const strtabOffset = interpOffset + interpBytes.length;
  const dynamicOffset = Math.ceil((strtabOffset + strings.length) / 8) * 8;
  dynamic.push([DT.STRTAB, base + strtabOffset], [DT.STRSZ, strings.length], [DT.NULL, 0]);
  const size = dynamicOffset + dynamic.length * dynSize;

  const out = Buffer.alloc(size);
  const u16 = (at: number, v: number) => (little ? out.writeUInt16LE(v, at) : out.writeUInt16BE(v, at));
  const u32 = (at: number, v: number) => (little ? out.writeUInt32LE(v, at) : out.writeUInt32BE(v, at));
  const word = (at: number, v: number) => {
    if (wide) little ? out.writeBigUInt64LE(BigInt(v), at) : out.writeBigUInt64BE(BigInt(v), at);
    else u32(at, v);
  };

  out.set([0x7f, 0x45, 0x4c, 0x46, wide ? 2 : 1, little ? 1 : 2, 1, spec.osabi ?? 0], 0);
  u16(16, spec.type ?? 3);
  u16(18, spec.machine);
  u32(20, 1);
  word(24, 0); // e_entry
  word(wide ? 32 : 28, ehdrSize); // e_phoff
  word(wide ? 40 : 32, 0); // e_shoff: no section headers, like a stripped file
  u16(wide ? 52 : 40, ehdrSize);
  u16(wide ? 54 : 42, phdrSize);
  u16(wide ? 56 : 44, programCount);
  u16(wide ? 58 : 46, wide ? 64 : 40);

  const programs: { type: number; offset: number; filesz: number }[] = [];
  if (spec.interpreter !== undefined)
    programs.push({ type: 3, offset: interpOffset, filesz: interpBytes.length });
  programs.push({ type: 1, offset: 0, filesz: size });
  programs.push({ type: 2, offset: dynamicOffset, filesz: dynamic.length * dynSize });
  programs.forEach((program, index) => {
    const at = ehdrSize + index * phdrSize;
    u32(at, program.type);
    if (wide) {
      u32(at + 4, 4); // p_flags
      word(at + 8, program.offset);
      word(at + 16, base + program.offset);
      word(at + 24, base + program.offset);
      word(at + 32, program.filesz);
      word(at + 40, program.filesz);
      word(at + 48, program.type === 1 ? 0x1000 : 1);
    } else {
      word(at + 4, program.offset);
      word(at + 8, base + program.offset);
      word(at + 12, base + program.offset);
      word(at + 16, program.filesz);
      word(at + 20, program.filesz);
      u32(at + 24, 4);
      word(at + 28, program.type === 1 ? 0x1000 : 1);
    }
  });
  out.set(interpBytes, interpOffset);
  out.set(strings, strtabOffset);
  dynamic.forEach(([tag, value], index) => {
    const at = dynamicOffset + index * dynSize;
    word(at, tag);
    word(at + (wide ? 8 : 4), value);
  });
  return out;
}
