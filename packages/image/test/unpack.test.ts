/**
 * Layers stacked as a runtime stacks them: whiteouts (`.wh.NAME`, opaque folders) remove what lower
 * layers left and nothing of their own layer; later entries replace earlier ones; hard links share
 * an inode; gzip or plain. Layers are made by Python's tarfile, an independent writer.
 */
import { execFileSync } from 'node:child_process';
import { createReadStream, lstatSync, mkdirSync, readdirSync, readFileSync, readlinkSync } from 'node:fs';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { tempDir } from '../../../test-support/fixtures.js';
import { unpackLayers } from '../src/unpack.js';

const temp = tempDir('dit-image-unpack-');
const T = temp.path;
afterAll(() => temp.cleanup());

type Member = [name: string, kind: 'file' | 'dir' | 'symlink' | 'hardlink', extra?: string];

/** A layer file made by tarfile (gzip when the name ends in .gz). */
function layer(name: string, members: Member[]): { name: string; open: () => NodeJS.ReadableStream } {
  const file = join(T, name);
  const script = `
import tarfile, io, json, sys
mode = 'w:gz' if sys.argv[1].endswith('.gz') else 'w'
with tarfile.open(sys.argv[1], mode, format=tarfile.PAX_FORMAT) as t:
    for name, kind, *extra in json.loads(sys.argv[2]):
        info = tarfile.TarInfo(name); data = b''
        if kind == 'file': data = (extra[0] if extra else name).encode(); info.size = len(data); info.mode = 0o640; info.uid = 1000; info.gid = 1001
        elif kind == 'dir': info.type = tarfile.DIRTYPE; info.mode = 0o750
        elif kind == 'symlink': info.type = tarfile.SYMTYPE; info.linkname = extra[0]
        elif kind == 'hardlink': info.type = tarfile.LNKTYPE; info.linkname = extra[0]
        t.addfile(info, io.BytesIO(data))
`;
  execFileSync('python3', ['-c', script, file, JSON.stringify(members)]);
  return { name, open: () => createReadStream(file) };
}

describe('unpackLayers', () => {
  it('applies whiteouts and opaque folders to lower layers only, replaces entries, keeps owners and hard links', async () => {
    const root = join(T, 'root');
    mkdirSync(root);
    const warnings = await unpackLayers(
      [
        layer('one.tar.gz', [
          ['etc', 'dir'],
          ['etc/keep', 'file'],
          ['etc/gone', 'file'],
          ['opaque', 'dir'],
          ['opaque/lower', 'file'],
          ['opaque/sub', 'dir'],
          ['opaque/sub/deep', 'file'],
          ['replaced', 'dir'],
          ['replaced/inside', 'file'],
          ['lib', 'symlink', 'usr/lib'],
        ]),
        layer('two.tar', [
          ['etc/.wh.gone', 'file'],
          ['opaque/upper', 'file'],
          ['opaque/.wh..wh..opq', 'file'],
          ['replaced', 'file', 'now a file'],
          ['lib/libx.so', 'file', 'through the link'],
          ['etc/keep-again', 'hardlink', 'etc/keep'],
        ]),
      ] as never,
      root,
    );
    expect(warnings).toEqual([]);
    expect(readdirSync(join(root, 'etc')).sort()).toEqual(['keep', 'keep-again']);
    // The opaque marker came after this layer's own file: the file stays, the lower ones go.
    expect(readdirSync(join(root, 'opaque'))).toEqual(['upper']);
    expect(readFileSync(join(root, 'replaced'), 'utf8')).toBe('now a file');
    // A link on the way is followed inside the root: the file lands in usr/lib, the link stays.
    expect(readlinkSync(join(root, 'lib'))).toBe('usr/lib');
    expect(readFileSync(join(root, 'usr/lib/libx.so'), 'utf8')).toBe('through the link');
    const keep = lstatSync(join(root, 'etc/keep'));
    expect(lstatSync(join(root, 'etc/keep-again')).ino).toBe(keep.ino);
    expect(keep.mode & 0o7777).toBe(0o640);
    if (process.getuid?.() === 0) expect([keep.uid, keep.gid]).toEqual([1000, 1001]);
    expect(lstatSync(join(root, 'opaque')).mode & 0o7777).toBe(0o750);
  });

  it('refuses a hard link to a folder, and to a name not in the image', async () => {
    for (const [target, said] of [
      ['etc', 'a folder'],
      ['nowhere', 'not in the image'],
    ]) {
      const root = join(T, `hard-${target}`);
      mkdirSync(root);
      await expect(
        unpackLayers(
          [
            layer(`hard-${target}.tar`, [
              ['etc', 'dir'],
              ['x', 'hardlink', target!],
            ]),
          ] as never,
          root,
        ),
      ).rejects.toMatchObject({ code: 'IMAGE_HOSTILE_LAYER', message: expect.stringContaining(said!) });
    }
  });
});
