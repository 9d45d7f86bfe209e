/**
 * One suite, run against both implementations of `hashFiles` (the Rust addon and the TypeScript
 * path), on real files, with GNU `sha256sum` as the reference. Then the two compared with each other.
 */

import { execFileSync } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import {
  chmodSync,
  closeSync,
  linkSync,
  mkdirSync,
  openSync,
  readFileSync,
  writeFileSync,
  writeSync,
} from 'node:fs';
import { join } from 'node:path';
import type { FilePath } from '@dit/paths';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { tempDir } from '../../../test-support/fixtures.js';
import { nativeSkipReason, sha256sum, withoutRoot } from '../test/helpers.js';
import { hashFilesNative, hashFilesTs, READ_CHUNK_BYTES } from './hash.js';
import { loadAddon } from './loader.js';
import type { HashResult } from './types.js';

const temp = tempDir('dit-native-hash-');
const T = temp.path;
afterAll(() => temp.cleanup());

/** Regular files of awkward sizes and names, in the order they are hashed. */
const files: string[] = [];
const SPARSE = join(T, 'sparse-300M');
let expected = new Map<string, string>();

beforeAll(() => {
  // The EACCES case runs without root: it must still reach the readable files.
  chmodSync(T, 0o755);
  const add = (name: string, content: Uint8Array | string) => {
    const path = join(T, name);
    writeFileSync(path, content);
    files.push(path);
  };
  add('empty', '');
  add('one-byte', 'x');
  // Around the read size of both implementations (256 KiB), and of Node's streams (64 KiB).
  for (const size of [
    65536,
    READ_CHUNK_BYTES - 1,
    READ_CHUNK_BYTES,
    READ_CHUNK_BYTES + 1,
    2 * READ_CHUNK_BYTES,
  ]) {
    add(`size-${size}`, randomBytes(size));
  }
  add('binary-3M', randomBytes(3 * 1024 * 1024 + 7));
  add(
    'all-bytes',
    Uint8Array.from({ length: 256 * 4 }, (_, i) => i % 256),
  );
  add('name with spaces', 'spaces\n');
  add('ünïcødé-名前', 'unicode\n');
  add('back\\slash', 'backslash\n');
  add('new\nline', 'newline\n');
  // 300 MB, nearly all hole: fast to make, and still data at the start, across a chunk boundary in the
  // middle, and at the very end.
  const fd = openSync(SPARSE, 'w');
  writeSync(fd, 'start');
  writeSync(fd, randomBytes(1000), 0, 1000, 150 * 1024 * 1024 - 500);
  writeSync(fd, 'end', 300 * 1024 * 1024 - 3);
  closeSync(fd);
  files.push(SPARSE);
  expected = sha256sum(files);
});

const addon = loadAddon();
const implementations = [
  {
    name: 'native',
    hashFiles: hashFilesNative,
    skip: nativeSkipReason(addon),
  },
  { name: 'typescript', hashFiles: hashFilesTs, skip: undefined },
];

function digests(results: HashResult[]): Array<[FilePath, string | undefined]> {
  return results.map((result) => [result.path, result.sha256]);
}

