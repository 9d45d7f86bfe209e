/**
 * Killing everything a traced command started. A process group is not enough: a daemon calls
 * setsid and leaves it. What no tracee can leave is the tracer: with `strace -f` every process the
 * command creates is ptrace-attached from birth, so /proc/PID/status says `TracerPid: <strace>`.
 * SIGKILL works on a ptrace-stopped process, and a process killed in the middle of fork never
 * produces the child, so a few rounds of "kill every tracee" empty the tree.
 *
 * strace 6.1 has no --kill-on-exit (6.2 added it); without it, killing strace first would detach
 * the tracees and let them run on, which is why strace is killed last. (In its own pid namespace,
 * see launch.ts, strace's death would take them along anyway; killing them first still lets strace
 * log how each one ended.) All of this reads the host's /proc, where TracerPid and PPid are host
 * pids whatever namespace strace runs in.
 */
import { readdirSync, readFileSync } from 'node:fs';
import { setTimeout as delay } from 'node:timers/promises';

export interface ProcStatus {
  readonly ppid: number;
  readonly tracer: number;
  readonly zombie: boolean;
}

export function readStatus(pid: number): ProcStatus | null {
  let text: string;
  try {
    text = readFileSync(`/proc/${pid}/status`, 'latin1');
  } catch {
    return null; // gone already
  }
  const field = (name: string) => new RegExp(`^${name}:\\s*(\\S+)`, 'm').exec(text)?.[1] ?? '';
  return {
    ppid: Number(field('PPid')),
    tracer: Number(field('TracerPid')),
    zombie: /^[ZX]/.test(field('State')),
  };
}

/** Start time in clock ticks since boot: with the pid, it names one process even after pid reuse. */
export function startTime(pid: number): string | null {
  try {
    const stat = readFileSync(`/proc/${pid}/stat`, 'latin1');
    // The command name may contain spaces and parentheses; the fields resume after the last `)`.
    return stat.slice(stat.lastIndexOf(')') + 2).split(' ')[19] ?? null;
  } catch {
    return null;
  }
}

/** Live processes traced by `tracer` or descended from it (not the tracer itself). */
export function tracedProcesses(tracer: number): number[] {
  const statuses = new Map<number, ProcStatus>();
  for (const name of readdirSync('/proc')) {
    if (!/^\d+$/.test(name)) continue;
    const status = readStatus(Number(name));
    if (status !== null) statuses.set(Number(name), status);
  }
  const children = new Map<number, number[]>();
  for (const [pid, status] of statuses) {
    const list = children.get(status.ppid) ?? [];
    list.push(pid);
    children.set(status.ppid, list);
  }
  const found = new Set<number>();
  const queue = [tracer];
  while (queue.length > 0) {
    for (const child of children.get(queue.pop()!) ?? []) {
      if (found.has(child)) continue;
      found.add(child);
      queue.push(child);
    }
  }
  for (const [pid, status] of statuses) if (status.tracer === tracer) found.add(pid);
  return [...found].filter((pid) => statuses.get(pid)?.zombie === false);
}

/** The processes a kill reached, to be checked again once strace is gone. */
export type KillList = Map<number, string | null>;

export interface KillOptions {
  /** The spawned process leads its own process group (it was started detached). */
  readonly leadsGroup: boolean;
  /** strace is the spawned process's child (the launcher forked it, see launch.ts), not the process itself. */
  readonly tracerIsChild: boolean;
}

/**
 * SIGKILLs every tracee of the strace started as (or under) `spawned` until none is left, then
 * strace, then `spawned` (its whole process group when it leads one). Returns what it killed.
 */
export async function killTracedTree(spawned: number, options: KillOptions): Promise<KillList> {
  const killed: KillList = new Map();
  // Before the launcher has forked there is no tracer yet: killing the launcher is then enough
  // (its child, if it is being born, has a parent-death signal).
  const tracer = options.tracerIsChild ? childOf(spawned) : spawned;
  if (tracer !== null) {
    await killTracees(tracer, killed);
    signal(tracer, 'SIGKILL');
  }
  if (!options.leadsGroup || !signal(-spawned, 'SIGKILL')) signal(spawned, 'SIGKILL');
  return killed;
}

async function killTracees(tracer: number, killed: KillList): Promise<void> {
  for (let round = 0; round < 200; round++) {
    const victims = tracedProcesses(tracer);
    if (victims.length === 0) break;
    for (const pid of victims) {
      if (!killed.has(pid)) killed.set(pid, startTime(pid));
      signal(pid, 'SIGKILL');
    }
    await delay(round < 10 ? 5 : 25);
  }
}

/** The live child of `parent` (the launcher forks exactly one), or null. */
export function childOf(parent: number): number | null {
  for (const name of readdirSync('/proc')) {
    if (!/^\d+$/.test(name)) continue;
    const status = readStatus(Number(name));
    if (status !== null && status.ppid === parent && !status.zombie) return Number(name);
  }
  return null;
}

/** After the tracer has exited: kills again any killed process that somehow still runs. */
export function sweep(killed: KillList): void {
  for (const [pid, started] of killed) {
    const status = readStatus(pid);
    if (status === null || status.zombie || startTime(pid) !== started) continue;
    signal(pid, 'SIGKILL');
  }
}

function signal(pid: number, name: NodeJS.Signals): boolean {
  try {
    process.kill(pid, name);
    return true;
  } catch {
    return false; // already gone
  }
}
