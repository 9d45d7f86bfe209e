/**
 * A model of glibc's ld.so deciding which files a program loads (elf/rtld.c, dl-deps.c, dl-load.c,
 * dl-cache.c at 2.36, with the later changes noted), simulated rather than run:
 *
 * - Objects load breadth-first: the program, then the loader itself, preloads, then each object's
 *   DT_NEEDED / DT_FILTER / DT_AUXILIARY in dynamic-section order. An object's "loader" is the
 *   first object that asked for it; RPATH inheritance follows those first-discovery edges.
 * - A name without `/` is first matched against loaded objects (the names they were loaded under,
 *   then their SONAME); otherwise searched in DT_RPATH of the loader chain (unless the requester has
 *   DT_RUNPATH), LD_LIBRARY_PATH, the requester's DT_RUNPATH, /etc/ld.so.cache, and the default
 *   directories, each directory with its glibc-hwcaps (and, up to 2.36, legacy hwcap) subdirectories.
 * - A candidate is verified like open_verify: wrong class or machine is skipped, garbage is fatal.
 *   A found file that is already loaded (same device and inode) is reused under the new name.
 * - Path strings are kept exactly as the loader builds them (no normalisation), because $ORIGIN
 *   of a library is the directory of that string.
 */

import { readFileSync } from 'node:fs';
import { posix } from 'node:path';
import { DF_1, ElfError, type ElfFile, type UnreadableString } from '@dit/elf';
import { type Lookup, type SymlinkHop, toByteString } from '@dit/paths';
import { type DstValues, expandDst, glibcPathList, hasDst } from './dst.js';
import { glibcSegmentProblem, type HostAbi, verifyGlibcCandidate } from './glibc-verify.js';
import { abiCacheFlags, lookupLdCache } from './ld-cache.js';
import type { GlibcFacts } from './loader-facts.js';
import type { Session } from './session.js';
import type { FoundBy, LoadFailure, MissingLibrary, ResolvedLibrary } from './types.js';

export interface MainProgram {
  /** The file as given, inside the root. */
  readonly path: string;
  readonly lookup: Lookup;
  readonly elf: ElfFile<string>;
}

/** A name not found, as the model carries it (@dit/paths' byte-names.ts); a MissingLibrary once reported. */
interface NotFound {
  readonly name: string;
  readonly neededBy: string;
}

interface LoadedObject {
  /** l_name: the path string it was opened as. */
  readonly pathString: string;
  /** Every name it was requested under (l_libname), plus its SONAME once matched. */
  readonly names: Set<string>;
  readonly soname: string | null;
  readonly identity: string | null;
  readonly realPath: string | null;
  readonly links: readonly SymlinkHop[];
  readonly elf: ElfFile<string> | null;
  /** l_loader: the object whose request loaded this one; null for the program and the loader. */
  readonly loader: LoadedObject | null;
  readonly isMain: boolean;
  /** $ORIGIN: null when unknown. */
  readonly origin: string | null;
  foundBy: FoundBy;
  /** First requested name and requester, for the report; null until something asks for it. */
  report: { name: string; neededBy: string } | null;
  rpathDirs?: string[] | null;
  runpathDirs?: string[] | null;
}

/** Thrown inside the model when the loader would stop with "error while loading shared libraries". */
class FatalLoad extends Error {
  constructor(
    readonly path: string,
    readonly reason: string,
    /** UNMAPPED_READ: the loader would read memory the file does not map (see LoadFailure). */
    readonly code: LoadFailure['code'] = 'FATAL_LOAD_ERROR',
  ) {
    super(`${path}: ${reason}`);
  }

  /** The loader reads a string the file does not give (`@dit/elf`'s UnreadableString). */
  static unreadable(path: string, string: UnreadableString): FatalLoad {
    return new FatalLoad(path, string.problem, string.unmapped ? 'UNMAPPED_READ' : 'FATAL_LOAD_ERROR');
  }
}

type Found = { lookup: Lookup; pathString: string; foundBy: FoundBy };
/** A search step's result: a file, nothing (go on), or "stop this list" (an open error other than ENOENT). */
type Probe = { kind: 'found'; lookup: Lookup } | { kind: 'next' } | { kind: 'stop' };

export interface GlibcResult {
  readonly libraries: ResolvedLibrary[];
  readonly missing: MissingLibrary[];
  readonly failure: LoadFailure | null;
}

