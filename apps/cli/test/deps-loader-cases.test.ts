/**
 * `dit deps` on the programs the loaders disagreed with dit about (issue 9): PT_DYNAMIC read where
 * the loaders read it, DT_NEEDED "", a DT_NEEDED name that is not UTF-8, a 64-bit offset a double
 * would round. Each is a real gcc or musl-gcc program with one small binary edit; the real loader is
 * the judge (the program started by the kernel, traced and run), and dit must print exactly the
 * same with and without DIT_NATIVE=0 (which no longer changes how deps resolves).
 */
import { afterAll, afterEach, beforeAll, describe, expect, it, vi } from 'vitest';
import { tempDir } from '../../../test-support/fixtures.js';
import { loaderTrace } from '../../../test-support/ld-trace.mjs';
import {
  buildLoaderMutants,
  CONTROL_NAME,
  kernelTrace,
  LATIN1_NAME,
  type LoaderMutants,
  type LoaderVerdict,
  muslList,
  runProgram,
} from '../../../test-support/loader-mutants.js';
import { main } from '../src/main.js';

const temp = tempDir('dit-loader-cases-');
afterAll(() => temp.cleanup());
afterEach(() => {
  vi.unstubAllEnvs();
});

let mutants: LoaderMutants;
beforeAll(() => {
  mutants = buildLoaderMutants(temp.path);
});

interface Run {
  status: number;
  stdout: Buffer;
  stderr: Buffer;
}

/** `dit ARGV...` in-process, with its output as bytes (names that are not UTF-8 stay as they are). */
async function dit(nativeSetting: '' | '0', ...argv: string[]): Promise<Run> {
  vi.stubEnv('DIT_NATIVE', nativeSetting);
  const out: Buffer[] = [];
  const err: Buffer[] = [];
  const status = await main(argv, {
    stdout: (text) => out.push(Buffer.from(text)),
    stderr: (text) => err.push(Buffer.from(text)),
  });
  return { status, stdout: Buffer.concat(out), stderr: Buffer.concat(err) };
}

interface JsonLibrary {
  name: string;
  nameBase64?: string;
  path: string | null;
  pathBase64?: string;
}

/** `dit deps --json FILE` with and without DIT_NATIVE=0: both must print the same. */
async function depsJson(file: string) {
  const native = await dit('', 'deps', '--json', file);
  const typescript = await dit('0', 'deps', '--json', file);
  expect(native.stdout.toString('latin1')).toBe(typescript.stdout.toString('latin1'));
  expect(native.stderr.toString('latin1')).toBe(typescript.stderr.toString('latin1'));
  expect(native.status).toBe(typescript.status);
  const [entry] = JSON.parse(native.stdout.toString('utf8')) as {
    libraries: JsonLibrary[];
    error?: string;
  }[];
  return { ...native, entry: entry!, stderrText: native.stderr.toString('utf8') };
}

/** A library's name or path as bytes, from --json (base64 where it is not UTF-8). */
const bytesOf = (text: string | null, base64?: string) =>
  base64 !== undefined ? Buffer.from(base64, 'base64') : Buffer.from(text ?? '', 'utf8');

/** The paths the loader loaded, as latin1 strings (one char per byte), sorted. */
const loaderPaths = (verdict: LoaderVerdict) =>
  verdict.libraries.flatMap((l) => (l.path === null ? [] : [l.path.toString('latin1')])).sort();

/** The paths dit says the loader loads, the same way. */
const ditPaths = (libraries: JsonLibrary[]) =>
  libraries
    .flatMap((l) => (l.path === null ? [] : [bytesOf(l.path, l.pathBase64).toString('latin1')]))
    .sort();

