/**
 * glibc's ld.so as the judge of a mutant: where it can trace the file (64-bit x86-64, ET_EXEC or
 * ET_DYN with PT_DYNAMIC, no foreign interpreter, never a static executable, which it would run), it
 * must load the same files and miss the same names as our resolution, and stop exactly when we say
 * it would stop. A mutant is hostile input, so the loader runs as `nobody`, from `/`, with a timeout.
 */
import { spawnSync } from 'node:child_process';
import { realpathSync } from 'node:fs';
import { readElfSync } from '../../packages/elf/src/index.js';
import type { Resolution } from '../../packages/resolver/src/index.js';
import { GLIBC_INTERP, readElfInfo } from '../corpus.mjs';
import { loaderTraceCommand, parseLoaderTrace } from '../ld-trace.mjs';

const NOBODY = 65534;
const isRoot = process.getuid?.() === 0;

/**
 * null when ld.so agrees; `not-traceable` when it cannot be asked; `unmapped-read` when we say the
 * loader reads memory the file does not map (its outcome is then unknowable); `program-rejected` when ld.so
 * refuses the mutant itself (its own segments, version fields, an assertion in ld.so): run as a
 * command, ld.so maps the program the kernel would map on exec, checks dit does not model, since a
 * program the kernel cannot map is no dependency question. Else the disagreement in words.
 */
export function judgeWithLoader(
  file: string,
  ours: Resolution,
):
  | string
  | null
  | 'not-traceable'
  | 'program-rejected'
  | 'program-filter'
  | `unmapped-read: ${'crashes' | 'stops' | 'loads'}` {
  let info: { reason: string | null };
  try {
    info = readElfInfo(file);
  } catch {
    return 'not-traceable';
  }
  // The kernel starts a program with its first PT_INTERP (what we read); ld.so run as a command
  // ignores it. Only a program this ld.so would be started for can be judged by it.
  if (info.reason !== null || (ours.interpreter !== null && ours.interpreter !== GLIBC_INTERP)) {
    return 'not-traceable';
  }
  // The trace mode skips the program's own DT_FILTER, which a real start loads (and stops without):
  // apps/cli/test/deps-loader-cases.test.ts. Such a program is no question for this oracle.
  try {
    if (readElfSync(file).dynamic?.dependencies.some((d) => d.kind === 'filter')) return 'program-filter';
  } catch {
    return 'not-traceable';
  }
  const { argv } = loaderTraceCommand(file);
  const [command, ...args] = isRoot
    ? ['setpriv', `--reuid=${NOBODY}`, `--regid=${NOBODY}`, '--clear-groups', '--', ...argv]
    : argv;
  const run = spawnSync(command!, args, {
    cwd: '/',
    encoding: 'utf8',
    timeout: 10_000,
    killSignal: 'SIGKILL',
  });
  // We say the loader reads memory the file does not map (UNMAPPED_READ): ld.so crashes there, or
  // reads whatever else is mapped, so any outcome of its is consistent with that answer; counted
  // apart, never as an agreement or a disagreement (docs/loader.md §2).
  if (ours.failure?.code === 'UNMAPPED_READ' && run.error === undefined) {
    if (run.signal !== null) return 'unmapped-read: crashes';
    return run.status === 127 ? 'unmapped-read: stops' : 'unmapped-read: loads';
  }
  if (run.error !== undefined || run.signal !== null) return 'not-traceable';
  const trace = parseLoaderTrace(run.stdout, run.stderr);
  const fatal = run.status === 127 && trace.libraries.length === 0;
  const diagnostics = trace.errors.join('\n');
  if (
    fatal &&
    ours.failure === null &&
    (diagnostics.startsWith(`${file}: error while loading shared libraries: ${file}: `) ||
      diagnostics.includes('Inconsistency detected by ld.so'))
  ) {
    return 'program-rejected';
  }
  if (fatal !== (ours.failure !== null)) {
    return fatal
      ? `ld.so stops (${trace.errors.join('; ').slice(0, 200)}), we do not`
      : `we say the loader stops (${ours.failure?.message}), ld.so loads ${trace.libraries.length} objects`;
  }
  if (fatal) return null;
  const theirs = realSet(trace.libraries.map((l: { path: string | null }) => l.path));
  const mine = realSet(ours.libraries.map((l) => (l.realPath === null ? null : text(l.realPath))));
  const theirMissing = new Set(
    trace.libraries
      .filter((l: { path: string | null }) => l.path === null)
      .map((l: { name: string }) => l.name),
  );
  // The trace mode lists a DT_AUXILIARY it cannot find as "not found"; a real start searches for
  // it and goes on (apps/cli/test/deps-loader-cases.test.ts), as we do: not a disagreement.
  for (const name of auxiliaryNames([file, ...ours.libraries.map((l) => l.realPath)]))
    theirMissing.delete(name);
  const myMissing = new Set(ours.missing.map((m) => text(m.name)));
  const problems = [
    ...[...theirs].filter((p) => !mine.has(p)).map((p) => `only ld.so loads ${p}`),
    ...[...mine].filter((p) => !theirs.has(p)).map((p) => `only we load ${p}`),
    ...[...theirMissing]
      .filter((n) => !myMissing.has(n))
      .map((n) => `only ld.so misses ${JSON.stringify(n)}`),
    ...[...myMissing].filter((n) => !theirMissing.has(n)).map((n) => `only we miss ${JSON.stringify(n)}`),
  ];
  return problems.length === 0 ? null : problems.join('; ');
}

