/**
 * Test helpers shared by @dit/native's tests and `dit hash`'s. Not part of the package (only src/
 * is built and published).
 */
import { execFileSync } from 'node:child_process';

/** The unprivileged user and group most Linux systems have. */
export const NOBODY = 65534;

/** True when root, where `chmod 000` alone does not make a file unreadable. */
export const isRoot = process.getuid?.() === 0;

/**
 * Runs `body` unable to read files with mode 000 or folders with mode 0700 that root owns. As root
 * (the tests run as root here), with the effective uid and gid of `nobody`: glibc applies seteuid to
 * every thread of the process, so libuv's pool and the addon's rayon workers drop their rights too.
 * Root's rights come back afterwards, also when `body` throws. As anyone else, `body` runs as is.
 * Paths `body` must still reach need to be world-searchable (a fresh temp dir is 0700: chmod it).
 */
export async function withoutRoot<T>(body: () => Promise<T>): Promise<T> {
  const { seteuid, setegid } = process;
  if (!isRoot || seteuid === undefined || setegid === undefined) return body();
  setegid(NOBODY);
  seteuid(NOBODY);
  try {
    return await body();
  } finally {
    seteuid(0);
    setegid(0);
  }
}

/**
 * `sha256sum -z` over `paths`, as a map from path to digest: the reference every implementation is
 * compared with. `-z` ends each line with a NUL and never escapes names, so any name parses back.
 */
export function sha256sum(paths: readonly string[]): Map<string, string> {
  const out = execFileSync('sha256sum', ['-z', '--', ...paths], { maxBuffer: 1 << 30 });
  const digests = new Map<string, string>();
  for (const line of out.toString('utf8').split('\0')) {
    if (line === '') continue;
    // "<64 hex>  <name>" (two spaces: text mode, as sha256sum prints on GNU systems).
    digests.set(line.slice(66), line.slice(0, 64));
  }
  return digests;
}

/**
 * Why the addon's tests should be skipped, or undefined to run them. A missing or stale build skips
 * them on a developer's machine (the TypeScript path keeps its own tests); in CI (`CI=true`) nothing
 * is skipped, so a missing addon fails the native tests instead of hiding them.
 */
export function nativeSkipReason(addon: { binding: unknown; reason?: string }): string | undefined {
  if (addon.binding !== null || process.env.CI === 'true') return undefined;
  return addon.reason ?? 'the addon is not loaded';
}