describe('PT_DYNAMIC is read at its p_vaddr, where the loaders read it', () => {
  it('p_filesz 0 in a program: the kernel maps it, ld.so reads the entries and loads libc', async () => {
    const program = mutants.dynamicWithoutFileBytes;
    const run = runProgram(program);
    expect(run.status).toBe(0);
    const loader = kernelTrace(program);
    expect(loader.status).toBe(0);
    expect(loaderPaths(loader).some((path) => path.endsWith('/libc.so.6'))).toBe(true);
    const ours = await depsJson(program);
    expect(ours.status).toBe(0);
    expect(ditPaths(ours.entry.libraries)).toEqual(loaderPaths(loader));
  });

  it('a p_offset far past the end of the file: the loader never reads it, and neither does dit', async () => {
    const program = mutants.dynamicOffsetElsewhere;
    expect(runProgram(program).status).toBe(0);
    const loader = kernelTrace(program);
    // ld.so started on the file maps it itself: it agrees.
    const explicit = loaderTrace(program) as { status: number; libraries: { path: string | null }[] };
    expect(explicit.status).toBe(0);
    const ours = await depsJson(program);
    expect(ours.status).toBe(0);
    expect(ditPaths(ours.entry.libraries)).toEqual(loaderPaths(loader));
    expect(ditPaths(ours.entry.libraries)).toEqual(
      explicit.libraries.flatMap((l) => (l.path === null ? [] : [l.path])).sort(),
    );
  });

  it('p_vaddr in the zero-filled part of its PT_LOAD: the loader reads DT_NULL first, loads nothing', async () => {
    const program = mutants.dynamicInZeroFill;
    const loader = kernelTrace(program);
    // Without relocations the program then crashes; before that the loader listed nothing.
    expect(loader.libraries).toEqual([]);
    const ours = await depsJson(program);
    expect(ours.status).toBe(0);
    expect(ours.entry.libraries).toEqual([]);
  });

  it('p_filesz 0 in a library: ld.so refuses it ("object file has no dynamic section")', async () => {
    const program = mutants.libraryWithoutFileBytes;
    const run = runProgram(program);
    expect(run.status).toBe(127);
    expect(run.stderr).toContain('object file has no dynamic section');
    const ours = await depsJson(program);
    expect(ours.status).toBe(1);
    expect(ours.entry.error).toBe(
      `${mutants.libraryWithoutFileBytesPath}: object file has no dynamic section`,
    );
    expect(ours.stderrText).toBe(
      `dit: ${program}: the loader would stop: ${mutants.libraryWithoutFileBytesPath}: object file has no dynamic section\n`,
    );
  });

  it('musl reads PT_DYNAMIC at p_vaddr too, and loads a library whose p_filesz is 0', async () => {
    for (const program of [mutants.musl.dynamicWithoutFileBytes, mutants.musl.libraryWithoutFileBytes]) {
      expect(runProgram(program).status, program).toBe(0);
      const loader = muslList(program);
      expect(loader.status).toBe(0);
      const ours = await depsJson(program);
      expect(ours.status, program).toBe(0);
      expect(ditPaths(ours.entry.libraries)).toEqual(
        [...new Set(loaderPaths(loader))].sort(), // musl lists itself twice: as the loader and as libc.so
      );
    }
  });
});

describe('DT_NEEDED ""', () => {
  it('glibc: "" names the program itself (its l_name), so the program runs', async () => {
    const program = mutants.emptyNeeded;
    expect(runProgram(program).status).toBe(0);
    const loader = kernelTrace(program);
    expect(loader.status).toBe(0);
    const ours = await depsJson(program);
    expect(ours.status).toBe(0);
    expect(ours.stderrText).toBe('');
    expect(ours.entry.libraries.map((l) => l.name)).not.toContain('');
    expect(ditPaths(ours.entry.libraries)).toEqual(loaderPaths(loader));
  });

  it('musl: loading "" fails (EINVAL), the program does not start, and dit says "" is missing', async () => {
    const program = mutants.musl.emptyNeeded;
    const run = runProgram(program);
    expect(run.status).toBe(127);
    expect(run.stderr).toContain('Invalid argument');
    const ours = await depsJson(program);
    expect(ours.status).toBe(1);
    expect(ours.stderrText).toBe(`dit: ${program}:  not found (needed by ${program})\n`);
  });
});

