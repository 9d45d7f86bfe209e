/**
 * The environment the check runs with, in the trace and in the verification: the one the image will
 * have, not the build's.
 *
 * A runtime starts the image's command with the image's Env (PATH, what the Dockerfile's ENV set)
 * and HOME from the user's entry in the image's /etc/passwd, or `/` when there is none. A check that
 * ran with the build's environment can pass for the wrong reason: with the build's HOME=/root and
 * its caches, a program that under the runtime's HOME would rebuild a cache (and import what the
 * trace never saw) verifies and then fails under `podman run`. So both phases get PATH (this
 * process's, which found the command), HOME as the runtime will compute it, and the variables named
 * with `--env`; nothing else of the build leaks in. `--keep-env` (the caller passing `env`) restores
 * the build's environment.
 *
 * HOME is read from the root's /etc/passwd for the user dit runs as. Whenever that entry gave it,
 * /etc/passwd goes into the export (see `passwdForHome`), so the runtime reads the same entry and
 * computes the same HOME the proof ran with.
 */
import { readFileSync } from 'node:fs';
import type { RootFs } from '@dit/paths';
import { DEFAULT_PATH } from './programs.js';

export interface CommandEnvironment {
  readonly env: Record<string, string | undefined>;
  /** HOME came from this passwd entry's file: it must be in the export for the runtime to agree. */
  readonly passwd: string | null;
}

/**
 * `given`: the caller's whole environment (`--keep-env`), used as it is; otherwise the image's
 * environment is made. `set` (`--env K=V`) wins in both cases.
 */
export function commandEnvironment(
  fs: RootFs,
  given: Readonly<Record<string, string | undefined>> | undefined,
  set: Readonly<Record<string, string>> = {},
  uid: number = process.getuid?.() ?? 0,
): CommandEnvironment {
  if (given !== undefined) return { env: { ...given, ...set }, passwd: null };
  const home = homeOf(fs, uid);
  const env: Record<string, string | undefined> = {
    PATH: process.env.PATH ?? DEFAULT_PATH,
    HOME: home ?? '/',
    ...set,
  };
  // An explicit --env HOME=... means the image sets it: the passwd entry no longer decides.
  return { env, passwd: home !== null && set.HOME === undefined ? '/etc/passwd' : null };
}

/** The home folder of `uid` in the root's /etc/passwd, or null (no file, no entry, an empty field). */
export function homeOf(fs: RootFs, uid: number): string | null {
  const found = fs.lookup('/etc/passwd');
  if (found.type !== 'file' || found.realPath === null) return null;
  let text: string;
  try {
    text = readFileSync(fs.hostPath(found.realPath), 'utf8');
  } catch {
    return null;
  }
  for (const line of text.split('\n')) {
    const fields = line.split(':');
    if (fields.length < 7 || fields[2] !== String(uid)) continue;
    return fields[5] === '' ? null : fields[5]!;
  }
  return null;
}
