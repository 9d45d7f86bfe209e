import { accessSync, constants, statSync } from 'node:fs';
import { posix } from 'node:path';
import type { RootFs } from '@dit/paths';

/** What glibc's execvp searches when PATH is unset (the launcher inside a root uses execvp). */
export const DEFAULT_PATH = '/bin:/usr/bin';

/**
 * Finds a command the way execvp does: a name with a `/` is taken as is (relative to `cwd`),
 * anything else is looked for in each PATH directory (an empty entry means `cwd`). Returns the path
 * that would be executed, or null. `isExecutable` decides for one candidate.
 */
export function findCommand(
  name: string,
  searchPath: string,
  cwd: string,
  isExecutable: (path: string) => boolean,
): string | null {
  if (name === '') return null;
  if (name.includes('/')) {
    const path = posix.resolve(cwd, name);
    return isExecutable(path) ? path : null;
  }
  for (const dir of searchPath.split(':')) {
    const path = posix.resolve(cwd, dir === '' ? '.' : dir, name);
    if (isExecutable(path)) return path;
  }
  return null;
}

/** A regular file this process may execute, on the host. */
export function isHostExecutable(path: string): boolean {
  try {
    if (!statSync(path).isFile()) return false;
    accessSync(path, constants.X_OK);
    return true;
  } catch {
    return false;
  }
}

/** A regular file with an execute bit, inside a root (its symlinks followed inside the root). */
export function rootExecutable(fs: RootFs): (path: string) => boolean {
  return (path) => {
    const found = fs.lookup(path);
    if (found.type !== 'file' || found.realPath === null) return false;
    try {
      return (statSync(fs.hostPath(found.realPath)).mode & 0o111) !== 0;
    } catch {
      return false;
    }
  };
}
