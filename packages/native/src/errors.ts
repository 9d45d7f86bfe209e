import { getSystemErrorMap } from 'node:util';

export type NativeErrorCode =
  /** The addon was asked for explicitly (`hashFilesNative`, `DIT_NATIVE=1`) and could not be loaded. */
  'NATIVE_UNAVAILABLE';

export class NativeError extends Error {
  override readonly name = 'NativeError';
  constructor(
    readonly code: NativeErrorCode,
    message: string,
    options?: { cause?: unknown },
  ) {
    super(message, options);
  }
}

const EIO = 5;
const EINVAL = 22;

/**
 * `{ code, error }` for an errno (positive, as the OS numbers it), in Node's own words: the name and
 * libuv's message, so the native results read exactly like Node's `fs` errors
 * (`ENOENT: no such file or directory`).
 */
export function describeErrno(errno: number): { code: string; error: string } {
  const known = getSystemErrorMap().get(-Math.abs(errno));
  const [code, message] = known ?? [`E${Math.abs(errno)}`, `unknown system error ${Math.abs(errno)}`];
  return { code, error: `${code}: ${message}` };
}

/**
 * The errno behind an error thrown by `node:fs` (they carry it negated). A path Node refuses before
 * any system call (a NUL byte in it) is EINVAL, as open(2) would say; anything else without one, EIO.
 */
export function errnoOf(error: unknown): number {
  const { errno, code } = (error ?? {}) as { errno?: unknown; code?: unknown };
  if (typeof errno === 'number' && errno !== 0) return Math.abs(errno);
  return code === 'ERR_INVALID_ARG_VALUE' ? EINVAL : EIO;
}
