import { mkdirSync, readFileSync, symlinkSync, truncateSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { buildElf } from '../../../test-support/elf-builder.js';
import { compile, programSource, run, sharedLibrarySource, tempDir } from '../../../test-support/fixtures.js';
import { readDynamic } from './dynamic.js';
import { ElfError } from './errors.js';
import { readHeaders } from './header.js';
import { parseElf, readElfSync } from './read.js';
import { FileSource } from './source.js';

const temp = tempDir('dit-elf-');
afterAll(() => temp.cleanup());
const at = (name: string) => join(temp.path, name);

/** What binutils' readelf says: the independent oracle for every file below. */
function readelfDynamic(path: string): {
  needed: string[];
  soname: string | null;
  rpath: string | null;
  runpath: string | null;
} {
  const out = run('readelf', ['-dW', path]);
  const pick = (label: string) =>
    [...out.matchAll(new RegExp(`${label}: \\[([^\\]]*)\\]`, 'g'))].map((m) => m[1]!);
  return {
    needed: pick('Shared library'),
    soname: pick('Library soname')[0] ?? null,
    rpath: pick('Library rpath')[0] ?? null,
    runpath: pick('Library runpath')[0] ?? null,
  };
}
function readelfInterpreter(path: string): string | null {
  const match = run('readelf', ['-lW', path]).match(/Requesting program interpreter: ([^\]]+)\]/);
  return match?.[1] ?? null;
}

describe('real files built by gcc and musl-gcc', () => {
  beforeAll(() => {
    compile(sharedLibrarySource('dep'), at('libdep.so'), { flags: ['-shared', '-Wl,-soname,libdep.so.1'] });
    compile(programSource(['dep']), at('pie'), {
      flags: [`-L${temp.path}`, '-ldep', '-lm', '-Wl,--enable-new-dtags,-rpath,$ORIGIN/lib:/opt/x'],
    });
    compile(programSource(['dep']), at('nopie'), {
      flags: ['-no-pie', `-L${temp.path}`, '-ldep', '-Wl,--disable-new-dtags,-rpath,/opt/r'],
    });
    compile(programSource(), at('static'), { flags: ['-static'] });
    compile(programSource(), at('static-pie'), { flags: ['-static-pie'] });
    compile(programSource(), at('musl-dynamic'), { compiler: 'musl-gcc' });
    compile(programSource(), at('musl-static'), { compiler: 'musl-gcc', flags: ['-static'] });
    compile('int f(void){return 1;}', at('lib32.so'), {
      flags: ['-shared', '-m32', '-nostdlib', '-Wl,-soname,lib32.so.7'],
    });
    compile('int f(void){return 1;}', at('nodeflib.so'), {
      flags: ['-shared', '-Wl,-z,nodefaultlib', '-lm'],
    });
  });

  it.each(['libdep.so', 'pie', 'nopie', 'musl-dynamic', 'lib32.so', 'nodeflib.so', 'static-pie'])(
    '%s: same NEEDED, SONAME, RPATH, RUNPATH and PT_INTERP as readelf',
    (name) => {
      const elf = readElfSync(at(name));
      const oracle = readelfDynamic(at(name));
      expect(elf.dynamic?.needed ?? []).toEqual(oracle.needed);
      expect(elf.dynamic?.soname ?? null).toBe(oracle.soname);
      expect(elf.dynamic?.rpath ?? null).toBe(oracle.rpath);
      expect(elf.dynamic?.runpath ?? null).toBe(oracle.runpath);
      expect(elf.interpreter).toBe(readelfInterpreter(at(name)));
    },
  );

  it('classifies each kind of file', () => {
    expect(readElfSync(at('pie')).kind).toBe('pie');
    expect(readElfSync(at('nopie')).kind).toBe('executable');
    expect(readElfSync(at('static')).kind).toBe('static');
    expect(readElfSync(at('static-pie')).kind).toBe('static-pie');
    expect(readElfSync(at('libdep.so')).kind).toBe('shared-library');
    expect(readElfSync(at('musl-static')).kind).toBe('static');
    expect(readElfSync(at('musl-dynamic')).interpreter).toMatch(/ld-musl-x86_64\.so\.1$/);
    expect(readElfSync(at('static')).dynamic).toBeNull();
  });

  it('reads the header fields the loader checks', () => {
    const elf = readElfSync(at('pie'));
    expect(elf.header).toMatchObject({
      class: 64,
      byteOrder: 'little',
      machine: 62,
      type: 3,
      version: 1,
      identVersion: 1,
    });
    expect(elf.header.identPaddingIsZero).toBe(true);
    const lib32 = readElfSync(at('lib32.so'));
    expect(lib32.header).toMatchObject({ class: 32, machine: 3 });
    expect(lib32.dynamic?.soname).toBe('lib32.so.7');
    expect((readElfSync(at('nodeflib.so')).dynamic!.flags1 & 0x800) !== 0).toBe(true);
    expect((readElfSync(at('pie')).dynamic!.flags1 & 0x08000000) !== 0).toBe(true);
  });

  it('reads a real system library the same as readelf', () => {
    const libc = '/lib/x86_64-linux-gnu/libc.so.6';
    const elf = readElfSync(libc);
    expect(elf.dynamic?.soname).toBe(readelfDynamic(libc).soname);
    expect(elf.dynamic?.needed).toEqual(readelfDynamic(libc).needed);
    expect(elf.interpreter).toBe(readelfInterpreter(libc));
  });

  it('reads a few kilobytes of a 200 MB file, not the file', () => {
    const big = at('big.so');
    writeFileSync(big, readFileSync(at('libdep.so')));
    truncateSync(big, 200 * 1024 * 1024); // sparse: costs no disk
    const bytesRead = FileSource.with(big, (source) => {
      const { header, programs } = readHeaders(source);
      readDynamic(source, header, programs);
      return source.bytesRead;
    });
    expect(bytesRead).toBeLessThan(64 * 1024);
    expect(readElfSync(big).dynamic?.soname).toBe('libdep.so.1');
  });
});

