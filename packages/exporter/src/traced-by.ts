import { posix } from 'node:path';
import type { PathSummary, TraceReport } from '@dit/trace';

/**
 * Names the process that used a traced path, for `dit explain`: `python3 (pid 12)`. A thread or a
 * fork that never exec'ed is named after the program it runs, its nearest ancestor's executable.
 */
export function tracedBy(report: TraceReport): (path: PathSummary) => string | undefined {
  const processes = new Map(report.processes.map((process) => [process.pid, process]));
  const programOf = (pid: number): string | null => {
    for (let current = processes.get(pid), hops = 0; current !== undefined && hops < 1000; hops++) {
      if (current.executable !== null) return posix.basename(current.executable);
      current = current.parent === null ? undefined : processes.get(current.parent);
    }
    return null;
  };
  return (path) => {
    const pid = path.pids[0];
    if (pid === undefined) return undefined;
    const program = programOf(pid);
    return program === null ? `pid ${pid}` : `${program} (pid ${pid})`;
  };
}
