/**
 * Throwaway roots for tests that could destroy: a copy of a Debian root with dit.tar unpacked in it,
 * entered with unshare + chroot, so that a regression destroys the copy, never this machine.
 *
 * The copy is an overlay: the cached debootstrap root and a layer holding dit (unpacked from a
 * fresh `dist/dit.tar`) are its read-only lower layers, and every write, rename and delete lands in
 * a per-root upper folder. Making one costs a mount, not a copy of 200 MB, so every case gets its
 * own. Inside, dit runs exactly as in a build stage: the static launcher, the bundled Node, the
 * bundled strace, as root, with /proc and a minimal /dev of its own.
 */
import { execFileSync, spawnSync } from 'node:child_process';
import { mkdirSync, mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { ensureDebianRoot } from './debian-root.mjs';

const REPO = fileURLToPath(new URL('..', import.meta.url));

/** A folder holding `usr/local/bin/dit` and `dit.d/`, from dit.tar bundled now from the sources. */
export function makeDitLayer(): { path: string; cleanup: () => void } {
  // Bundled into a folder of its own: dist/ and the installed command stay as other tests use them.
  const bundle = mkdtempSync(join(tmpdir(), 'dit-bundle-'));
  const path = mkdtempSync(join(tmpdir(), 'dit-layer-'));
  try {
    execFileSync(process.execPath, [join(REPO, 'scripts/bundle.mjs'), '--quick', '--out', bundle], {
      cwd: REPO,
      stdio: ['ignore', 'ignore', 'pipe'],
    });
    const bin = join(path, 'usr/local/bin');
    mkdirSync(bin, { recursive: true });
    execFileSync('tar', ['-xf', join(bundle, 'dit.tar'), '-C', bin]);
  } finally {
    rmSync(bundle, { recursive: true, force: true });
  }
  return { path, cleanup: () => rmSync(path, { recursive: true, force: true }) };
}

export interface RunResult {
  readonly status: number | null;
  readonly stdout: string;
  readonly stderr: string;
}

export interface ThrowawayRoot {
  /** The merged view, from this machine's side (for reading what a case did). */
  readonly path: string;
  /** Runs a shell script chrooted into the copy, as root, in new mount and pid namespaces. */
  run(script: string, options?: { timeoutMs?: number }): RunResult;
  /** Unmounts and removes the copy and everything written into it. */
  cleanup(): void;
}

/**
 * Inside fresh mount and pid namespaces: the copy's /proc, a /dev of the harmless devices, then
 * chroot. Mounts made by the script itself (a tmpfs to play a volume) die with the namespace.
 */
const ENTER = `
set -e
root=$1; shift
mount -t proc proc "$root/proc"
mount -t tmpfs -o mode=0755,nosuid dev "$root/dev"
for node in null zero full random urandom tty; do
  : > "$root/dev/$node"
  mount --bind "/dev/$node" "$root/dev/$node"
done
ln -s /proc/self/fd "$root/dev/fd"
exec chroot "$root" /bin/sh -c "$1"
`;

export function throwawayRoot(layer: string): ThrowawayRoot {
  const base = ensureDebianRoot();
  const dir = mkdtempSync(join(tmpdir(), 'dit-throwaway-'));
  const [upper, work, merged] = ['upper', 'work', 'merged'].map((name) => join(dir, name)) as [
    string,
    string,
    string,
  ];
  for (const folder of [upper, work, merged]) mkdirSync(folder);
  execFileSync('mount', [
    '-t',
    'overlay',
    'overlay',
    '-o',
    `lowerdir=${layer}:${base},upperdir=${upper},workdir=${work}`,
    merged,
  ]);
  return {
    path: merged,
    run(script, options = {}) {
      const result = spawnSync(
        'unshare',
        [
          '--mount',
          '--pid',
          '--fork',
          '--kill-child',
          '--propagation',
          'private',
          '--',
          '/bin/sh',
          '-c',
          ENTER,
          'dit-throwaway',
          merged,
          script,
        ],
        {
          encoding: 'utf8',
          timeout: options.timeoutMs ?? 120_000,
          killSignal: 'SIGKILL',
          env: {
            PATH: '/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin',
            HOME: '/root',
            LANG: 'C.UTF-8',
          },
        },
      );
      return { status: result.status, stdout: result.stdout, stderr: result.stderr };
    },
    cleanup() {
      spawnSync('umount', ['-l', merged]);
      rmSync(dir, { recursive: true, force: true });
    },
  };
}
