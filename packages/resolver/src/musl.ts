/**
 * A model of musl's dynamic linker choosing libraries (ldso/dynlink.c load_library, path_open,
 * fixup_rpath), which is simpler than glibc's and different in ways that matter:
 *
 * - Names starting with `libc.`, `libpthread.`, `librt.`, `libm.`, `libdl.`, `libutil.`, `libxnet.`
 *   and the PT_INTERP path itself are musl itself: they resolve to the loader.
 * - A name without `/` first matches a loaded object's shortname (the basename of the path a
 *   search found it at; never the SONAME), then is searched in LD_LIBRARY_PATH, then in the RUNPATH
 *   (or else RPATH) of every object up the `needed_by` chain, then in the system path.
 * - Only $ORIGIN is expanded; a path string with any other `$` is ignored as a whole.
 * - The first file that opens wins: no class or machine check. A file that then fails to map is an
 *   error for that name.
 */

import { posix } from 'node:path';
import { ElfError, type ElfFile } from '@dit/elf';
import { type Lookup, type SymlinkHop, toByteString } from '@dit/paths';
import type { MainProgram } from './glibc.js';
import type { MuslFacts } from './loader-facts.js';
import type { Session } from './session.js';
import type { FoundBy, LoadFailure, MissingLibrary, ResolvedLibrary } from './types.js';

interface MuslObject {
  /** p->name: the path it was opened as. */
  readonly name: string;
  /** p->shortname: basename of a search-found path; null for explicit paths until found by search. */
  shortname: string | null;
  readonly identity: string | null;
  readonly realPath: string | null;
  readonly links: readonly SymlinkHop[];
  readonly elf: ElfFile<string> | null;
  readonly neededBy: MuslObject | null;
  readonly isMain: boolean;
  readonly isLoader: boolean;
  foundBy: FoundBy;
  report: { name: string; neededBy: string } | null;
}

interface NotFound {
  readonly name: string;
  readonly neededBy: string;
}

const RESERVED = ['c', 'pthread', 'rt', 'm', 'dl', 'util', 'xnet'];
const NAME_MAX = 255;
const PATH_MAX_BUFFER = 512;