describe('a DT_NEEDED name that is not UTF-8 keeps its bytes', () => {
  for (const loader of ['glibc', 'musl'] as const) {
    it(`${loader}: the library file with exactly those bytes is found, as the loader finds it`, async () => {
      const program = loader === 'glibc' ? mutants.notUtf8Needed : mutants.musl.notUtf8Needed;
      expect(runProgram(program).status).toBe(0);
      const verdict = loader === 'glibc' ? kernelTrace(program) : muslList(program);
      const listed = verdict.libraries.find((l) => l.name.equals(LATIN1_NAME));
      expect(listed?.path?.subarray(-LATIN1_NAME.length)).toEqual(LATIN1_NAME);

      const ours = await depsJson(program);
      expect(ours.status).toBe(0);
      const library = ours.entry.libraries.find((l) => l.nameBase64 !== undefined)!;
      expect(library.name).toBe('lib\uFFFD.so');
      expect(Buffer.from(library.nameBase64!, 'base64')).toEqual(LATIN1_NAME);
      expect(Buffer.from(library.pathBase64!, 'base64')).toEqual(listed!.path);
      expect(ditPaths(ours.entry.libraries)).toEqual([...new Set(loaderPaths(verdict))].sort());
    });
  }

  it('the tree prints the name and the path byte for byte', async () => {
    const tree = await dit('0', 'deps', mutants.notUtf8Needed);
    expect(tree.status).toBe(0);
    const line = Buffer.concat([
      Buffer.from('    '),
      LATIN1_NAME,
      Buffer.from(' => '),
      mutants.notUtf8Library,
      Buffer.from('\n'),
    ]);
    expect(tree.stdout.includes(line)).toBe(true);
    expect(tree.stdout.includes(Buffer.from('\uFFFD'))).toBe(false);
  });
});

describe('strings are read where and when ld.so reads them', () => {
  it('DT_STRSZ 1 in a library: ld.so never checks it and loads the library; so does dit', async () => {
    const program = mutants.strszOne;
    const verdict = kernelTrace(program);
    expect(verdict.status).toBe(0);
    const ours = await depsJson(program);
    expect(ours.status).toBe(0);
    expect(ours.entry.error).toBeUndefined();
    expect(ditPaths(ours.entry.libraries)).toEqual([...new Set(loaderPaths(verdict))].sort());
    expect(ditPaths(ours.entry.libraries).some((path) => path.endsWith('/strsz-one/libv.so'))).toBe(true);
  });

  it('a SONAME in unmapped memory, loaded last: no later lookup reads it, ld.so loads it; so does dit', async () => {
    const program = mutants.sonameUnmappedLast;
    const verdict = kernelTrace(program);
    expect(verdict.status).toBe(0);
    const ours = await depsJson(program);
    expect(ours.status).toBe(0);
    expect(ditPaths(ours.entry.libraries)).toEqual([...new Set(loaderPaths(verdict))].sort());
  });

  it('the same library loaded first: the lookup of libc.so.6 reads its SONAME, ld.so crashes; dit says it stops', async () => {
    const program = mutants.sonameUnmappedFirst;
    expect(kernelTrace(program).signal).toBe('SIGSEGV');
    const ours = await depsJson(program);
    expect(ours.status).toBe(1);
    expect(ours.entry.error).toMatch(
      /soname-unmapped\/libv\.so: DT_SONAME string at 0x[0-9a-f]+ lies in memory the file does not map/,
    );
  });
});

describe("a library's segments, checked as glibc maps them", () => {
  for (const [what, key, message] of [
    [
      'p_vaddr - p_offset of a PT_LOAD off a page',
      'misalignedLoad',
      'ELF load command address/offset not page-aligned',
    ],
    ['PT_DYNAMIC p_vaddr 0', 'dynamicAtZero', 'object file has no dynamic section'],
  ] as const) {
    it(`${what}: ld.so refuses the library ("${message}"), and dit says it stops there`, async () => {
      const program = mutants[key];
      const verdict = kernelTrace(program);
      expect(verdict.status).toBe(127);
      expect(verdict.stderr).toContain(`libv.so: ${message}`);
      const ours = await depsJson(program);
      expect(ours.status).toBe(1);
      expect(ours.entry.error).toMatch(new RegExp(`/libv\\.so: ${message}$`));
    });
  }
});

