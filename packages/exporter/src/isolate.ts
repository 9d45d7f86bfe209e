import { spawn, spawnSync } from 'node:child_process';
import { existsSync, mkdirSync, readdirSync, rmdirSync, rmSync } from 'node:fs';
import { join } from 'node:path';
import type { Isolation } from './types.js';

export interface IsolatedRun {
  readonly isolation: Isolation | null;
  readonly exitCode: number | null;
  readonly signal: string | null;
  readonly timedOut: boolean;
  readonly stdout: Buffer;
  readonly stderr: Buffer;
  /** Why it could not run isolated at all, when `isolation` is null. */
  readonly note: string | null;
}

/**
 * Inside fresh mount and pid namespaces: /proc, a minimal /dev (null, zero, full, random, urandom,
 * tty and the fd links), an empty /tmp, then chroot into the export and run the command as pid 1,
 * the way a container runtime starts it. This shell runs on the host side, before the chroot.
 */
const NAMESPACE_SETUP = `
set -e
root=$1; cwd=$2; shift 2
mount -t proc proc "$root/proc"
mount -t tmpfs -o mode=0755,nosuid dev "$root/dev"
for node in null zero full random urandom tty; do
  : > "$root/dev/$node"
  mount --bind "/dev/$node" "$root/dev/$node"
done
ln -s /proc/self/fd "$root/dev/fd"
ln -s /proc/self/fd/0 "$root/dev/stdin"
ln -s /proc/self/fd/1 "$root/dev/stdout"
ln -s /proc/self/fd/2 "$root/dev/stderr"
mount -t tmpfs -o mode=1777 tmp "$root/tmp"
# A working directory under /tmp is hidden by the fresh tmpfs: make it again, empty, as a runtime would.
[ -d "$root$cwd" ] || mkdir -p "$root$cwd"
exec unshare --root="$root" --wd="$cwd" -- "$@"
`;

/** Mount points the run needs inside the export; created for the run and removed after if they were not there. */
const MOUNT_POINTS = ['proc', 'dev', 'tmp'];

export async function runIsolated(
  root: string,
  command: readonly string[],
  options: { env: Record<string, string | undefined>; cwd: string; timeoutMs?: number; signal?: AbortSignal },
): Promise<IsolatedRun> {
  const created = MOUNT_POINTS.filter((name) => !existsSync(join(root, name)));
  for (const name of created) mkdirSync(join(root, name));
  // Without a tmpfs (the chroot fallback) the run writes into the export's own /tmp: undo that after.
  const tmpBefore = new Set(readdirSync(join(root, 'tmp')));
  let nodes: string[] = [];
  try {
    const namespaced = await run(
      [
        'unshare',
        '--mount',
        '--pid',
        '--fork',
        '--kill-child',
        '--propagation',
        'private',
        '--',
        '/bin/sh',
        '-c',
        NAMESPACE_SETUP,
        'dit-verify',
        root,
        options.cwd,
        ...command,
      ],
      options,
    );
    options.signal?.throwIfAborted();
    if (!namespaced.setupFailed) return { ...namespaced.result, isolation: 'namespaces', note: null };
    // Inside a container build step new namespaces are usually refused, but chroot is allowed, and
    // so is mknod of the harmless devices: the run gets a /dev with null, zero, random and friends.
    if (created.includes('dev')) nodes = makeDeviceNodes(join(root, 'dev'));
    const chrooted = await run(
      ['unshare', `--root=${root}`, `--wd=${options.cwd}`, '--', ...command],
      options,
    );
    options.signal?.throwIfAborted();
    if (!chrooted.setupFailed)
      return {
        ...chrooted.result,
        isolation: 'chroot',
        note: 'new namespaces are not permitted here: ran with chroot only (no /proc, /dev or private /tmp)',
      };
    return {
      ...chrooted.result,
      isolation: null,
      note: `could not isolate the check: namespaces refused (${namespaced.setupError}), chroot refused (${chrooted.setupError})`,
    };
  } finally {
    for (const node of nodes) rmSync(node, { force: true });
    for (const name of readdirSync(join(root, 'tmp'))) {
      if (!tmpBefore.has(name)) rmSync(join(root, 'tmp', name), { recursive: true, force: true });
    }
    for (const name of created) {
      try {
        rmdirSync(join(root, name));
      } catch {
        // Left only if the run wrote into it, which a mount point prevents; nothing to undo then.
      }
    }
  }
}

/** The character devices a container runtime provides, by major and minor number. */
const DEVICES: readonly [string, number, number][] = [
  ['null', 1, 3],
  ['zero', 1, 5],
  ['full', 1, 7],
  ['random', 1, 8],
  ['urandom', 1, 9],
  ['tty', 5, 0],
];

/** Creates what it may of a minimal /dev; returns the nodes made (to remove after the run). */
function makeDeviceNodes(dev: string): string[] {
  const made: string[] = [];
  for (const [name, major, minor] of DEVICES) {
    const path = join(dev, name);
    const result = spawnSync('mknod', ['-m', '666', path, 'c', String(major), String(minor)], {
      stdio: 'ignore',
    });
    if (result.status === 0) made.push(path);
  }
  return made;
}

interface RawRun {
  result: Omit<IsolatedRun, 'isolation' | 'note'>;
  /** unshare itself failed before running the command (permission denied, missing tool). */
  setupFailed: boolean;
  setupError: string;
}

function run(
  argv: string[],
  options: { env: Record<string, string | undefined>; timeoutMs?: number; signal?: AbortSignal },
): Promise<RawRun> {
  return new Promise((resolve) => {
    const child = spawn(argv[0]!, argv.slice(1), {
      env: clean(options.env),
      stdio: ['ignore', 'pipe', 'pipe'],
      detached: true,
    });
    const stdout: Buffer[] = [];
    const stderr: Buffer[] = [];
    child.stdout.on('data', (chunk: Buffer) => stdout.push(chunk));
    child.stderr.on('data', (chunk: Buffer) => stderr.push(chunk));
    let timedOut = false;
    const killGroup = () => {
      try {
        process.kill(-child.pid!, 'SIGKILL');
      } catch {
        // already gone
      }
    };
    const timer =
      options.timeoutMs === undefined
        ? null
        : setTimeout(() => {
            timedOut = true;
            killGroup();
          }, options.timeoutMs);
    // unshare --kill-child takes the namespace's processes with it; the caller checks the signal.
    options.signal?.addEventListener('abort', killGroup, { once: true });
    const finish = (exitCode: number | null, signal: string | null, spawnError?: Error) => {
      if (timer) clearTimeout(timer);
      options.signal?.removeEventListener('abort', killGroup);
      const err = Buffer.concat(stderr);
      const text = err.toString('utf8');
      // unshare reports its own failures as "unshare: ..." and exits 1 before the command runs.
      const setupFailed =
        spawnError !== undefined ||
        (exitCode === 1 &&
          /^unshare: /m.test(text) &&
          /(Operation not permitted|Permission denied|cannot|failed)/i.test(text));
      resolve({
        result: { exitCode, signal, timedOut, stdout: Buffer.concat(stdout), stderr: err },
        setupFailed,
        setupError: spawnError?.message ?? text.trim().split('\n')[0] ?? '',
      });
    };
    child.on('error', (error) => finish(null, null, error));
    child.on('close', (code, signal) => finish(code, signal));
  });
}

function clean(env: Record<string, string | undefined>): Record<string, string> {
  const result: Record<string, string> = {};
  for (const [key, value] of Object.entries(env)) if (value !== undefined) result[key] = value;
  return result;
}
