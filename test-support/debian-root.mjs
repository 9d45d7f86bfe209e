// A minimal Debian bookworm root made with debootstrap, cached between runs: tests export from it
// with --root, and the image tests turn it into the local `debian:bookworm-slim` base.
//
// The mirror is the one this machine's apt already uses (read from its sources), so nothing here
// names a host. Plain ESM with JSDoc types, node: builtins only.

import { execFileSync } from 'node:child_process';
import { existsSync, mkdirSync, readFileSync, renameSync, rmSync } from 'node:fs';
import { join } from 'node:path';

export const DEBIAN_ROOT_CACHE = process.env.DIT_TEST_CACHE ?? '/var/cache/dit-test';

/** The first Debian archive URI apt is configured with (deb822 `.sources` or one-line `.list`). */
export function aptMirror() {
  const candidates = ['/etc/apt/sources.list.d/debian.sources', '/etc/apt/sources.list'];
  for (const file of candidates) {
    if (!existsSync(file)) continue;
    const text = readFileSync(file, 'utf8');
    const deb822 = /^URIs:\s*(\S+)/m.exec(text);
    if (deb822 && !deb822[1].includes('security')) return deb822[1];
    const line = /^deb\s+(?:\[[^\]]*\]\s+)?(\S+)\s+bookworm\s/m.exec(text);
    if (line) return line[1];
  }
  throw new Error('no Debian mirror found in the apt sources of this machine');
}

/**
 * Path of a debootstrap'ed bookworm minbase root, making it (about a minute) on first use.
 * Built in a temporary folder and renamed into place, so an interrupted build leaves nothing.
 *
 * @returns {string}
 */
export function ensureDebianRoot() {
  const root = join(DEBIAN_ROOT_CACHE, 'bookworm-minbase');
  if (existsSync(join(root, 'etc/debian_version'))) return root;
  mkdirSync(DEBIAN_ROOT_CACHE, { recursive: true });
  const building = `${root}.building-${process.pid}`;
  rmSync(building, { recursive: true, force: true });
  execFileSync('debootstrap', ['--variant=minbase', 'bookworm', building, aptMirror()], {
    stdio: ['ignore', 'ignore', 'pipe'],
  });
  rmSync(root, { recursive: true, force: true });
  renameSync(building, root);
  return root;
}
