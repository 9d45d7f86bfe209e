/**
 * Programs the loaders disagreed with dit about (issue 9): gcc and musl-gcc output with one small
 * binary edit each (elf-patch.ts), built into a folder. Tests resolve them with dit and hold the
 * answer to what the real loaders do with them: run (`kernelTrace`, `runProgram`) or traced.
 */
import { spawnSync } from 'node:child_process';
import { copyFileSync, mkdirSync } from 'node:fs';
import { join } from 'node:path';
import {
  emptyNeeded,
  loadSegment,
  patchElf,
  renameNeeded,
  setDynamicSegment,
  setDynamicValue,
  setLoadSegment,
  setNeededOffset,
  setNeededTag,
  zeroFilledAddress,
} from './elf-patch.js';
import { compile, programSource, sharedLibrarySource } from './fixtures.js';
import { parseLoaderTrace } from './ld-trace.mjs';

/** `lib\xe9.so`: Latin-1 e-acute, not UTF-8, as long as `libv.so`. */
export const LATIN1_NAME = Buffer.from([0x6c, 0x69, 0x62, 0xe9, 0x2e, 0x73, 0x6f]);

/** `l\nb\x1b.so`: a newline and an ESC byte, as long as `libv.so`; no such file exists. */
export const CONTROL_NAME = Buffer.from('l\nb\x1b.so', 'latin1');

export interface LoaderMutants {
  /** glibc program whose PT_DYNAMIC has p_filesz 0 (p_vaddr and p_memsz intact): it runs, with libc. */
  readonly dynamicWithoutFileBytes: string;
  /** glibc program whose PT_DYNAMIC p_offset points far past the end: the loader never reads it. */
  readonly dynamicOffsetElsewhere: string;
  /** glibc program whose PT_DYNAMIC p_vaddr is in the zero-filled part of its PT_LOAD: no entries. */
  readonly dynamicInZeroFill: string;
  /** glibc program needing libv.so, whose PT_DYNAMIC has p_filesz 0: ld.so refuses it. */
  readonly libraryWithoutFileBytes: string;
  readonly libraryWithoutFileBytesPath: string;
  /** glibc program with DT_NEEDED "" (and libc.so.6): "" matches the program itself, it runs. */
  readonly emptyNeeded: string;
  /** glibc program needing `lib\xe9.so`, which exists in its RUNPATH directory. */
  readonly notUtf8Needed: string;
  readonly notUtf8Library: Buffer;
  /** glibc program needing `l\nb\x1b.so` (CONTROL_NAME), which is nowhere: it does not start. */
  readonly controlNeeded: string;
  /** glibc program needing libv.so, whose DT_STRSZ is 1 (ld.so never reads it): it runs. */
  readonly strszOne: string;
  /**
   * glibc programs needing libc.so.6 and a libv.so whose DT_SONAME offset is 2^40 (nothing mapped
   * there): `sonameUnmappedLast` needs libv.so last, so no later name lookup reads its SONAME and
   * ld.so loads it; `sonameUnmappedFirst` needs it first, and the lookup of libc.so.6 reads it.
   */
  readonly sonameUnmappedLast: string;
  readonly sonameUnmappedFirst: string;
  /** glibc program needing a libv.so whose last PT_LOAD has p_vaddr - p_offset off a page by 6. */
  readonly misalignedLoad: string;
  /** glibc program needing a libv.so whose PT_DYNAMIC p_vaddr is 0. */
  readonly dynamicAtZero: string;
  /** glibc program needing a libv.so with DT_AUXILIARY libnope.so, which is nowhere. */
  readonly missingAuxiliary: string;
  /** glibc program needing a libv.so with DT_AUXILIARY `$ORIGIN`: its own folder. */
  readonly directoryAuxiliary: string;
  /** glibc program whose DT_NEEDED libv.so became DT_FILTER libq.so, which is nowhere. */
  readonly programFilter: string;
  /** glibc program whose DT_NEEDED offset is 2^63 + 3: a 64-bit value a double would round. */
  readonly neededOffsetNear2p63: string;
  /** musl programs: PT_DYNAMIC p_filesz 0; a library with p_filesz 0; DT_NEEDED ""; `lib\xe9.so`. */
  readonly musl: {
    readonly dynamicWithoutFileBytes: string;
    readonly libraryWithoutFileBytes: string;
    readonly emptyNeeded: string;
    readonly notUtf8Needed: string;
  };
}

