/** Where the CLI writes: injectable so tests can run commands in-process and read what they print. */
export interface Io {
  /** Text, or bytes where a file name that is not UTF-8 must come out as it is. */
  stdout(text: string | Uint8Array): void;
  stderr(text: string | Uint8Array): void;
}

export const processIo: Io = {
  stdout: (text) => process.stdout.write(text),
  stderr: (text) => process.stderr.write(text),
};

/**
 * When the reader of dit's output goes away (`dit hash DIR | head -1`), the next write fails with
 * EPIPE. A C program dies of SIGPIPE there, silently, and its shell sees status 141 (128 + 13);
 * Node ignores SIGPIPE and throws an unhandled 'error' event instead, stack trace and all. This makes
 * dit do what the C tools do. Other write errors still surface.
 */
export function exitQuietlyWhenTheReaderGoes(): void {
  for (const stream of [process.stdout, process.stderr]) {
    stream.on('error', (error: NodeJS.ErrnoException) => {
      if (error.code === 'EPIPE') process.exit(141);
      throw error;
    });
  }
}

/** Exit statuses shared by every command. */
export const EXIT = {
  ok: 0,
  /** The work was done, and something is missing (a library not found, a check that failed). */
  incomplete: 1,
  /** Bad input or usage: nothing useful was done for the named file. */
  usage: 2,
  /** The output could not be written (no space, read-only, permission); nothing was changed. */
  cannotWrite: 3,
  /** A bug in dit: an error nothing anticipated (EX_SOFTWARE in sysexits.h). */
  internal: 70,
} as const;

/** A usage error, reported as `dit: message` with exit status 2. */
export class UsageError extends Error {
  override readonly name = 'UsageError';
}
