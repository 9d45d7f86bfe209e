/**
 * Seed corpora for the fuzzer, made on this machine by the real tools: ELF files from gcc and
 * musl-gcc (plus a few synthetic layouts no compiler here writes: 32-bit, big-endian, another
 * machine), ld.so.cache files written by `ldconfig -r` in each layout next to this machine's own
 * cache, and strace logs of real commands traced with dit's own strace arguments.
 */
import { execFileSync, spawnSync } from 'node:child_process';
import { copyFileSync, existsSync, mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { straceArguments } from '../../packages/trace/src/trace.js';
import { buildElf, type SyntheticElf } from '../elf-builder.js';
import { compile } from '../fixtures.js';

export interface Seed<T> {
  readonly name: string;
  readonly data: T;
}

export interface ElfSeeds {
  /** Everything, each a seed for a mutant program. */
  readonly seeds: Seed<Uint8Array>[];
  /** The glibc programs that find their libraries through `$ORIGIN/lib`. */
  readonly programs: Seed<Uint8Array>[];
  /** Those libraries (`libfz2.so` needs `libfz1.so`): seeds for a mutant a program loads. */
  readonly libraries: Seed<Uint8Array>[];
  /** Where mutants are written, each case in its own folder. */
  readonly mutantDir: string;
}

/**
 * Programs and libraries whose loads exercise the search rules: RUNPATH and RPATH through $ORIGIN,
 * a library needing another, a non-PIE program, a musl program, and synthetic foreign layouts.
 */
export function buildElfSeeds(dir: string): ElfSeeds {
  const corpus = join(dir, 'corpus');
  const lib = join(corpus, 'lib');
  const library = (name: string, extra: string[] = [], source = `int ${name}(void) { return 1; }\n`) =>
    compile(source, join(lib, `lib${name}.so`), {
      flags: ['-shared', `-Wl,-soname,lib${name}.so`, ...extra],
    });
  library('fz1');
  library(
    'fz2',
    [`-L${lib}`, '-lfz1', '-Wl,--enable-new-dtags,-rpath,$ORIGIN'],
    'int fz1(void);\nint fz2(void) { return fz1(); }\n',
  );
  const main = 'int fz2(void);\nint main(void) { return fz2() - 1; }\n';
  const glibcPrograms: [string, string[], 'gcc' | 'musl-gcc'][] = [
    ['runpath', ['-Wl,--enable-new-dtags,-rpath,$ORIGIN/lib'], 'gcc'],
    ['rpath', ['-Wl,--disable-new-dtags,-rpath,$ORIGIN/lib'], 'gcc'],
    ['nopie', ['-no-pie', '-Wl,--enable-new-dtags,-rpath,$ORIGIN/lib'], 'gcc'],
  ];
  const files: string[] = [join(lib, 'libfz1.so'), join(lib, 'libfz2.so')];
  for (const [name, flags, compiler] of glibcPrograms) {
    files.push(compile(main, join(corpus, name), { compiler, flags: [`-L${lib}`, '-lfz2', ...flags] }));
  }
  if (spawnSync('musl-gcc', ['--version']).status === 0) {
    files.push(compile('int main(void) { return 0; }\n', join(corpus, 'musl'), { compiler: 'musl-gcc' }));
  }
  const seeds: Seed<Uint8Array>[] = files.map((file) => ({
    name: file.slice(corpus.length + 1),
    data: readFileSync(file),
  }));
  const synthetic: SyntheticElf[] = [
    { class: 32, byteOrder: 'little', machine: 3, interpreter: '/lib/ld-linux.so.2', needed: ['libc.so.6'] },
    { class: 64, byteOrder: 'big', machine: 22, needed: ['libfz1.so'], runpath: '$ORIGIN/lib' },
    { class: 32, byteOrder: 'big', machine: 8, needed: ['libc.so.6'], soname: 'libm.so' },
    { class: 64, byteOrder: 'little', machine: 183, needed: ['libfz1.so'], rpath: '$ORIGIN/lib' },
    {
      class: 64,
      byteOrder: 'little',
      machine: 62,
      interpreter: '/lib64/ld-linux-x86-64.so.2',
      needed: ['libfz2.so', 'libc.so.6'],
      runpath: '$ORIGIN/lib',
    },
  ];
  synthetic.forEach((spec, index) => {
    seeds.push({ name: `synthetic-${index}`, data: buildElf(spec) });
  });
  const mutantDir = join(dir, 'mutants');
  mkdirSync(mutantDir, { recursive: true });
  const libraries = seeds.filter((seed) => seed.name.startsWith('lib/'));
  const programs = seeds.filter((seed) => glibcPrograms.some(([name]) => name === seed.name));
  return { seeds, programs, libraries, mutantDir };
}

export interface LdCacheSeeds {
  readonly seeds: Seed<Uint8Array>[];
  /**
   * A root where a cache decides what loads: PROGRAM needs libraries that only the cache entries
   * find (they live outside the default directories), and its loader is this machine's. Mutants
   * are written to `<root>/etc/ld.so.cache`. Everything lies under `<root>/mnt`, so that ld.so can
   * judge a mutant with `<root>/mnt` bound on /mnt (the cache's paths are then the same for it).
   */
  readonly root: string;
  readonly program: string;
  /** The names PROGRAM needs, each found through the cache only. */
  readonly needed: readonly string[];
}

const LDSO = '/lib64/ld-linux-x86-64.so.2';
const D = '/mnt/dit-fuzz';
const CACHE_LIBRARIES: [path: string, soname: string, extra: string[]][] = [
  [`${D}/l/libfoo.so.1`, 'libfoo.so.1', []],
  [`${D}/l/glibc-hwcaps/x86-64-v2/libfoo.so.1`, 'libfoo.so.1', []],
  [`${D}/l/glibc-hwcaps/x86-64-v3/libfoo.so.1`, 'libfoo.so.1', []],
  [`${D}/l/libbar.so.1`, 'libbar.so.1', []],
  [`${D}/l/glibc-hwcaps/x86-64-v2/libbar.so.1`, 'libbar.so.1', ['-Wl,-z,x86-64-v3']],
  [`${D}/l/libnum.so.10`, 'libnum.so.10', []],
  [`${D}/l/libnum.so.9`, 'libnum.so.9', []],
  [`${D}/l/libzz.so.1`, 'libzz.so.1', []],
  [`${D}/l/libé.so.1`, 'libé.so.1', []],
  [`${D}/l/tls/libaa.so.1`, 'libaa.so.1', []],
];
const CACHE_NEEDED = ['libfoo.so.1', 'libbar.so.1', 'libnum.so.10', 'libzz.so.1', 'libé.so.1', 'libaa.so.1'];

export function buildLdCacheSeeds(dir: string): LdCacheSeeds {
  const root = join(dir, 'cache-root');
  // No libc anywhere (-nostdlib): every library the program loads is one of these, in the root.
  for (const [path, soname, extra] of CACHE_LIBRARIES) {
    compile('int foo(void) { return 1; }\n', join(root, path), {
      flags: ['-shared', '-nostdlib', `-Wl,-soname,${soname}`, ...extra],
    });
  }
  mkdirSync(join(root, 'etc'), { recursive: true });
  mkdirSync(join(root, 'lib64'), { recursive: true });
  copyFileSync(LDSO, join(root, LDSO));
  writeFileSync(join(root, 'etc/ld.so.conf'), `${D}/l\n`);
  const program = `${D}/bin/main`;
  compile('int foo(void);\nvoid _start(void) { foo(); for (;;) {} }\n', join(root, program), {
    flags: [
      '-nostdlib',
      `-L${join(root, D, 'l')}`,
      `-L${join(root, D, 'l/tls')}`,
      '-Wl,--no-as-needed',
      ...CACHE_NEEDED.map((name) => `-l:${name}`),
    ],
  });
  const seeds: Seed<Uint8Array>[] = [];
  for (const format of ['new', 'old', 'compat'] as const) {
    // -r: paths inside the root, values stored relative to it; -X: no symlinks made.
    spawnSync('ldconfig', [
      '-r',
      root,
      '-f',
      '/etc/ld.so.conf',
      '-C',
      `/etc/cache.${format}`,
      '-X',
      '-c',
      format,
    ]);
    const file = join(root, 'etc', `cache.${format}`);
    if (existsSync(file)) seeds.push({ name: `ldconfig -c ${format}`, data: readFileSync(file) });
  }
  if (existsSync('/etc/ld.so.cache'))
    seeds.push({ name: '/etc/ld.so.cache', data: readFileSync('/etc/ld.so.cache') });
  if (seeds.length === 0) throw new Error('ldconfig wrote no cache');
  return { seeds, root, program, needed: CACHE_NEEDED };
}

/** Commands whose traces cover forks, threads, an exec from a thread, failures and a kill. */
const TRACED_COMMANDS: string[][] = [
  ['sh', '-c', 'cat /etc/hostname /nonexistent 2>/dev/null; ls -la / >/dev/null; cd /tmp && ls . >/dev/null'],
  [
    'sh',
    '-c',
    '(ls /usr >/dev/null &); stat /etc/passwd >/dev/null & wait; cd / && exec ls -d etc >/dev/null',
  ],
  ['bash', '-c', 'for i in 1 2 3 4; do (test -e /etc/hosts; cat /etc/os-release >/dev/null) & done; wait'],
  ['sh', '-c', 'kill -9 $$'],
];

/** A program that execs from a second thread: strace logs `<pid changed to ...>` and `superseded`. */
const THREAD_EXEC = `#include <pthread.h>
#include <unistd.h>
static void *run(void *arg) { (void)arg; execl("/bin/true", "true", (char *)0); return 0; }
int main(void) { pthread_t t; pthread_create(&t, 0, run, 0); pthread_join(t, 0); return 1; }
`;

export function buildStraceSeeds(dir: string): Seed<string>[] {
  mkdirSync(dir, { recursive: true });
  const commands = [...TRACED_COMMANDS];
  try {
    commands.push([compile(THREAD_EXEC, join(dir, 'thread-exec'), { flags: ['-pthread'] })]);
  } catch {
    // No pthread headers: the other logs still have threads (bash) and execs.
  }
  const seeds: Seed<string>[] = [];
  commands.forEach((command, index) => {
    const log = join(dir, `trace-${index}.log`);
    spawnSync('strace', [...straceArguments(log), '--', ...command], { stdio: 'ignore', cwd: '/' });
    if (existsSync(log)) seeds.push({ name: command.join(' '), data: readFileSync(log, 'latin1') });
  });
  if (seeds.length === 0) {
    throw new Error(`strace wrote no log: ${execFileSync('strace', ['-V'], { encoding: 'utf8' })}`);
  }
  return seeds;
}
