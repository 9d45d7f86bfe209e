/**
 * Output captured through a real pipe, not a socket.
 *
 * Node's `stdio: 'pipe'` gives a child a socketpair (libuv makes one for every "pipe"). A container
 * runtime gives a pipe or an inherited descriptor, and the difference shows: opening
 * `/proc/self/fd/2` or `/dev/stderr` (which is that link) fails with ENXIO on a socket and works on
 * a pipe, so `echo x > /dev/stderr` in a script, or the official php and httpd images' logging to
 * `/proc/self/fd/2`, fails under dit and runs under podman. Node cannot call pipe(2), but it can
 * open a FIFO: made with the host's mkfifo in a private folder, opened at both ends (the read end
 * first, without blocking, so the write end opens at once), and unlinked right away. The child gets
 * the write end as its descriptor; what it writes is read here through a stream.
 */
import { spawnSync } from 'node:child_process';
import { closeSync, constants, fstatSync, mkdtempSync, openSync, rmSync } from 'node:fs';
import { Socket } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { findCommand, isHostExecutable } from './locate.js';

export class OutputPipe {
  private readonly chunks: Buffer[] = [];
  private writeEnd: number | null;
  /** Settles once every writer has closed the pipe (or `stop()` gave up on them). */
  readonly closed: Promise<void>;

  private constructor(
    writeFd: number,
    private readonly reader: Socket,
    onData?: (chunk: Buffer) => void,
  ) {
    this.writeEnd = writeFd;
    reader.on('data', (chunk: Buffer) => {
      this.chunks.push(chunk);
      onData?.(chunk);
    });
    this.closed = new Promise((resolve) => {
      reader.once('close', () => resolve());
      reader.once('error', () => resolve());
    });
  }

  /**
   * A new pipe, or null where no FIFO can be made (no mkfifo on the host, no writable temporary
   * folder): callers then fall back to Node's own pipes.
   */
  static open(onData?: (chunk: Buffer) => void): OutputPipe | null {
    const mkfifo = findCommand('mkfifo', `${process.env.PATH ?? ''}:/usr/bin:/bin`, '/', isHostExecutable);
    if (mkfifo === null) return null;
    let dir: string;
    try {
      dir = mkdtempSync(join(tmpdir(), 'dit-pipe-'));
    } catch {
      return null;
    }
    const path = join(dir, 'fifo');
    try {
      if (spawnSync(mkfifo, ['-m', '600', path], { stdio: 'ignore' }).status !== 0) return null;
      const readFd = openSync(path, constants.O_RDONLY | constants.O_NONBLOCK);
      let writeFd: number;
      try {
        writeFd = openSync(path, constants.O_WRONLY);
      } catch {
        closeSync(readFd);
        return null;
      }
      return new OutputPipe(writeFd, new Socket({ fd: readFd, readable: true, writable: false }), onData);
    } catch {
      return null;
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  }

  /** The descriptor to hand to the child (its stdout or stderr). */
  get fd(): number {
    if (this.writeEnd === null) throw new Error('the pipe was handed over already');
    return this.writeEnd;
  }

  /** After the spawn: only the child's copies of the write end keep the pipe open now. */
  handOver(): void {
    if (this.writeEnd !== null) closeSync(this.writeEnd);
    this.writeEnd = null;
  }

  /** Stops reading: a process outside the tree kept the write end (a daemon), nothing more is awaited. */
  stop(): void {
    this.handOver();
    this.reader.destroy();
  }

  /** Everything read so far. */
  bytes(): Buffer {
    return Buffer.concat(this.chunks);
  }
}

/** How one of the child's output descriptors is given: what `spawn` gets, and the pipe behind it if any. */
export interface ChildOutput {
  readonly stdio: number | 'pipe' | 'inherit';
  readonly pipe: OutputPipe | null;
}

/**
 * Descriptor 1 or 2 of a child. `capture`: read into memory, through a real pipe. Otherwise the
 * child inherits this process's descriptor, unless that is a socket (dit itself started by a Node
 * parent with `'pipe'` stdio): then a pipe is put in between and what comes through is passed on,
 * so the command never sees a socket either way.
 */
export function childOutput(fd: 1 | 2, capture: boolean): ChildOutput {
  if (capture) {
    const pipe = OutputPipe.open();
    return pipe === null ? { stdio: 'pipe', pipe: null } : { stdio: pipe.fd, pipe };
  }
  if (!isSocket(fd)) return { stdio: 'inherit', pipe: null };
  const stream = fd === 1 ? process.stdout : process.stderr;
  const pipe = OutputPipe.open((chunk) => stream.write(chunk));
  return pipe === null ? { stdio: 'inherit', pipe: null } : { stdio: pipe.fd, pipe };
}

function isSocket(fd: number): boolean {
  try {
    return fstatSync(fd).isSocket();
  } catch {
    return false;
  }
}
