/**
 * Builders for loader fixtures: shared libraries and programs compiled by the real gcc or musl-gcc,
 * linked against stand-ins in `<dir>/link` so that the runtime layout can differ from the link-time one.
 */
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
