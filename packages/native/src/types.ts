import type { FilePath } from '@dit/paths';

/** The SHA-256 of one file, or why it could not be read. Both implementations build exactly these. */
export type HashResult<P extends FilePath = FilePath> = HashedFile<P> | HashFailure<P>;

export interface HashedFile<P extends FilePath = FilePath> {
  /** The path as it was given. */
  readonly path: P;
  /** 64 lower-case hex digits, as `sha256sum` prints them. */
  readonly sha256: string;
  readonly code?: undefined;
  readonly error?: undefined;
}

export interface HashFailure<P extends FilePath = FilePath> {
  /** The path as it was given. */
  readonly path: P;
  readonly sha256?: undefined;
  /** The errno name, as Node's `fs` errors carry it: `ENOENT`, `EACCES`, `EISDIR`, ... */
  readonly code: string;
  /** The code and libuv's text for it, as Node's `fs` messages start: `ENOENT: no such file or directory`. */
  readonly error: string;
}

/**
 * What `walkFiles` found: the files to hash, in order, and what could not be looked at. A path below
 * a folder is a string when its bytes are UTF-8 and a Buffer when not (see `FilePath`).
 */
export interface WalkResult {
  readonly files: FilePath[];
  readonly errors: WalkError[];
}

export interface WalkError {
  /** The path given, or the folder inside it that could not be listed. */
  readonly path: FilePath;
  readonly code: string;
  readonly error: string;
}

/**
 * Which implementation `hashFiles` and `walkFiles` use, and why; `cause` is the load error when it
 * fell back.
 */
export type NativeStatus =
  | { readonly native: true; readonly path: string }
  | { readonly native: false; readonly reason: string; readonly cause?: unknown };
