/**
 * The layer writer against GNU tar and Python's tarfile as readers: every kind of entry, names past
 * ustar's 100 bytes, hard links, owners and modes, clamped times; and the same bytes every time.
 */
import { spawnSync } from 'node:child_process';
import { createHash } from 'node:crypto';
import {
  chmodSync,
  chownSync,
  lchownSync,
  linkSync,
  mkdirSync,
  readFileSync,
  symlinkSync,
  utimesSync,
  writeFileSync,
} from 'node:fs';
import { join } from 'node:path';
import { gunzipSync } from 'node:zlib';
import { zstdProblem } from '@dit/native/layer';
import { afterAll, describe, expect, it } from 'vitest';
import { tempDir } from '../../../test-support/fixtures.js';
import { writeLayer } from '../src/layer.js';

const temp = tempDir('dit-image-layer-');
const T = temp.path;
afterAll(() => temp.cleanup());

const LONG_DIR = `deep/${'d'.repeat(90)}/${'e'.repeat(90)}`;
const LONG_FILE = `${LONG_DIR}/${'f'.repeat(80)}.txt`; // 270 bytes: no ustar split fits, PAX carries it
const LONG_TARGET = `../${'t'.repeat(150)}`;

function makeTree(root: string): void {
  mkdirSync(join(root, 'usr/bin'), { recursive: true });
  mkdirSync(join(root, LONG_DIR), { recursive: true });
  writeFileSync(join(root, 'usr/bin/app'), 'program\n');
  chmodSync(join(root, 'usr/bin/app'), 0o4755);
  writeFileSync(join(root, 'usr/bin/data'), Buffer.alloc(70_000, 7));
  chownSync(join(root, 'usr/bin/data'), 65532, 2_500_000); // a gid past ustar's 7 octal digits
  linkSync(join(root, 'usr/bin/app'), join(root, 'usr/bin/app-again'));
  symlinkSync('usr/bin', join(root, 'bin'));
  lchownSync(join(root, 'bin'), 12, 34);
  symlinkSync(LONG_TARGET, join(root, 'long-link'));
  writeFileSync(join(root, LONG_FILE), 'far down\n');
  mkdirSync(join(root, 'tmp'));
  chmodSync(join(root, 'tmp'), 0o1777);
  writeFileSync(join(root, 'empty'), '');
}

const sha256 = (data: Buffer) => createHash('sha256').update(data).digest('hex');

