import type { RootFs } from '@dit/paths';
import fastGlob from 'fast-glob';
import picomatch from 'picomatch';
import { RootFsAdapter, type SkippedFolder } from './root-fs-adapter.js';

/** What a glob matched inside the root, and the folders it had to leave unread. */
export interface GlobExpansion {
  /** Canonical paths inside the root (no symlink on the way to them), sorted. */
  readonly matches: string[];
  /**
   * The literal parts as written where symlinks lie on them (`/app/data` for `/app/data/**` with
   * `/app/data -> /srv/data`): selecting them keeps those links, so the named path works in the
   * export too. Empty when every literal part is canonical already.
   */
  readonly via: string[];
  /** Folders skipped, each with why (named as the pattern reached them). */
  readonly skipped: SkippedFolder[];
}

/**
 * Expands an absolute glob inside the root with fast-glob, every file-system question it asks
 * answered through `fs` (RootFsAdapter): nothing of the host is read.
 *
 * The literal part of the pattern (`/usr/share/zoneinfo` of `/usr/share/zoneinfo/**`) is walked
 * like any path, following links inside the root as the kernel would for a named path, and fast-glob
 * is handed the pattern rewritten onto the canonical folder it reached (so its own lexical handling of
 * `..` never disagrees with the root's). Below it fast-glob lists only folders its deep filter says
 * can still hold a match. A symlink below the literal part is an entry of its own, matched as a name
 * and never descended into (`followSymbolicLinks: false`), even when it points at a folder: `/app/**`
 * takes `/app/data -> /srv/data` as the link (and the folder it names, so the link is not dangling),
 * not the content of /srv/data. Following would export one tree twice under two names, make a loop
 * (`/app/self -> .`) an endless walk, and turn one link to `/` into the whole root; a user who wants
 * the linked content names it (`/app/data/**`).
 *
 * Matching is fast-glob's (picomatch: `**`, `*`, `?`, `[...]`, braces, extglobs; dot files
 * included; `dir*\/**` takes `dir` itself, `**\/` takes folders only). A folder that cannot be listed
 * (a symlink loop on the literal part, ENAMETOOLONG past PATH_MAX, EACCES for a user without the
 * rights) is reported in `skipped`; nothing here throws for the tree.
 */
export function expandGlob(fs: RootFs, pattern: string): GlobExpansion {
  const { base, glob } = picomatch.scan(pattern);
  return expandBelow(fs, base === '' ? '/' : base, glob === '' ? '**' : glob);
}

/** Everything below a folder of the root (an exact `--include` of a folder). */
export function listTree(fs: RootFs, folder: string): GlobExpansion {
  return expandBelow(fs, folder, '**');
}

function expandBelow(fs: RootFs, named: string, glob: string): GlobExpansion {
  const adapter = new RootFsAdapter(fs);
  const top = fs.readdir(named);
  if (top.error !== null) {
    // A literal part that does not exist simply matches nothing, as a shell's glob does.
    const skipped = top.error === 'ENOENT' ? [] : [{ path: named, error: top.error }];
    return { matches: [], via: [], skipped };
  }
  const realBase = top.realPath!;
  adapter.seed(realBase, top);
  const escapedBase = realBase === '/' ? '' : fastGlob.posix.escapePath(realBase);
  const found = fastGlob.sync(`${escapedBase}/${glob}`, {
    cwd: '/',
    fs: adapter.methods(),
    dot: true,
    onlyFiles: false,
    followSymbolicLinks: false,
    // Duplicates are removed below, once paths are canonical (two names of one folder give one path).
    unique: false,
  });
  const matches = new Set<string>();
  for (const path of found) matches.add(adapter.canonical(path) ?? path);
  const via = fs.lookup(named).links.length > 0 ? [named] : [];
  return { matches: [...matches].sort(), via: [...via, ...adapter.via], skipped: adapter.skipped };
}