/** Builds every mutant under `dir` (gcc and musl-gcc must be installed). */
export function buildLoaderMutants(dir: string): LoaderMutants {
  const at = (name: string) => join(dir, name);
  // A program that needs libv.so without calling it (so it also runs where libv.so is gone), with
  // zero-filled bytes in its writable PT_LOAD.
  const source = 'char zeros[4096];\nint main(void) { return zeros[100]; }\n';
  const withLibv = (compiler: 'gcc' | 'musl-gcc', lib: string, runpath: string, output: string) => {
    compile(sharedLibrarySource('v'), join(lib, 'libv.so'), { compiler, flags: ['-shared'] });
    return compile(source, output, {
      compiler,
      flags: [`-L${lib}`, '-Wl,--no-as-needed', '-lv', `-Wl,--enable-new-dtags,-rpath,${runpath}`],
    });
  };

  const hello = compile(programSource(), at('hello'));
  const glibcBase = withLibv('gcc', at('build'), at('ok'), at('base'));
  mkdirSync(at('ok'), { recursive: true });
  compile(sharedLibrarySource('v'), at('ok/libv.so'), { flags: ['-shared'] });

  const libraryDir = at('nofile');
  mkdirSync(libraryDir, { recursive: true });
  const libraryWithoutFileBytesPath = patchElf(at('build/libv.so'), join(libraryDir, 'libv.so'), (data) =>
    setDynamicSegment(data, { filesz: 0n }),
  );
  const libraryWithoutFileBytes = withLibv('gcc', at('build'), libraryDir, at('needs-nofile'));

  const latin1Dir = at('latin1');
  mkdirSync(latin1Dir, { recursive: true });
  const notUtf8Library = Buffer.concat([Buffer.from(`${latin1Dir}/`), LATIN1_NAME]);
  copyFileSync(at('ok/libv.so'), notUtf8Library);
  const latin1Base = withLibv('gcc', at('build'), latin1Dir, at('latin1-base'));

  const musl = {
    base: withLibv('musl-gcc', at('mbuild'), at('mok'), at('mbase')),
  };
  mkdirSync(at('mok'), { recursive: true });
  compile(sharedLibrarySource('v'), at('mok/libv.so'), { compiler: 'musl-gcc', flags: ['-shared'] });
  const muslLibraryDir = at('mnofile');
  mkdirSync(muslLibraryDir, { recursive: true });
  patchElf(at('mbuild/libv.so'), join(muslLibraryDir, 'libv.so'), (data) =>
    setDynamicSegment(data, { filesz: 0n }),
  );
  const muslLatin1Dir = at('mlatin1');
  mkdirSync(muslLatin1Dir, { recursive: true });
  copyFileSync(at('mok/libv.so'), Buffer.concat([Buffer.from(`${muslLatin1Dir}/`), LATIN1_NAME]));

  // libv.so with a SONAME, built once, patched into its own folder per case.
  const withSoname = compile(sharedLibrarySource('v'), at('sbuild/libv.so'), {
    flags: ['-shared', '-Wl,-soname,libv.so'],
  });
  const patchedLibv = (folder: string, tag: bigint, value: bigint) => {
    mkdirSync(at(folder), { recursive: true });
    patchElf(withSoname, join(at(folder), 'libv.so'), (data) => setDynamicValue(data, tag, value));
  };
  patchedLibv('strsz-one', 10n, 1n);
  mkdirSync(at('misaligned'), { recursive: true });
  patchElf(withSoname, join(at('misaligned'), 'libv.so'), (data) => {
    const last = (() => {
      let index = 0;
      for (;;) {
        try {
          loadSegment(data, index + 1);
          index++;
        } catch {
          return index;
        }
      }
    })();
    setLoadSegment(data, last, { vaddr: loadSegment(data, last).vaddr - 6n });
  });
  mkdirSync(at('dynamic-zero'), { recursive: true });
  patchElf(withSoname, join(at('dynamic-zero'), 'libv.so'), (data) => setDynamicSegment(data, { vaddr: 0n }));
  patchedLibv('soname-unmapped', 14n, 1n << 40n);
  const needing = (order: string[], runpath: string, output: string) =>
    compile(programSource(), at(output), {
      flags: [
        `-L${at('sbuild')}`,
        '-Wl,--no-as-needed',
        ...order,
        `-Wl,--enable-new-dtags,-rpath,${at(runpath)}`,
      ],
    });

  return {
    strszOne: needing(['-lv'], 'strsz-one', 'strsz-one-prog'),
    missingAuxiliary: (() => {
      compile(sharedLibrarySource('v'), at('auxiliary/libv.so'), {
        flags: ['-shared', '-Wl,-soname,libv.so', '-Wl,-f,libnope.so'],
      });
      return needing(['-lv'], 'auxiliary', 'auxiliary-prog');
    })(),
    directoryAuxiliary: (() => {
      compile(sharedLibrarySource('v'), at('auxiliary-dir/libv.so'), {
        flags: ['-shared', '-Wl,-soname,libv.so', '-Wl,-f,$ORIGIN'],
      });
      return needing(['-lv'], 'auxiliary-dir', 'auxiliary-dir-prog');
    })(),
    misalignedLoad: needing(['-lv'], 'misaligned', 'misaligned-prog'),
    dynamicAtZero: needing(['-lv'], 'dynamic-zero', 'dynamic-zero-prog'),
    sonameUnmappedLast: needing(['-lc', '-lv'], 'soname-unmapped', 'soname-unmapped-last'),
    sonameUnmappedFirst: needing(['-lv', '-lc'], 'soname-unmapped', 'soname-unmapped-first'),
    dynamicWithoutFileBytes: patchElf(hello, at('dynamic-without-file-bytes'), (data) =>
      setDynamicSegment(data, { filesz: 0n }),
    ),
    dynamicOffsetElsewhere: patchElf(hello, at('dynamic-offset-elsewhere'), (data) =>
      setDynamicSegment(data, { offset: 0x7fff_ffff_ffff_ff00n }),
    ),
    dynamicInZeroFill: patchElf(glibcBase, at('dynamic-in-zero-fill'), (data) =>
      setDynamicSegment(data, { vaddr: zeroFilledAddress(data), filesz: 0n, memsz: 16n }),
    ),
    libraryWithoutFileBytes,
    libraryWithoutFileBytesPath,
    emptyNeeded: patchElf(glibcBase, at('empty-needed'), (data) => emptyNeeded(data, 'libv.so')),
    notUtf8Needed: patchElf(latin1Base, at('not-utf8-needed'), (data) =>
      renameNeeded(data, 'libv.so', LATIN1_NAME),
    ),
    notUtf8Library,
    programFilter: patchElf(glibcBase, at('program-filter'), (data) => {
      renameNeeded(data, 'libv.so', Buffer.from('libq.so'));
      setNeededTag(data, 'libq.so', 0x7fff_ffffn);
    }),
    controlNeeded: patchElf(glibcBase, at('control-needed'), (data) =>
      renameNeeded(data, 'libv.so', CONTROL_NAME),
    ),
    neededOffsetNear2p63: patchElf(glibcBase, at('needed-offset-near-2p63'), (data) =>
      setNeededOffset(data, 'libv.so', 2n ** 63n + 3n),
    ),
    musl: {
      dynamicWithoutFileBytes: patchElf(musl.base, at('m-dynamic-without-file-bytes'), (data) =>
        setDynamicSegment(data, { filesz: 0n }),
      ),
      libraryWithoutFileBytes: withLibv('musl-gcc', at('mbuild'), muslLibraryDir, at('m-needs-nofile')),
      emptyNeeded: patchElf(musl.base, at('m-empty-needed'), (data) => emptyNeeded(data, 'libv.so')),
      notUtf8Needed: patchElf(
        withLibv('musl-gcc', at('mbuild'), muslLatin1Dir, at('m-latin1-base')),
        at('m-not-utf8-needed'),
        (data) => renameNeeded(data, 'libv.so', LATIN1_NAME),
      ),
    },
  };
}

