/**
 * RootFs on real folders: the walk the kernel does inside a chroot, and nothing of the host beyond
 * the root, however the links inside point.
 */
import { mkdirSync, mkdtempSync, realpathSync, rmSync, statSync, symlinkSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { RootFs } from './root-fs.js';

const R = realpathSync(mkdtempSync(join(tmpdir(), 'dit-paths-')));
afterAll(() => rmSync(R, { recursive: true, force: true }));

// /usr/lib/libz.so.1 -> libz.so.1.2 (relative), /lib -> usr/lib, /abs -> /usr/lib (absolute: the
// root's /usr/lib, never the host's), /up -> ../../../.. (stops at the root), a loop, a dangling link.
mkdirSync(join(R, 'usr/lib'), { recursive: true });
writeFileSync(join(R, 'usr/lib/libz.so.1.2'), 'z');
symlinkSync('libz.so.1.2', join(R, 'usr/lib/libz.so.1'));
symlinkSync('usr/lib', join(R, 'lib'));
symlinkSync('/usr/lib', join(R, 'abs'));
symlinkSync('../../../..', join(R, 'up'));
symlinkSync('loop-b', join(R, 'loop-a'));
symlinkSync('loop-a', join(R, 'loop-b'));
symlinkSync('/nowhere', join(R, 'dangling'));
// Only the host has /etc/hostname-like files; the root's /etc holds one marker.
mkdirSync(join(R, 'etc'));
writeFileSync(join(R, 'etc/marker'), '');

describe('RootFs.lookup', () => {
  const fs = new RootFs(R);

  it('follows relative and folder links, recording each link crossed in order', () => {
    const found = fs.lookup('/lib/libz.so.1');
    expect(found).toMatchObject({ realPath: '/usr/lib/libz.so.1.2', error: null, type: 'file' });
    expect(found.links).toEqual([
      { path: '/lib', target: 'usr/lib' },
      { path: '/usr/lib/libz.so.1', target: 'libz.so.1.2' },
    ]);
    const stat = statSync(join(R, 'usr/lib/libz.so.1.2'));
    expect(found.identity).toBe(`${stat.dev}:${stat.ino}`);
  });

  it('takes an absolute link target inside the root', () => {
    expect(fs.lookup('/abs/libz.so.1.2')).toMatchObject({ realPath: '/usr/lib/libz.so.1.2', type: 'file' });
  });

  it('stops `..` at the root, in a path and in a link target', () => {
    expect(fs.lookup('/../../etc/marker')).toMatchObject({ realPath: '/etc/marker', type: 'file' });
    expect(fs.lookup('/up/etc/marker')).toMatchObject({ realPath: '/etc/marker', type: 'file' });
    // The host's own files are not reachable by climbing.
    expect(fs.lookup('/up/etc/passwd').error).toBe('ENOENT');
  });

  it('reports ELOOP for a loop, ENOENT for a dangling link, ENOTDIR through a file', () => {
    expect(fs.lookup('/loop-a')).toMatchObject({ realPath: null, error: 'ELOOP', type: null });
    expect(fs.lookup('/dangling').error).toBe('ENOENT');
    expect(fs.lookup('/etc/marker/x').error).toBe('ENOTDIR');
  });

  it('takes a relative path against cwd inside the root', () => {
    expect(fs.lookup('libz.so.1', '/lib').realPath).toBe('/usr/lib/libz.so.1.2');
  });

  it('gives the host path behind a path inside the root', () => {
    expect(fs.hostPath('/usr/lib')).toBe(join(R, 'usr/lib'));
    expect(new RootFs('/').hostPath('/usr/lib')).toBe('/usr/lib');
  });
});

describe('RootFs.readdir', () => {
  const fs = new RootFs(R);

  it('lists the canonical folder a path reaches, typing links as links', () => {
    const listing = fs.readdir('/abs');
    expect(listing).toMatchObject({ path: '/abs', realPath: '/usr/lib', error: null });
    expect([...listing.entries].sort((a, b) => a.name.localeCompare(b.name))).toEqual([
      { name: 'libz.so.1', type: 'symlink' },
      { name: 'libz.so.1.2', type: 'file' },
    ]);
  });

  it('descends only into real folders it listed', () => {
    const top = fs.readdir('/');
    expect(fs.readdirEntry(top, 'usr')).toMatchObject({ path: '/usr', realPath: '/usr', error: null });
    expect(fs.readdirEntry(top, 'lib')).toMatchObject({ realPath: null, error: 'ENOTDIR' });
    expect(fs.readdirEntry(top, 'absent')).toMatchObject({ realPath: null, error: 'ENOENT' });
  });

  it('says why a folder cannot be listed', () => {
    expect(fs.readdir('/etc/marker').error).toBe('ENOTDIR');
    expect(fs.readdir('/loop-a').error).toBe('ELOOP');
  });
});