export function resolveGlibc(
  session: Session,
  facts: GlibcFacts,
  main: MainProgram,
  dlopen: readonly string[] = [],
): GlibcResult {
  return new GlibcLoad(session, facts, main).run(dlopen);
}

class GlibcLoad {
  private readonly objects: LoadedObject[] = [];
  /** The report in load order: loaded objects and, where they occurred, names not found. */
  private readonly libraries: (LoadedObject | NotFound)[] = [];
  private readonly missing: NotFound[] = [];
  private readonly host: HostAbi;
  private readonly mainObject: LoadedObject;
  private readonly legacySubdirs: readonly string[];
  private readonly version: readonly [number, number];

  constructor(
    private readonly session: Session,
    private readonly facts: GlibcFacts,
    main: MainProgram,
  ) {
    const header = main.elf.header;
    this.host = { class: header.class, byteOrder: header.byteOrder, machine: header.machine };
    this.version = facts.version ?? [2, 36];
    this.legacySubdirs = this.atLeast(2, 37) ? [] : sessionLegacySubdirs(session);
    this.mainObject = {
      pathString: main.path,
      // l_name of the program the kernel started is "": a DT_NEEDED "" matches it, and the
      // program runs (ld.so run on a file explicitly does the same).
      names: new Set(['']),
      soname: main.elf.dynamic?.soname ?? null,
      identity: main.lookup.identity,
      realPath: main.lookup.realPath,
      links: main.lookup.links,
      elf: main.elf,
      loader: null,
      isMain: true,
      // The kernel-exec'd program's origin comes from /proc/self/exe, which is canonical.
      origin: main.lookup.realPath === null ? null : posix.dirname(main.lookup.realPath),
      foundBy: 'path',
      report: null,
    };
    this.objects.push(this.mainObject);
    this.addLoaderObject();
  }

  private atLeast(major: number, minor: number): boolean {
    const [have, haveMinor] = this.version;
    return have > major || (have === major && haveMinor >= minor);
  }

  /** ld.so is in the namespace from the start, under its PT_INTERP path and its SONAME. */
  private addLoaderObject(): void {
    const lookup = this.session.fs.lookup(this.facts.interpreter);
    let elf: ElfFile<string> | null = null;
    if (lookup.realPath !== null && lookup.type === 'file') {
      try {
        elf = this.session.elf(lookup.realPath);
      } catch {
        elf = null;
      }
    }
    this.objects.push({
      pathString: this.facts.interpreter,
      names: new Set([this.facts.interpreter]),
      soname: elf?.dynamic?.soname ?? posix.basename(this.facts.interpreter),
      identity: lookup.identity,
      realPath: lookup.realPath,
      links: lookup.links,
      elf,
      loader: null,
      isMain: false,
      origin: posix.dirname(this.facts.interpreter),
      foundBy: 'interpreter',
      report: null,
    });
  }

  run(dlopen: readonly string[] = []): GlibcResult {
    try {
      // _dl_init_paths reads the program's DT_RUNPATH (or, without one, its DT_RPATH) at start-up.
      const mainDynamic = this.mainObject.elf?.dynamic;
      const mainPath =
        mainDynamic?.unreadable.runpath ??
        (mainDynamic?.runpath == null ? mainDynamic?.unreadable.rpath : undefined);
      if (mainPath !== undefined) throw FatalLoad.unreadable(this.mainObject.pathString, mainPath);
      const queue: LoadedObject[] = [this.mainObject];
      const enqueue = (object: LoadedObject | null) => {
        if (object !== null && !queue.includes(object)) queue.push(object);
      };
      for (const name of this.preloadNames()) {
        enqueue(this.mapObject(name.name, this.mainObject, 'preload', name.source));
      }
      let next = 0;
      const drain = () => {
        for (; next < queue.length; next++) {
          const requester = queue[next]!;
          for (const dependency of requester.elf?.dynamic?.dependencies ?? []) {
            // _dl_map_object_deps reads each name as it comes to it.
            if (dependency.unreadable !== undefined)
              throw FatalLoad.unreadable(requester.pathString, dependency.unreadable);
            let name: string | null = dependency.name;
            if (hasDst(name)) {
              name = expandDst(name, this.dstValues(requester));
              if (name === null || name === '') continue; // 2.36: an empty expansion skips the entry
            }
            enqueue(
              dependency.kind === 'auxiliary'
                ? this.mapAuxiliary(name, requester)
                : this.mapObject(name, requester, dependency.kind, null),
            );
          }
        }
      };
      drain();
      // After start-up, what the program dlopen()s: searched with the program as the requester,
      // in the same namespace, so already loaded objects are reused.
      for (const name of dlopen) {
        enqueue(this.mapObject(name, this.mainObject, 'needed', null));
        drain();
      }
      return { libraries: this.libraries.map(toReport), missing: this.missing.map(toMissing), failure: null };
    } catch (error) {
      if (!(error instanceof FatalLoad)) throw error;
      return {
        libraries: this.libraries.map(toReport),
        missing: this.missing.map(toMissing),
        failure: { code: error.code, path: toByteString(error.path), message: error.reason },
      };
    }
  }

