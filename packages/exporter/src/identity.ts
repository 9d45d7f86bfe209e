/**
 * Who the image runs as (`--user`), and the /etc/passwd and /etc/group that make that name mean
 * something inside the export. An image with no passwd file breaks every program that asks who it
 * is (getpwuid: ssh-keygen, many servers); one whose User is missing from it is refused by the
 * runtime. So when the export lacks the files or the user, dit writes them: minimal, with the users
 * distroless images carry (root 0, nobody 65534, nonroot 65532), plus the user itself, taken from the
 * root's own files when it is defined there; and the user's home folder, owned by it.
 */
import {
  lchownSync,
  lstatSync,
  mkdirSync,
  readFileSync,
  renameSync,
  type Stats,
  utimesSync,
  writeFileSync,
} from 'node:fs';
import { posix } from 'node:path';
import type { RootFs } from '@dit/paths';
import { ExportError } from './errors.js';
import { safeJoin } from './materialize.js';
import type { ExportedEntry } from './types.js';

export interface Identity {
  /** As the image's User names it (`nonroot`, `1000:1000`). */
  readonly spec: string;
  readonly uid: number;
  readonly gid: number;
  /** Supplementary groups, as the runtime computes them from /etc/group. */
  readonly groups: readonly number[];
  readonly home: string;
  /** The user is in the root's own /etc/passwd (not only one of dit's well-known users). */
  readonly definedInRoot: boolean;
  /** The passwd line the export must hold for this user (null for a uid no file names). */
  readonly passwdLine: string | null;
  /** The group lines the export must hold: the primary group and the supplementary ones. */
  readonly groupLines: readonly string[];
}

/** distroless's users, written when the export has no /etc/passwd at all. */
const WELL_KNOWN_USERS = [
  'root:x:0:0:root:/root:/sbin/nologin',
  'nobody:x:65534:65534:nobody:/nonexistent:/sbin/nologin',
  'nonroot:x:65532:65532:nonroot:/home/nonroot:/sbin/nologin',
];
const WELL_KNOWN_GROUPS = ['root:x:0:', 'nobody:x:65534:', 'nonroot:x:65532:'];

/**
 * Resolves `--user USER[:GROUP]` (names or numbers) against the root's /etc/passwd and /etc/group,
 * then dit's well-known users; a name found in neither is refused before any work.
 */
export function resolveIdentity(fs: RootFs, spec: string | undefined): Identity {
  const text = spec ?? 'root';
  const [userPart = 'root', groupPart] = text.split(':');
  const rootUsers = readLines(fs, '/etc/passwd');
  const users = [...rootUsers, ...WELL_KNOWN_USERS].map((line) => line.split(':'));
  const groups = [...readLines(fs, '/etc/group'), ...WELL_KNOWN_GROUPS].map((line) => line.split(':'));
  const numeric = /^\d+$/.test(userPart);
  const user = users.find(
    (fields) => fields.length >= 7 && (numeric ? fields[2] === userPart : fields[0] === userPart),
  );
  if (user === undefined && !numeric) {
    throw new ExportError(
      'EXPORT_NOT_FOUND',
      `--user ${text}: no user ${userPart} in the root's /etc/passwd, nor one of dit's (root, nobody, nonroot)`,
    );
  }
  const uid = Number(user?.[2] ?? userPart);
  let group: string[] | undefined;
  if (groupPart === undefined) {
    const gid = user?.[3] ?? '0';
    group = groups.find((fields) => fields[2] === gid) ?? NO_GROUP_LINE(gid);
  } else {
    const numericGroup = /^\d+$/.test(groupPart);
    group = groups.find((fields) => (numericGroup ? fields[2] === groupPart : fields[0] === groupPart));
    if (group === undefined && !numericGroup) {
      throw new ExportError(
        'EXPORT_NOT_FOUND',
        `--user ${text}: no group ${groupPart} in the root's /etc/group, nor one of dit's`,
      );
    }
    group ??= NO_GROUP_LINE(groupPart);
  }
  const gid = Number(group[2]);
  // Supplementary groups: those that list the user by name (what initgroups gives the runtime's process).
  const supplementary =
    user === undefined ? [] : groups.filter((fields) => (fields[3] ?? '').split(',').includes(user[0]!));
  // A bare gid no file names gets no line (the runtime takes numbers as they are).
  const groupLines = uniqueByName([group, ...supplementary].filter((fields) => fields[0] !== ''));
  return {
    spec: text,
    uid,
    gid,
    groups: [...new Set(supplementary.map((fields) => Number(fields[2])))]
      .filter((id) => id !== gid)
      .sort((a, b) => a - b),
    home: user?.[5] || '/',
    definedInRoot: user !== undefined && rootUsers.includes(user.join(':')),
    passwdLine: user === undefined ? null : user.join(':'),
    groupLines: groupLines.map((fields) => fields.join(':')),
  };
}

/** A gid that no group file names: used as a number, written nowhere. */
const NO_GROUP_LINE = (gid: string) => ['', 'x', gid, ''];

function uniqueByName(groups: string[][]): string[][] {
  const seen = new Set<string>();
  return groups.filter((fields) => !seen.has(fields[0]!) && seen.add(fields[0]!));
}

function readLines(fs: RootFs, path: string): string[] {
  const found = fs.lookup(path);
  if (found.type !== 'file' || found.realPath === null) return [];
  try {
    return readFileSync(fs.hostPath(found.realPath), 'utf8')
      .split('\n')
      .filter((line) => line !== '' && !line.startsWith('#'));
  } catch {
    return [];
  }
}

/**
 * Makes the staging tree hold the identity: /etc/passwd and /etc/group written when missing
 * (distroless's users plus this one), or the user's lines appended when they lack them; the home
 * folder made, owned by the user. Writes only into real folders of the staging tree (never through
 * a link the export holds). Returns the entries added or changed, for hashing and the report.
 */