export function resolveMusl(
  session: Session,
  facts: MuslFacts,
  main: MainProgram,
  dlopen: readonly string[] = [],
): { libraries: ResolvedLibrary[]; missing: MissingLibrary[]; failure: LoadFailure | null } {
  const objects: MuslObject[] = [];
  /** Names not found, as the model carries them (@dit/paths' byte-names.ts). */
  const report: (MuslObject | NotFound)[] = [];
  const missing: NotFound[] = [];

  const mainObject: MuslObject = {
    name: main.path,
    shortname: null,
    identity: main.lookup.identity,
    realPath: main.lookup.realPath,
    links: main.lookup.links,
    elf: main.elf,
    neededBy: null,
    isMain: true,
    isLoader: false,
    foundBy: 'path',
    report: null,
  };
  const loaderLookup = session.fs.lookup(facts.interpreter);
  const loaderObject: MuslObject = {
    name: facts.interpreter,
    shortname: 'libc.so',
    identity: loaderLookup.identity,
    realPath: loaderLookup.realPath,
    links: loaderLookup.links,
    elf: null,
    neededBy: null,
    isMain: false,
    isLoader: true,
    foundBy: 'interpreter',
    report: null,
  };
  objects.push(mainObject);

  const use = (object: MuslObject, name: string, requester: MuslObject | null): MuslObject => {
    if (object.report === null && !object.isMain) {
      object.report = { name, neededBy: requester?.name ?? 'LD_PRELOAD' };
      report.push(object);
    }
    return object;
  };

  const origin = (object: MuslObject): string => {
    // The program's origin comes from /proc/self/exe; a library's from the path it was opened as.
    const path = object.isMain ? (object.realPath ?? object.name) : object.name;
    const slash = path.lastIndexOf('/');
    return slash < 0 ? '.' : path.slice(0, slash);
  };

  const searchPath = (object: MuslObject): string | null => {
    const dynamic = object.elf?.dynamic;
    const raw = dynamic?.runpath ?? dynamic?.rpath ?? null;
    if (raw === null || !raw.includes('$')) return raw;
    // Only $ORIGIN and ${ORIGIN}; any other `$` disables the whole string.
    for (let at = raw.indexOf('$'); at >= 0; at = raw.indexOf('$', at + 1)) {
      // biome-ignore lint/suspicious/noTemplateCurlyInString: the loader's token, not a template
      if (!raw.startsWith('$ORIGIN', at) && !raw.startsWith('${ORIGIN}', at)) return null;
    }
    return raw.replace(/\$\{ORIGIN\}|\$ORIGIN/g, origin(object));
  };

  /** path_open: ':' and '\n' separate, empty elements are skipped, other open errors stop. */
  const pathOpen = (name: string, list: string): { lookup: Lookup; path: string } | 'stop' | null => {
    for (const dir of list.split(/[:\n]/)) {
      if (dir === '') continue;
      const path = `${dir}/${name}`;
      if (path.length >= PATH_MAX_BUFFER) continue;
      const lookup = session.fs.lookup(path, session.cwd);
      if (lookup.error === null) return { lookup, path };
      if (lookup.error !== 'ENOENT' && lookup.error !== 'ENOTDIR' && lookup.error !== 'EACCES') return 'stop';
    }
    return null;
  };

  const load = (name: string, requester: MuslObject | null): MuslObject | null => {
    if (name === '') return null;
    const isSelf =
      name === facts.interpreter ||
      (name.startsWith('lib') && RESERVED.some((reserved) => name.startsWith(`lib${reserved}.`)));
    if (isSelf) {
      if (!objects.includes(loaderObject)) objects.push(loaderObject);
      return use(loaderObject, name, requester);
    }
    let found: { lookup: Lookup; path: string } | 'stop' | null = null;
    let foundBy: FoundBy = 'path';
    const explicit = name.includes('/');
    if (explicit) {
      const lookup = session.fs.lookup(name, session.cwd);
      found = lookup.error === null ? { lookup, path: name } : null;
    } else {
      const byShortname = objects.find((object) => object.shortname === name);
      if (byShortname) return use(byShortname, name, requester);
      if (name.length > NAME_MAX) return null;
      if (session.libraryPath !== null) {
        found = pathOpen(name, session.libraryPath);
        foundBy = 'ld-library-path';
      }
      for (let object = requester; found === null && object !== null; object = object.neededBy) {
        const list = searchPath(object);
        if (list !== null) {
          found = pathOpen(name, list);
          foundBy = object.elf?.dynamic?.runpath != null ? 'runpath' : 'rpath';
        }
      }
      if (found === null) {
        found = pathOpen(name, facts.systemPath.join(':'));
        foundBy = 'musl-path';
      }
    }
    if (found === null || found === 'stop') return null;
    const hit = found;
    const same = objects.find(
      (object) => object.identity !== null && object.identity === hit.lookup.identity,
    );
    if (same) {
      if (same.shortname === null && !explicit) same.shortname = posix.basename(same.name);
      return use(same, name, requester);
    }
    let elf: ElfFile<string> | null = null;
    if (hit.lookup.type === 'file') {
      try {
        elf = session.elf(hit.lookup.realPath!);
      } catch (error) {
        if (!(error instanceof ElfError)) throw error;
      }
    }
    // A string musl cannot read fails the library too (dit does not model when musl reads which).
    const unreadable =
      elf?.dynamic != null &&
      (Object.keys(elf.dynamic.unreadable).length > 0 || elf.dynamic.dependencies.some((d) => d.unreadable));
    if (elf === null || elf.dynamic === null || unreadable) return null; // map_library fails: "Error loading shared library"
    const object: MuslObject = {
      name: hit.path,
      shortname: explicit ? null : posix.basename(hit.path),
      identity: hit.lookup.identity,
      realPath: hit.lookup.realPath,
      links: hit.lookup.links,
      elf,
      neededBy: requester,
      isMain: false,
      isLoader: false,
      foundBy: requester === null ? 'preload' : foundBy,
      report: null,
    };
    objects.push(object);
    return use(object, name, requester);
  };

  const fail = (name: string, requester: MuslObject | null) => {
    const entry = { name, neededBy: requester?.name ?? 'LD_PRELOAD' };
    missing.push(entry);
    if (!report.some((item) => !('identity' in item) && item.name === name)) report.push(entry);
  };

  // LD_PRELOAD (split on whitespace and ':'), loaded before the program's needs, with no requester.
  for (const name of (session.preload ?? '').split(/[\s:]/)) {
    if (name !== '' && load(name, null) === null) fail(name, null);
  }
  // load_deps walks the list as it grows: breadth-first.
  let next = 0;
  const drain = () => {
    for (; next < objects.length; next++) {
      const requester = objects[next]!;
      for (const name of requester.elf?.dynamic?.needed ?? []) {
        if (load(name, requester) === null) fail(name, requester);
      }
    }
  };
  drain();
  // dlopen() from the program, after start-up.
  for (const name of dlopen) {
    if (load(name, mainObject) === null) fail(name, mainObject);
    drain();
  }

  const toMissing = (entry: NotFound): MissingLibrary => ({
    name: toByteString(entry.name),
    neededBy: toByteString(entry.neededBy),
  });
  const libraries = report.map((entry): ResolvedLibrary => {
    if (!('identity' in entry))
      return { ...toMissing(entry), path: null, realPath: null, links: [], foundBy: null, soname: null };
    const soname = entry.elf?.dynamic?.soname ?? null;
    return {
      name: toByteString(entry.report!.name),
      path: toByteString(entry.name),
      realPath: entry.realPath === null ? null : toByteString(entry.realPath),
      links: entry.links,
      neededBy: toByteString(entry.report!.neededBy),
      foundBy: entry.foundBy,
      soname: soname === null ? null : toByteString(soname),
    };
  });
  return { libraries, missing: missing.map(toMissing), failure: null };
}
