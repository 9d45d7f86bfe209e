import {
  chmodSync,
  constants,
  copyFileSync,
  lchownSync,
  linkSync,
  lutimesSync,
  mkdirSync,
  symlinkSync,
  utimesSync,
} from 'node:fs';
import { join, posix } from 'node:path';
import type { RootFs } from '@dit/paths';
import { ExportError } from './errors.js';
import type { Selected } from './selection.js';
import type { ExportedEntry, Reason } from './types.js';
import { describeWriteError } from './write-errors.js';

const SETID_BITS = 0o6000;

export interface MaterializeOptions {
  readonly fs: RootFs;
  readonly entries: readonly Selected[];
  /** The --path the user gave, for messages. */
  readonly output: string;
  /** The empty folder to write the tree into. */
  readonly staging: string;
  readonly keepSetuid: boolean;
  readonly onProgress?: (done: number, total: number) => void;
}

export interface Materialized {
  readonly entries: ExportedEntry[];
  readonly warnings: string[];
}

/**
 * Writes the selection into `staging` (an empty folder on the target's filesystem, see staging.ts).
 * Every path is checked to stay inside it; files are written before any symlink exists there, so no
 * write can be redirected through a link. A failure names the path inside the export and the cause.
 */
export function materialize(options: MaterializeOptions): Materialized {
  try {
    return writeTree(options, options.staging);
  } catch (error) {
    if (error instanceof ExportError) throw error;
    // copyFile names the destination as `dest`, other calls as `path`.
    const where = (error as { dest?: string }).dest ?? (error as NodeJS.ErrnoException).path;
    const inExport =
      where?.startsWith(`${options.staging}/`) === true ? where.slice(options.staging.length) : null;
    throw new ExportError(
      'EXPORT_WRITE_FAILED',
      `--path ${options.output}: cannot write${inExport === null ? '' : ` ${inExport}`}: ${describeWriteError(error)}`,
      { cause: error },
    );
  }
}

/** Made in every export, mode 1777. */
const SCRATCH_FOLDERS = ['/tmp', '/var/tmp'];