describe('synthetic files in every class and byte order, checked by readelf', () => {
  const variants = [
    { class: 64, byteOrder: 'little', machine: 62 },
    { class: 64, byteOrder: 'big', machine: 21 },
    { class: 32, byteOrder: 'little', machine: 3 },
    { class: 32, byteOrder: 'big', machine: 20 },
  ] as const;
  it.each(variants)('ELF$class $byteOrder-endian', (variant) => {
    const spec = {
      ...variant,
      interpreter: '/lib/ld-test.so.1',
      needed: ['liba.so.1', 'libb.so.2'],
      soname: 'libself.so.3',
      rpath: '/opt/r:$ORIGIN/../lib',
      runpath: '/opt/run',
      flags1: 0x800,
    };
    const path = at(`synthetic-${variant.class}-${variant.byteOrder}`);
    writeFileSync(path, buildElf(spec));
    const elf = readElfSync(path);
    const oracle = readelfDynamic(path);
    expect(oracle.needed).toEqual(spec.needed); // the builder wrote what readelf reads
    expect(elf.dynamic?.needed).toEqual(oracle.needed);
    expect(elf.dynamic?.soname).toBe(oracle.soname);
    expect(elf.dynamic?.rpath).toBe(oracle.rpath);
    expect(elf.dynamic?.runpath).toBe(oracle.runpath);
    expect(elf.dynamic?.flags1).toBe(0x800);
    expect(elf.interpreter).toBe(readelfInterpreter(path));
    expect(elf.header).toMatchObject({
      class: variant.class,
      byteOrder: variant.byteOrder,
      machine: variant.machine,
    });
  });
});

