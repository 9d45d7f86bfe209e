/**
 * The layer blob written by @dit/native's two writers, the addon (all cores) and the TypeScript
 * fallback (node:zlib): the same plan gives the same bytes at every level, and the blob is a gzip
 * that gzip, pigz and node:zlib read back to the tar GNU tar lists. Then the failures: a file that
 * changed size or vanished is named, whichever writer ran.
 */
import { execFileSync, spawnSync } from 'node:child_process';
import { createHash, randomBytes } from 'node:crypto';
import { chmodSync, linkSync, mkdirSync, readFileSync, symlinkSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { gunzipSync } from 'node:zlib';
import {
  LAYER_BLOCK_BYTES,
  type LayerSegment,
  writeLayerBlobNative,
  writeLayerBlobTs,
} from '@dit/native/layer';
import { afterAll, describe, expect, it } from 'vitest';
import { tempDir } from '../../../test-support/fixtures.js';
import { withoutRoot } from '../../native/test/helpers.js';
import { ImageError } from '../src/errors.js';
import { layerPlan, writeLayer, zstdAvailable } from '../src/layer.js';

const temp = tempDir('dit-image-layer-blob-');
const T = temp.path;
afterAll(() => temp.cleanup());

/** Why the native half is skipped: the addon is not built or finds no zlib (never skipped in CI). */
const nativeSkip = await writeLayerBlobNative([], join(T, 'probe'), { level: 6 }).then(
  () => undefined,
  (error: Error) => (process.env.CI === 'true' ? undefined : error.message),
);
const hasPigz = spawnSync('pigz', ['--version']).status === 0;

const LONG_NAME = `deep/${'d'.repeat(120)}/${'n'.repeat(120)}.bin`; // past ustar: PAX carries it

/** Compressible and not: text, runs and random bytes, so that every block deflates differently. */
function mixed(size: number): Buffer {
  const parts: Buffer[] = [];
  let length = 0;
  for (let i = 0; length < size; i++) {
    const part =
      i % 3 === 0
        ? Buffer.from(`line ${i} of a layer written twice\n`.repeat(200))
        : i % 3 === 1
          ? randomBytes(5000)
          : Buffer.alloc(3000, i % 256);
    parts.push(part);
    length += part.length;
  }
  return Buffer.concat(parts).subarray(0, size);
}

const root = join(T, 'tree');
mkdirSync(join(root, 'usr/lib'), { recursive: true });
mkdirSync(join(root, 'deep', 'd'.repeat(120)), { recursive: true });
writeFileSync(join(root, 'usr/lib/big.so'), mixed(4 * 1024 * 1024 + 123_457)); // > 4 MiB, 5 blocks
writeFileSync(join(root, 'usr/lib/one-block'), mixed(LAYER_BLOCK_BYTES));
writeFileSync(join(root, 'usr/lib/small'), 'small\n');
writeFileSync(join(root, 'usr/lib/empty'), '');
writeFileSync(join(root, LONG_NAME), mixed(70_000));
linkSync(join(root, 'usr/lib/big.so'), join(root, 'usr/lib/big.so.1'));
symlinkSync('big.so.1', join(root, 'usr/lib/big.so.link'));
symlinkSync('usr/lib', join(root, 'lib'));

const expectedNames = [
  'deep/',
  `deep/${'d'.repeat(120)}/`,
  LONG_NAME,
  'lib',
  'usr/',
  'usr/lib/',
  'usr/lib/big.so',
  'usr/lib/big.so.1',
  'usr/lib/big.so.link',
  'usr/lib/empty',
  'usr/lib/one-block',
  'usr/lib/small',
];

const sha256 = (data: Buffer) => createHash('sha256').update(data).digest('hex');

describe('the layer blob, TypeScript writer', () => {
  it.each([1, 6, 9])(
    'level %i: gzip, pigz and node:zlib read it back to the tar GNU tar lists',
    async (level) => {
      const file = join(T, `ts-${level}.tar.gz`);
      const blob = await writeLayerBlobTs(layerPlan(root, 0), file, { level });
      const bytes = readFileSync(file);
      expect(blob.size).toBe(bytes.length);
      expect(blob.digest).toBe(sha256(bytes));
      // node:zlib's gzip header: no name, no time, XFL from the level, OS 3.
      expect([...bytes.subarray(0, 10)]).toEqual([
        0x1f,
        0x8b,
        8,
        0,
        0,
        0,
        0,
        0,
        level === 9 ? 2 : level === 1 ? 4 : 0,
        3,
      ]);
      const tar = gunzipSync(bytes);
      expect(blob.diffId).toBe(sha256(tar));
      expect(execFileSync('gzip', ['-dc', file], { maxBuffer: 1 << 30 }).equals(tar)).toBe(true);
      if (hasPigz) expect(execFileSync('pigz', ['-dc', file], { maxBuffer: 1 << 30 }).equals(tar)).toBe(true);
      const listed = execFileSync('tar', ['-tf', '-'], { input: tar }).toString().trim().split('\n');
      expect(listed).toEqual(expectedNames);
      // The hard link is one, and the big file's bytes survive the block cuts.
      const verbose = execFileSync('tar', ['-tvf', '-'], { input: tar }).toString();
      expect(verbose).toContain('usr/lib/big.so.1 link to usr/lib/big.so');
      const big = execFileSync('tar', ['-xOf', '-', 'usr/lib/big.so'], { input: tar, maxBuffer: 1 << 30 });
      expect(big.equals(readFileSync(join(root, 'usr/lib/big.so')))).toBe(true);
    },
  );

  it('level 0 writes the tar as it is', async () => {
    const file = join(T, 'ts-0.tar');
    const blob = await writeLayerBlobTs(layerPlan(root, 0), file, { level: 0 });
    expect(blob.digest).toBe(blob.diffId);
    expect(sha256(readFileSync(file))).toBe(blob.digest);
  });

  it('zstd is the addon’s alone: the TypeScript writer refuses it', async () => {
    await expect(writeLayerBlobTs([], join(T, 'ts.zst'), { level: 3, format: 'zstd' })).rejects.toMatchObject(
      {
        code: 'NATIVE_UNAVAILABLE',
      },
    );
  });

  it('an empty stream is an empty gzip member', async () => {
    const file = join(T, 'empty.gz');
    await writeLayerBlobTs([], file, { level: 6 });
    expect(gunzipSync(readFileSync(file)).length).toBe(0);
  });
});

describe.skipIf(nativeSkip !== undefined)(
  `the layer blob, the addon against the TypeScript writer${nativeSkip ? ` (skipped: ${nativeSkip})` : ''}`,
  () => {
    it.each([1, 6, 9, 0])('level %i: byte-identical blobs and digests', async (level) => {
      const plan = layerPlan(root, 0);
      const native = await writeLayerBlobNative(plan, join(T, `native-${level}`), { level });
      const ts = await writeLayerBlobTs(plan, join(T, `ts-again-${level}`), { level });
      expect(native).toEqual(ts);
      expect(
        readFileSync(join(T, `native-${level}`)).equals(readFileSync(join(T, `ts-again-${level}`))),
      ).toBe(true);
    });

    it('writeLayer gives the same digests as both writers, whichever DIT_NATIVE chose', async () => {
      const layer = await writeLayer(root, join(T, 'chosen.tar.gz'), { compression: 'gzip' });
      const ts = await writeLayerBlobTs(layerPlan(root, 0), join(T, 'ts-chosen'), { level: 6 });
      expect(layer.digest).toBe(`sha256:${ts.digest}`);
      expect(layer.diffId).toBe(`sha256:${ts.diffId}`);
    });

    it('zstd: one frame from libzstd that zstd -d reads back to the same tar as the gzip layer', async () => {
      if (!zstdAvailable()) {
        // DIT_NATIVE=0 on Node 20: the TypeScript path has no zstd. Refused, saying why.
        await expect(writeLayer(root, join(T, 'refused.zst'), { compression: 'zstd' })).rejects.toMatchObject(
          {
            code: 'IMAGE_UNSUPPORTED',
            message: expect.stringContaining('DIT_NATIVE=0'),
          },
        );
        return;
      }
      const gz = await writeLayer(root, join(T, 'same.tar.gz'), { compression: 'gzip' });
      const file = join(T, 'layer.tar.zst');
      const layer = await writeLayer(root, file, { compression: 'zstd' });
      const bytes = readFileSync(file);
      expect(layer.mediaType).toBe('application/vnd.oci.image.layer.v1.tar+zstd');
      expect(layer.digest).toBe(`sha256:${sha256(bytes)}`);
      expect(layer.size).toBe(bytes.length);
      expect([...bytes.subarray(0, 4)]).toEqual([0x28, 0xb5, 0x2f, 0xfd]);
      const tar = execFileSync('zstd', ['-dc', file], { maxBuffer: 1 << 30 });
      expect(layer.diffId).toBe(`sha256:${sha256(tar)}`);
      expect(layer.diffId).toBe(gz.diffId);
      // The same frame again: libzstd's worker threads do not make it vary.
      const again = await writeLayer(root, join(T, 'again.tar.zst'), { compression: 'zstd' });
      expect(again.digest).toBe(layer.digest);
    });

    it('a literal stream across block boundaries, byte for byte', async () => {
      const data = mixed(3 * LAYER_BLOCK_BYTES + 17);
      const plan: LayerSegment[] = [data.subarray(0, 100), data.subarray(100)];
      const native = await writeLayerBlobNative(plan, join(T, 'lit-native'), { level: 6 });
      const ts = await writeLayerBlobTs(plan, join(T, 'lit-ts'), { level: 6 });
      expect(native).toEqual(ts);
      expect(gunzipSync(readFileSync(join(T, 'lit-native'))).equals(data)).toBe(true);
    });
  },
);

describe('a file that changed or vanished is named', () => {
  const writers = [
    ['TypeScript', writeLayerBlobTs],
    ...(nativeSkip === undefined ? [['addon', writeLayerBlobNative] as const] : []),
  ] as const;
  it.each(writers)('%s writer: shrank, grew, missing', async (_name, write) => {
    const file = join(T, 'changing');
    writeFileSync(file, 'twelve bytes');
    const blob = join(T, 'changing.gz');
    await expect(write([{ path: file, size: 13 }], blob, { level: 6 })).rejects.toMatchObject({
      code: 'LAYER_SOURCE_CHANGED',
      message: `${file} shrank while it was archived`,
    });
    await expect(write([{ path: file, size: 11 }], blob, { level: 6 })).rejects.toMatchObject({
      code: 'LAYER_SOURCE_CHANGED',
      message: `${file} grew while it was archived`,
    });
    await expect(write([{ path: join(T, 'gone'), size: 1 }], blob, { level: 6 })).rejects.toMatchObject({
      code: 'LAYER_READ_FAILED',
      message: `${join(T, 'gone')}: ENOENT: no such file or directory`,
    });
    await expect(write([], join(T, 'no/such/folder/blob'), { level: 6 })).rejects.toMatchObject({
      code: 'LAYER_WRITE_FAILED',
    });
  });

  it('writeLayer turns them into ImageErrors naming the file', async () => {
    const tree = join(T, 'tree-unreadable');
    mkdirSync(tree);
    chmodSync(T, 0o755);
    chmodSync(tree, 0o755);
    writeFileSync(join(tree, 'secret'), 'content');
    chmodSync(join(tree, 'secret'), 0o000);
    // The blob goes where the unprivileged user may write.
    const out = join(T, 'out');
    mkdirSync(out);
    chmodSync(out, 0o777);
    const error = await withoutRoot(() => writeLayer(tree, join(out, 'x.gz'), { compression: 'gzip' })).catch(
      (e: unknown) => e,
    );
    expect(error).toBeInstanceOf(ImageError);
    expect(error).toMatchObject({
      code: 'IMAGE_BAD_SOURCE',
      message: `${join(tree, 'secret')}: EACCES: permission denied`,
    });
    await expect(
      writeLayer(root, join(T, 'no/such/folder/z.gz'), { compression: 'gzip' }),
    ).rejects.toMatchObject({
      code: 'IMAGE_WRITE_FAILED',
      message: `${join(T, 'no/such/folder/z.gz')}: ENOENT: no such file or directory`,
    });
  });
});
