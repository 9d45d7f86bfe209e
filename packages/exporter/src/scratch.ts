/**
 * What the check left in /tmp and /var/tmp, told apart from an application that lives there.
 *
 * Both folders hold two kinds of file: an application unpacked under /tmp/app, which the check
 * reads and which the image needs, and what the check itself wrote there (temporary files, sockets,
 * caches), which the image must not carry. The trace says which is which:
 * - a path the traced tree opened for writing or creating (O_WRONLY, O_RDWR, O_CREAT, O_TMPFILE,
 *   creat, bind) is the check's output;
 * - a path born after the trace started is the check's too, even when no traced call created it
 *   (mkdir, a rename into place, a process outside the trace): its birth time (its ctime where the
 *   filesystem keeps none) is compared with the moment the trace started. Timestamps come from the
 *   kernel's coarse clock, which may lag by a tick: a file made in the first milliseconds can look
 *   older than the start and be kept, never the other way round, since a file made before the
 *   trace cannot carry a later time;
 * - everything else was there before and was only read: it is part of the application.
 * A path gone after the run is scratch too (there is nothing left to copy). The folders themselves
 * are always in the export (1777), so they are never taken from the trace. An application that
 * ships a file under /tmp which the check writes to names it with --include.
 */
import { statSync } from 'node:fs';
import type { RootFs } from '@dit/paths';
import type { PathSummary } from '@dit/trace';

const SCRATCH_FOLDERS = ['/tmp', '/var/tmp'];

export function isScratch(path: PathSummary, fs: RootFs, traceStartedMs: number): boolean {
  const folder = SCRATCH_FOLDERS.find((dir) => path.path === dir || path.path.startsWith(`${dir}/`));
  if (folder === undefined) return false;
  if (path.path === folder || path.write) return true;
  const born = bornMs(fs, path.path);
  return born === null || born >= traceStartedMs;
}

/** Birth time of the file a path names now (links followed inside the root), else its ctime; null if gone. */
function bornMs(fs: RootFs, path: string): number | null {
  try {
    const found = fs.lookup(path);
    if (found.realPath === null) return null;
    const stat = statSync(fs.hostPath(found.realPath));
    return stat.birthtimeMs > 0 ? stat.birthtimeMs : stat.ctimeMs;
  } catch {
    return null;
  }
}
