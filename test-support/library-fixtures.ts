/**
 * Builders for loader fixtures: shared libraries and programs compiled by the real gcc or musl-gcc,
 * linked against stand-ins in `<dir>/link` so that the runtime layout can differ from the link-time one.
 */
import { copyFileSync, mkdirSync, symlinkSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { compile, programSource, sharedLibrarySource } from './fixtures.js';

export interface LibraryOptions {
  soname?: string;
  /** Libraries (file names in `<dir>/link`) it is linked against, and whose functions it calls. */
  links?: string[];
  flags?: string[];
  /** The file name, when not lib<name>.so. */
  file?: string;
}

const baseName = (library: string) => library.replace(/^lib|\.so.*$/g, '');

export function libraryFixtures(dir: string) {
  /** Builds lib<name>.so in `at` with SONAME lib<name>.so (or `soname`), linked against `links`. */
  function lib(at: string, name: string, options: LibraryOptions = {}): string {
    const links = options.links ?? [];
    return compile(
      sharedLibrarySource(name, links.map(baseName)),
      join(at, options.file ?? `lib${name}.so`),
      {
        flags: [
          '-shared',
          `-Wl,-soname,${options.soname ?? `lib${name}.so`}`,
          ...links.flatMap((l) => [`-L${dir}/link`, `-l:${l}`]),
          ...(options.flags ?? []),
        ],
      },
    );
  }

  /** A program calling a function of each `needed` library, linked against their stand-ins. */
  function program(
    path: string,
    needed: string[],
    flags: string[] = [],
    compiler: 'gcc' | 'musl-gcc' = 'gcc',
  ): string {
    return compile(programSource(needed.map(baseName)), path, {
      compiler,
      flags: [`-L${dir}/link`, `-Wl,-rpath-link,${dir}/link`, ...needed.map((l) => `-l:${l}`), ...flags],
    });
  }

  /** A link-time stand-in: the linker needs each library somewhere; the runtime layout is separate. */
  function linkStub(name: string, soname = name): void {
    lib(join(dir, 'link'), baseName(name), { soname, file: name });
  }

  return { lib, program, linkStub };
}

/**
 * One layout per glibc search rule, for the test files that judge dit's answers on them: the
 * resolver's against ld.so itself (packages/resolver/test/loader-fixtures.test.ts). Each builder lays
 * its files out under its own folder of `dir` and returns the program to resolve (and what else a
 * test needs);
 * `linkStubs()` first builds the link-time stand-ins they are linked against.
 */
export function glibcLayouts(dir: string) {
  const { lib, program, linkStub } = libraryFixtures(dir);
  const runpath = (path: string) => `-Wl,--enable-new-dtags,-rpath,${path}`;
  const rpath = (path: string) => `-Wl,--disable-new-dtags,-rpath,${path}`;

  return {
    /** The stand-ins every layout below links against (liba needs libb: the grandchild). */
    linkStubs(): void {
      for (const name of [
        'liba.so',
        'libb.so',
        'libq.so.1',
        'libdep.so',
        'libh.so',
        'libw.so',
        'libnothere.so.1',
      ]) {
        linkStub(name);
      }
      lib(join(dir, 'link'), 'a', { links: ['libb.so'] });
    },

    /** rp/: liba (needing libb) and libb, found through the program's DT_RPATH, which liba inherits. */
    rpathInherited(): string {
      lib(join(dir, 'rp/dir'), 'a', { links: ['libb.so'] });
      lib(join(dir, 'rp/dir'), 'b');
      return program(join(dir, 'rp/main'), ['liba.so'], [rpath(`${dir}/rp/dir`)]);
    },

    /** runp/: the same through DT_RUNPATH, which liba does not inherit: libb.so is missing. */
    runpathNotInherited(): string {
      lib(join(dir, 'runp/dir'), 'a', { links: ['libb.so'] });
      lib(join(dir, 'runp/dir'), 'b');
      return program(join(dir, 'runp/main'), ['liba.so'], [runpath(`${dir}/runp/dir`)]);
    },

    /**
     * orig/: a program with RUNPATH $ORIGIN/../lib, run through a symlink in another folder: its
     * $ORIGIN is its real directory. Returns the symlink.
     */
    programOriginThroughLink(): string {
      lib(join(dir, 'orig/app/lib'), 'dep');
      program(join(dir, 'orig/app/bin/main'), ['libdep.so'], [runpath('$ORIGIN/../lib')]);
      mkdirSync(join(dir, 'orig/elsewhere'), { recursive: true });
      symlinkSync('../app/bin/main', join(dir, 'orig/elsewhere/main'));
      return join(dir, 'orig/elsewhere/main');
    },

    /**
     * lo/: libq.so.1 (RUNPATH $ORIGIN/../dep) opened through x/lib/libq.so.1 -> ../../y/real/libq.so.1:
     * its $ORIGIN is x/lib, the directory it was opened from, so libdep.so is x/lib/../dep/libdep.so.
     */
    libraryOriginAsOpened(): string {
      lib(join(dir, 'lo/y/real'), 'q', {
        soname: 'libq.so.1',
        file: 'libq.so.1',
        links: ['libdep.so'],
        flags: [runpath('$ORIGIN/../dep')],
      });
      lib(join(dir, 'lo/x/dep'), 'dep');
      mkdirSync(join(dir, 'lo/x/lib'), { recursive: true });
      symlinkSync('../../y/real/libq.so.1', join(dir, 'lo/x/lib/libq.so.1'));
      return program(join(dir, 'lo/main'), ['libq.so.1'], [runpath(`${dir}/lo/x/lib`)]);
    },

    /** dl/: RUNPATH dl/$LIB, with libdep.so in dl/lib/x86_64-linux-gnu (Debian's multiarch $LIB). */
    libToken(): string {
      lib(join(dir, 'dl/lib/x86_64-linux-gnu'), 'dep');
      return program(join(dir, 'dl/main'), ['libdep.so'], [runpath(`${dir}/dl/$LIB`)]);
    },

    /** wc/: a 32-bit libw.so in the first RPATH directory, a 64-bit one in the second. */
    wrongClassSkipped(): string {
      compile('int w(void){return 32;}', join(dir, 'wc/d32/libw.so'), {
        flags: ['-shared', '-m32', '-nostdlib', '-Wl,-soname,libw.so'],
      });
      lib(join(dir, 'wc/d64'), 'w');
      return program(join(dir, 'wc/main'), ['libw.so'], [rpath(`${dir}/wc/d32:${dir}/wc/d64`)]);
    },

    /** gb/: a linker script named libw.so in the first RPATH directory (fatal), a good one after it. */
    garbageIsFatal(): string {
      mkdirSync(join(dir, 'gb/bad'), { recursive: true });
      writeFileSync(
        join(dir, 'gb/bad/libw.so'),
        'INPUT(-lc)\n/* a linker script, not an ELF file */\n'.repeat(3),
      );
      lib(join(dir, 'gb/good'), 'w');
      return program(join(dir, 'gb/main'), ['libw.so'], [rpath(`${dir}/gb/bad:${dir}/gb/good`)]);
    },

    /** hw/: libh.so in hw/dir/glibc-hwcaps/x86-64-v2 and in hw/dir, the program's RUNPATH. */
    hwcaps(): string {
      lib(join(dir, 'hw/dir/glibc-hwcaps/x86-64-v2'), 'h');
      lib(join(dir, 'hw/dir'), 'h');
      return program(join(dir, 'hw/main'), ['libh.so'], [runpath(`${dir}/hw/dir`)]);
    },

    /** llp/: libdep.so in llp/first (for LD_LIBRARY_PATH) and in llp/second, the program's RUNPATH. */
    libraryPath(): { main: string; first: string; second: string } {
      const first = join(dir, 'llp/first');
      const second = join(dir, 'llp/second');
      lib(first, 'dep');
      lib(second, 'dep');
      return { main: program(join(dir, 'llp/main'), ['libdep.so'], [runpath(second)]), first, second };
    },

    /** miss/: a program needing libnothere.so.1, which exists nowhere. */
    missing(): string {
      return program(join(dir, 'miss/main'), ['libnothere.so.1']);
    },

    /**
     * `root`: a merged-/usr root laid out as Debian's, with the host's own libc and loader (the
     * loader's /usr/lib64 link absolute, as Debian ships it, so it must be followed inside the root),
     * /usr/bin/prog needing libcached.so from /opt/extra, which only etc/ld.so.conf names (so only a
     * cache written by `ldconfig -r` finds it), and usr/lib/x86_64-linux-gnu/libescape.so, a link to a
     * host file that leads nowhere inside the root. No cache yet: the caller writes the one it tests.
     */
    foreignRoot(root: string): void {
      for (const folder of ['usr/lib/x86_64-linux-gnu', 'usr/lib64', 'usr/bin', 'etc'])
        mkdirSync(join(root, folder), { recursive: true });
      for (const name of ['lib', 'lib64', 'bin']) symlinkSync(`usr/${name}`, join(root, name));
      for (const name of ['libc.so.6', 'ld-linux-x86-64.so.2'])
        copyFileSync(join('/lib/x86_64-linux-gnu', name), join(root, 'usr/lib/x86_64-linux-gnu', name));
      symlinkSync('/lib/x86_64-linux-gnu/ld-linux-x86-64.so.2', join(root, 'usr/lib64/ld-linux-x86-64.so.2'));
      lib(join(root, 'opt/extra'), 'cached');
      symlinkSync('/usr/lib/x86_64-linux-gnu/libz.so.1', join(root, 'usr/lib/x86_64-linux-gnu/libescape.so'));
      writeFileSync(join(root, 'etc/ld.so.conf'), '/opt/extra\n');
      program(join(root, 'usr/bin/prog'), ['libcached.so']);
    },
  };
}