function writeTree(options: MaterializeOptions, staging: string): Materialized {
  const { fs } = options;
  const warnings: string[] = [];
  const exported: ExportedEntry[] = [];
  const inStaging = (path: string) => safeJoin(staging, path);

  // Directories: every parent of every entry, with the source's mode, owner and times.
  const directories = new Map<string, Reason[]>();
  for (const entry of options.entries) {
    if (entry.type === 'directory') directories.set(entry.path, entry.reasons);
    for (let dir = posix.dirname(entry.path); dir !== '/'; dir = posix.dirname(dir)) {
      if (!directories.has(dir)) directories.set(dir, [{ kind: 'parent-directory' }]);
    }
  }
  const sortedDirs = [...directories.keys()].sort();
  for (const dir of sortedDirs) mkdirSync(inStaging(dir), { recursive: true });

  // Regular files, then hard links to those already written.
  const files = options.entries
    .filter((entry) => entry.type === 'file')
    .sort((a, b) => a.path.localeCompare(b.path));
  const firstByInode = new Map<string, string>();
  let done = 0;
  for (const entry of files) {
    const stat = fs.stat(entry.path);
    if (stat === null)
      throw new ExportError('EXPORT_WRITE_FAILED', `${entry.path}: vanished while exporting`);
    const target = inStaging(entry.path);
    const inode = `${stat.dev}:${stat.ino}`;
    const linkedTo = stat.nlink > 1 ? firstByInode.get(inode) : undefined;
    let mode = stat.mode & 0o7777;
    if (mode & SETID_BITS && !options.keepSetuid) {
      warnings.push(`${entry.path}: setuid/setgid bits dropped (--keep-setuid keeps them)`);
      mode &= ~SETID_BITS;
    }
    if (linkedTo !== undefined) {
      linkSync(inStaging(linkedTo), target);
    } else {
      copyFileSync(fs.hostPath(entry.path), target, constants.COPYFILE_FICLONE);
      lchownSync(target, stat.uid, stat.gid); // before chmod: chown clears setuid bits
      chmodSync(target, mode);
      utimesSync(target, stat.atime, stat.mtime);
      firstByInode.set(inode, entry.path);
    }
    exported.push({
      path: entry.path,
      type: 'file',
      size: stat.size,
      mode,
      uid: stat.uid,
      gid: stat.gid,
      sha256: null,
      ...(linkedTo === undefined ? {} : { hardLinkOf: linkedTo }),
      reasons: describeReasons(entry.reasons),
    });
    options.onProgress?.(++done, files.length);
  }

  // Symlinks, as written in the source (relative stays relative, absolute stays absolute).
  for (const entry of options.entries
    .filter((e) => e.type === 'symlink')
    .sort((a, b) => a.path.localeCompare(b.path))) {
    const stat = fs.stat(entry.path);
    const target = inStaging(entry.path);
    symlinkSync(entry.target!, target);
    if (stat) {
      lchownSync(target, stat.uid, stat.gid);
      lutimesSync(target, stat.atime, stat.mtime);
    }
    exported.push({
      path: entry.path,
      type: 'symlink',
      size: entry.target!.length,
      mode: 0o777,
      uid: stat?.uid ?? 0,
      gid: stat?.gid ?? 0,
      sha256: null,
      target: entry.target!,
      reasons: describeReasons(entry.reasons),
    });
  }

  // /tmp and /var/tmp exist in every image, world-writable and sticky, whatever the source had
  // (programs write to either: lighttpd and PostgreSQL to /var/tmp). Never made through a link the
  // export holds (`/var -> ...`): a write there would land wherever it points.
  const links = new Set(
    options.entries.filter((entry) => entry.type === 'symlink').map((entry) => entry.path),
  );
  for (const dir of SCRATCH_FOLDERS) {
    if (links.has(dir) || links.has(posix.dirname(dir))) continue;
    // /var/tmp where the root has a /var: a root without one (a bare application tree) gets none.
    const parent = posix.dirname(dir);
    if (parent !== '/' && !directories.has(parent) && fs.stat(parent)?.isDirectory() !== true) continue;
    if (!directories.has(dir)) directories.set(dir, [{ kind: 'skeleton' }]);
    for (let parent = posix.dirname(dir); parent !== '/'; parent = posix.dirname(parent)) {
      if (!directories.has(parent)) directories.set(parent, [{ kind: 'parent-directory' }]);
    }
    mkdirSync(inStaging(dir), { recursive: true });
  }

  // Directory modes and times last (writing into a directory changes its mtime), deepest first.
  for (const dir of [...directories.keys()].sort().reverse()) {
    const target = inStaging(dir);
    const scratch = SCRATCH_FOLDERS.includes(dir);
    const stat = scratch ? null : fs.stat(dir);
    const mode = scratch ? 0o1777 : stat === null ? 0o755 : stat.mode & 0o7777;
    if (stat) lchownSync(target, stat.uid, stat.gid);
    chmodSync(target, mode);
    if (stat) utimesSync(target, stat.atime, stat.mtime);
    exported.push({
      path: dir,
      type: 'directory',
      size: 0,
      mode,
      uid: stat?.uid ?? 0,
      gid: stat?.gid ?? 0,
      sha256: null,
      reasons: describeReasons(directories.get(dir)!),
    });
  }
  // The staging folder becomes the image root: root-owned, 0755, like any image's `/`.
  chmodSync(staging, 0o755);
  exported.sort((a, b) => a.path.localeCompare(b.path));
  return { entries: exported, warnings };
}

/** `path` (absolute, inside the root) under `base`, refusing anything that would leave `base`. */
export function safeJoin(base: string, path: string): string {
  const normalized = posix.normalize(path);
  if (!normalized.startsWith('/') || normalized.split('/').includes('..')) {
    throw new ExportError('EXPORT_PATH_ESCAPES_ROOT', `${path}: not a clean absolute path inside the root`);
  }
  const joined = join(base, normalized);
  if (joined !== base && !joined.startsWith(`${base}/`)) {
    throw new ExportError('EXPORT_PATH_ESCAPES_ROOT', `${path}: would be written outside the export`);
  }
  return joined;
}

/**
 * A path's reasons as the report and the explain record give them: sorted, because they were found
 * in the trace's process order, which differs from run to run when the check runs programs in
 * parallel (a pipeline's `tr` and `paste` each needing libc), and the record ships in the image,
 * whose bytes must not depend on it.
 */
function describeReasons(reasons: readonly Reason[]): string[] {
  return reasons.map(describeReason).sort();
}

export function describeReason(reason: Reason): string {
  switch (reason.kind) {
    case 'binary':
      return 'named by --binary';
    case 'command':
      return 'the check command';
    case 'needed-by':
      return `needed by ${reason.by}`;
    case 'interpreter-of':
      return `interpreter of ${reason.of}`;
    case 'traced':
      return `traced (${reason.how.join(', ')})${reason.by === undefined ? '' : ` by ${reason.by}`}`;
    case 'included':
      return `included by ${reason.pattern}`;
    case 'runtime-data':
      return `runtime data: ${reason.why}`;
    case 'link-on-the-way':
      return `symlink on the way to ${reason.to}`;
    case 'parent-directory':
      return 'parent directory';
    case 'skeleton':
      return 'image skeleton';
    case 'package-metadata':
      return `package metadata: ${reason.why}`;
  }
}