for (const { name, hashFiles, skip } of implementations) {
  describe.skipIf(skip !== undefined)(`hashFiles: ${name}${skip ? ` (skipped: ${skip})` : ''}`, () => {
    it('gives sha256sum’s digests for empty, tiny, chunk-sized, binary and oddly named files', async () => {
      const small = files.filter((path) => path !== SPARSE);
      const results = await hashFiles(small);
      expect(digests(results)).toEqual(small.map((path) => [path, expected.get(path)]));
      expect(results.every((result) => result.error === undefined && result.code === undefined)).toBe(true);
      expect(results[0]).toEqual({
        path: join(T, 'empty'),
        sha256: 'e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855',
      });
    });

    it('hashes a 300 MB sparse file, keeping the event loop turning', async () => {
      let ticks = 0;
      const timer = setInterval(() => ticks++, 1);
      const [result] = await hashFiles([SPARSE]);
      clearInterval(timer);
      expect(result).toEqual({ path: SPARSE, sha256: expected.get(SPARSE) });
      expect(ticks).toBeGreaterThan(0);
    });

    it('fails file by file, in input order, with the errno name and message', async () => {
      const ok = join(T, 'one-byte');
      const paths = [join(T, 'missing'), ok, T, join(T, 'one-byte', 'below-a-file'), 'nul\0byte', ok, ''];
      expect(await hashFiles(paths)).toEqual([
        { path: paths[0], code: 'ENOENT', error: 'ENOENT: no such file or directory' },
        { path: ok, sha256: expected.get(ok) },
        { path: T, code: 'EISDIR', error: 'EISDIR: illegal operation on a directory' },
        { path: paths[3], code: 'ENOTDIR', error: 'ENOTDIR: not a directory' },
        { path: paths[4], code: 'EINVAL', error: 'EINVAL: invalid argument' },
        { path: ok, sha256: expected.get(ok) },
        { path: '', code: 'ENOENT', error: 'ENOENT: no such file or directory' },
      ]);
    });

    it('takes a path as a Buffer: a name that is not UTF-8 (Latin-1), and a NUL byte in one', async () => {
      const latin1 = Buffer.concat([Buffer.from(`${T}/caf`), Buffer.from([0xe9])]);
      writeFileSync(latin1, 'caf\xe9\n');
      const digest = execFileSync('sha256sum', { input: readFileSync(latin1) })
        .toString()
        .slice(0, 64);
      const nul = Buffer.from('nul\0byte');
      expect(await hashFiles([latin1, nul])).toEqual([
        { path: latin1, sha256: digest },
        { path: nul, code: 'EINVAL', error: 'EINVAL: invalid argument' },
      ]);
    });

    it('reports an unreadable file (chmod 000) as EACCES and still hashes the others', async () => {
      const secret = join(T, 'secret');
      writeFileSync(secret, 'secret\n', { mode: 0o000 });
      chmodSync(secret, 0o000);
      const ok = join(T, 'one-byte');
      const results = await withoutRoot(() => hashFiles([ok, secret, ok]));
      expect(results).toEqual([
        { path: ok, sha256: expected.get(ok) },
        { path: secret, code: 'EACCES', error: 'EACCES: permission denied' },
        { path: ok, sha256: expected.get(ok) },
      ]);
    });

    it('hashes 2000 files in the order given, not in the order they finish', async () => {
      const many = join(T, `many-${name}`);
      mkdirSync(many);
      const paths: string[] = [];
      for (let i = 0; i < 2000; i++) {
        const path = join(many, `f${i}`);
        // Sizes from 0 to ~40 KB, so that files finish out of order.
        writeFileSync(path, `file ${i}\n`.repeat((i * 7919) % 4000));
        paths.push(path);
      }
      // A fixed shuffle: descending in blocks of 10, ascending within them.
      const order = paths.map((_, i) => paths[(199 - Math.floor(i / 10)) * 10 + (i % 10)]!);
      const reference = sha256sum(order);
      const results = await hashFiles(order);
      expect(digests(results)).toEqual(order.map((path) => [path, reference.get(path)]));
    });

    it('gives hard links and repeated paths the same result, each under its own name', async () => {
      const original = join(T, 'binary-3M');
      const links = [1, 2, 3].map((n) => join(T, `hard-link-${name}-${n}`));
      for (const link of links) linkSync(original, link);
      const paths = [
        links[0]!,
        original,
        links[1]!,
        join(T, 'missing'),
        original,
        links[2]!,
        join(T, 'missing'),
      ];
      const results = await hashFiles(paths);
      const digest = expected.get(original);
      expect(results).toEqual(
        paths.map((path) =>
          path.endsWith('missing')
            ? { path, code: 'ENOENT', error: 'ENOENT: no such file or directory' }
            : { path, sha256: digest },
        ),
      );
    });

    it('takes an empty list', async () => {
      expect(await hashFiles([])).toEqual([]);
    });
  });
}

describe.skipIf(nativeSkipReason(addon) !== undefined)('native and TypeScript agree', () => {
  it('on every fixture and every kind of failure, object for object', async () => {
    const paths = [...files, T, join(T, 'missing'), join(T, 'empty', 'x'), 'a\0b'];
    const [native, ts] = await Promise.all([hashFilesNative(paths), hashFilesTs(paths)]);
    expect(native).toEqual(ts);
    expect(JSON.stringify(native)).toBe(JSON.stringify(ts));
  });

  it('rejects what is not a list of strings, as a TypeError', async () => {
    const binding = addon.binding!;
    expect(() => binding.hashFiles('x' as unknown as string[])).toThrow(TypeError);
    expect(() => binding.hashFiles([1] as unknown as string[])).toThrow(/every path must be a string/);
  });
});