describe('writeLayer', () => {
  const root = join(T, 'tree');
  mkdirSync(root);
  makeTree(root);

  it('writes a tar that GNU tar lists with the tree’s names, owners, modes and links', async () => {
    const file = join(T, 'layer.tar');
    const layer = await writeLayer(root, file, { compression: 'none' });
    const bytes = readFileSync(file);
    expect(layer.diffId).toBe(`sha256:${sha256(bytes)}`);
    expect(layer.digest).toBe(layer.diffId);
    expect(layer.size).toBe(bytes.length);
    const listing = spawnSync('tar', ['--numeric-owner', '-tvf', file], { encoding: 'utf8' });
    expect(listing.status).toBe(0);
    const lines = listing.stdout.trim().split('\n');
    expect(lines).toContainEqual(
      expect.stringMatching(/^-rwsr-xr-x 0\/0 +8 1970-01-01 00:00 usr\/bin\/app$/),
    );
    expect(lines).toContainEqual(
      expect.stringMatching(
        /^hrwsr-xr-x 0\/0 +0 1970-01-01 00:00 usr\/bin\/app-again link to usr\/bin\/app$/,
      ),
    );
    expect(lines).toContainEqual(
      expect.stringMatching(/^-rw-r--r-- 65532\/2500000 +70000 .* usr\/bin\/data$/),
    );
    expect(lines).toContainEqual(expect.stringMatching(/^lrwxrwxrwx 12\/34 .* bin -> usr\/bin$/));
    expect(lines).toContainEqual(expect.stringMatching(/^drwxrwxrwt 0\/0 .* tmp\/$/));
    expect(lines).toContainEqual(expect.stringContaining(` ${LONG_FILE}`));
    expect(lines).toContainEqual(expect.stringContaining(`long-link -> ${LONG_TARGET}`));
    // Depth first, names in byte order, a folder before what it holds.
    const names = lines.map((line) => line.split(/ +/)[5]);
    expect(names.slice(0, 4)).toEqual(['bin', 'deep/', `deep/${'d'.repeat(90)}/`, `${LONG_DIR}/`]);
    expect(names.indexOf('usr/')).toBeLessThan(names.indexOf('usr/bin/'));
  });

  it('extracts to the same tree (python tarfile), hard link sharing its inode', async () => {
    const file = join(T, 'layer2.tar');
    await writeLayer(root, file, { compression: 'none' });
    const out = join(T, 'extracted');
    mkdirSync(out);
    const script = `
import tarfile, os, sys, json
with tarfile.open(sys.argv[1]) as t:
    t.extractall(sys.argv[2], numeric_owner=True)
    pax = [m.name for m in t.getmembers() if m.pax_headers]
root = sys.argv[2]
a = os.stat(os.path.join(root, 'usr/bin/app')); b = os.stat(os.path.join(root, 'usr/bin/app-again'))
d = os.stat(os.path.join(root, 'usr/bin/data'))
print(json.dumps({'same': a.st_ino == b.st_ino, 'mode': a.st_mode & 0o7777, 'gid': d.st_gid, 'pax': pax,
  'long': open(os.path.join(root, sys.argv[3])).read(), 'link': os.readlink(os.path.join(root, 'long-link'))}))
`;
    const run = spawnSync('python3', ['-c', script, file, out, LONG_FILE], { encoding: 'utf8' });
    expect(run.stderr).toBe('');
    const result = JSON.parse(run.stdout);
    expect(result).toMatchObject({
      same: true,
      mode: 0o4755,
      gid: 2_500_000,
      long: 'far down\n',
      link: LONG_TARGET,
    });
    // PAX records only where ustar cannot hold the value.
    expect(result.pax.sort()).toEqual([LONG_FILE, 'long-link', 'usr/bin/data'].sort());
  });

  it('is the same bytes whatever the files’ times; SOURCE_DATE_EPOCH clamps only later times', async () => {
    const first = await writeLayer(root, join(T, 'a.tar.gz'), { compression: 'gzip' });
    utimesSync(join(root, 'usr/bin/app'), new Date(), new Date());
    utimesSync(join(root, 'usr/bin'), 12345, 12345);
    const second = await writeLayer(root, join(T, 'b.tar.gz'), { compression: 'gzip' });
    expect(second).toEqual(first);
    expect(readFileSync(join(T, 'a.tar.gz')).equals(readFileSync(join(T, 'b.tar.gz')))).toBe(true);
    // gzip's header: no name (FLG 0), no time (MTIME 0).
    const gz = readFileSync(join(T, 'a.tar.gz'));
    expect([...gz.subarray(0, 8)]).toEqual([0x1f, 0x8b, 8, 0, 0, 0, 0, 0]);
    expect(`sha256:${sha256(gunzipSync(gz))}`).toBe(first.diffId);

    const clamped = await writeLayer(root, join(T, 'c.tar'), {
      compression: 'none',
      sourceDateEpoch: 1_700_000_000,
    });
    expect(clamped.diffId).not.toBe(first.diffId);
    const listing = spawnSync('tar', ['--full-time', '--utc', '-tvf', join(T, 'c.tar')], {
      encoding: 'utf8',
      env: { ...process.env, TZ: 'UTC' },
    }).stdout;
    expect(listing).toMatch(/1970-01-01 03:25:45 usr\/bin\/\n/); // older than the epoch: kept
    expect(listing).toMatch(/2023-11-14 22:13:20 usr\/bin\/app\n/); // newer: clamped
  });

  it('changes its digest when one byte of one file changes', async () => {
    const before = await writeLayer(root, join(T, 'd.tar.gz'), { compression: 'gzip' });
    const data = join(root, 'usr/bin/data');
    const bytes = readFileSync(data);
    bytes[40_000] = 8;
    writeFileSync(data, bytes);
    const after = await writeLayer(root, join(T, 'e.tar.gz'), { compression: 'gzip' });
    expect(after.diffId).not.toBe(before.diffId);
    expect(after.digest).not.toBe(before.digest);
  });

  it('refuses zstd where node:zlib has none, naming the version', async () => {
    const zlib = await import('node:zlib');
    // Node 22.15+, or the addon with libzstd (test/layer-blob.test.ts): zstd works there.
    if ('createZstdCompress' in zlib || zstdProblem() === undefined) return;
    await expect(writeLayer(root, join(T, 'z'), { compression: 'zstd' })).rejects.toMatchObject({
      code: 'IMAGE_UNSUPPORTED',
      message: expect.stringContaining(process.version),
    });
  });
});
