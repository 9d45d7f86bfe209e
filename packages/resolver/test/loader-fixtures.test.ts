/**
 * One layout per loader rule, built here with gcc and musl-gcc, resolved by us and judged by the
 * real loader (glibc's ld.so in trace mode, musl's `--list`), and where the loader cannot run for
 * the case (another CPU level, a foreign root's cache formats) by the rule itself.
 */
import { copyFileSync, mkdirSync, realpathSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { RootFs } from '@dit/paths';
import {
  createResolver,
  type Resolution,
  type ResolveOptions,
  resolve,
  x86ProfileForLevel,
} from '@dit/resolver';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { compile, run, sharedLibrarySource, tempDir } from '../../../test-support/fixtures.js';
import { loaderTrace } from '../../../test-support/ld-trace.mjs';
import { glibcLayouts, libraryFixtures } from '../../../test-support/library-fixtures.js';

const temp = tempDir('dit-resolver-');
const T = temp.path;
afterAll(() => temp.cleanup());

const { lib, program, linkStub } = libraryFixtures(T);
const layouts = glibcLayouts(T);

/** Real path of a path inside `root`, following absolute links inside it (realpath would leave the root). */
function realInRoot(root: string, path: string): string {
  if (root === '/') return realpathSync(path);
  const real = new RootFs(root).lookup(path).realPath;
  if (real === null) throw new Error(`${path} does not exist in ${root}`);
  return join(root, real);
}

function oracleSet(file: string, options: { libraryPath?: string; root?: string } = {}) {
  const trace = loaderTrace(file, options) as {
    libraries: { name: string; path: string | null }[];
    error: string | null;
    status: number;
  };
  const found = new Set<string>();
  const missing = new Set<string>();
  for (const library of trace.libraries) {
    if (library.path === null) missing.add(library.name);
    else found.add(realInRoot(options.root ?? '/', library.path));
  }
  return { found, missing, fatal: trace.status === 127 && trace.libraries.length === 0, error: trace.error };
}

function ourSet(resolution: Resolution, root = '/') {
  return {
    found: new Set(
      resolution.libraries
        .filter((l) => l.realPath !== null)
        .map((l) => realInRoot(root, l.realPath!.toString())),
    ),
    missing: new Set(resolution.missing.map((m) => m.name.toString())),
    fatal: resolution.failure !== null,
  };
}

/** Resolve with us and with the loader; both must agree. Returns our resolution for further checks. */
function agree(file: string, options: ResolveOptions & { libraryPath?: string } = {}): Resolution {
  const ours = resolve(file, options);
  const theirs = oracleSet(file, {
    libraryPath: options.libraryPath as string | undefined,
    root: options.root,
  });
  const mine = ourSet(ours, options.root);
  expect({ found: [...mine.found].sort(), missing: [...mine.missing].sort(), fatal: mine.fatal }).toEqual({
    found: [...theirs.found].sort(),
    missing: [...theirs.missing].sort(),
    fatal: theirs.fatal,
  });
  return ours;
}

const pathOf = (resolution: Resolution, name: string) =>
  resolution.libraries.find((l) => l.name === name)?.path ?? null;

beforeAll(() => {
  layouts.linkStubs();
  for (const name of ['libc2.so', 'libfoo.so', 'libg.so', 'libcached.so']) linkStub(name);
});

describe('glibc search rules, judged by ld.so', () => {
  it('DT_RPATH of the loader chain is inherited by the children', () => {
    const ours = agree(layouts.rpathInherited());
    expect(pathOf(ours, 'libb.so')).toBe(`${T}/rp/dir/libb.so`);
    expect(ours.libraries.find((l) => l.name === 'libb.so')?.foundBy).toBe('rpath');
  });

  it('DT_RUNPATH is not inherited: the grandchild is not found', () => {
    const ours = agree(layouts.runpathNotInherited());
    expect(ours.missing.map((m) => m.name)).toEqual(['libb.so']);
    expect(ours.missing[0]?.neededBy).toBe(`${T}/runp/dir/liba.so`);
  });

  it('$ORIGIN of the program is its real directory, even when run through a symlink', () => {
    const link = layouts.programOriginThroughLink();
    const ours = resolve(link);
    expect(pathOf(ours, 'libdep.so')).toBe(`${T}/orig/app/bin/../lib/libdep.so`);
    agree(realpathSync(link));
  });

  it("a library's $ORIGIN is the directory it was opened from, symlinks not resolved", () => {
    // x/lib/libq.so.1 -> ../../y/real/libq.so.1, RUNPATH $ORIGIN/../dep: the loader searches x/lib/../dep.
    const ours = agree(layouts.libraryOriginAsOpened());
    expect(pathOf(ours, 'libdep.so')).toBe(`${T}/lo/x/lib/../dep/libdep.so`);
    const libq = ours.libraries.find((l) => l.name === 'libq.so.1')!;
    expect(libq.realPath).toBe(`${T}/lo/y/real/libq.so.1`);
    expect(libq.links).toEqual([{ path: `${T}/lo/x/lib/libq.so.1`, target: '../../y/real/libq.so.1' }]);
  });

  it('$LIB expands to the multiarch directory on Debian', () => {
    const ours = agree(layouts.libToken());
    expect(pathOf(ours, 'libdep.so')).toBe(`${T}/dl/lib/x86_64-linux-gnu/libdep.so`);
  });

  it('a name is satisfied by an already loaded SONAME, with no file of that name', () => {
    // libfoo.so has SONAME libfoo.so.1; libg needs libfoo.so.1, which exists only as that SONAME.
    lib(join(T, 'so/dir'), 'foo', { soname: 'libfoo.so.1' });
    lib(join(T, 'so/dir'), 'g', { links: [], flags: [`-L${T}/so/dir`, '-l:libfoo.so'] });
    const main = program(
      join(T, 'so/main'),
      ['libfoo.so', 'libg.so'],
      [`-Wl,--disable-new-dtags,-rpath,${T}/so/dir`],
    );
    const ours = agree(main);
    expect(ours.missing).toEqual([]);
    expect(ours.libraries.filter((l) => l.realPath === `${T}/so/dir/libfoo.so`)).toHaveLength(1);
  });

  it('a candidate of the wrong class is skipped, and the next directory is searched', () => {
    const ours = agree(layouts.wrongClassSkipped());
    expect(pathOf(ours, 'libw.so')).toBe(`${T}/wc/d64/libw.so`);
  });

  it('garbage in a search directory is fatal, as the loader makes it', () => {
    const ours = agree(layouts.garbageIsFatal());
    expect(ours.failure?.message).toBe('invalid ELF header');
    expect(ours.failure?.path).toBe(`${T}/gb/bad/libw.so`);
  });

  it('glibc-hwcaps subdirectories win on a CPU that supports them, and not on an older one', () => {
    const main = layouts.hwcaps();
    const ours = agree(main);
    expect(pathOf(ours, 'libh.so')).toBe(`${T}/hw/dir/glibc-hwcaps/x86-64-v2/libh.so`);
    const baseline = resolve(main, { cpu: x86ProfileForLevel(0) });
    expect(pathOf(baseline, 'libh.so')).toBe(`${T}/hw/dir/libh.so`);
  });

  it('LD_LIBRARY_PATH comes before RUNPATH, and an empty element means the working directory', () => {
    const { main, first } = layouts.libraryPath();
    const ours = agree(main, { libraryPath: first });
    expect(pathOf(ours, 'libdep.so')).toBe(`${T}/llp/first/libdep.so`);
    expect(pathOf(agree(main), 'libdep.so')).toBe(`${T}/llp/second/libdep.so`);
    // An empty element is the working directory: the name is opened relative to it, as ld.so prints it.
    const fromCwd = resolve(main, { libraryPath: ':/nonexistent', cwd: first });
    expect(pathOf(fromCwd, 'libdep.so')).toBe('libdep.so');
    expect(fromCwd.libraries.find((l) => l.name === 'libdep.so')?.realPath).toBe(`${T}/llp/first/libdep.so`);
  });

  it('missing libraries are listed with who needed them', () => {
    const main = layouts.missing();
    const ours = agree(main);
    expect(ours.missing).toEqual([{ name: 'libnothere.so.1', neededBy: main }]);
    expect(ours.libraries.find((l) => l.name === 'libnothere.so.1')?.path).toBeNull();
  });

  it('a real program: the same as the loader, with the interpreter reached through its symlink', () => {
    const ours = agree('/usr/bin/ls');
    expect(ours.interpreter).toBe('/lib64/ld-linux-x86-64.so.2');
    expect(ours.interpreterLinks.length).toBeGreaterThan(0);
  });
});

describe('a foreign root', () => {
  const R = join(T, 'root');
  beforeAll(() => {
    layouts.foreignRoot(R);
    // A program needing libfoo.so, which the root lacks: it must come out missing, not found on the host.
    compile('int main(void){return 0;}', join(R, 'usr/bin/escape'), {
      flags: [`-L${T}/link`, '-Wl,--no-as-needed', `-l:libfoo.so`, '-Wl,--as-needed'],
    });
  });

  for (const format of ['new', 'compat', 'old'] as const) {
    it(`reads an ld.so.cache in the ${format} format (written by ldconfig -r), like the loader in a chroot`, () => {
      run('/sbin/ldconfig', ['-r', R, '-c', format]);
      const ours = agree('/usr/bin/prog', { root: R });
      expect(pathOf(ours, 'libcached.so')).toBe('/opt/extra/libcached.so');
      expect(ours.libraries.find((l) => l.name === 'libcached.so')?.foundBy).toBe('cache');
      expect(ours.interpreterRealPath).toBe('/usr/lib/x86_64-linux-gnu/ld-linux-x86-64.so.2');
      expect(ours.interpreterLinks).toEqual([
        { path: '/lib64', target: 'usr/lib64' },
        { path: '/usr/lib64/ld-linux-x86-64.so.2', target: '/lib/x86_64-linux-gnu/ld-linux-x86-64.so.2' },
        { path: '/lib', target: 'usr/lib' },
      ]);
    });
  }

  it('never reaches the host: every path stays inside the root', () => {
    run('/sbin/ldconfig', ['-r', R]);
    const resolver = createResolver({ root: R });
    const ours = resolver.resolve('/usr/bin/prog');
    for (const library of ours.libraries) {
      expect(realpathSync(join(R, library.realPath!.toString())).startsWith(`${R}/`)).toBe(true);
    }
    const escaping = resolver.resolve('/usr/bin/escape');
    expect(escaping.missing.map((m) => m.name)).toEqual(['libfoo.so']);
  });

  it('ignores the cache when asked, like --inhibit-cache: libraries only the cache knows go missing', () => {
    run('/sbin/ldconfig', ['-r', R]);
    const ours = resolve('/usr/bin/prog', { root: R, useCache: false });
    expect(ours.missing.map((m) => m.name)).toEqual(['libcached.so']);
  });
});

describe('musl rules, judged by musl', () => {
  function muslOracle(file: string, env: Record<string, string> = {}) {
    let out = '';
    try {
      out = run('/lib/ld-musl-x86_64.so.1', ['--list', file], { env: { ...env }, cwd: '/' });
    } catch (error) {
      out =
        String((error as { stdout?: string }).stdout ?? '') +
        String((error as { stderr?: string }).stderr ?? '');
    }
    const found = new Set<string>();
    const missing = new Set<string>();
    for (const line of out.split('\n')) {
      const ok = /^\t(\S+) => (\S+) \(0x/.exec(line);
      if (ok) found.add(realpathSync(ok[2]!));
      const lost = /Error loading shared library (\S+?):/.exec(line);
      if (lost) missing.add(lost[1]!);
    }
    return { found, missing };
  }
  function agreeMusl(file: string, libraryPath?: string): Resolution {
    const ours = resolve(file, { libraryPath });
    const theirs = muslOracle(file, libraryPath ? { LD_LIBRARY_PATH: libraryPath } : {});
    const mine = ourSet(ours);
    expect({ found: [...mine.found].sort(), missing: [...mine.missing].sort() }).toEqual({
      found: [...theirs.found].sort(),
      missing: [...theirs.missing].sort(),
    });
    return ours;
  }

  it('reserved names resolve to musl itself, and RUNPATH is inherited', () => {
    compile(sharedLibrarySource('a', ['b']), join(T, 'musl/dir/liba.so'), {
      compiler: 'musl-gcc',
      flags: ['-shared', `-L${T}/link`, '-l:libb.so', '-Wl,-soname,liba.so'],
    });
    compile(sharedLibrarySource('b'), join(T, 'musl/dir/libb.so'), {
      compiler: 'musl-gcc',
      flags: ['-shared', '-Wl,-soname,libb.so'],
    });
    const main = program(
      join(T, 'musl/main'),
      ['liba.so'],
      ['-lm', `-Wl,--enable-new-dtags,-rpath,$ORIGIN/dir`],
      'musl-gcc',
    );
    const ours = agreeMusl(main);
    expect(ours.loader).toBe('musl');
    expect(pathOf(ours, 'libb.so')).toBe(`${T}/musl/dir/libb.so`);
    expect(pathOf(ours, 'libc.so')).toBe('/lib/ld-musl-x86_64.so.1');
  });

  it('reads the system path from etc/ld-musl-ARCH.path inside a root, like musl in a chroot', () => {
    const R = join(T, 'muslroot');
    mkdirSync(join(R, 'lib'), { recursive: true });
    mkdirSync(join(R, 'etc'), { recursive: true });
    copyFileSync(realpathSync('/lib/ld-musl-x86_64.so.1'), join(R, 'lib/ld-musl-x86_64.so.1'));
    compile(sharedLibrarySource('dep'), join(R, 'opt/musl-libs/libdep.so'), {
      compiler: 'musl-gcc',
      flags: ['-shared', '-Wl,-soname,libdep.so'],
    });
    compile(sharedLibrarySource('dep'), join(R, 'usr/lib/libdep.so'), {
      compiler: 'musl-gcc',
      flags: ['-shared', '-Wl,-soname,libdep.so'],
    });
    // The path file replaces the defaults entirely: /usr/lib (a default) is not searched.
    writeFileSync(join(R, 'etc/ld-musl-x86_64.path'), '/opt/musl-libs\n');
    program(join(R, 'prog'), ['libdep.so'], [], 'musl-gcc');
    const listing = run('/usr/sbin/chroot', [R, '/lib/ld-musl-x86_64.so.1', '--list', '/prog']);
    expect(listing).toContain('libdep.so => /opt/musl-libs/libdep.so');
    const ours = resolve('/prog', { root: R });
    expect(pathOf(ours, 'libdep.so')).toBe('/opt/musl-libs/libdep.so');
    expect(ours.libraries.find((l) => l.name === 'libdep.so')?.foundBy).toBe('musl-path');
  });

  it('LD_LIBRARY_PATH comes first, and a missing library is named', () => {
    compile(sharedLibrarySource('dep'), join(T, 'musl/llp/libdep.so'), {
      compiler: 'musl-gcc',
      flags: ['-shared', '-Wl,-soname,libdep.so'],
    });
    const main = program(join(T, 'musl/main2'), ['libdep.so', 'libnothere.so.1'], [], 'musl-gcc');
    const ours = agreeMusl(main, `${T}/musl/llp`);
    expect(ours.missing.map((m) => m.name)).toEqual(['libnothere.so.1']);
  });
});

describe('dlopen after start-up', () => {
  it('adds what a dlopen()ed module needs, reusing what the program already loaded', () => {
    // getent dlopen()s libnss_systemd.so.2 for users not in /etc/passwd; the loader judges the module alone.
    const module = realpathSync('/lib/x86_64-linux-gnu/libnss_systemd.so.2');
    const ours = resolve('/usr/bin/getent', { cwd: '/' });
    const withModule = createResolver().resolve('/usr/bin/getent', { dlopen: ['libnss_systemd.so.2'] });
    const expected = new Set([...ourSet(ours).found, module, ...oracleSet(module).found]);
    expect(ourSet(withModule).found).toEqual(expected);
    expect(withModule.libraries.find((l) => l.name === 'libnss_systemd.so.2')?.foundBy).toBe('cache');
  });
});
