import { spawn, spawnSync } from 'node:child_process';
import { chmodSync, existsSync, mkdirSync, readdirSync, rmdirSync, rmSync } from 'node:fs';
import { join } from 'node:path';
import {
  childOutput,
  commandChildOf,
  MainProcess,
  OVERLAY_ROOT_FUNCTION,
  RUNTIME_MOUNTS_FUNCTION,
  type Supervisor,
} from '@dit/trace';
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
 * Inside fresh mount and pid namespaces: the export as the lower layer of an overlay whose upper
 * layer is a tmpfs, then /proc, a minimal /dev (null, zero, full, random, urandom, tty and the fd
 * links), then chroot into it and run the command as pid 1, the way a container runtime starts it.
 * This shell runs on the host side, before the chroot.
 *
 * The overlay (OVERLAY_ROOT_FUNCTION) is what a runtime gives a container: the image's files as
 * they are (an application exported under /tmp or /var/tmp included) and a writable root whose
 * writes vanish with the run, so the run can never change the export. Where the kernel refuses the
 * overlay, /tmp and /var/tmp get a tmpfs each holding a copy of what the export has there (copied
 * from the covered folder, reached as the shell's working directory).
 */
const NAMESPACE_SETUP = `
set -e
# A step of the set-up that fails says so: its status must not pass for the command's.
trap '[ $? -eq 0 ] || echo "dit-verify: setup failed" >&2' EXIT
root=$1; cwd=$2; shift 2
${OVERLAY_ROOT_FUNCTION}${RUNTIME_MOUNTS_FUNCTION}
layered=
if overlay_root "$root"; then layered=1; fi
for dir in proc dev tmp; do
  [ -d "$root/$dir" ] || [ -L "$root/$dir" ] || mkdir -m "$([ $dir = tmp ] && echo 1777 || echo 0755)" "$root/$dir"
done
if [ -z "$layered" ]; then
  for dir in tmp var/tmp; do
    if [ -d "$root/$dir" ] && [ ! -L "$root/$dir" ] && [ ! -L "$root/var" ]; then
      cd "$root/$dir"
      mount -t tmpfs -o mode=1777 tmp "$root/$dir"
      cp -a . "$root/$dir/"
      chmod --reference=. "$root/$dir"
      cd /
    fi
  done
fi
runtime_mounts "$root"
# A working directory the export lacks: make it, empty, as a runtime would.
[ -d "$root$cwd" ] || mkdir -p "$root$cwd"
# "$@" is unshare's --setuid (the image's user, set after the chroot), then -- and the command.
exec unshare --root="$root" --wd="$cwd" "$@"
`;

/**
 * Mount points the run needs inside the export. The overlay makes them in memory; without it they
 * are made in the export and removed after if they were not there.
 */
const MOUNT_POINTS = ['proc', 'dev', 'tmp'];

/**
 * `setpriv --pdeathsig KILL`: the run dies with dit, even by SIGKILL. With namespaces the run is
 * unshare's child, which unshare's --kill-child kills with it, and the kernel then kills every
 * process of its pid namespace. In the chroot fallback unshare execs the command itself: the
 * command dies with dit, but a process it started and left behind does not (no pid namespace
 * holds them together there).
 */
function deathSignal(): string[] {
  const setpriv = ['/usr/bin/setpriv', '/bin/setpriv', '/usr/sbin/setpriv'].find((path) => existsSync(path));
  return setpriv === undefined ? [] : [setpriv, '--pdeathsig', 'KILL', '--'];
}

/**
 * The gid and supplementary groups of the image's user, set by setpriv before anything else (the
 * set-up still runs as uid 0, so its mounts work; unshare's own --setgid would drop the groups).
 */
function groupsOf(user: { readonly gid: number; readonly groups: readonly number[] } | undefined): string[] {
  if (user === undefined || (user.gid === 0 && user.groups.length === 0)) return [];
  const setpriv = ['/usr/bin/setpriv', '/bin/setpriv', '/usr/sbin/setpriv'].find((path) => existsSync(path));
  if (setpriv === undefined) return ['unshare', `--setgid=${user.gid}`, '--'];
  const groups = user.groups.length === 0 ? ['--clear-groups'] : ['--groups', user.groups.join(',')];
  return [setpriv, '--regid', String(user.gid), ...groups, '--'];
}

export async function runIsolated(
  root: string,
  command: readonly string[],
  options: {
    env: Record<string, string | undefined>;
    cwd: string;
    timeoutMs?: number;
    signal?: AbortSignal;
    /** Run as this uid, gid and supplementary groups (the image's --user) instead of root. */
    user?: { readonly uid: number; readonly gid: number; readonly groups: readonly number[] };
    /** Service mode: supervises the running command; when it settles, the run is killed. */
    service?: Supervisor;
  },
): Promise<IsolatedRun> {
  const missing = MOUNT_POINTS.filter((name) => !existsSync(join(root, name)));
  // Without a tmpfs (the chroot fallback) the run writes into the export's own /tmp: undo that after.
  const tmpBefore = new Set(missing.includes('tmp') ? [] : readdirSync(join(root, 'tmp')));
  const parentDeath = [...deathSignal(), ...groupsOf(options.user)];
  // unshare sets the uid last, after the chroot: the user needs no right to the export's parents.
  const asUser =
    options.user === undefined || options.user.uid === 0 ? [] : ['--setuid', String(options.user.uid)];
  let nodes: string[] = [];
  try {
    const namespaced = await run(
      [
        ...parentDeath,
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
        ...asUser,
        '--',
        ...command,
      ],
      options,
      'child',
    );
    options.signal?.throwIfAborted();
    if (!namespaced.setupFailed) return { ...namespaced.result, isolation: 'namespaces', note: null };
    // Inside a container build step new namespaces are usually refused, but chroot is allowed, and
    // so is mknod of the harmless devices: the run gets a /dev with null, zero, random and friends.
    for (const name of missing) if (!existsSync(join(root, name))) mkdirSync(join(root, name));
    if (missing.includes('dev')) nodes = makeDeviceNodes(join(root, 'dev'));
    const devices = nodes.map((node) => node.slice(node.lastIndexOf('/') + 1));
    const chrooted = await run(
      [...parentDeath, 'unshare', `--root=${root}`, `--wd=${options.cwd}`, ...asUser, '--', ...command],
      options,
      'self',
    );
    options.signal?.throwIfAborted();
    if (!chrooted.setupFailed)
      return {
        ...chrooted.result,
        isolation: 'chroot',
        // Mounting /proc needs a mount namespace (refused here): mounted in dit's own namespace
        // instead, it would outlive a killed dit inside the export.
        note:
          'new namespaces are not permitted here: ran with chroot only, without /proc or a private /tmp' +
          (devices.length > 0 ? `; /dev has ${devices.join(', ')} (mknod)` : '; no /dev (mknod refused)'),
      };
    return {
      ...chrooted.result,
      isolation: null,
      note: `could not isolate the check: namespaces refused (${namespaced.setupError}), chroot refused (${chrooted.setupError})`,
    };
  } finally {
    for (const node of nodes) rmSync(node, { force: true, recursive: true });
    if (existsSync(join(root, 'tmp'))) {
      for (const name of readdirSync(join(root, 'tmp'))) {
        if (!tmpBefore.has(name)) rmSync(join(root, 'tmp', name), { recursive: true, force: true });
      }
    }
    for (const name of missing) {
      try {
        rmdirSync(join(root, name));
      } catch {
        // Not there (the overlay made it in memory), or written into, which a mount point prevents.
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
  // POSIX shared memory (shm_open, PostgreSQL's default) is files in /dev/shm, a tmpfs under a
  // runtime; a plain folder serves the same calls here.
  const shm = join(dev, 'shm');
  try {
    mkdirSync(shm);
    chmodSync(shm, 0o1777);
    made.push(shm);
  } catch {
    // /dev not writable: the run goes without
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
  options: {
    env: Record<string, string | undefined>;
    timeoutMs?: number;
    signal?: AbortSignal;
    service?: Supervisor;
  },
  /** Where the command's main process is: the spawned launcher's child (the namespace's pid 1), or the launcher itself (exec'ed). */
  main: 'child' | 'self',
): Promise<RawRun> {
  return new Promise((resolve) => {
    // What a runtime gives: pipes, never sockets (`/proc/self/fd/2` must open; see @dit/trace's pipes.ts).
    const outputs = [childOutput(1, true), childOutput(2, true)] as const;
    let child: ReturnType<typeof spawn>;
    try {
      child = spawn(argv[0]!, argv.slice(1), {
        env: clean(options.env),
        stdio: ['ignore', outputs[0].stdio, outputs[1].stdio],
        detached: true,
      });
    } finally {
      for (const output of outputs) output.pipe?.handOver();
    }
    const stdout: Buffer[] = [];
    const stderr: Buffer[] = [];
    child.stdout?.on('data', (chunk: Buffer) => stdout.push(chunk));
    child.stderr?.on('data', (chunk: Buffer) => stderr.push(chunk));
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
    // Service mode: supervised while it runs, then whatever is left is killed (see service.ts).
    const mainProcess = new MainProcess(() =>
      child.pid === undefined ? null : main === 'self' ? child.pid : commandChildOf(child.pid),
    );
    const supervised = options.service === undefined ? null : options.service(mainProcess).finally(killGroup);
    const finish = async (exitCode: number | null, signal: string | null, spawnError?: Error) => {
      if (timer) clearTimeout(timer);
      options.signal?.removeEventListener('abort', killGroup);
      mainProcess.end();
      await supervised?.catch(() => undefined); // its outcome is the caller's to read
      // The namespace's processes are gone with its pid 1; in the chroot fallback a daemon the
      // command left may hold the pipes: stop waiting for it after a while.
      const stopReading = () => {
        for (const output of outputs) output.pipe?.stop();
      };
      const giveUp = setTimeout(stopReading, spawnError === undefined ? 2000 : 0);
      await Promise.all(outputs.map((output) => output.pipe?.closed));
      clearTimeout(giveUp);
      const out = outputs[0].pipe?.bytes() ?? Buffer.concat(stdout);
      const err = outputs[1].pipe?.bytes() ?? Buffer.concat(stderr);
      const text = err.toString('utf8');
      // unshare reports its own failures as "unshare: ..." and exits 1 before the command runs.
      const setupFailed =
        spawnError !== undefined ||
        /^dit-verify: setup failed$/m.test(text) ||
        (exitCode === 1 &&
          /^(unshare|setpriv): /m.test(text) &&
          /(Operation not permitted|Permission denied|cannot|failed)/i.test(text));
      resolve({
        result: { exitCode, signal, timedOut, stdout: out, stderr: err },
        setupFailed,
        setupError: spawnError?.message ?? text.trim().split('\n')[0] ?? '',
      });
    };
    child.on('error', (error) => void finish(null, null, error));
    child.on('close', (code, signal) => void finish(code, signal));
  });
}

function clean(env: Record<string, string | undefined>): Record<string, string> {
  const result: Record<string, string> = {};
  for (const [key, value] of Object.entries(env)) if (value !== undefined) result[key] = value;
  return result;
}
