/**
 * A long-running command (a server) seen from outside while it runs: its main process can be
 * signalled (the stop signal) and watched for its exit, so that a supervisor can wait until it is
 * ready, query it, and stop it the way a runtime does (`podman stop`: the stop signal to the main
 * process, then SIGKILL to everything after a grace period). The supervisor itself lives with the
 * probes (@dit/exporter's service.ts); this is only the handle, the same for the traced run and for
 * the run inside the export.
 *
 * The main process is found from the host's /proc as the child of the process that starts it
 * (strace, or the namespace's launcher), once, and remembered with its start time: after it exits,
 * the processes it leaves behind are re-parented to the same parent, and one of them must not be
 * taken for it.
 */
import { readdirSync, readlinkSync } from 'node:fs';
import { readStatus, startTime } from './kill.js';

export interface ServiceHandle {
  /** Sends a signal to the command's main process; false when it has not started or is gone. */
  signal(name: NodeJS.Signals): boolean;
  /** The main process has exited (the run may still hold what it started). */
  mainExited(): boolean;
  /** The whole run has ended: every process of it is gone. */
  ended(): boolean;
}

/** Runs while the command runs; when it settles, whatever is left of the run is killed. */
export type Supervisor = (service: ServiceHandle) => Promise<void>;

export class MainProcess implements ServiceHandle {
  private pid: number | null = null;
  private started: string | null = null;
  private over = false;

  /** `locate`: the main process's host pid, or null while it does not exist yet. */
  constructor(private readonly locate: () => number | null) {}

  /** The run is over (the spawned process has exited). */
  end(): void {
    this.over = true;
  }

  ended(): boolean {
    return this.over;
  }

  signal(name: NodeJS.Signals): boolean {
    const pid = this.find();
    if (pid === null || this.mainExited()) return false;
    try {
      process.kill(pid, name);
      return true;
    } catch {
      return false;
    }
  }

  mainExited(): boolean {
    if (this.over) return true;
    const pid = this.find();
    if (pid === null) return false; // not started yet
    const status = readStatus(pid);
    return status === null || status.zombie || startTime(pid) !== this.started;
  }

  private find(): number | null {
    if (this.pid === null && !this.over) {
      const pid = this.locate();
      if (pid !== null) {
        this.pid = pid;
        this.started = startTime(pid);
      }
    }
    return this.pid;
  }
}

/**
 * The child of `parent` that runs another program than `parent` does: the command it started, not
 * one of the short-lived copies of itself that strace forks at start-up to probe the kernel (for
 * PTRACE_SEIZE and the seccomp filter) before it forks the command. A copy that has not exec'd yet
 * is passed over too; it is found again once it has. Where /proc/PID/exe cannot be read (another
 * user's process), any live child is taken.
 */
export function commandChildOf(parent: number): number | null {
  const parentProgram = programOf(parent);
  for (const name of readdirSync('/proc')) {
    if (!/^\d+$/.test(name)) continue;
    const pid = Number(name);
    const status = readStatus(pid);
    if (status === null || status.ppid !== parent || status.zombie) continue;
    const program = programOf(pid);
    if (program === null || parentProgram === null || program !== parentProgram) return pid;
  }
  return null;
}

function programOf(pid: number): string | null {
  try {
    return readlinkSync(`/proc/${pid}/exe`);
  } catch {
    return null;
  }
}