/** What a loader did with a program the kernel started: its exit status and the libraries it listed. */
export interface LoaderVerdict {
  /** Exit status; null when a signal ended it (the loader or the program crashed). */
  readonly status: number | null;
  readonly signal: string | null;
  /** name and path bytes of each library listed (latin1 strings: one char per byte). */
  readonly libraries: { name: Buffer; path: Buffer | null }[];
  readonly stderr: string;
}

/**
 * The program started by the kernel, its loader in trace mode (`LD_TRACE_LOADED_OBJECTS=1`, as ldd
 * sets it; musl's loader lists the same way when started as `ldd`): what the loader loads for a
 * program the kernel maps, which is how a program runs. A clean environment, CWD `/`.
 */
export function kernelTrace(file: string): LoaderVerdict {
  const result = spawnSync(file, [], { env: { LD_TRACE_LOADED_OBJECTS: '1' }, cwd: '/', timeout: 20_000 });
  return verdict(result);
}

/** The program run for real (clean environment, CWD `/`). */
export function runProgram(file: string): LoaderVerdict {
  return verdict(spawnSync(file, [], { env: {}, cwd: '/', timeout: 20_000 }));
}

/** musl's loader listing a program (`ld-musl-x86_64.so.1 --list FILE`). */
export function muslList(file: string): LoaderVerdict {
  return verdict(
    spawnSync('/lib/ld-musl-x86_64.so.1', ['--list', file], { env: {}, cwd: '/', timeout: 20_000 }),
  );
}

function verdict(result: ReturnType<typeof spawnSync>): LoaderVerdict {
  // latin1: one char per byte, so names that are not UTF-8 come back as their bytes.
  const parsed = parseLoaderTrace(result.stdout.toString('latin1'), '');
  return {
    status: result.status,
    signal: result.signal,
    libraries: parsed.libraries.map((library: { name: string; path: string | null }) => ({
      name: Buffer.from(library.name, 'latin1'),
      path: library.path === null ? null : Buffer.from(library.path, 'latin1'),
    })),
    stderr: result.stderr.toString('utf8'),
  };
}
