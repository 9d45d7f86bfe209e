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

/** Exit statuses shared by every command. */
export const EXIT = {
  ok: 0,
  /** The work was done, and something is missing (a library not found, a check that failed). */
  incomplete: 1,
  /** Bad input or usage: nothing useful was done for the named file. */
  usage: 2,
} as const;

/** A usage error, reported as `dit: message` with exit status 2. */
export class UsageError extends Error {
  override readonly name = 'UsageError';
}
