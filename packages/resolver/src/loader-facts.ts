import { readFileSync } from 'node:fs';
import { posix } from 'node:path';
import { EM } from '@dit/elf';
import type { RootFs } from '@dit/paths';

/**
 * Facts about the loader that a program names in PT_INTERP, read from the loader's own file and
 * the root it lives in, never by running it. They differ between distributions (Debian's $LIB is
 * `lib/x86_64-linux-gnu`, Fedora's `lib64`) and glibc versions (legacy hwcaps went away in 2.37).
 */
export interface GlibcFacts {
  readonly family: 'glibc';
  /** The loader path inside the root (PT_INTERP, or the machine's usual loader for libraries). */
  readonly interpreter: string;
  /** The default ("trusted") directories, each ending in `/`, in search order. */
  readonly systemDirs: readonly string[];
  /** Value of $LIB. */
  readonly lib: string;
  /** glibc version as [major, minor]; null when the loader file did not say. */
  readonly version: readonly [number, number] | null;
}

export interface MuslFacts {
  readonly family: 'musl';
  readonly interpreter: string;
  /** The system path: from `etc/ld-musl-ARCH.path` next to the loader's prefix, or musl's default. */
  readonly systemPath: readonly string[];
  /** Where that path came from: the file, or null for the built-in default. */
  readonly pathFile: string | null;
}

export type LoaderFacts = GlibcFacts | MuslFacts;

/** Which family a PT_INTERP belongs to, from its basename (docs/loader.md §2, PT_INTERP). */
export function loaderFamily(interpreter: string): 'glibc' | 'musl' | 'unknown' {
  const base = posix.basename(interpreter);
  if (/^ld-musl-.+\.so\.1$/.test(base)) return 'musl';
  if (/^ld-linux.*\.so\.\d+$/.test(base) || /^ld64\.so\.\d+$/.test(base) || base === 'ld.so.1')
    return 'glibc';
  return 'unknown';
}

/** The loader a glibc system uses for a machine, for objects without PT_INTERP (shared libraries). */
export function defaultGlibcInterpreter(elfClass: 32 | 64, machine: number): string {
  switch (machine) {
    case EM.X86_64:
      return elfClass === 64 ? '/lib64/ld-linux-x86-64.so.2' : '/libx32/ld-linux-x32.so.2';
    case EM.I386:
      return '/lib/ld-linux.so.2';
    case EM.AARCH64:
      return '/lib/ld-linux-aarch64.so.1';
    case EM.ARM:
      return '/lib/ld-linux-armhf.so.3';
    case EM.PPC64:
      return '/lib64/ld64.so.2';
    case EM.S390:
      return '/lib/ld64.so.1';
    case EM.RISCV:
      return '/lib/ld-linux-riscv64-lp64d.so.1';
    default:
      return '/lib/ld-linux.so.2';
  }
}

const cache = new WeakMap<RootFs, Map<string, LoaderFacts>>();

/** Reads (once per root and loader) the facts for the loader at `interpreter` inside `fs`. */
export function loaderFacts(
  fs: RootFs,
  interpreter: string,
  elfClass: 32 | 64,
  machine: number,
): LoaderFacts {
  let perRoot = cache.get(fs);
  if (perRoot === undefined) {
    perRoot = new Map();
    cache.set(fs, perRoot);
  }
  const key = `${interpreter}\0${elfClass}\0${machine}`;
  let facts = perRoot.get(key);
  if (facts === undefined) {
    facts =
      loaderFamily(interpreter) === 'musl'
        ? muslFacts(fs, interpreter, machine)
        : glibcFacts(fs, interpreter, elfClass, machine);
    perRoot.set(key, facts);
  }
  return facts;
}

function readLoaderFile(fs: RootFs, interpreter: string): Buffer | null {
  const lookup = fs.lookup(interpreter);
  if (lookup.realPath === null || lookup.type !== 'file') return null;
  try {
    return readFileSync(fs.hostPath(lookup.realPath));
  } catch {
    return null;
  }
}

function glibcFacts(fs: RootFs, interpreter: string, elfClass: 32 | 64, machine: number): GlibcFacts {
  const image = readLoaderFile(fs, interpreter);
  const systemDirs = (image && findSystemDirs(image, elfClass)) ?? fallbackSystemDirs(fs, elfClass, machine);
  const version = image ? findGlibcVersion(image) : null;
  return { family: 'glibc', interpreter, systemDirs, lib: libToken(systemDirs, elfClass), version };
}

