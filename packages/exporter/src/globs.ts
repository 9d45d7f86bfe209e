import { posix } from 'node:path';
import { ExportError } from './errors.js';
import type { Selection } from './selection.js';

// fast-glob and picomatch are about 60 modules: loaded only when a pattern is given, so an export
// without --include/--exclude does not pay for them at start-up. (Literal import() calls, so that
// the bundler of dit.tar still sees and includes them.)
const loadFastGlob = async () => (await import('fast-glob')).default;
const loadPicomatch = async () => (await import('picomatch')).default;

/**
 * Patterns are absolute paths inside the root (`/usr/share/zoneinfo/**`). One that climbs out of
 * the root with `..` is refused outright rather than clamped: it says the user meant something else.
 */
export function checkPattern(pattern: string, option: string): string {
  if (pattern === '') throw new ExportError('EXPORT_NOT_FOUND', `${option}: empty pattern`);
  const absolute = pattern.startsWith('/') ? pattern : `/${pattern}`;
  let depth = 0;
  for (const part of absolute.split('/')) {
    if (part === '..') depth--;
    else if (part !== '' && part !== '.') depth++;
    if (depth < 0) {
      throw new ExportError(
        'EXPORT_PATH_ESCAPES_ROOT',
        `${option} ${pattern}: leaves the root (too many "..")`,
      );
    }
  }
  return absolute;
}

/**
 * Adds what `--include` patterns match. An exact path (no glob characters) must exist, bypasses the
 * deny list (the user named it), and takes a whole folder; a glob takes what it matches, links not
 * followed, dot files included, the deny list applied.
 */
export async function addIncludes(selection: Selection, patterns: readonly string[]): Promise<void> {
  if (patterns.length === 0) return;
  const fastGlob = await loadFastGlob();
  const fs = selection.fs;
  for (const raw of patterns) {
    const pattern = checkPattern(raw, '--include');
    const reason = { kind: 'included', pattern: raw } as const;
    if (!fastGlob.isDynamicPattern(pattern)) {
      const lookup = fs.lookup(pattern);
      if (lookup.error !== null && lookup.links.length === 0) {
        throw new ExportError('EXPORT_NOT_FOUND', `--include ${raw}: no such file or folder in the root`);
      }
      selection.add(pattern, reason, { exact: true });
      if (lookup.type === 'directory') addFolder(fastGlob, selection, lookup.realPath!, reason);
      continue;
    }
    const matches = fastGlob.sync(pattern.slice(1), {
      cwd: fs.root,
      dot: true,
      onlyFiles: false,
      followSymbolicLinks: false,
      unique: true,
    });
    for (const match of matches.sort()) selection.add(`/${match}`, reason);
  }
}

function addFolder(
  fastGlob: Awaited<ReturnType<typeof loadFastGlob>>,
  selection: Selection,
  dir: string,
  reason: { kind: 'included'; pattern: string },
): void {
  const matches = fastGlob.sync('**', {
    cwd: selection.fs.hostPath(dir),
    dot: true,
    onlyFiles: false,
    followSymbolicLinks: false,
  });
  // Only the folder itself was named: what lies inside still passes the deny list.
  for (const match of matches.sort()) selection.add(posix.join(dir, match), reason);
}

/** Removes what `--exclude` patterns match (directories stay when something exported lies inside). */
export async function applyExcludes(selection: Selection, patterns: readonly string[]): Promise<number> {
  if (patterns.length === 0) return 0;
  const picomatch = await loadPicomatch();
  const isExcluded = picomatch(
    patterns.map((pattern) => checkPattern(pattern, '--exclude')),
    { dot: true },
  );
  let removed = 0;
  for (const entry of [...selection.values()]) {
    if (entry.type !== 'directory' && isExcluded(entry.path)) {
      selection.remove(entry.path);
      removed++;
    }
  }
  return removed;
}
