/**
 * One suite, run against both implementations of `walkFiles` (the Rust addon and the TypeScript
 * path), with `find DIR -type f | LC_ALL=C sort` as the reference, on a real tree with links and
 * special files. Then the two compared with each other on system folders, and how the package picks
 * one.
 */
import { execFileSync } from 'node:child_process';
import { chmodSync, existsSync, mkdirSync, symlinkSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { afterAll, afterEach, beforeAll, describe, expect, it, vi } from 'vitest';
import { tempDir, writeTree } from '../../../test-support/fixtures.js';
import { nativeSkipReason, withoutRoot } from '../test/helpers.js';
import { type LoadedAddon, loadAddon, type NativeBinding } from './loader.js';
import type { WalkResult } from './types.js';
import { walkFilesTs } from './walk.js';
import { walkFilesNative } from './walk-native.js';

const temp = tempDir('dit-native-walk-');
const T = temp.path;
afterAll(() => temp.cleanup());

/** The path of a name that is not UTF-8 in folder `dir`: a Buffer, as both walks must give it. */
const rawName = (dir: string, ...bytes: number[]) =>
  Buffer.concat([Buffer.from(`${dir}/`), Buffer.from(bytes)]);

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

  const bytes = join(T, 'bytes');
  mkdirSync(bytes);
  writeFileSync(rawName(bytes, 0xff), 'a lone 0xFF byte: U+FFFD');
  writeFileSync(join(bytes, '\uFFFD'), 'a real U+FFFD (EF BF BD): the same name once decoded');
  writeFileSync(rawName(bytes, 0x7a, 0xe2, 0x82), 'z and a cut sequence: z U+FFFD');
  mkdirSync(rawName(bytes, 0x73, 0x75, 0x62, 0xfe));
  writeFileSync(Buffer.concat([rawName(bytes, 0x73, 0x75, 0x62, 0xfe), Buffer.from('/inside')]), '');
  mkdirSync(join(bytes, 'real\uFFFD'));
  writeFileSync(join(bytes, 'real\uFFFD', 'f'), '');
});

function findSorted(dir: string): string[] {
  return findSortedBytes(dir).map((path) => path.toString('utf8'));
}

/** `find DIR -type f | LC_ALL=C sort`, each path as its bytes. */
function findSortedBytes(dir: string): Buffer[] {
  const out = execFileSync('sh', ['-c', 'find "$1" -type f -print0 | LC_ALL=C sort -z', 'sh', dir]);
  const paths: Buffer[] = [];
  for (let start = 0, end = out.indexOf(0); end !== -1; start = end + 1, end = out.indexOf(0, start)) {
    paths.push(out.subarray(start, end));
  }
  return paths;
}

const bytesOf = (path: string | Buffer) => (typeof path === 'string' ? Buffer.from(path) : path);

const ENOENT = { code: 'ENOENT', error: 'ENOENT: no such file or directory' };

const addon = loadAddon();
const implementations = [
  {
    name: 'native',
    walkFiles: walkFilesNative,
    skip: nativeSkipReason(addon),
  },
  { name: 'typescript', walkFiles: walkFilesTs, skip: undefined },
];

for (const { name, walkFiles, skip } of implementations) {
  describe.skipIf(skip !== undefined)(`walkFiles: ${name}${skip ? ` (skipped: ${skip})` : ''}`, () => {
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
        `${tree}//a//`,
      ]);
      expect(files).toEqual([
        `${tree}/a/sub/deep`,
        `${tree}/a/x`,
        join(tree, 'link-to-file'),
        `${tree}/link-to-dir/sub/deep`,
        `${tree}/link-to-dir/x`,
        join(tree, 'fifo'),
        `${tree}//a//sub/deep`,
        `${tree}//a//x`,
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

    it('fails odd paths one by one: empty, a NUL byte, below a file; and takes an empty list', () => {
      const file = join(T, 'tree', 'b');
      expect(walkFiles(['', file, 'a\0b', join(file, 'below'), file])).toEqual({
        files: [file, file],
        errors: [
          { path: '', ...ENOENT },
          { path: 'a\0b', code: 'EINVAL', error: 'EINVAL: invalid argument' },
          { path: join(file, 'below'), code: 'ENOTDIR', error: 'ENOTDIR: not a directory' },
        ],
      });
      expect(walkFiles([])).toEqual({ files: [], errors: [] });
    });

    it('keeps names that are not UTF-8 as Buffers of their bytes, sorted and entered by them', () => {
      const bytes = join(T, 'bytes');
      const { files, errors } = walkFiles([bytes]);
      expect(errors).toEqual([]);
      // 'r' < 's' < 'z' < EF BF BD (a real U+FFFD) < FF. UTF-8 names stay strings.
      expect(files).toEqual([
        `${bytes}/real\uFFFD/f`,
        Buffer.concat([rawName(bytes, 0x73, 0x75, 0x62, 0xfe), Buffer.from('/inside')]),
        rawName(bytes, 0x7a, 0xe2, 0x82),
        `${bytes}/\uFFFD`,
        rawName(bytes, 0xff),
      ]);
      expect(files.map(bytesOf)).toEqual(findSortedBytes(bytes));
    });

    it('takes Buffers as paths (one that is UTF-8 counts as its string)', () => {
      const bytes = join(T, 'bytes');
      const latin1Folder = rawName(bytes, 0x73, 0x75, 0x62, 0xfe);
      expect(
        walkFiles([
          rawName(bytes, 0xff),
          Buffer.from(`${bytes}/real\uFFFD`),
          latin1Folder,
          rawName(bytes, 0xfe),
        ]),
      ).toEqual({
        files: [
          rawName(bytes, 0xff),
          `${bytes}/real\uFFFD/f`,
          Buffer.concat([latin1Folder, Buffer.from('/inside')]),
        ],
        errors: [{ path: rawName(bytes, 0xfe), ...ENOENT }],
      });
    });

    it('reads a lone surrogate in a path as U+FFFD, and reports the path as typed', () => {
      const bytes = join(T, 'bytes');
      expect(walkFiles([`${bytes}/\uD800`, `${bytes}/real\uDC00`, `${bytes}/nothing\uD83D`])).toEqual({
        files: [`${bytes}/\uD800`, `${bytes}/real\uDC00/f`],
        errors: [{ path: `${bytes}/nothing\uD83D`, ...ENOENT }],
      });
    });
  });
}