/**
 * ld.so keeps its default directories as an array of size_t lengths followed by the NUL-separated
 * strings, each ending in `/` (elf/dl-load.c `system_dirs`, `system_dirs_len`). We look for strings
 * of that shape preceded by exactly their lengths: a pattern that does not occur by accident.
 */
export function findSystemDirs(image: Buffer, elfClass: 32 | 64): string[] | null {
  const word = elfClass === 64 ? 8 : 4;
  for (let start = image.indexOf('\0/', 0); start >= 0; start = image.indexOf('\0/', start + 1)) {
    const strings: string[] = [];
    let at = start + 1;
    while (image[at] === 0x2f /* '/' */) {
      const end = image.indexOf(0, at);
      if (end < 0 || image[end - 1] !== 0x2f || end - at > 256) break;
      strings.push(image.toString('latin1', at, end));
      at = end + 1;
    }
    if (strings.length === 0) continue;
    const lengthsAt = start + 1 - strings.length * word;
    if (lengthsAt < 0) continue;
    const matches = strings.every((text, i) => {
      const offset = lengthsAt + i * word;
      const value = word === 8 ? Number(image.readBigUInt64LE(offset)) : image.readUInt32LE(offset);
      const valueBE = word === 8 ? Number(image.readBigUInt64BE(offset)) : image.readUInt32BE(offset);
      return value === text.length || valueBE === text.length;
    });
    if (matches) return strings;
  }
  return null;
}

/** When the loader cannot be read: the usual layout, guessed from the root's directories. */
function fallbackSystemDirs(fs: RootFs, elfClass: 32 | 64, machine: number): string[] {
  const triplet = machine === EM.X86_64 && elfClass === 64 ? 'x86_64-linux-gnu' : null;
  if (triplet !== null && fs.lookup(`/usr/lib/${triplet}`).type === 'directory') {
    return [`/lib/${triplet}/`, `/usr/lib/${triplet}/`, '/lib/', '/usr/lib/'];
  }
  return elfClass === 64 ? ['/lib64/', '/usr/lib64/'] : ['/lib/', '/usr/lib/'];
}

/** $LIB: Debian patches it to the multiarch directory; upstream uses slibdir's last component. */
function libToken(systemDirs: readonly string[], elfClass: 32 | 64): string {
  const first = systemDirs[0] ?? '';
  const multiarch = /^\/lib\/([^/]+-linux-gnu[^/]*)\/$/.exec(first);
  if (multiarch) return `lib/${multiarch[1]}`;
  if (first === '/lib64/') return 'lib64';
  return elfClass === 64 && first.includes('lib64') ? 'lib64' : 'lib';
}

export function findGlibcVersion(image: Buffer): [number, number] | null {
  const marker = image.indexOf('release version ');
  if (marker < 0) return null;
  const match = /^release version (\d+)\.(\d+)/.exec(image.toString('latin1', marker, marker + 32));
  return match ? [Number(match[1]), Number(match[2])] : null;
}

/** musl's default when the path file does not exist (ldso/dynlink.c). */
export const MUSL_DEFAULT_PATH = ['/lib', '/usr/local/lib', '/usr/lib'] as const;

function muslArch(interpreter: string): string {
  return /^ld-musl-(.+)\.so\.1$/.exec(posix.basename(interpreter))?.[1] ?? 'x86_64';
}

function muslFacts(fs: RootFs, interpreter: string, _machine: number): MuslFacts {
  // The prefix is PT_INTERP with its last two components removed: /lib/ld-musl-x86_64.so.1 -> "".
  const prefix = posix.dirname(posix.dirname(interpreter));
  const pathFile = posix.join(prefix === '/' ? '' : prefix, `/etc/ld-musl-${muslArch(interpreter)}.path`);
  const lookup = fs.lookup(pathFile);
  if (lookup.error === 'ENOENT')
    return { family: 'musl', interpreter, systemPath: [...MUSL_DEFAULT_PATH], pathFile: null };
  if (lookup.realPath === null || lookup.type !== 'file')
    return { family: 'musl', interpreter, systemPath: [], pathFile };
  let text: string;
  try {
    text = readFileSync(fs.hostPath(lookup.realPath), 'utf8');
  } catch {
    return { family: 'musl', interpreter, systemPath: [], pathFile }; // any other error: an empty path
  }
  // Elements are separated by ':' and '\n'; empty ones are skipped; no comments, no trimming.
  return {
    family: 'musl',
    interpreter,
    systemPath: text.split(/[:\n]/).filter((part) => part !== ''),
    pathFile,
  };
}