describe('bad input: a typed error naming the file, never a crash or a hang', () => {
  function expectElfError(action: () => unknown, code: string, path?: string) {
    try {
      action();
    } catch (error) {
      expect(error).toBeInstanceOf(ElfError);
      expect((error as ElfError).code).toBe(code);
      if (path !== undefined) expect((error as ElfError).message).toContain(path);
      return;
    }
    throw new Error('expected an ElfError');
  }

  it('a text file is not an ELF file', () => {
    writeFileSync(at('script.sh'), '#!/bin/sh\necho hi\n');
    expectElfError(() => readElfSync(at('script.sh')), 'ELF_NOT_ELF', at('script.sh'));
  });
  it('an empty file is not an ELF file', () => {
    writeFileSync(at('empty'), '');
    expectElfError(() => readElfSync(at('empty')), 'ELF_NOT_ELF', at('empty'));
  });
  it('a missing file, a directory and a symlink loop are I/O errors', () => {
    expectElfError(() => readElfSync(at('nope')), 'ELF_IO', at('nope'));
    mkdirSync(at('dir.so'));
    expectElfError(() => readElfSync(at('dir.so')), 'ELF_IO', at('dir.so'));
    symlinkSync('loop-b', at('loop-a'));
    symlinkSync('loop-a', at('loop-b'));
    expectElfError(() => readElfSync(at('loop-a')), 'ELF_IO', at('loop-a'));
  });
  it.skipIf(process.getuid?.() === 0)('an unreadable file is an I/O error', () => {
    writeFileSync(at('secret.so'), 'x', { mode: 0o000 });
    expectElfError(() => readElfSync(at('secret.so')), 'ELF_IO', at('secret.so'));
  });

  it('every truncation of a real library is an ElfError (or still parses if the cut misses what we read)', () => {
    const data = readFileSync(at('libdep.so'));
    for (let length = 0; length < data.length; length += length < 2048 ? 1 : 97) {
      try {
        parseElf(data.subarray(0, length), 'cut.so');
      } catch (error) {
        expect(error, `cut at ${length}`).toBeInstanceOf(ElfError);
      }
    }
    expectElfError(() => parseElf(data.subarray(0, 40), 'cut.so'), 'ELF_TRUNCATED', 'cut.so');
  });

  it('random corruption of headers and dynamic section never escapes as another exception', () => {
    const original = readFileSync(at('pie'));
    let seed = 12345;
    const random = () => {
      seed = (seed * 1103515245 + 12345) & 0x7fffffff;
      return seed;
    };
    let errors = 0;
    for (let round = 0; round < 3000; round++) {
      const data = Buffer.from(original);
      // Corrupt 1-8 bytes within the first 16 KiB: headers, PT_INTERP, dynamic section, strings.
      for (let flips = 1 + (random() % 8); flips > 0; flips--) data[random() % 16384] = random() & 0xff;
      try {
        parseElf(data, 'fuzzed');
      } catch (error) {
        if (!(error instanceof ElfError)) throw error;
        errors++;
      }
    }
    expect(errors).toBeGreaterThan(0);
  });

  it('PT_DYNAMIC is read at its p_vaddr, as the loaders read it: its p_offset bounds nothing', () => {
    const data = Buffer.from(buildElf({ class: 64, byteOrder: 'little', machine: 62, needed: ['liba.so'] }));
    // Program header 1 is PT_DYNAMIC: its p_offset far past the end of the file, p_filesz 0.
    data.writeBigUInt64LE(0x7fff_ffff_ffff_ff00n, 64 + 56 + 8);
    data.writeBigUInt64LE(0n, 64 + 56 + 32);
    const elf = parseElf(data, 'moved.so');
    expect(elf.dynamic?.needed).toEqual(['liba.so']);
    expect(elf.dynamic?.segmentHasFileData).toBe(false);
  });

  it('a dynamic section in memory the file does not map is ELF_UNMAPPED (the loader crashes or reads unknown bytes)', () => {
    const nowhere = Buffer.from(
      buildElf({ class: 64, byteOrder: 'little', machine: 62, needed: ['liba.so'] }),
    );
    nowhere.writeBigUInt64LE(0x7fff_ffff_0000_0000n, 64 + 56 + 16); // PT_DYNAMIC p_vaddr: no PT_LOAD maps it
    expectElfError(() => parseElf(nowhere, 'nowhere.so'), 'ELF_UNMAPPED', 'nowhere.so');
    const cut = Buffer.from(buildElf({ class: 64, byteOrder: 'little', machine: 62, needed: ['liba.so'] }));
    // PT_LOAD (program header 0) claims file bytes far past the end, with PT_DYNAMIC moved there.
    cut.writeBigUInt64LE(0x7fff_ffff_ffff_0000n, 64 + 32);
    cut.writeBigUInt64LE(0x7fff_ffff_ffff_0000n, 64 + 40);
    cut.writeBigUInt64LE(0x400000n + 0x7fff_ffff_fff0_0000n, 64 + 56 + 16);
    // Mapped, but from whole pages past the end of the file: SIGBUS.
    expectElfError(() => parseElf(cut, 'cut.so'), 'ELF_UNMAPPED', 'cut.so');
    const strtab = Buffer.from(
      buildElf({ class: 64, byteOrder: 'little', machine: 62, needed: ['liba.so'], baseAddress: 0x1000 }),
    );
    // PT_LOAD moved away: neither PT_DYNAMIC nor DT_STRTAB is mapped anywhere.
    strtab.writeBigUInt64LE(0x999999n, 64 + 16);
    expectElfError(() => parseElf(strtab, 'nowhere.so'), 'ELF_UNMAPPED', 'nowhere.so');
  });

  it('64-bit offsets are exact in messages: 2^63 + 1 is not 9223372036854776000', () => {
    const data = Buffer.from(buildElf({ class: 64, byteOrder: 'little', machine: 62, needed: ['liba.so'] }));
    data.writeBigUInt64LE(2n ** 63n + 1n, 32); // e_phoff
    expectElfError(() => parseElf(data, 'phoff.so'), 'ELF_TRUNCATED', 'phoff.so');
    expect(() => parseElf(data, 'phoff.so')).toThrow(/at offset 9223372036854775809 /);
    const needed = Buffer.from(
      buildElf({ class: 64, byteOrder: 'little', machine: 62, needed: ['liba.so'] }),
    );
    const elf = parseElf(needed);
    expect(elf.dynamic?.needed).toEqual(['liba.so']);
    // The DT_NEEDED entry is the first of the dynamic section: its value becomes 2^63 + 3.
    const dynamicOffset = Number(needed.readBigUInt64LE(64 + 56 + 8));
    needed.writeBigUInt64LE(2n ** 63n + 3n, dynamicOffset + 8);
    let strtab = 0n;
    for (let at = dynamicOffset; needed.readBigUInt64LE(at) !== 0n; at += 16) {
      if (needed.readBigUInt64LE(at) === 5n) strtab = needed.readBigUInt64LE(at + 8);
    }
    // Read at DT_STRTAB + 2^63 + 3, where nothing is mapped: data, named by its exact address.
    const [dependency] = parseElf(needed, 'needed.so').dynamic?.dependencies ?? [];
    expect(dependency?.unreadable?.unmapped).toBe(true);
    expect(dependency?.unreadable?.problem).toContain(`at 0x${(strtab + 2n ** 63n + 3n).toString(16)} `);
  });

  it('a DT_NEEDED name that is not UTF-8 keeps its bytes', () => {
    const data = Buffer.from(buildElf({ class: 64, byteOrder: 'little', machine: 62, needed: ['libXb.so'] }));
    data[data.indexOf('libXb.so') + 3] = 0xe9; // Latin-1 e-acute
    const name = parseElf(data).dynamic?.needed[0];
    expect(Buffer.isBuffer(name)).toBe(true);
    expect(name).toEqual(Buffer.from('lib\xe9b.so', 'latin1'));
  });
});
