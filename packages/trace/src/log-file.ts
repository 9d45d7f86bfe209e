/**
 * strace's log, which must not outlive dit even when dit is SIGKILLed.
 *
 * strace opens `-o FILE` by name, so the file needs a name until strace holds it. We create it, keep
 * a descriptor of our own to read it back (close-on-exec, as Node opens everything: the traced
 * command never inherits it, and strace's own log descriptor is close-on-exec too), and unlink it
 * and its folder at strace's first write, by when strace has it open. From then on a SIGKILL leaves
 * nothing: the kernel frees the file with the last descriptor. The folder is named after this
 * process, so the few milliseconds before that first write are covered too: the next trace removes
 * the folders of processes that no longer exist.
 */
import {
  closeSync,
  createReadStream,
  type FSWatcher,
  mkdtempSync,
  openSync,
  type ReadStream,
  readdirSync,
  rmSync,
  watch,
} from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';

const PREFIX = 'dit-trace-';
const OWN_FOLDER = /^dit-trace-(\d+)-[A-Za-z0-9]{6}$/;

export class TraceLog {
  /** The name strace is given. */
  readonly path: string;
  private readonly dir: string;
  private fd: number | null;
  private watcher: FSWatcher | null = null;

  constructor() {
    sweepDeadRuns();
    this.dir = mkdtempSync(join(tmpdir(), `${PREFIX}${process.pid}-`));
    this.path = join(this.dir, 'strace.log');
    try {
      this.fd = openSync(this.path, 'wx+', 0o600);
    } catch (error) {
      rmSync(this.dir, { recursive: true, force: true });
      throw error;
    }
    try {
      // strace truncates and writes the file it opened: either shows up here as a change.
      this.watcher = watch(this.path, { persistent: false }, () => this.unlink());
    } catch {
      // No inotify left (ENOSPC): the name stays until the trace ends, and a SIGKILL leaves the
      // folder to the next run's sweep.
      this.watcher = null;
    }
  }

  /** Removes the name (strace keeps writing to the file it opened). */
  unlink(): void {
    this.watcher?.close();
    this.watcher = null;
    rmSync(this.dir, { recursive: true, force: true });
  }

  /** The whole log, from the start, through our own descriptor (the name may be gone already). */
  read(): ReadStream {
    const fd = this.fd;
    if (fd === null) throw new Error('trace log already closed');
    this.fd = null;
    return createReadStream('', { fd, encoding: 'latin1', start: 0, autoClose: true });
  }

  /** Nothing of the log remains after this. */
  dispose(): void {
    this.unlink();
    if (this.fd !== null) closeSync(this.fd);
    this.fd = null;
  }
}

/** Folders of traces whose dit was killed before strace's first write (dead pids only). */
function sweepDeadRuns(): void {
  let names: string[];
  try {
    names = readdirSync(tmpdir());
  } catch {
    return;
  }
  for (const name of names) {
    const match = OWN_FOLDER.exec(name);
    if (match === null || isAlive(Number(match[1]))) continue;
    rmSync(join(tmpdir(), name), { recursive: true, force: true });
  }
}

function isAlive(pid: number): boolean {
  try {
    process.kill(pid, 0);
    return true;
  } catch (error) {
    return (error as NodeJS.ErrnoException).code === 'EPERM';
  }
}
