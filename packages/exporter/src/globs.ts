import { ExportError } from './errors.js';
import type { GlobExpansion } from './root-glob.js';
import type { Selection } from './selection.js';
import type { Reason } from './types.js';

// picomatch and fast-glob (some 60 modules) are loaded only when a pattern is given, so an export
// without --include/--exclude does not pay for them at start-up. (Literal import() calls, so that
// the bundler of dit.tar still sees and includes them.)
const loadPicomatch = async () => (await import('picomatch')).default;
const loadRootGlob = async () => import('./root-glob.js');

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
 * Adds what `--include` patterns match, and returns a warning for every folder the walk had to skip.
 * An exact path (no glob characters) must exist, bypasses the deny list (the user named it), and
 * takes a whole folder; a glob takes what it matches, dot files included, the deny list applied.
 *
 * Every folder is read through the root's own path walk (RootFs): a symlink on the way, absolute
 * or full of `..`, leads somewhere inside the root and never to the host's folders, and a loop or a
 * folder that cannot be listed is skipped with a warning instead of ending the export. Globs are
 * fast-glob's, its file-system calls answered through RootFs; symlinks met below a pattern's literal
 * part are taken as links, not walked into (see root-glob.ts).
 */
export async function addIncludes(selection: Selection, patterns: readonly string[]): Promise<string[]> {
  if (patterns.length === 0) return [];
  const [picomatch, { expandGlob, listTree }] = await Promise.all([loadPicomatch(), loadRootGlob()]);
  const fs = selection.fs;
  const warnings: string[] = [];
  const take = (raw: string, expansion: GlobExpansion, reason: Reason): void => {
    for (const skipped of expansion.skipped) {
      warnings.push(`--include ${raw}: skipped ${skipped.path}: ${whySkipped(skipped.error)}`);
    }
    for (const named of expansion.via) selection.add(named, reason);
    for (const match of expansion.matches) selection.add(match, reason);
  };
  for (const raw of patterns) {
    const pattern = checkPattern(raw, '--include');
    const reason = { kind: 'included', pattern: raw } as const;
    if (!picomatch.scan(pattern).isGlob) {
      const lookup = fs.lookup(pattern);
      if (lookup.error !== null && lookup.links.length === 0) {
        throw new ExportError('EXPORT_NOT_FOUND', `--include ${raw}: no such file or folder in the root`);
      }
      selection.add(pattern, reason, { exact: true });
      // Only the folder itself was named: what lies inside still passes the deny list.
      if (lookup.type === 'directory') take(raw, listTree(fs, lookup.realPath!), reason);
      continue;
    }
    take(raw, expandGlob(fs, pattern), reason);
  }
  return warnings;
}

/** A listing's errno, said for the user. */
function whySkipped(error: string): string {
  switch (error) {
    case 'ELOOP':
      return 'too many symbolic links (a loop)';
    case 'ENOTDIR':
      return 'not a folder';
    case 'EACCES':
      return 'permission denied';
    case 'ENAMETOOLONG':
      return 'path too long to list (beyond PATH_MAX)';
    default:
      return `cannot be listed (${error})`;
  }
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
