import { type Dirent, readdirSync, statSync } from 'node:fs';
import { describeErrno, errnoOf } from './errors.js';
import type { WalkError, WalkResult } from './types.js';

// UTF-16 code-unit order is UTF-8 byte order, except between a surrogate pair (U+10000 and up) and
// U+E000-U+FFFF. Only folders with such names pay for comparing bytes.
const SURROGATE_OR_ABOVE = /[\uD800-\uFFFF]/;
const byCodeUnits = (a: { key: string }, b: { key: string }) => (a.key < b.key ? -1 : a.key > b.key ? 1 : 0);
const byUtf8Bytes = (a: { key: string }, b: { key: string }) =>
  Buffer.compare(Buffer.from(a.key), Buffer.from(b.key));

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
 */
export function walkFilesTs(paths: readonly string[]): WalkResult {
  const files: string[] = [];
  const errors: WalkError[] = [];
  const fail = (path: string, error: unknown) => errors.push({ path, ...describeErrno(errnoOf(error)) });

  const walk = (dir: string) => {
    let entries: Dirent[];
    try {
      entries = readdirSync(dir, { withFileTypes: true });
    } catch (error) {
      fail(dir, error);
      return;
    }
    const prefix = dir.endsWith('/') ? dir : `${dir}/`;
    // Sorting entries with a trailing '/' on folder names visits paths in exactly their sorted order:
    // `a/x` must come after `a-b` ('-' < '/'), although `a` sorts before `a-b`.
    const keyed = entries
      .filter((entry) => entry.isFile() || entry.isDirectory())
      .map((entry) => ({ entry, key: entry.isDirectory() ? `${entry.name}/` : entry.name }));
    keyed.sort(keyed.some(({ key }) => SURROGATE_OR_ABOVE.test(key)) ? byUtf8Bytes : byCodeUnits);
    for (const { entry } of keyed) {
      const path = prefix + entry.name;
      if (entry.isDirectory()) walk(path);
      else files.push(path);
    }
  };

  for (const path of paths) {
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