describe('a DT_AUXILIARY that is nowhere', () => {
  it('a real start searches for it and goes on, though the trace mode lists it as not found; dit misses nothing', async () => {
    const program = mutants.missingAuxiliary;
    expect(runProgram(program).status).toBe(0);
    const trace = kernelTrace(program);
    expect(trace.libraries.find((l) => l.name.toString() === 'libnope.so')?.path).toBeNull();
    const ours = await depsJson(program);
    expect(ours.status).toBe(0);
    expect(ours.stderrText).toBe('');
    expect(ditPaths(ours.entry.libraries)).toEqual([...new Set(loaderPaths(trace))].sort());
  });
});

describe('a DT_AUXILIARY that is a directory', () => {
  it('ld.so ignores any failure of an auxiliary load, even one fatal elsewhere; so does dit', async () => {
    const program = mutants.directoryAuxiliary;
    expect(runProgram(program).status).toBe(0);
    const trace = kernelTrace(program);
    expect(trace.status).toBe(0);
    const ours = await depsJson(program);
    expect(ours.status).toBe(0);
    expect(ours.entry.error).toBeUndefined();
    expect(ditPaths(ours.entry.libraries)).toEqual([...new Set(loaderPaths(trace))].sort());
  });
});

describe("a program's own DT_FILTER", () => {
  it('stops the program when its filtee is missing, though the trace mode ignores it; dit says it is missing', async () => {
    const program = mutants.programFilter;
    const run = runProgram(program);
    expect(run.status).toBe(127);
    expect(run.stderr).toContain('libq.so: cannot open shared object file');
    // LD_TRACE_LOADED_OBJECTS skips it: the oracle of the fuzzer is wrong here, the start is right.
    const trace = kernelTrace(program);
    expect(trace.status).toBe(0);
    expect(trace.libraries.some((l) => l.name.toString() === 'libq.so')).toBe(false);
    const ours = await depsJson(program);
    expect(ours.status).toBe(1);
    expect(ours.stderrText).toBe(`dit: ${program}: libq.so not found (needed by ${program})\n`);
  });
});

describe('a DT_NEEDED name holding a newline and an ESC byte', () => {
  it('ld.so misses exactly those bytes; dit says so on one escaped stderr line, and --json keeps the bytes', async () => {
    const program = mutants.controlNeeded;
    const run = runProgram(program);
    expect(run.status).toBe(127);
    // ld.so's own message holds the raw name (and so spans two lines).
    expect(run.stderr).toContain(
      `error while loading shared libraries: ${CONTROL_NAME.toString('latin1')}: `,
    );

    const tree = await dit('0', 'deps', program);
    expect(tree.status).toBe(1);
    expect(tree.stderr.toString('latin1')).toBe(
      `dit: ${program}: l\\nb\\x1b.so not found (needed by ${program})\n`,
    );
    expect(tree.stdout.toString('latin1')).toContain('    l\\nb\\x1b.so => not found\n');
    expect(tree.stdout.includes(0x1b)).toBe(false);

    const ours = await depsJson(program);
    expect(ours.status).toBe(1);
    const library = ours.entry.libraries.find((l) => l.path === null)!;
    expect(library.name).toBe(CONTROL_NAME.toString('latin1'));
    expect(ours.stderrText.split('\n').filter((l) => l !== '')).toHaveLength(1);
  });
});

describe('64-bit values are exact', () => {
  it('a DT_NEEDED offset of 2^63 + 3 is read at DT_STRTAB + 2^63 + 3 exactly, where nothing is mapped', async () => {
    const program = mutants.neededOffsetNear2p63;
    // The loader reads far outside the file and crashes.
    expect(runProgram(program).signal).toBe('SIGSEGV');
    const ours = await depsJson(program);
    expect(ours.status).toBe(1);
    // DT_STRTAB is a small address (under 0x1000): a double would have rounded the sum to 0x8000000000000000 or 0x8000000000000800.
    expect(ours.stderrText).toMatch(
      new RegExp(
        `^dit: ${program}: the loader would stop: ${program}: DT_NEEDED string at 0x8000000000000[0-9a-f]{3} lies in memory the file does not map`,
      ),
    );
    expect(ours.stderrText).not.toMatch(/0x8000000000000(000|800) /);
  });
});
