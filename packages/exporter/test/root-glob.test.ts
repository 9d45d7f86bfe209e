/**
 * fast-glob over RootFs, on the cases the export tests do not reach: a pattern whose brace
 * alternatives are literal parts of their own (one through a link), `..` after a link in the literal
 * part, and fast-glob's callback API, which must be answered inside the root too. Beside the root
 * lies a host folder that every link here tries to reach; its names must never come back.
 */
import { mkdirSync, realpathSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { RootFs } from '@dit/paths';
import fastGlob from 'fast-glob';
import { afterAll, describe, expect, it } from 'vitest';
import { tempDir, writeTree } from '../../../test-support/fixtures.js';
import { RootFsAdapter } from '../src/root-fs-adapter.js';
import { expandGlob, listTree } from '../src/root-glob.js';

const temp = tempDir('dit-root-glob-');
afterAll(() => temp.cleanup());
const W = realpathSync(temp.path);
const HOST = join(W, 'host');
mkdirSync(join(HOST, 'etc/app'), { recursive: true });
writeFileSync(join(HOST, 'etc/app/host-only.conf'), 'host\n');

const R = join(W, 'root');
writeTree(R, {
  'etc/app/config': 'setting=1\n',
  'etc/app/.hidden': 'dot\n',
  'srv/data/a.txt': 'a\n',
  'srv/data/sub/b.txt': 'b\n',
  // Absolute links: inside the root they name the root's folders, on the host the host's.
  'app/data': { symlink: '/srv/data' },
  'app/to-root': { symlink: '/' },
  'app/to-host': { symlink: HOST },
  'app/loop': { symlink: 'loop' },
});

describe('expandGlob: fast-glob answered by RootFs', () => {
  const fs = new RootFs(R);

  it('follows a link on the literal part inside the root, returns canonical paths and the named link', () => {
    expect(expandGlob(fs, '/app/data/**')).toEqual({
      matches: ['/srv/data/a.txt', '/srv/data/sub', '/srv/data/sub/b.txt'],
      via: ['/app/data'],
      skipped: [],
    });
  });

  it('reads `..` after a link as the root does (the parent of where the link leads), not lexically', () => {
    // /app/to-root is `/`, so /app/to-root/../etc is /etc; read lexically it would be /app/etc.
    expect(expandGlob(fs, '/app/to-root/../etc/app/*').matches).toEqual([
      '/etc/app/.hidden',
      '/etc/app/config',
    ]);
  });

  it('a brace alternative is a literal part of its own: its links followed inside the root, kept, skipped when a loop', () => {
    const expansion = expandGlob(fs, '/app/{data,to-host,loop}/*');
    expect(expansion.matches).toEqual(['/srv/data/a.txt', '/srv/data/sub']);
    expect(expansion.via).toEqual(['/app/data']);
    expect(expansion.skipped).toEqual([{ path: '/app/loop', error: 'ELOOP' }]);
    // Static alternatives (no glob left in them) are stat'ed by name: their folder resolved in the root.
    const statics = expandGlob(fs, '/app/{data/a.txt,to-host/etc,to-root/etc/app/config}');
    expect(statics.matches).toEqual(['/etc/app/config', '/srv/data/a.txt']);
    expect(statics.via.sort()).toEqual(['/app/data', '/app/to-root/etc/app']);
  });

  it('keeps links met below the literal part as links', () => {
    const matches = listTree(fs, '/app').matches;
    expect(matches).toEqual(['/app/data', '/app/loop', '/app/to-host', '/app/to-root']);
  });
});

describe('RootFsAdapter: every method fast-glob may call stays in the root', () => {
  it('the callback API (readdir with file types, lstat) as the sync one', async () => {
    const fs = new RootFs(R);
    const adapter = new RootFsAdapter(fs);
    const options = {
      cwd: '/',
      fs: adapter.methods(),
      dot: true,
      onlyFiles: false,
      followSymbolicLinks: false,
    };
    expect((await fastGlob('/app/to-host/**', options)).sort()).toEqual([]);
    expect((await fastGlob('/app/to-root/etc/app/*', options)).sort()).toEqual([
      '/app/to-root/etc/app/.hidden',
      '/app/to-root/etc/app/config',
    ]);
    expect(adapter.canonical('/app/to-root/etc/app/config')).toBe('/etc/app/config');
    expect(await fastGlob('/app/{to-host/etc/app/host-only.conf,data/a.txt}', options)).toEqual([
      '/app/data/a.txt',
    ]);
  });

  it('stat follows the final link inside the root; lstat does not', () => {
    const methods = new RootFsAdapter(new RootFs(R)).methods();
    expect(methods.statSync!('/app/data').isDirectory()).toBe(true);
    expect(methods.lstatSync!('/app/data').isSymbolicLink()).toBe(true);
    expect(() => methods.statSync!('/app/to-host')).toThrow(expect.objectContaining({ code: 'ENOENT' }));
  });
});
