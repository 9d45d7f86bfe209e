import { secretNameRule } from './secrets.js';

/**
 * What is never exported unless named exactly: virtual filesystems, runtime state, and secrets by
 * name (see secrets.ts). A minimizer that sweeps `/root/.ssh/id_rsa` into an image has leaked it
 * for good.
 */
const VIRTUAL_PREFIXES = ['/proc', '/sys', '/dev', '/run', '/var/run'];

export interface Denial {
  /** `virtual`: silently left out (every traced run touches /proc); `secret`: withheld and reported. */
  readonly kind: 'virtual' | 'secret';
  /** The rule's name: the prefix for virtual paths, a name rule of secrets.ts for secrets. */
  readonly rule: string;
}

/**
 * Why `path` (absolute, inside the root) is denied, or null. `isDirectory`: a folder is denied only
 * by folder rules (`.ssh/`), not by file names (a virtualenv called `.env`).
 */
export function denyReason(path: string, isDirectory = false): Denial | null {
  for (const prefix of VIRTUAL_PREFIXES) {
    if (path === prefix || path.startsWith(`${prefix}/`)) return { kind: 'virtual', rule: prefix };
  }
  const rule = secretNameRule(path, isDirectory);
  return rule === null ? null : { kind: 'secret', rule };
}
