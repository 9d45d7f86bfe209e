import type { FolderListing, RootFs } from '@dit/resolver';
import picomatch from 'picomatch';

/** What a glob matched inside the root, and the folders it had to leave unread. */
export interface GlobExpansion {
  /** Canonical paths inside the root (no symlink on the way to them), sorted. */
  readonly matches: string[];
  /**
   * The pattern's literal part as written, when symlinks lie on it (`/app/data` for `/app/data/**`
   * with `/app/data -> /srv/data`): selecting it keeps those links, so the named path works in the
   * export too. Null when the literal part is canonical already.
   */
  readonly via: string | null;
  /** Folders skipped, each with why (named as the pattern reached them). */
  readonly skipped: { readonly path: string; readonly error: string }[];
}

/**
 * Expands an absolute glob inside the root, reading only through `fs`.
 *
 * The literal part of the pattern (`/usr/share/zoneinfo` of `/usr/share/zoneinfo/**`) is walked
 * like any path, following links inside the root as the kernel would for a named path; only below
 * it does the walk read folders, and only those the rest of the pattern can still match. Below the
 * literal part a symlink is an entry of its own, matched as a name and never descended into, even
 * when it points at a folder: `/app/**` takes `/app/data -> /srv/data` as the link (and the folder
 * it names, so the link is not dangling), not the content of /srv/data. Following would export one
 * tree twice under two names, make a loop (`/app/self -> .`) an endless walk, and turn one link to
 * `/` into the whole root; a user who wants the linked content names it (`/app/data/**`).
 *
 * Matching is picomatch's (`**`, `*`, `?`, `[...]`, braces, extglobs; dot files included). A
 * folder that cannot be listed (a symlink loop on the literal part, ENAMETOOLONG past PATH_MAX,
 * EACCES for a user without the rights) is reported in `skipped`; nothing here throws for the tree.
 */
export function expandGlob(fs: RootFs, pattern: string): GlobExpansion {
  const { base, glob } = picomatch.scan(pattern);
  const named = base === '' ? '/' : base;
  return walkBelow(fs, named, glob === '' ? '**' : glob);
}

/** Everything below a folder of the root (an exact `--include` of a folder). */
export function listTree(fs: RootFs, folder: string): GlobExpansion {
  return walkBelow(fs, folder, '**');
}

function walkBelow(fs: RootFs, named: string, glob: string): GlobExpansion {
  const isMatch = picomatch(glob, { dot: true });
  const prune = segmentPruner(glob);
  const matches: string[] = [];
  const skipped: { path: string; error: string }[] = [];
  const top = fs.readdir(named);
  if (top.error !== null) {
    // A literal part that does not exist simply matches nothing, as a shell's glob does.
    if (top.error !== 'ENOENT') skipped.push({ path: named, error: top.error });
    return { matches, via: null, skipped };
  }
  const realBase = top.realPath!;
  const via = fs.lookup(named).links.length > 0 ? named : null;

  // Depth first, with an explicit stack: a deep tree must not exhaust the call stack.
  const stack: { rel: string; listing: FolderListing; states: ReadonlySet<number> | null }[] = [
    { rel: '', listing: top, states: prune?.start ?? null },
  ];
  while (stack.length > 0) {
    const { rel, listing, states } = stack.pop()!;
    for (const entry of listing.entries) {
      const childRel = rel === '' ? entry.name : `${rel}/${entry.name}`;
      // A folder is also tried with a trailing slash, which is how `dir/**` takes `dir` itself and
      // `**/` takes folders only (as fast-glob, dit's earlier walker, matched them).
      const folder = entry.type === 'directory';
      if (isMatch(childRel) || (folder && isMatch(`${childRel}/`))) {
        matches.push(realBase === '/' ? `/${childRel}` : `${realBase}/${childRel}`);
      }
      if (!folder) continue;
      const next = prune === null || states === null ? null : prune.step(states, entry.name);
      if (next !== null && !prune!.canGoDeeper(next)) continue;
      const child = fs.readdirEntry(listing, entry.name);
      if (child.error !== null) {
        skipped.push({ path: child.path, error: child.error });
        continue;
      }
      stack.push({ rel: childRel, listing: child, states: next });
    }
  }
  matches.sort();
  return { matches, via, skipped };
}

interface Pruner {
  readonly start: ReadonlySet<number>;
  /** The pattern positions still possible after one more folder name. */
  step(states: ReadonlySet<number>, name: string): ReadonlySet<number>;
  /** Whether anything below a folder reached in these positions can still match. */
  canGoDeeper(states: ReadonlySet<number>): boolean;
}

/**
 * Decides, a folder name at a time, whether a folder can hold a match, so that
 * `/usr/lib/python3*\/**` lists only the python folders of /usr/lib. The pattern's segments run as a
 * small automaton: a position per segment, `**` matching any number of names. It only prunes, and
 * only conservatively: the final word on a path is picomatch's on the whole pattern. Where a brace
 * or extglob holds a `/` (`{a/b,c}`), segments cannot be told apart and nothing is pruned.
 */
function segmentPruner(glob: string): Pruner | null {
  const parts = splitSegments(glob);
  if (parts === null) return null;
  let matchers: (((name: string) => boolean) | 'globstar')[];
  try {
    matchers = parts.map((part) => (part === '**' ? 'globstar' : picomatch(part, { dot: true })));
  } catch {
    return null;
  }
  const end = matchers.length;
  // A `**` may match no name at all: a position on it also stands on the next one.
  const close = (states: Set<number>): Set<number> => {
    for (const state of [...states]) {
      for (let at = state; at < end && matchers[at] === 'globstar'; at++) states.add(at + 1);
    }
    return states;
  };
  return {
    start: close(new Set([0])),
    step(states, name) {
      const next = new Set<number>();
      for (const state of states) {
        if (state >= end) continue;
        const matcher = matchers[state]!;
        if (matcher === 'globstar') next.add(state);
        else if (matcher(name)) next.add(state + 1);
      }
      return close(next);
    },
    canGoDeeper: (states) => [...states].some((state) => state < end),
  };
}

/** The glob's `/`-separated segments, or null where a `/` lies inside brackets, braces or parentheses. */
function splitSegments(glob: string): string[] | null {
  const parts: string[] = [];
  let depth = 0;
  let current = '';
  for (let at = 0; at < glob.length; at++) {
    const char = glob[at]!;
    if (char === '\\') {
      current += char + (glob[at + 1] ?? '');
      at++;
      continue;
    }
    if (char === '[' || char === '{' || char === '(') depth++;
    else if ((char === ']' || char === '}' || char === ')') && depth > 0) depth--;
    if (char === '/' && depth === 0) {
      if (current !== '') parts.push(current);
      current = '';
    } else if (char === '/') {
      return null;
    } else {
      current += char;
    }
  }
  if (current !== '') parts.push(current);
  return parts;
}
