import type { PathAccess, PathSummary } from './types.js';

/** Provided by the kernel or the container runtime: recorded, never copied (docs/loader.md §11.1). */
const VIRTUAL_TREES = ['/proc', '/sys', '/dev'];

export function isVirtualPath(path: string): boolean {
  return VIRTUAL_TREES.some((tree) => path === tree || path.startsWith(`${tree}/`));
}

/**
 * One entry per distinct path, in the order first accessed, with the union of its accesses.
 * `links` and `type` are left empty here: they need the file system (trace() fills them in).
 */
export function summarizePaths(accesses: readonly PathAccess[]): PathSummary[] {
  const byPath = new Map<string, PathSummary>();
  for (const access of accesses) {
    let entry = byPath.get(access.path);
    if (entry === undefined) {
      entry = {
        path: access.path,
        kinds: [],
        ok: false,
        failedErrnos: [],
        pids: [],
        write: false,
        directory: false,
        virtual: isVirtualPath(access.path),
        realPath: null,
        links: [],
        type: null,
      };
      byPath.set(access.path, entry);
    }
    if (!entry.kinds.includes(access.kind)) entry.kinds.push(access.kind);
    if (access.ok) entry.ok = true;
    else if (access.errno !== null && !entry.failedErrnos.includes(access.errno))
      entry.failedErrnos.push(access.errno);
    if (!entry.pids.includes(access.pid)) entry.pids.push(access.pid);
    if (access.write) entry.write = true;
    if (access.directory) entry.directory = true;
    // A lstat or readlink lands on the link itself, not where it points.
    if (entry.realPath === null && access.realPath !== null && !access.nofollow)
      entry.realPath = access.realPath;
  }
  return [...byPath.values()];
}
