/// <reference path="./elfy.d.ts" />
import { spawnSync } from 'node:child_process';
import { readdirSync, readFileSync, statSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import elfy from 'elfy';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { buildElf } from '../../../test-support/elf-builder.js';
import { compile, programSource, tempDir } from '../../../test-support/fixtures.js';
import { readHeaders } from './header.js';
import { BufferSource, FileSource } from './source.js';
import type { ProgramHeader } from './types.js';

const temp = tempDir('dit-elf-header-');
afterAll(() => temp.cleanup());
const at = (name: string) => join(temp.path, name);

/** p_type numbers for the names readelf prints (gABI and GNU), so readelf stays the judge of p_type too. */
const READELF_TYPES: Record<string, number> = {
  NULL: 0,
  LOAD: 1,
  DYNAMIC: 2,
  INTERP: 3,
  NOTE: 4,
  SHLIB: 5,
  PHDR: 6,
  TLS: 7,
  GNU_EH_FRAME: 0x6474e550,
  GNU_STACK: 0x6474e551,
  GNU_RELRO: 0x6474e552,
  GNU_PROPERTY: 0x6474e553,
  GNU_SFRAME: 0x6474e554,
};
function readelfType(name: string): number {
  const relative = name.match(/^(LOOS|LOPROC)\+0x([0-9a-f]+)$/);
  if (relative !== null)
    return (relative[1] === 'LOOS' ? 0x60000000 : 0x70000000) + Number.parseInt(relative[2]!, 16);
  const number = READELF_TYPES[name];
  if (number === undefined) throw new Error(`readelf printed a p_type this test has no number for: ${name}`);
  return number;
}

/** readelf -lW's program headers, every value exact (readelf prints them in hex). */
function readelfPrograms(path: string): ProgramHeader[] {
  // readelf exits non-zero on files it finds damaged but still prints the table: judge its stdout.
  const out = spawnSync('readelf', ['-lW', path], { encoding: 'utf8' }).stdout;
  const table = out.slice(out.indexOf('Program Headers:'));
  const row = /^ {2}(\S+)\s+0x([0-9a-f]+) 0x([0-9a-f]+) 0x[0-9a-f]+ 0x([0-9a-f]+) 0x([0-9a-f]+) /gm;
  return [...table.matchAll(row)].map((m) => ({
    type: readelfType(m[1]!),
    offset: BigInt(`0x${m[2]}`),
    vaddr: BigInt(`0x${m[3]}`),
    filesz: BigInt(`0x${m[4]}`),
    memsz: BigInt(`0x${m[5]}`),
  }));
}

function headersOf(path: string) {
  return FileSource.with(path, (source) => readHeaders(source));
}

describe('the header and program headers, decoded by elfy, equal readelf on real files', () => {
  beforeAll(() => {
    compile(programSource(), at('pie'));
    compile(programSource(), at('static'), { flags: ['-static'] });
    compile(programSource(), at('static-pie'), { flags: ['-static-pie'] });
    compile(programSource(), at('musl'), { compiler: 'musl-gcc' });
    compile('int f(void){return 1;}', at('lib32.so'), { flags: ['-shared', '-m32', '-nostdlib'] });
  });

  it.each(['pie', 'static', 'static-pie', 'musl', 'lib32.so'])('%s', (name) => {
    const { header, programs } = headersOf(at(name));
    const oracle = readelfPrograms(at(name));
    expect(oracle.length).toBeGreaterThan(2);
    expect(programs).toEqual(oracle);
    expect(header.phnum).toBe(oracle.length);
  });

  it('every 25th ELF file of /usr/lib/x86_64-linux-gnu and /usr/bin', () => {
    const files = ['/usr/lib/x86_64-linux-gnu', '/usr/bin'].flatMap((dir) =>
      readdirSync(dir)
        .sort()
        .map((name) => join(dir, name))
        .filter((path) => {
          try {
            return (
              statSync(path).isFile() && readFileSync(path).subarray(0, 4).toString('latin1') === '\x7fELF'
            );
          } catch {
            return false;
          }
        }),
    );
    const sample = files.filter((_, index) => index % 25 === 0);
    expect(sample.length).toBeGreaterThan(10);
    for (const path of sample) {
      expect(headersOf(path).programs, path).toEqual(readelfPrograms(path));
    }
  });
});

describe('ELF64 words above 2^53, which elfy rounds, are read again exactly', () => {
  // Program header 1 of a builder file (no interpreter) is PT_DYNAMIC: its four words get values on
  // both sides of Number.MAX_SAFE_INTEGER.
  const words = {
    offset: 2n ** 53n + 1n, // elfy: 2^53
    vaddr: 2n ** 64n - 1n, // elfy: 2^64
    filesz: 2n ** 63n + 1n, // elfy: 2^63
    memsz: 2n ** 53n - 1n, // the largest word elfy gives exactly
  };
  it.each(['little', 'big'] as const)('%s-endian, as readelf prints them', (byteOrder) => {
    const data = Buffer.from(
      buildElf({ class: 64, byteOrder, machine: byteOrder === 'little' ? 62 : 21, needed: ['a'] }),
    );
    const entry = 64 + 56;
    const write = (value: bigint, offset: number) =>
      byteOrder === 'little' ? data.writeBigUInt64LE(value, offset) : data.writeBigUInt64BE(value, offset);
    write(words.offset, entry + 8);
    write(words.vaddr, entry + 16);
    write(words.filesz, entry + 32);
    write(words.memsz, entry + 40);

    // What elfy alone makes of them: the reason for the correction.
    const parser = new elfy.Parser();
    const decoded = parser.parsePrograms(data, parser.parseHeader(data))[1]!;
    expect(decoded.offset).toBe(2 ** 53);
    expect(decoded.vaddr).toBe(2 ** 64);
    expect(decoded.memsz).toBe(2 ** 53 - 1);

    const programs = readHeaders(new BufferSource('words.so', data)).programs;
    expect(programs[1]).toEqual({ type: 2, ...words });
    writeFileSync(at(`words-${byteOrder}`), data);
    expect(programs).toEqual(readelfPrograms(at(`words-${byteOrder}`)));
  });

  it('e_phoff of 2^53 + 1 is named exactly, not as elfy rounds it', () => {
    const data = Buffer.from(buildElf({ class: 64, byteOrder: 'little', machine: 62, needed: ['a'] }));
    data.writeBigUInt64LE(2n ** 53n + 1n, 32);
    expect(() => readHeaders(new BufferSource('phoff.so', data))).toThrow(/at offset 9007199254740993 /);
  });

  it('ELF32 words are exact up to 2^32 - 1', () => {
    const data = Buffer.from(buildElf({ class: 32, byteOrder: 'big', machine: 20, needed: ['a'] }));
    data.writeUInt32BE(0xffffffff, 52 + 32 + 8); // PT_DYNAMIC's p_vaddr
    expect(readHeaders(new BufferSource('w32.so', data)).programs[1]?.vaddr).toBe(0xffffffffn);
  });
});

describe('numbers elfy has no name for are read again', () => {
  it('e_machine 258 (LoongArch) and p_type 0x6474e553 (GNU_PROPERTY)', () => {
    const data = Buffer.from(buildElf({ class: 64, byteOrder: 'little', machine: 258, needed: ['a'] }));
    data.writeUInt32LE(0x6474e553, 64 + 56); // program header 1's p_type
    const parser = new elfy.Parser();
    const decoded = parser.parseHeader(data);
    expect(decoded.machine).toBeUndefined();
    expect(parser.parsePrograms(data, decoded)[1]?.type).toBeUndefined();
    const { header, programs } = readHeaders(new BufferSource('loongarch.so', data));
    expect(header.machine).toBe(258);
    expect(programs.map((program) => program.type)).toEqual([1, 0x6474e553]);
  });

  it('e_type and e_machine elfy does name map back to their numbers', () => {
    const data = Buffer.from(
      buildElf({ class: 32, byteOrder: 'little', machine: 3, type: 2, needed: ['a'] }),
    );
    expect(new elfy.Parser().parseHeader(data)).toMatchObject({ type: 'exec', machine: '386' });
    expect(readHeaders(new BufferSource('i386', data)).header).toMatchObject({ type: 2, machine: 3 });
  });
});
