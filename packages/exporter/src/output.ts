import { accessSync, constants, lstatSync, readdirSync, type Stats, statSync } from 'node:fs';
import { posix } from 'node:path';
import { canonicalHostPath } from '@dit/paths';
import { ExportError } from './errors.js';
import { isDitLeftover, recoverKilledRuns, sweepKilledRuns } from './leftovers.js';
import { describeWriteError } from './write-errors.js';

/**
 * The output folder, checked and pinned down before anything runs. Everything dit later writes or
 * replaces is addressed by `canonical`, the real folder behind the path the user gave, so a link
 * named as --path can never turn a replace into a replace of whatever it points at later.
 */
export interface OutputTarget {
  /** The path as given, made absolute. */
  readonly path: string;
  /** `path` with every link of its existing part resolved. */
  readonly canonical: string;
  readonly exists: boolean;
  /** It exists and holds something besides what a killed dit left behind. */
  readonly nonEmpty: boolean;
}

/**
 * Folders dit never replaces: the system's own, and the user's home. An empty one is still a fine
 * place to export into (nothing is replaced); a non-empty one is refused even with --force, because
 * "--path $DIR --force" with DIR unset or mistyped must not cost anyone their /usr.
 */
const SYSTEM_FOLDERS = new Set([
  '/bin',
  '/boot',
  '/dev',
  '/etc',
  '/home',
  '/lib',
  '/lib32',
  '/lib64',
  '/libx32',
  '/media',
  '/mnt',
  '/opt',
  '/proc',
  '/root',
  '/run',
  '/sbin',
  '/srv',
  '/sys',
  '/tmp',
  '/usr',
  '/usr/bin',
  '/usr/include',
  '/usr/lib',
  '/usr/lib32',
  '/usr/lib64',
  '/usr/libexec',
  '/usr/libx32',
  '/usr/local',
  '/usr/local/bin',
  '/usr/local/lib',
  '/usr/sbin',
  '/usr/share',
  '/usr/src',
  '/var',
  '/var/cache',
  '/var/lib',
  '/var/log',
  '/var/spool',
  '/var/tmp',
]);

/** Filesystems whose files are the kernel's, not anyone's data: nothing can be exported into them. */
const VIRTUAL_FILESYSTEMS = ['/proc', '/sys', '/dev'];

/**
 * Checks --path before any work: refuses an empty path (an unset variable), `/` in any spelling,
 * system folders and the home folder when not empty, a folder that is or holds the root being
 * exported, a file, and a non-empty folder without `force`.
 */
export function checkOutputTarget(path: string, options: { force: boolean; root: string }): OutputTarget {
  if (path.trim() === '') {
    throw new ExportError(
      'EXPORT_BAD_OUTPUT',
      '--path is empty (an unset variable?): refusing to guess where to write',
    );
  }
  const absolute = posix.resolve(path);
  const canonical = canonicalPath(absolute);
  if (canonical === '/') {
    throw new ExportError(
      'EXPORT_BAD_OUTPUT',
      `--path ${path}: is the machine's root folder${absolute === '/' ? '' : ` (through ${describeLinks(absolute)})`}; choose an empty folder such as /export`,
    );
  }
  for (const virtual of VIRTUAL_FILESYSTEMS) {
    if (isInside(canonical, virtual)) {
      throw new ExportError(
        'EXPORT_WRITE_FAILED',
        `--path ${path}: ${virtual} is a virtual filesystem of the kernel; nothing can be written there`,
      );
    }
  }
  const root = canonicalPath(posix.resolve(options.root));
  if (root !== '/' && isInside(root, canonical)) {
    throw new ExportError(
      'EXPORT_BAD_OUTPUT',
      `--path ${path}: ${root === canonical ? 'is' : 'contains'} the --root ${options.root} it would export from`,
    );
  }

  recoverKilledRuns(canonical);
  let stat: Stats | null = null;
  try {
    stat = statSync(canonical);
  } catch (error) {
    if ((error as NodeJS.ErrnoException).code !== 'ENOENT') throw cannotUse(path, error);
  }
  if (stat === null) return { path: absolute, canonical, exists: false, nonEmpty: false };
  if (!stat.isDirectory()) {
    throw new ExportError('EXPORT_BAD_OUTPUT', `--path ${path}: exists and is not a folder`);
  }
  let names: string[];
  try {
    names = readdirSync(canonical);
  } catch (error) {
    throw cannotUse(path, error);
  }
  const nonEmpty = names.some((name) => !isDitLeftover(name));
  if (nonEmpty) {
    const home = process.env.HOME ? canonicalPath(posix.resolve(process.env.HOME)) : null;
    if (SYSTEM_FOLDERS.has(canonical) || canonical === home) {
      throw new ExportError(
        'EXPORT_BAD_OUTPUT',
        `--path ${path}: ${canonical === home ? 'is your home folder' : `is the system folder ${canonical}`} and is not empty; dit never replaces it, even with --force`,
      );
    }
    if (!options.force) {
      throw new ExportError(
        'EXPORT_OUTPUT_NOT_EMPTY',
        `--path ${path}: is not empty (use --force to replace what is there once the new export is complete)`,
      );
    }
  }
  return { path: absolute, canonical, exists: true, nonEmpty };
}