/** The DT_AUXILIARY names of the files (as ld.so's output decodes them). */
function auxiliaryNames(files: readonly (string | Uint8Array | null)[]): string[] {
  const names: string[] = [];
  for (const file of files) {
    if (file === null) continue;
    try {
      for (const dependency of readElfSync(typeof file === 'string' ? file : Buffer.from(file)).dynamic
        ?.dependencies ?? []) {
        if (dependency.kind === 'auxiliary') names.push(text(dependency.name));
      }
    } catch {
      // Not readable: it names nothing.
    }
  }
  return names;
}

/** A name or path as ld.so's output decodes it (UTF-8, replacement characters for other bytes). */
function text(value: string | Uint8Array): string {
  return typeof value === 'string' ? value : Buffer.from(value).toString('utf8');
}

function realSet(paths: readonly (string | null)[]): Set<string> {
  const set = new Set<string>();
  for (const path of paths) {
    if (path === null) continue;
    try {
      set.add(realpathSync(path.startsWith('/') ? path : `/${path}`));
    } catch {
      set.add(`unresolvable:${path}`);
    }
  }
  return set;
}

/** What ld.so loaded through a cache: NEEDED name -> path (null: not found), or its fatal error. */
export interface CacheTrace {
  readonly libraries: ReadonlyMap<string, string | null>;
  readonly fatal: string | null;
}

/**
 * ld.so's own use of a mutant ld.so.cache: in a private mount namespace, `<root>/mnt` bound on /mnt
 * (where the fixture's paths live) and the mutant on /etc/ld.so.cache, ld.so traces `program` as
 * `nobody`. null when that cannot be done here (no namespaces, not root).
 */
export function loaderCacheTrace(root: string, cacheFile: string, program: string): CacheTrace | null {
  if (!isRoot) return null;
  const script = [
    'mount --bind "$1/mnt" /mnt || exit 90',
    'mount --bind "$2" /etc/ld.so.cache || exit 91',
    `exec setpriv --reuid=${NOBODY} --regid=${NOBODY} --clear-groups -- /usr/bin/env -i LD_TRACE_LOADED_OBJECTS=1 /lib64/ld-linux-x86-64.so.2 "$3"`,
  ].join('\n');
  const run = spawnSync('unshare', ['-m', 'sh', '-c', script, 'sh', root, cacheFile, program], {
    cwd: '/',
    encoding: 'utf8',
    timeout: 10_000,
    killSignal: 'SIGKILL',
  });
  if (run.error !== undefined || run.signal !== null || run.status === 90 || run.status === 91) return null;
  const trace = parseLoaderTrace(run.stdout, run.stderr);
  const libraries = new Map<string, string | null>();
  for (const library of trace.libraries as { name: string; path: string | null }[]) {
    libraries.set(library.name, library.path);
  }
  const fatal = run.status === 127 && trace.libraries.length === 0 ? trace.errors.join('; ') : null;
  return { libraries, fatal };
}
