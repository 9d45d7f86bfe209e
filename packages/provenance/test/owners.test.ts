import { readdirSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { RootFs } from '@dit/paths';
import { describe, expect, test } from 'vitest';
import { ensureDebianRoot } from '../../../test-support/debian-root.mjs';
import { dpkgOwners } from '../../../test-support/dpkg-owners.js';
import { attribute, DpkgDatabase, parseDiversions } from '../src/index.js';

/** Every file and symlink under `folder` of `root` (links not followed), as paths inside the root. */
function walk(root: string, folder: string, recursive: boolean): string[] {
  const found: string[] = [];
  let entries: import('node:fs').Dirent[];
  try {
    entries = readdirSync(join(root, folder), { withFileTypes: true });
  } catch {
    return found;
  }
  for (const entry of entries) {
    const path = folder === '/' ? `/${entry.name}` : `${folder}/${entry.name}`;
    if (entry.isDirectory()) {
      if (recursive) found.push(...walk(root, path, true));
    } else if (entry.isFile() || entry.isSymbolicLink()) found.push(path);
  }
  return found;
}

/** The merged-/usr links: dpkg lists them as the folders they were, owned by every package with files there. */
const MERGED_USR_LINKS = ['/bin', '/sbin', '/lib', '/lib32', '/lib64', '/libx32'];

/**
 * Ours against dpkg's, path by path. dpkg-query names every package with files in a folder as its
 * owner; we own no folder, so the merged-/usr links are compared as owned by nobody.
 */
function compareWithDpkg(root: string, paths: readonly string[]) {
  const fs = new RootFs(root);
  const database = DpkgDatabase.read(fs);
  expect(database).not.toBeNull();
  const judged = dpkgOwners(join(root, 'var/lib/dpkg'), paths);
  for (const path of MERGED_USR_LINKS) if (judged.has(path)) judged.set(path, new Set());
  const differences: string[] = [];
  for (const path of paths) {
    const ours = database!
      .ownersOf(path)
      .map((pkg) => pkg.id)
      .sort();
    const dpkgs = [...judged.get(path)!].sort();
    if (ours.join(',') !== dpkgs.join(',')) differences.push(`${path}: ours [${ours}] dpkg [${dpkgs}]`);
  }
  return { database: database!, judged, differences };
}

describe('owners agree with dpkg-query -S', () => {
  test('every file and symlink of the debootstrap root (read through --root, merged /usr, the /bin/sh diversion)', () => {
    const root = ensureDebianRoot();
    // From `/`: the merged-/usr links (`/bin -> usr/bin`) are entries, never walked through, so every
    // path is where the file really is, as an export names it.
    const paths = walk(root, '/', true)
      .filter((path) => !/^\/(proc|sys|dev|run|tmp)\//.test(path))
      .filter((path) => !/[*?[\]\\]/.test(path)); // dpkg-query -S would read these as patterns
    expect(paths.length).toBeGreaterThan(3000);
    const { database, judged, differences } = compareWithDpkg(root, paths);
    expect(differences).toEqual([]);
    // The comparison covers what it is meant to: owned and unowned files, Multi-Arch names, files
    // dpkg knows only under the /lib spelling, and the diverted /bin/sh (dash's own).
    const owned = paths.filter((path) => judged.get(path)!.size > 0);
    expect(owned.length).toBeGreaterThan(2000);
    expect(paths.length - owned.length).toBeGreaterThan(10);
    expect(database.ownersOf('/usr/lib/x86_64-linux-gnu/libc.so.6').map((p) => p.id)).toEqual([
      'libc6:amd64',
    ]);
    expect(database.ownersOf('/usr/bin/sh').map((p) => p.id)).toEqual(['dash']);
    // `/lib` is listed by the packages with files in it, as the folder it was before /usr was merged.
    expect(dpkgOwners(join(root, 'var/lib/dpkg'), ['/lib']).get('/lib')!.size).toBeGreaterThan(5);
    expect(database.ownersOf('/lib')).toEqual([]);
    expect(parseDiversions(readFileSync(join(root, 'var/lib/dpkg/diversions'), 'utf8'))).toContainEqual({
      from: '/bin/sh',
      to: '/bin/sh.distrib',
      by: 'dash',
    });
  });

  test("a sample of this machine's files: programs, libraries, /etc, copyright files, diverted paths", () => {
    // Only doc folders that are folders: `/usr/share/doc/gcc -> cpp` is not where a file really is.
    const docs = readdirSync('/usr/share/doc', { withFileTypes: true })
      .filter((entry) => entry.isDirectory())
      .map((entry) => `/usr/share/doc/${entry.name}/copyright`);
    const diverted = parseDiversions(readFileSync('/var/lib/dpkg/diversions', 'utf8')).flatMap((d) => [
      d.from,
      d.to,
    ]);
    const paths = [
      ...walk('/', '/usr/bin', false),
      ...walk('/', '/usr/sbin', false),
      ...walk('/', '/usr/lib/x86_64-linux-gnu', false),
      ...walk('/', '/etc', false),
      ...docs,
      ...diverted,
    ].filter((path) => !/[*?[\]\\]/.test(path));
    const { differences } = compareWithDpkg('/', [...new Set(paths)]);
    expect(differences).toEqual([]);
  });

  test('attribute() groups files by package and keeps the rest as application files', () => {
    const database = DpkgDatabase.read(new RootFs(ensureDebianRoot()))!;
    const { packages, applicationFiles } = attribute(database, [
      '/usr/bin/bash',
      '/usr/lib/x86_64-linux-gnu/libc.so.6',
      '/usr/lib64/ld-linux-x86-64.so.2',
      '/app/server.py',
    ]);
    expect([...packages.keys()].sort()).toEqual(['bash', 'libc6:amd64']);
    expect(packages.get('libc6:amd64')!.paths).toEqual([
      '/usr/lib/x86_64-linux-gnu/libc.so.6',
      '/usr/lib64/ld-linux-x86-64.so.2',
    ]);
    expect(applicationFiles).toEqual(['/app/server.py']);
  });

  test('a root without a dpkg database has no database: every file is an application file', () => {
    const root = ensureDebianRoot();
    expect(DpkgDatabase.read(new RootFs(join(root, 'etc')))).toBeNull();
    expect(attribute(null, ['/usr/bin/bash']).applicationFiles).toEqual(['/usr/bin/bash']);
  });
});
