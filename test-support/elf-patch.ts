/**
 * Small binary edits of real ELF64 little-endian files (gcc and musl-gcc output on x86-64), for the
 * mutants the loaders must judge: a field of PT_DYNAMIC changed, a DT_NEEDED name or its offset
 * rewritten. Each edit locates what it changes from the program headers and the dynamic section as
 * the file has them, and throws when the file is not what it expects, so a test cannot edit the
 * wrong bytes quietly.
 */
import { chmodSync, readFileSync, writeFileSync } from 'node:fs';

const PT_LOAD = 1;
const PT_DYNAMIC = 2;
const DT_NEEDED = 1n;
const DT_STRTAB = 5n;

interface Segment {
  /** Where its program header starts in the file. */
  readonly header: number;
  readonly offset: bigint;
  readonly vaddr: bigint;
  readonly filesz: bigint;
  readonly memsz: bigint;
}

function segments(data: Buffer, type: number): Segment[] {
  if (data.readUInt32BE(0) !== 0x7f454c46 || data[4] !== 2 || data[5] !== 1) {
    throw new Error('elf-patch edits ELF64 little-endian files only');
  }
  const phoff = Number(data.readBigUInt64LE(32));
  const found: Segment[] = [];
  for (let index = 0; index < data.readUInt16LE(56); index++) {
    const header = phoff + index * 56;
    if (data.readUInt32LE(header) !== type) continue;
    found.push({
      header,
      offset: data.readBigUInt64LE(header + 8),
      vaddr: data.readBigUInt64LE(header + 16),
      filesz: data.readBigUInt64LE(header + 32),
      memsz: data.readBigUInt64LE(header + 40),
    });
  }
  return found;
}

function dynamicSegment(data: Buffer): Segment {
  const [dynamic] = segments(data, PT_DYNAMIC);
  if (dynamic === undefined) throw new Error('no PT_DYNAMIC');
  return dynamic;
}

/** File offset of a virtual address inside a PT_LOAD's file bytes. */
function fileOffset(data: Buffer, address: bigint): number {
  const load = segments(data, PT_LOAD).find(
    (segment) => address >= segment.vaddr && address < segment.vaddr + segment.filesz,
  );
  if (load === undefined) throw new Error(`0x${address.toString(16)} is in no PT_LOAD's file bytes`);
  return Number(load.offset + address - load.vaddr);
}

/** The DT_NEEDED entries: where each entry's value sits in the file, and the name's offset and bytes. */
function neededEntries(data: Buffer): { valueAt: number; nameAt: number; name: Buffer }[] {
  const dynamic = dynamicSegment(data);
  const entries: { tag: bigint; valueAt: number }[] = [];
  for (let at = Number(dynamic.offset); ; at += 16) {
    const tag = data.readBigUInt64LE(at);
    if (tag === 0n) break;
    entries.push({ tag, valueAt: at + 8 });
  }
  const strtab = entries.find((entry) => entry.tag === DT_STRTAB);
  if (strtab === undefined) throw new Error('no DT_STRTAB');
  const table = fileOffset(data, data.readBigUInt64LE(strtab.valueAt));
  return entries
    .filter((entry) => entry.tag === DT_NEEDED)
    .map(({ valueAt }) => {
      const nameAt = table + Number(data.readBigUInt64LE(valueAt));
      return { valueAt, nameAt, name: data.subarray(nameAt, data.indexOf(0, nameAt)) };
    });
}

function neededEntry(data: Buffer, name: string) {
  const entry = neededEntries(data).find((candidate) => candidate.name.equals(Buffer.from(name)));
  if (entry === undefined) throw new Error(`no DT_NEEDED ${name}`);
  return entry;
}

/** Copies `from` to `to` (executable) with `edit` applied to its bytes. */
export function patchElf(from: string, to: string, edit: (data: Buffer) => void): string {
  const data = Buffer.from(readFileSync(from));
  edit(data);
  writeFileSync(to, data);
  chmodSync(to, 0o755);
  return to;
}

/** Sets fields of the PT_DYNAMIC program header. */
export function setDynamicSegment(
  data: Buffer,
  fields: { offset?: bigint; vaddr?: bigint; filesz?: bigint; memsz?: bigint },
): void {
  const { header } = dynamicSegment(data);
  const at = { offset: 8, vaddr: 16, filesz: 32, memsz: 40 } as const;
  for (const [field, value] of Object.entries(fields) as [keyof typeof at, bigint][]) {
    data.writeBigUInt64LE(value, header + at[field]);
  }
}

/** The address of the zero-filled tail of the writable PT_LOAD (its .bss), at least 16 bytes long. */
export function zeroFilledAddress(data: Buffer): bigint {
  const load = segments(data, PT_LOAD).find((segment) => segment.memsz >= segment.filesz + 16n);
  if (load === undefined) throw new Error('no PT_LOAD with 16 zero-filled bytes');
  return load.vaddr + load.filesz;
}

/** Makes the DT_NEEDED entry `name` name the empty string (its value moved to the name's own NUL). */
export function emptyNeeded(data: Buffer, name: string): void {
  const entry = neededEntry(data, name);
  const value = data.readBigUInt64LE(entry.valueAt);
  data.writeBigUInt64LE(value + BigInt(entry.name.length), entry.valueAt);
}

/** Overwrites the DT_NEEDED name `name` in the string table with `bytes` of the same length. */
export function renameNeeded(data: Buffer, name: string, bytes: Buffer): void {
  const entry = neededEntry(data, name);
  if (bytes.length !== entry.name.length) throw new Error('the new name must have the same length');
  bytes.copy(data, entry.nameAt);
}

/** Sets the string-table offset of the DT_NEEDED entry `name` to `value`. */
export function setNeededOffset(data: Buffer, name: string, value: bigint): void {
  data.writeBigUInt64LE(value, neededEntry(data, name).valueAt);
}

/** Sets the value of the first dynamic entry tagged `tag` (DT_STRSZ 10, DT_SONAME 14, ...). */
export function setDynamicValue(data: Buffer, tag: bigint, value: bigint): void {
  const dynamic = dynamicSegment(data);
  for (let at = Number(dynamic.offset); ; at += 16) {
    const found = data.readBigUInt64LE(at);
    if (found === 0n) throw new Error(`no dynamic entry with tag ${tag}`);
    if (found === tag) {
      data.writeBigUInt64LE(value, at + 8);
      return;
    }
  }
}

/** Sets fields of the `index`th PT_LOAD program header (0: the first). */
export function setLoadSegment(
  data: Buffer,
  index: number,
  fields: { vaddr?: bigint; offset?: bigint },
): void {
  const load = segments(data, PT_LOAD)[index];
  if (load === undefined) throw new Error(`no PT_LOAD number ${index}`);
  if (fields.offset !== undefined) data.writeBigUInt64LE(fields.offset, load.header + 8);
  if (fields.vaddr !== undefined) data.writeBigUInt64LE(fields.vaddr, load.header + 16);
}

/** The `index`th PT_LOAD as the file has it. */
export function loadSegment(data: Buffer, index: number): { offset: bigint; vaddr: bigint } {
  const load = segments(data, PT_LOAD)[index];
  if (load === undefined) throw new Error(`no PT_LOAD number ${index}`);
  return load;
}

/** Changes the tag of the DT_NEEDED entry `name` (to DT_FILTER 0x7fffffff, say). */
export function setNeededTag(data: Buffer, name: string, tag: bigint): void {
  data.writeBigUInt64LE(tag, neededEntry(data, name).valueAt - 8);
}