describe.skipIf(nativeSkipReason(addon) !== undefined)('native and TypeScript agree', () => {
  const same = (paths: string[]) => {
    const native = walkFilesNative(paths);
    const ts = walkFilesTs(paths);
    expect(native).toEqual(ts);
    expect(JSON.stringify(native)).toBe(JSON.stringify(ts));
    return ts;
  };

  it('on system folders, explicit files, a missing path and a link to a folder', () => {
    const link = join(T, 'link-to-zoneinfo');
    symlinkSync('/usr/share/zoneinfo', link);
    const system = ['/usr/lib/x86_64-linux-gnu', '/usr/share/zoneinfo'];
    const { files } = same([
      ...system,
      '/etc/passwd',
      '/usr/share/zoneinfo/',
      join(T, 'missing'),
      link,
      '/usr/lib/../share/zoneinfo',
      '/dev/null',
    ]);
    for (const folder of system.filter((path) => existsSync(path))) {
      expect(files.filter((path) => String(path).startsWith(`${folder}/`)).length).toBeGreaterThan(0);
    }
    expect(files.some((path) => String(path).startsWith(`${link}/`))).toBe(
      system.some((path) => existsSync(path)),
    );
  });

  it('on the test trees, as root and without it', async () => {
    same([T]);
    await withoutRoot(async () => same([T, join(T, 'tree', 'closed'), join(T, 'tree', 'closed', 'inside')]));
  });

  it('rejects what is not a list of strings, as a TypeError', () => {
    const walk = addon.binding!.walkFiles!;
    expect(() => walk('x' as unknown as string[])).toThrow(TypeError);
    expect(() => walk([1] as unknown as string[])).toThrow(/walkFiles: every path must be a string/);
  });
});

describe('walkFiles picks its implementation as hashFiles does', () => {
  afterEach(() => {
    vi.doUnmock('./loader.js');
    vi.unstubAllEnvs();
    vi.resetModules();
  });

  /** The package, loaded with `binding` as its addon (null: not built). */
  async function packageWith(binding: Partial<NativeBinding> | null) {
    const loaded: LoadedAddon =
      binding === null
        ? { binding: null, reason: 'the addon is not built (a test)' }
        : { binding: binding as NativeBinding, path: '/x/dit-native.node' };
    vi.resetModules();
    vi.doMock('./loader.js', async (importOriginal) => {
      const actual = await importOriginal<typeof import('./loader.js')>();
      return {
        ...actual,
        addonOnce: () => loaded,
        decide: (env: NodeJS.ProcessEnv = process.env) => actual.decide(env, () => loaded),
      };
    });
    return import('./index.js');
  }

  const fromNative: WalkResult = { files: ['from-native'], errors: [{ path: 'x', ...ENOENT }] };
  const withWalk = {
    hashFiles: async () => [],
    walkFiles: vi.fn(() => ({ files: ['from-native'], errors: [['x', 2]] as Array<[string, number]> })),
  };
  const file = () => join(T, 'tree', 'b');

  it('uses the addon when it exports walkFiles', async () => {
    vi.stubEnv('DIT_NATIVE', '');
    const native = await packageWith(withWalk);
    expect(native.walkFiles([file()])).toEqual(fromNative);
    expect(withWalk.walkFiles).toHaveBeenCalledWith([file()]);
  });

  it('uses TypeScript with DIT_NATIVE=0', async () => {
    vi.stubEnv('DIT_NATIVE', '0');
    withWalk.walkFiles.mockClear();
    expect((await packageWith(withWalk)).walkFiles([file()])).toEqual({ files: [file()], errors: [] });
    expect(withWalk.walkFiles).not.toHaveBeenCalled();
  });

  it('falls back to TypeScript without the addon, unless DIT_NATIVE=1', async () => {
    vi.stubEnv('DIT_NATIVE', '');
    expect((await packageWith(null)).walkFiles([file()])).toEqual({ files: [file()], errors: [] });
    vi.stubEnv('DIT_NATIVE', '1');
    const native = await packageWith(null);
    expect(() => native.walkFiles([file()])).toThrow(
      expect.objectContaining({ name: 'NativeError', code: 'NATIVE_UNAVAILABLE' }),
    );
    expect(() => native.walkFilesNative([file()])).toThrow(/not built/);
  });
});
