import { Buffer, isUtf8 } from 'node:buffer';
import { readdirSync, statSync } from 'node:fs';
import type { FilePath } from '@dit/paths';
import { chosenBinding } from './choice.js';
import { describeErrno, errnoOf } from './errors.js';
import type { WalkError, WalkResult } from './types.js';
import { walkFilesNative } from './walk-native.js';

/** A folder entry worth keeping, named as the OS has it (see `FilePath`). */
interface Entry {
  readonly name: FilePath;
  readonly isDirectory: boolean;
  /**
   * The name with a '/' after a folder's: sorting these visits paths in exactly their sorted order
   * (`a/x` must come after `a-b`, as '-' < '/', although `a` sorts before `a-b`).
   */
  readonly key: FilePath;
}

// UTF-16 code-unit order is UTF-8 byte order, except between a surrogate pair (U+10000 and up) and
// U+E000-U+FFFF. Only folders with such names, or names that are not UTF-8, pay for comparing bytes.
const SURROGATE_OR_ABOVE = /[\uD800-\uFFFF]/;
const byCodeUnits = (a: Entry, b: Entry) => (a.key < b.key ? -1 : a.key > b.key ? 1 : 0);
const byBytes = (a: Entry, b: Entry) => Buffer.compare(bytesOf(a.key), bytesOf(b.key));

function bytesOf(path: FilePath): Buffer {
  return typeof path === 'string' ? Buffer.from(path) : path;
}

/** The rule of `FilePath`: a Buffer whose bytes are UTF-8 becomes the string, as the addon returns it. */
function normalized(path: FilePath): FilePath {
  return typeof path === 'string' || !isUtf8(path) ? path : path.toString();
}

function joined(prefix: FilePath, name: FilePath): FilePath {
  return typeof prefix === 'string' && typeof name === 'string'
    ? prefix + name
    : Buffer.concat([bytesOf(prefix), bytesOf(name)]);
}

function endsWithSlash(path: FilePath): boolean {
  return typeof path === 'string' ? path.endsWith('/') : path[path.length - 1] === 0x2f;
}

/**
 * A folder's regular files and folders, unsorted. Node decodes names as UTF-8, lossily (an invalid
 * sequence becomes U+FFFD), so a folder with a U+FFFD in some name is listed again as bytes, and the
 * names that are not UTF-8 are kept as Buffers. Throws as `readdirSync` does.
 */
function readFolder(dir: FilePath): Entry[] {
  const entry = (name: FilePath, isDirectory: boolean): Entry => ({
    name,
    isDirectory,
    key: isDirectory ? joined(name, '/') : name,
  });
  const listed = readdirSync(dir, { withFileTypes: true });
  if (!listed.some((dirent) => dirent.name.includes('\uFFFD'))) {
    return listed
      .filter((dirent) => dirent.isFile() || dirent.isDirectory())
      .map((dirent) => entry(dirent.name, dirent.isDirectory()));
  }
  return readdirSync(dir, { withFileTypes: true, encoding: 'buffer' })
    .filter((dirent) => dirent.isFile() || dirent.isDirectory())
    .map((dirent) => entry(normalized(dirent.name), dirent.isDirectory()));
}

/**
 * `walkFiles` in TypeScript: the fallback, and the reference the Rust walk (src/walk.rs) matches.
 *
 * The files to hash for a list of paths, `find`-style: each path in the order given; a folder
 * expands to the regular files below it, recursively, in byte order of their paths (the order of
 * `find DIR -type f | LC_ALL=C sort`, so a listing is the same on every machine and locale).
 *
 * Inside folders, symbolic links are neither followed nor listed, and FIFOs, sockets and devices are
 * skipped: only regular files. A path given explicitly is taken as it is, like `find -H` and
 * `sha256sum`: a link to a file is hashed through, a link to a folder is walked, and a FIFO or
 * device is listed (reading it is the caller's business). Folder entries keep the prefix they were
 * given (`dir/` and `./dir` stay as typed), so output paths read like the input. Errors (a path that
 * cannot be stat'ed, a folder that cannot be listed) are listed apart, in the order they were met.
 *
 * Paths are strings when their bytes are UTF-8 and Buffers when not, on input (a Buffer that is
 * UTF-8 counts as its string) and in the result.
 */
export function walkFilesTs(paths: readonly FilePath[]): WalkResult {
  const files: FilePath[] = [];
  const errors: WalkError[] = [];
  const fail = (path: FilePath, error: unknown) => errors.push({ path, ...describeErrno(errnoOf(error)) });

  const walk = (dir: FilePath) => {
    let entries: Entry[];
    try {
      entries = readFolder(dir);
    } catch (error) {
      fail(dir, error);
      return;
    }
    const prefix = endsWithSlash(dir) ? dir : joined(dir, '/');
    const compareBytes = entries.some(({ key }) => typeof key !== 'string' || SURROGATE_OR_ABOVE.test(key));
    entries.sort(compareBytes ? byBytes : byCodeUnits);
    for (const { name, isDirectory } of entries) {
      const path = joined(prefix, name);
      if (isDirectory) walk(path);
      else files.push(path);
    }
  };

  for (const given of paths) {
    const path = normalized(given);
    let isDirectory: boolean;
    try {
      isDirectory = statSync(path).isDirectory();
    } catch (error) {
      fail(path, error);
      continue;
    }
    if (isDirectory) walk(path);
    else files.push(path);
  }
  return { files, errors };
}

/**
 * The regular files below each path, in byte order, and what could not be looked at: see
 * `walkFilesTs` for the rules, which the addon's walk follows exactly. The addon (a third of the time
 * on `dit hash`'s benchmark) or TypeScript, as `nativeStatus()` decided.
 */
export function walkFiles(paths: readonly FilePath[]): WalkResult {
  return chosenBinding() === undefined ? walkFilesTs(paths) : walkFilesNative(paths);
}