  /** LD_PRELOAD (split on spaces and colons), then /etc/ld.so.preload of the root. */
  private preloadNames(): { name: string; source: string }[] {
    const names: { name: string; source: string }[] = [];
    for (const name of (this.session.preload ?? '').split(/[ :]/)) {
      if (name !== '') names.push({ name, source: 'LD_PRELOAD' });
    }
    const file = this.session.fs.lookup('/etc/ld.so.preload');
    if (file.realPath !== null && file.type === 'file') {
      const text = readTextFile(this.session.fs.hostPath(file.realPath));
      for (const line of text.split('\n')) {
        for (const name of line.replace(/#.*/, '').split(/[ \t:]/)) {
          if (name !== '') names.push({ name, source: '/etc/ld.so.preload' });
        }
      }
    }
    return names;
  }

  private dstValues(object: LoadedObject): DstValues {
    return { ORIGIN: object.origin, LIB: this.facts.lib, PLATFORM: this.session.cpu.platform };
  }

  /**
   * _dl_map_object: returns the object for `name` as requested by `requester`, loading it if needed;
   * null when it is not found (recorded as missing unless it is an optional DT_AUXILIARY).
   */
  private mapObject(
    name: string,
    requester: LoadedObject,
    kind: 'needed' | 'filter' | 'auxiliary' | 'preload',
    preloadSource: string | null,
  ): LoadedObject | null {
    const loaded = this.findLoadedByName(name);
    if (loaded !== null) return this.use(loaded, name, requester);

    const found = name.includes('/') ? this.openPath(name) : this.search(name, requester);
    if (found === null) {
      if (kind !== 'auxiliary') {
        const missing = { name, neededBy: preloadSource ?? displayName(requester) };
        this.missing.push(missing);
        // Listed once, where it first occurred (ldd prints "not found" in load order).
        if (!this.libraries.some((entry) => !('pathString' in entry) && entry.name === name)) {
          this.libraries.push(missing);
        }
      }
      return null;
    }
    // Same file under another name (a symlink, /lib vs /usr/lib on merged /usr): reuse it.
    const same = this.objects.find(
      (object) => object.identity !== null && object.identity === found.lookup.identity,
    );
    if (same !== undefined) {
      same.names.add(name);
      return this.use(same, name, requester);
    }
    const elf = this.mapFile(found.pathString, found.lookup);
    const pathString = found.pathString;
    const object: LoadedObject = {
      pathString,
      names: new Set([name]),
      soname: elf.dynamic?.soname ?? null,
      identity: found.lookup.identity,
      realPath: found.lookup.realPath,
      links: found.lookup.links,
      elf,
      loader: requester,
      isMain: false,
      origin: libraryOrigin(pathString, this.session.cwd),
      foundBy: kind === 'preload' ? 'preload' : found.foundBy,
      report: null,
    };
    this.objects.push(object);
    return this.use(object, name, requester);
  }

  /**
   * A DT_AUXILIARY: _dl_map_object_deps catches every error of its load (not found, and also what
   * is fatal elsewhere: a directory, garbage) and goes on without it. A read of unmapped memory is a
   * crash, which it cannot catch.
   */
  private mapAuxiliary(name: string, requester: LoadedObject): LoadedObject | null {
    try {
      return this.mapObject(name, requester, 'auxiliary', null);
    } catch (error) {
      if (error instanceof FatalLoad && error.code !== 'UNMAPPED_READ') return null;
      throw error;
    }
  }

  /** Records the first request of an object for the report. */
  private use(object: LoadedObject, name: string, requester: LoadedObject): LoadedObject {
    if (object.report === null && !object.isMain) {
      object.report = { name, neededBy: displayName(requester) };
      this.libraries.push(object);
    }
    return object;
  }

  /** _dl_name_match_p over the namespace, then the SONAME check that adds the name. */
  private findLoadedByName(name: string): LoadedObject | null {
    for (const object of this.objects) {
      if (object.names.has(name)) return object;
      // _dl_map_object reads the SONAME of every loaded object a name does not already match.
      const unreadable = object.elf?.dynamic?.unreadable.soname;
      if (unreadable !== undefined) throw FatalLoad.unreadable(object.pathString, unreadable);
      if (object.soname === name) {
        object.names.add(name);
        return object;
      }
    }
    return null;
  }

  /** The checks of _dl_map_object_from_fd after open_verify accepted the file. */
  private mapFile(pathString: string, lookup: Lookup): ElfFile<string> {
    let elf: ElfFile<string>;
    try {
      elf = this.session.elf(lookup.realPath!);
    } catch (error) {
      if (error instanceof ElfError) {
        throw new FatalLoad(
          pathString,
          error.problem,
          error.code === 'ELF_UNMAPPED' ? 'UNMAPPED_READ' : 'FATAL_LOAD_ERROR',
        );
      }
      throw error;
    }
    const segments = glibcSegmentProblem(elf.loads, elf.header.class);
    if (segments !== null) throw new FatalLoad(pathString, segments);
    if (elf.header.type === 2) throw new FatalLoad(pathString, 'cannot dynamically load executable');
    // A PT_DYNAMIC with p_filesz 0 counts as none for a library (objcopy's debug-only files have
    // one); the program itself, mapped by the kernel, is read at p_vaddr whatever its p_filesz.
    // l_ld is PT_DYNAMIC's p_vaddr, and 0 means none to glibc.
    if (elf.dynamic === null || !elf.dynamic.segmentHasFileData || elf.dynamic.address === 0n)
      throw new FatalLoad(pathString, 'object file has no dynamic section');
    if ((elf.dynamic.flags1 & DF_1.PIE) !== 0) {
      throw new FatalLoad(pathString, 'cannot dynamically load position-independent executable');
    }
    return elf;
  }

  /** A name with a slash is opened as it is (relative to the working directory), never searched. */
  private openPath(name: string): Found | null {
    const probe = this.probe(name);
    return probe.kind === 'found' ? { lookup: probe.lookup, pathString: name, foundBy: 'path' } : null;
  }

  private search(name: string, requester: LoadedObject): Found | null {
    const inDirs = (dirs: readonly string[] | null, foundBy: FoundBy): Found | null => {
      if (dirs === null) return null;
      const hit = this.searchDirs(dirs, name);
      return hit === null ? null : { ...hit, foundBy };
    };

    // a. DT_RPATH of the loader chain, then of the program, unless the requester has DT_RUNPATH.
    if (this.runpathDirs(requester) === null) {
      let reachedMain = false;
      for (let object: LoadedObject | null = requester; object !== null; object = object.loader) {
        const found = inDirs(this.rpathDirs(object), 'rpath');
        if (found) return found;
        if (object.isMain) reachedMain = true;
      }
      if (!reachedMain) {
        const found = inDirs(this.rpathDirs(this.mainObject), 'rpath');
        if (found) return found;
      }
    }
    // b. LD_LIBRARY_PATH, split on ':' and ';', tokens expanded for the program.
    if (this.session.libraryPath !== null) {
      const dirs = glibcPathList(this.session.libraryPath, /[:;]/, this.dstValues(this.mainObject));
      const found = inDirs(dirs, 'ld-library-path');
      if (found) return found;
    }
    // c. DT_RUNPATH of the requester only.
    {
      const found = inDirs(this.runpathDirs(requester), 'runpath');
      if (found) return found;
    }
    const nodeflib = ((requester.elf?.dynamic?.flags1 ?? 0) & DF_1.NODEFLIB) !== 0;
    // d. /etc/ld.so.cache.
    if (this.session.useCache) {
      const cached = this.fromCache(name, nodeflib);
      if (cached) return cached;
    }
    // e. The default directories.
    if (!nodeflib) return inDirs(this.facts.systemDirs, 'default-dirs');
    return null;
  }

  private cacheLookup: { acceptedFlags: number[]; legacyHwcap: bigint | null; keyPrefix: string } | undefined;
  /** What a cache lookup of this program depends on besides the name (the same for all its libraries). */
  private cacheLookupOptions(): { acceptedFlags: number[]; legacyHwcap: bigint | null; keyPrefix: string } {
    const acceptedFlags = abiCacheFlags(
      this.host.class,
      this.host.machine,
      this.mainObject.elf?.header.flags ?? 0,
    );
    const legacyHwcap = this.atLeast(2, 37) ? null : this.session.cpu.legacyHwcap;
    return { acceptedFlags, legacyHwcap, keyPrefix: `ldcache\0${acceptedFlags.join(',')}\0${legacyHwcap}\0` };
  }

  private fromCache(name: string, nodeflib: boolean): Found | null {
    const cache = this.session.ldCache();
    if (cache === null) return null;
    const cpu = this.session.cpu;
    this.cacheLookup ??= this.cacheLookupOptions();
    // The same name is looked up for most programs (libc.so.6 by all of them): the answer depends
    // only on the cache, the name and these options, so it is kept for the session.
    const key = this.cacheLookup.keyPrefix + name;
    let value = this.session.memo.get(key) as string | null | undefined;
    if (value === undefined) {
      value = lookupLdCache(cache, name, {
        acceptedFlags: this.cacheLookup.acceptedFlags,
        activeHwcaps: cpu.hwcaps,
        isaLevel: cpu.isaLevel,
        legacyHwcap: this.cacheLookup.legacyHwcap,
      });
      this.session.memo.set(key, value);
    }
    if (value === null) return null;
    // With DF_1_NODEFLIB, a cache result inside a default directory does not count (dl-load.c).
    if (nodeflib && this.facts.systemDirs.some((dir) => value.startsWith(dir))) return null;
    const probe = this.probe(value);
    return probe.kind === 'found' ? { lookup: probe.lookup, pathString: value, foundBy: 'cache' } : null;
  }

  /** open_path: each directory with its hwcaps subdirectories, first acceptable candidate wins. */
  private searchDirs(dirs: readonly string[], name: string): Omit<Found, 'foundBy'> | null {
    for (const dir of dirs) {
      let last: Probe = { kind: 'next' };
      let anyDirExists = false;
      for (const sub of this.subdirs()) {
        const directory = `${dir}${sub}`;
        // Pruning, as ld.so does: a (directory, subdirectory) that does not exist is not tried.
        if (directory !== '' && !this.isDirectory(directory)) continue;
        anyDirExists = true;
        const pathString = `${directory}${name}`;
        last = this.probe(pathString);
        if (last.kind === 'found') return { lookup: last.lookup, pathString };
      }
      // "The file exists and is readable, but something went wrong": the rest of this list is skipped.
      if (anyDirExists && last.kind === 'stop') return null;
    }
    return null;
  }

  private subdirsValue: string[] | undefined;
  private subdirs(): string[] {
    this.subdirsValue ??= [
      ...this.session.cpu.hwcaps.map((name) => `glibc-hwcaps/${name}/`),
      ...this.legacySubdirs,
      '',
    ];
    return this.subdirsValue;
  }

  private isDirectory(path: string): boolean {
    return this.session.fs.lookup(path, this.session.cwd).type === 'directory';
  }

  private probeKeyPrefix: string | undefined;
  /** Opens and verifies one candidate; memoised per session, since thousands of programs share libraries. */
  private probe(pathString: string): Probe {
    this.probeKeyPrefix ??= `glibc\0${this.host.class}\0${this.host.machine}\0${this.host.byteOrder}\0${this.session.cwd}\0`;
    const key = this.probeKeyPrefix + pathString;
    const memo = this.session.memo.get(key) as Probe | { kind: 'fatal'; reason: string } | undefined;
    const probe = memo ?? this.probeUncached(pathString);
    if (memo === undefined) this.session.memo.set(key, probe);
    if (probe.kind === 'fatal') throw new FatalLoad(pathString, probe.reason);
    return probe;
  }

  private probeUncached(pathString: string): Probe | { kind: 'fatal'; reason: string } {
    const lookup = this.session.fs.lookup(pathString, this.session.cwd);
    if (lookup.error === 'ENOENT' || lookup.error === 'EACCES') return { kind: 'next' };
    // ENOTDIR ends this directory list before 2.39 (BZ 31035); ELOOP always does.
    if (lookup.error === 'ENOTDIR') return this.atLeast(2, 39) ? { kind: 'next' } : { kind: 'stop' };
    if (lookup.error !== null) return { kind: 'stop' };
    if (lookup.type === 'directory')
      return { kind: 'fatal', reason: 'cannot read file data: Is a directory' };
    if (lookup.type !== 'file') return { kind: 'fatal', reason: 'not a regular file' };
    const ident = this.session.ident(lookup.realPath!);
    if (ident === null) return { kind: 'next' }; // EACCES and friends: the loader moves on
    const verdict = verifyGlibcCandidate(ident, this.host);
    if (verdict.kind === 'fatal') return { kind: 'fatal', reason: verdict.reason };
    if (verdict.kind === 'skip') return { kind: 'next' };
    return { kind: 'found', lookup };
  }

  private rpathDirs(object: LoadedObject): string[] | null {
    if (object.rpathDirs === undefined) {
      const dynamic = object.elf?.dynamic;
      // An object with both tags has its DT_RPATH discarded when the dynamic section is decoded.
      const hasRunpath = dynamic?.runpath != null || dynamic?.unreadable.runpath !== undefined;
      // cache_rpath reads the string the first time a search reaches this object.
      if (!hasRunpath && dynamic?.unreadable.rpath !== undefined)
        throw FatalLoad.unreadable(object.pathString, dynamic.unreadable.rpath);
      const rpath = hasRunpath ? null : (dynamic?.rpath ?? null);
      object.rpathDirs = rpath === null ? null : glibcPathList(rpath, /:/, this.dstValues(object));
    }
    return object.rpathDirs;
  }

  private runpathDirs(object: LoadedObject): string[] | null {
    if (object.runpathDirs === undefined) {
      const unreadable = object.elf?.dynamic?.unreadable.runpath;
      if (unreadable !== undefined) throw FatalLoad.unreadable(object.pathString, unreadable);
      const runpath = object.elf?.dynamic?.runpath ?? null;
      object.runpathDirs = runpath === null ? null : glibcPathList(runpath, /:/, this.dstValues(object));
    }
    return object.runpathDirs;
  }
}

/** legacyHwcapSubdirs for the session's CPU, worked out once per session (it is the same for every program). */
function sessionLegacySubdirs(session: Session): readonly string[] {
  const key = 'glibc\0legacy-hwcap-subdirs';
  let subdirs = session.memo.get(key) as string[] | undefined;
  if (subdirs === undefined) {
    subdirs = legacyHwcapSubdirs(session.cpu.platform, session.cpu.legacyHwcapNames);
    session.memo.set(key, subdirs);
  }
  return subdirs;
}

/**
 * Legacy hwcap subdirectories (glibc 2.36 and older): every combination of `tls`, the platform and
 * the hwcap names, longest first, in the order `ld.so --help` lists them and the loader tries them.
 */
export function legacyHwcapSubdirs(platform: string, hwcapNames: readonly string[]): string[] {
  const parts = ['tls', platform, ...hwcapNames];
  const result: string[] = [];
  for (let mask = (1 << parts.length) - 1; mask > 0; mask--) {
    const chosen = parts.filter((_, i) => (mask & (1 << (parts.length - 1 - i))) !== 0);
    const subdir = `${chosen.join('/')}/`;
    if (!result.includes(subdir)) result.push(subdir);
  }
  return result;
}

/** $ORIGIN of a library: the directory of the string it was opened as, made absolute, not resolved. */
function libraryOrigin(pathString: string, cwd: string): string {
  const absolute = pathString.startsWith('/') ? pathString : `${cwd.replace(/\/$/, '')}/${pathString}`;
  const slash = absolute.lastIndexOf('/');
  return slash <= 0 ? '/' : absolute.slice(0, slash);
}

function displayName(object: LoadedObject): string {
  return object.pathString;
}

function toMissing(missing: NotFound): MissingLibrary {
  return { name: toByteString(missing.name), neededBy: toByteString(missing.neededBy) };
}

function toReport(object: LoadedObject | NotFound): ResolvedLibrary {
  if (!('pathString' in object)) {
    return { ...toMissing(object), path: null, realPath: null, links: [], foundBy: null, soname: null };
  }
  return {
    name: toByteString(object.report!.name),
    path: toByteString(object.pathString),
    realPath: object.realPath === null ? null : toByteString(object.realPath),
    links: object.links,
    neededBy: toByteString(object.report!.neededBy),
    foundBy: object.foundBy,
    soname: object.soname === null ? null : toByteString(object.soname),
  };
}

function readTextFile(path: string): string {
  try {
    return readFileSync(path, 'utf8');
  } catch {
    return '';
  }
}
