/**
 * A `--probe` command with a root (what `dit minify` gives: the source image's root) runs chrooted
 * into it, so it uses that root's files and clients, not the machine's. The root here is a shell
 * and its libraries copied from this machine, plus a file only the root has.
 */
import { copyFileSync, mkdirSync, realpathSync, writeFileSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { tempDir } from '../../../test-support/fixtures.js';
import { runProbe } from '../src/probes.js';

const temp = tempDir('dit-probe-root-');
const ROOT = realpathSync(temp.path);
afterAll(() => temp.cleanup());

for (const file of ['/bin/sh', '/lib/x86_64-linux-gnu/libc.so.6', '/lib64/ld-linux-x86-64.so.2']) {
  mkdirSync(join(ROOT, dirname(file)), { recursive: true });
  copyFileSync(file, join(ROOT, file)); // the links' targets, as files
}
writeFileSync(join(ROOT, 'only-in-the-root'), '');

describe('a command probe with a root', () => {
  it("runs inside the root: it sees the root's files and not the machine's", async () => {
    expect(await runProbe({ kind: 'command', command: 'test -e /only-in-the-root', root: ROOT }, 5000)).toBe(
      null,
    );
    const outside = await runProbe({ kind: 'command', command: 'test -e /usr/bin', root: ROOT }, 5000);
    expect(outside?.why).toMatch(/^exited with 1/);
    // Without a root, the same question is the machine's.
    expect(await runProbe({ kind: 'command', command: 'test -e /only-in-the-root' }, 5000)).not.toBe(null);
  });
});
