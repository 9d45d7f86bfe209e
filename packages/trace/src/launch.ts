/**
 * How strace is started so that nothing it traces outlives dit, even when dit is SIGKILLed (then no
 * handler of ours runs, so the kernel has to do it).
 *
 * Node cannot give a child a parent-death signal, and strace 6.1 has no --kill-on-exit (6.2 added
 * it). util-linux can do both:
 *
 *   setpriv --pdeathsig KILL -- unshare --pid --fork --kill-child --mount-proc -- strace ... -- CMD
 *
 * setpriv sets PR_SET_PDEATHSIG and execs unshare (the setting survives exec), so unshare gets
 * SIGKILL when dit dies. unshare forks strace as pid 1 of a new pid namespace and, with
 * --kill-child, gives it a parent-death signal too. When a namespace's pid 1 dies, the kernel kills
 * every process in it: the traced tree, daemons that called setsid, orphans (which are re-parented
 * to strace, the namespace's init). --mount-proc gives the namespace its own /proc: strace's `-y`
 * reads /proc/PID/fd/N with the pids it sees, which are the namespace's.
 *
 * Consequences, on purpose: the pids in the log are the namespace's (the command is a small number,
 * strace is 1); the command sees only its own tree in /proc, as in a container; a command killed by
 * a signal makes strace exit with 128+N instead of dying of it (the namespace's init cannot signal
 * itself), which is why the log's `+++ killed by` line stays the source of the status.
 *
 * Where new namespaces are refused (inside a container build's RUN step), strace runs under
 * setpriv alone: it dies with dit, and with --kill-on-exit (strace 6.2 and later) it takes its
 * tracees along; an older strace detaches them and they run on. That weaker guarantee is the best
 * such a place allows. Without setpriv (util-linux always has it next to unshare) nothing dies with
 * dit but what dit's own handlers kill.
 */
import { spawnSync } from 'node:child_process';
import { findCommand, isHostExecutable } from './locate.js';

/** What goes before strace's own argv, and where strace is in the tree that starts. */
export interface TracerLaunch {
  /** argv before the strace binary (empty when strace is started directly). */
  readonly prefix: readonly string[];
  /** Extra strace options (--kill-on-exit where strace has it and no namespace does its job). */
  readonly straceOptions: readonly string[];
  /**
   * strace is the child of the spawned process (unshare --fork), not the spawned process itself;
   * it is then pid 1 of its own pid namespace, in a mount namespace of its own.
   */
  readonly tracerIsChild: boolean;
}

const NAMESPACE_FLAGS = ['--pid', '--fork', '--kill-child', '--mount-proc'];

const cache = new Map<string, TracerLaunch>();

/** The launch for this strace, probed once per process (a probe costs a few milliseconds). */
export function tracerLaunch(strace: string, searchPath: string): TracerLaunch {
  let launch = cache.get(strace);
  if (launch === undefined) {
    launch = probeLaunch(strace, searchPath);
    cache.set(strace, launch);
  }
  return launch;
}

function probeLaunch(strace: string, searchPath: string): TracerLaunch {
  const setpriv = findCommand('setpriv', searchPath, '/', isHostExecutable);
  const unshare = findCommand('unshare', searchPath, '/', isHostExecutable);
  const deathSignal = setpriv === null ? [] : [setpriv, '--pdeathsig', 'KILL', '--'];
  // The same namespaces on a harmless command: refused here (EPERM in a build step, a /proc that
  // may not be mounted again) means refused for strace too.
  if (unshare !== null && succeeds([unshare, ...NAMESPACE_FLAGS, '--', unshare, '--version'])) {
    return {
      prefix: [...deathSignal, unshare, ...NAMESPACE_FLAGS, '--'],
      straceOptions: [],
      tracerIsChild: true,
    };
  }
  const killOnExit = succeeds([strace, '--kill-on-exit', '-V']);
  return { prefix: deathSignal, straceOptions: killOnExit ? ['--kill-on-exit'] : [], tracerIsChild: false };
}

function succeeds(argv: string[]): boolean {
  const result = spawnSync(argv[0]!, argv.slice(1), { stdio: 'ignore', timeout: 10_000 });
  return result.status === 0;
}