/**
 * Refuses an output that would swallow what the export is made from: the program, a --binary, an
 * --include. Replacing (or exporting into) the folder a program runs from destroys the source of
 * the export itself. `sources` are host paths with what the user called them.
 */
export function checkSourcesOutsideOutput(
  target: OutputTarget,
  sources: readonly { readonly hostPath: string; readonly what: string }[],
): void {
  for (const source of sources) {
    const canonical = canonicalPath(source.hostPath);
    if (isInside(canonical, target.canonical)) {
      throw new ExportError(
        'EXPORT_BAD_OUTPUT',
        `--path ${target.path}: contains ${source.what} (${canonical}), which the export is made from`,
      );
    }
  }
}

/**
 * Checks a file dit will write besides the folder (--tar, --report) before any work: not inside
 * the output (it would end up in the image, or be replaced with it), a folder that exists and can be
 * written, not a folder itself. Returns its absolute path.
 */
export function checkOutputFile(file: string, option: string, target: OutputTarget): string {
  if (file.trim() === '')
    throw new ExportError('EXPORT_BAD_OUTPUT', `${option} is empty (an unset variable?)`);
  const absolute = posix.resolve(file);
  const canonical = canonicalPath(absolute);
  if (isInside(canonical, target.canonical)) {
    throw new ExportError(
      'EXPORT_BAD_OUTPUT',
      `${option} ${file}: lies inside --path ${target.path}; it would end up in the image (write it elsewhere)`,
    );
  }
  for (const virtual of VIRTUAL_FILESYSTEMS) {
    if (isInside(canonical, virtual)) {
      throw new ExportError(
        'EXPORT_WRITE_FAILED',
        `${option} ${file}: ${virtual} is a virtual filesystem of the kernel; nothing can be written there`,
      );
    }
  }
  const existing = lstatOrNull(canonical);
  if (existing?.isDirectory()) throw new ExportError('EXPORT_BAD_OUTPUT', `${option} ${file}: is a folder`);
  const parent = posix.dirname(canonical);
  const parentStat = lstatOrNull(parent);
  if (parentStat === null || !parentStat.isDirectory()) {
    throw new ExportError('EXPORT_WRITE_FAILED', `${option} ${file}: the folder ${parent} does not exist`);
  }
  try {
    accessSync(parent, constants.W_OK);
  } catch (error) {
    throw new ExportError(
      'EXPORT_WRITE_FAILED',
      `${option} ${file}: ${describeWriteError(error)} (${parent})`,
      {
        cause: error,
      },
    );
  }
  // A killed run's partial file of this output (or another) would stay beside it forever.
  sweepKilledRuns(parent);
  return absolute;
}

/** `path` with the links of its existing part resolved (@dit/paths); a loop on the way is refused. */
export function canonicalPath(path: string): string {
  try {
    return canonicalHostPath(path);
  } catch (error) {
    if ((error as NodeJS.ErrnoException).code === 'ELOOP') {
      throw new ExportError('EXPORT_BAD_OUTPUT', `${path}: too many levels of symbolic links`);
    }
    throw error;
  }
}

/** `path` is `folder` or lies below it. */
export function isInside(path: string, folder: string): boolean {
  return folder === '/' || path === folder || path.startsWith(`${folder}/`);
}

function cannotUse(path: string, error: unknown): ExportError {
  return new ExportError('EXPORT_WRITE_FAILED', `--path ${path}: ${describeWriteError(error)}`, {
    cause: error,
  });
}

function lstatOrNull(path: string): Stats | null {
  try {
    return lstatSync(path);
  } catch {
    return null;
  }
}

/** "/a -> /" style description of the links a path goes through, for messages. */
function describeLinks(path: string): string {
  return `${path} -> ${canonicalPath(path)}`;
}