export function writeIdentity(
  staging: string,
  entries: readonly ExportedEntry[],
  identity: Identity,
): {
  entries: ExportedEntry[];
  warnings: string[];
} {
  const warnings: string[] = [];
  const changed: ExportedEntry[] = [];
  const folder = (path: string, mode: number, uid: number, gid: number, why: string): boolean => {
    const stat = lstatOrNull(safeJoin(staging, path));
    if (stat?.isDirectory()) return true;
    if (stat !== null) {
      warnings.push(`${path} in the export is not a folder: the user ${identity.spec} was not written`);
      return false;
    }
    mkdirSync(safeJoin(staging, path), { mode });
    lchownSafe(safeJoin(staging, path), uid, gid);
    utimesSync(safeJoin(staging, path), 0, 0);
    changed.push({
      path,
      type: 'directory',
      size: 0,
      mode,
      uid,
      gid,
      sha256: null,
      reasons: [`identity: ${why}`],
    });
    return true;
  };
  const table = (path: string, minimal: readonly string[], needed: readonly string[]) => {
    const file = safeJoin(staging, path);
    const stat = lstatOrNull(file);
    if (stat !== null && !stat.isFile()) {
      warnings.push(
        `${path} in the export is not a plain file: the user ${identity.spec} was not added to it`,
      );
      return;
    }
    const existing = stat === null ? null : readFileSync(file, 'utf8');
    const names = new Set((existing ?? '').split('\n').map((line) => line.split(':')[0]));
    const lines =
      existing === null
        ? uniqueLines([...minimal, ...needed])
        : needed.filter((line) => !names.has(line.split(':')[0]));
    if (lines.length === 0) return;
    const content = `${existing === null ? '' : existing.endsWith('\n') || existing === '' ? existing : `${existing}\n`}${lines.join('\n')}\n`;
    // Written beside and renamed over: a hard link the copy kept to another exported file stays as it was.
    const partial = `${file}.dit-identity`;
    writeFileSync(partial, content, { mode: stat === null ? 0o644 : stat.mode & 0o7777, flag: 'wx' });
    lchownSafe(partial, stat?.uid ?? 0, stat?.gid ?? 0);
    const time = stat?.mtime ?? new Date(0);
    utimesSync(partial, time, time);
    renameSync(partial, file);
    const previous = entries.find((entry) => entry.path === path);
    changed.push({
      path,
      type: 'file',
      size: Buffer.byteLength(content),
      mode: stat === null ? 0o644 : stat.mode & 0o7777,
      uid: stat?.uid ?? 0,
      gid: stat?.gid ?? 0,
      sha256: null,
      reasons: [...(previous?.reasons ?? []), `identity: the image's users (--user ${identity.spec})`],
    });
  };
  if (!folder('/etc', 0o755, 0, 0, 'holds /etc/passwd and /etc/group')) return { entries: changed, warnings };
  table('/etc/passwd', WELL_KNOWN_USERS, identity.passwdLine === null ? [] : [identity.passwdLine]);
  table('/etc/group', WELL_KNOWN_GROUPS, identity.groupLines);
  const home = identity.home;
  if (home !== '/' && home !== '/nonexistent' && identity.uid !== 0) {
    const parents = posix.dirname(home).split('/').filter(Boolean);
    let ok = true;
    for (let depth = 1; ok && depth <= parents.length; depth++) {
      ok = folder(`/${parents.slice(0, depth).join('/')}`, 0o755, 0, 0, `holds the home of ${identity.spec}`);
    }
    if (ok) folder(home, 0o755, identity.uid, identity.gid, `the home of ${identity.spec}`);
  }
  return { entries: changed, warnings };
}

function uniqueLines(lines: readonly string[]): string[] {
  const seen = new Set<string>();
  return lines.filter((line) => {
    const name = line.split(':')[0]!;
    return !seen.has(name) && seen.add(name);
  });
}

/**
 * Paths the check used that the user cannot read (a file) or enter (a folder, or a folder on the way
 * to a used path) in the export: why a run as that user fails where root's passed.
 */
export function unreadableAs(output: string, paths: readonly string[], identity: Identity): string[] {
  if (identity.uid === 0) return [];
  const groups = new Set([identity.gid, ...identity.groups]);
  const allowed = (path: string, need: number): boolean => {
    const stat = lstatOrNull(safeJoin(output, path));
    if (stat === null || stat.isSymbolicLink()) return true;
    const bits =
      stat.uid === identity.uid
        ? (stat.mode >> 6) & 7
        : groups.has(stat.gid)
          ? (stat.mode >> 3) & 7
          : stat.mode & 7;
    return (bits & need) !== 0;
  };
  const denied = new Set<string>();
  for (const path of paths) {
    const parts = path.split('/').filter(Boolean);
    // The first folder on the way the user may not enter is the cause; what lies below it follows.
    const closed = parts
      .slice(0, -1)
      .findIndex((_, depth) => !allowed(`/${parts.slice(0, depth + 1).join('/')}`, 0o1));
    if (closed >= 0) denied.add(`/${parts.slice(0, closed + 1).join('/')}`);
    else if (!allowed(path, lstatOrNull(safeJoin(output, path))?.isDirectory() ? 0o1 : 0o4)) denied.add(path);
  }
  return [...denied].sort();
}

function lstatOrNull(path: string): Stats | null {
  try {
    return lstatSync(path);
  } catch {
    return null;
  }
}

function lchownSafe(path: string, uid: number, gid: number): void {
  // As root the owner is set; otherwise the file stays the exporter's, as every copied file does.
  if (process.getuid?.() === 0) lchownSync(path, uid, gid);
}
