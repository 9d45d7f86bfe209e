/** `walkFiles` against `find DIR -type f | LC_ALL=C sort` on a real tree with links and special files. */
import { execFileSync } from 'node:child_process';
import { chmodSync, mkdirSync } from 'node:fs';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { tempDir, writeTree } from '../../../test-support/fixtures.js';
import { withoutRoot } from '../test/helpers.js';
import { walkFiles } from './walk.js';

const temp = tempDir('dit-native-walk-');
const T = temp.path;
afterAll(() => temp.cleanup());

beforeAll(() => {
  chmodSync(T, 0o755);
  writeTree(join(T, 'tree'), {
    b: 'b',
    'a-b': 'a-b',
    'a/x': 'a/x',
    'a/sub/deep': 'deep',
    A: 'capital A sorts first',
    é: 'non-ASCII sorts after ASCII, by UTF-8 bytes',
    '\u{FF21}': 'U+FF21: EF BC A1 in UTF-8, before the emoji; after it in UTF-16',
    '\u{1F600}': 'U+1F600: F0 9F 98 80 in UTF-8',
    'link-to-file': { symlink: 'b' },
    'link-to-dir': { symlink: 'a' },
    'dangling-link': { symlink: 'nowhere' },
    'closed/inside': 'unreadable folder',
  });
  mkdirSync(join(T, 'tree', 'empty-dir'));
  execFileSync('mkfifo', [join(T, 'tree', 'fifo')]);
  chmodSync(join(T, 'tree', 'closed'), 0o700);
});

function findSorted(dir: string): string[] {
  const out = execFileSync('sh', ['-c', 'find "$1" -type f -print0 | LC_ALL=C sort -z', 'sh', dir]);
  return out.toString('utf8').split('\0').filter(Boolean);
}

describe('walkFiles', () => {
  it('lists regular files in the order of `find -type f | LC_ALL=C sort`, links and FIFOs left out', () => {
    const { files, errors } = walkFiles([join(T, 'tree')]);
    expect(errors).toEqual([]);
    expect(files).toEqual(findSorted(join(T, 'tree')));
    expect(files.map((path) => path.slice(T.length + 6))).toEqual([
      'A',
      'a-b', // before a/…: '-' < '/'
      'a/sub/deep',
      'a/x',
      'b',
      'closed/inside',
      'é',
      '\u{FF21}',
      '\u{1F600}',
    ]);
  });

  it('keeps the prefix as typed, and takes explicit paths as they are (links followed, in order)', () => {
    const tree = join(T, 'tree');
    const { files } = walkFiles([
      `${tree}/a/`,
      join(tree, 'link-to-file'),
      join(tree, 'link-to-dir'),
      join(tree, 'fifo'),
    ]);
    expect(files).toEqual([
      `${tree}/a/sub/deep`,
      `${tree}/a/x`,
      join(tree, 'link-to-file'),
      `${tree}/link-to-dir/sub/deep`,
      `${tree}/link-to-dir/x`,
      join(tree, 'fifo'),
    ]);
  });

  it('reports paths that do not exist and folders it cannot list, and goes on', async () => {
    const tree = join(T, 'tree');
    const { files, errors } = await withoutRoot(async () =>
      walkFiles([join(T, 'missing'), tree, join(tree, 'dangling-link')]),
    );
    expect(errors).toEqual([
      { path: join(T, 'missing'), code: 'ENOENT', error: 'ENOENT: no such file or directory' },
      { path: `${tree}/closed`, code: 'EACCES', error: 'EACCES: permission denied' },
      { path: join(tree, 'dangling-link'), code: 'ENOENT', error: 'ENOENT: no such file or directory' },
    ]);
    expect(files).toContain(`${tree}/b`);
    expect(files).not.toContain(`${tree}/closed/inside`);
  });
});
