import type { RootFs } from '@dit/paths';
import { DpkgDatabase, ProvenanceError } from '@dit/provenance';
import { createResolver } from '@dit/resolver';
import type { TraceReport } from '@dit/trace';
import { Closure } from './closure.js';
import { ExportError } from './errors.js';
import { addIncludes, applyExcludes } from './globs.js';
import type { Identity } from './identity.js';
import { checkSourcesOutsideOutput, isInside, type OutputTarget } from './output.js';
import { selectPackageMetadata } from './package-metadata.js';
import { fileKind, findOnPath } from './programs.js';
import { addRuntimeData } from './runtime-data.js';
import { isScratch } from './scratch.js';
import { describeWithheld, Selection, type Withheld } from './selection.js';
import { Supervision } from './service.js';
import { refuseUsedInsideOutput, traceCheck } from './trace-check.js';
import { tracedBy } from './traced-by.js';
import type { ExportOptions } from './types.js';

/** Where and how the file set is gathered: everything decided before the first file is read. */
export interface SelectContext {
  readonly options: ExportOptions;
  readonly rootDir: string;
  /** The pipeline's one view of the root. */
  readonly fs: RootFs;
  readonly target: OutputTarget;
  /** Host folders of dit's own (staging, aside) that must never be selected. */
  readonly scratch: readonly string[];
  /** The check's environment: the image's, not the build's (environment.ts). */
  readonly env: Record<string, string | undefined>;
  /** The passwd file the runtime reads HOME from, when the check's HOME came from it. */
  readonly passwd: string | null;
  readonly identity: Identity | null;
  readonly cwd: string;
  readonly searchPath: string;
  readonly command: string[] | null;
}

/** The file set, and what the trace and the rules said on the way. */
export interface FileSet {
  readonly selection: Selection;
  readonly traced: TraceReport | null;
  readonly supervision: Supervision | null;
  /** What the traced run used that belongs to the application (its scratch left out): hints come from these. */
  readonly used: readonly string[];
  readonly warnings: string[];
  /** Secrets left out, sorted by path. */
  readonly withheld: readonly Withheld[];
  readonly database: DpkgDatabase | null;
  /** Whether scanner-visible package metadata is written (a dpkg database, and not opted out). */
  readonly packageMetadata: boolean;
}

/**
 * The union of what the application needs: the named programs and the check command with their
 * static closure, everything the traced check used, runtime data, the includes and the package
 * metadata scanners read; minus the excludes, the deny list and secrets. Reads, never writes.
 */
export async function selectFiles(context: SelectContext): Promise<FileSet> {
  const { options, fs, rootDir, target, cwd, searchPath, command } = context;
  const output = target.canonical;
  // Never exported: the output folder and dit's staging folders, where they lie inside the root.
  const insideRoot = [output, ...context.scratch].flatMap((path) =>
    rootDir === '/'
      ? [path]
      : isInside(path, rootDir) && path !== rootDir
        ? [path.slice(rootDir.length)]
        : [],
  );
  const selection = new Selection(fs, insideRoot);
  const resolver = createResolver({ fs, libraryPath: options.libraryPath });
  const closure = new Closure(selection, resolver, searchPath);
  const warnings: string[] = [];
  /** What the export is made from, named as the user named it: --path must hold none of it. */
  const sources: { hostPath: string; what: string }[] = [];
  // A path that does not resolve inside the root (missing, a loop) stands for the root itself:
  // resolved on the host instead, the root's links would lead out of it (`-> /` is the host's `/`).
  const hostPathOf = (path: string) => fs.hostPath(fs.lookup(path).realPath ?? '/');
  const where = rootDir === '/' ? '' : ` in ${rootDir}`;

  for (const binary of options.binaries ?? []) {
    const found = findOnPath(fs, binary, searchPath, cwd);
    if (found === null) throw new ExportError('EXPORT_NOT_FOUND', `--binary ${binary}: not found${where}`);
    sources.push({ hostPath: hostPathOf(found), what: `--binary ${binary}` });
    selection.add(found, { kind: 'binary' }, { exact: true });
  }
  for (const pattern of options.include ?? []) {
    sources.push({ hostPath: hostPathOf(staticBase(pattern)), what: `--include ${pattern}` });
  }

  let traced: TraceReport | null = null;
  // Service mode (service.ts): the traced server must become ready, pass its probes and stop.
  const supervision =
    options.service === undefined
      ? null
      : new Supervision(options.service, { stopTimeoutFails: true, signal: options.signal });
  const used: string[] = [];
  let program: string | null = null;
  if (command !== null) {
    const executable = findOnPath(fs, command[0]!, searchPath, cwd);
    if (executable === null) {
      throw new ExportError(
        'EXPORT_NOT_FOUND',
        `${command[0]}: command not found${where} (PATH=${searchPath})`,
      );
    }
    sources.push({ hostPath: hostPathOf(executable), what: `the command ${command[0]}` });
    checkSourcesOutsideOutput(target, sources);
    selection.add(executable, { kind: 'command' }, { exact: true });
    // The working directory is part of how the command runs (an image's WORKDIR exists).
    if (fs.lookup(cwd).type === 'directory')
      selection.add(cwd, { kind: 'runtime-data', why: 'the working directory of the command' });
    if (context.passwd !== null)
      selection.add(context.passwd, { kind: 'runtime-data', why: 'the runtime reads HOME from it' });
    options.onProgress?.({ stage: 'trace', command });
    const traceStartedMs = Date.now();
    const { identity } = context;
    traced = await traceCheck(command, {
      rootDir,
      fs,
      cwd,
      env: context.env,
      timeoutMs: options.timeoutMs,
      signal: options.signal,
      supervision,
      // The image's user runs it under the trace too (a server such as PostgreSQL refuses root),
      // when the root defines it: a user only dit's files add (nonroot) is the verification's to
      // judge, where a file it cannot read is named (identity.ts), rather than a failing trace.
      user: identity === null || identity.uid === 0 || !identity.definedInRoot ? undefined : identity,
    });
    if (target.nonEmpty) refuseUsedInsideOutput(traced, target, hostPathOf);
    const usedBy = tracedBy(traced);
    for (const path of traced.paths) {
      // What the check left in /tmp and /var/tmp is not part of the application (see scratch.ts).
      if (!path.ok || isScratch(path, fs, traceStartedMs)) continue;
      used.push(path.path);
      selection.add(path.path, { kind: 'traced', how: path.kinds, by: usedBy(path) });
    }
    if (fileKind(fs.hostPath(fs.lookup(executable).realPath!)).kind === 'elf') program = executable;
  } else {
    checkSourcesOutsideOutput(target, sources);
  }
  program ??= firstElfProgram(selection);

  // Folders an --include could not list (a symlink loop, past PATH_MAX) are skipped and said.
  warnings.push(...(await addIncludes(selection, options.include ?? [])));
  if (traced !== null) {
    // Opened by the traced run, ELF or not: only names a loaded library could answer to matter.
    closure.markLoaded(
      traced.paths
        .filter((p) => p.ok && p.kinds.includes('open'))
        .flatMap((p) => (p.realPath === null ? [p.path] : [p.path, p.realPath])),
    );
  }
  closure.complete((files) => options.onProgress?.({ stage: 'resolve', files }));
  if (traced !== null) {
    addRuntimeData(
      selection,
      closure,
      new Set(traced.paths.filter((p) => p.ok).map((p) => p.path)),
      program,
      traced.paths,
    );
    closure.complete();
  }
  // What scanners read and licenses ask for: copyright files of the packages the files come from,
  // os-release (package-metadata.ts). Before the excludes, so that an --exclude wins over them too.
  const database = readDpkgDatabase(fs);
  const packageMetadata = database !== null && options.packageMetadata !== false;
  if (packageMetadata) selectPackageMetadata(selection, database);
  await applyExcludes(selection, options.exclude ?? []);
  warnings.push(...closure.warnings);
  // Secrets are never copied; every one withheld is said, with the rule and how to take it anyway.
  const withheld = [...selection.withheld.values()].sort((a, b) => a.path.localeCompare(b.path));
  warnings.push(...withheld.map(describeWithheld));
  return { selection, traced, supervision, used, warnings, withheld, database, packageMetadata };
}

/** The part of an --include pattern before its first glob character: where its matches lie. */
function staticBase(pattern: string): string {
  const absolute = pattern.startsWith('/') ? pattern : `/${pattern}`;
  const parts: string[] = [];
  for (const part of absolute.split('/')) {
    if (/[*?[\]{}()!+@]/.test(part)) break;
    parts.push(part);
  }
  return parts.join('/') || '/';
}

/** The root's dpkg database, or null when it has none; an unreadable one is a bad root. */
function readDpkgDatabase(fs: RootFs): DpkgDatabase | null {
  try {
    return DpkgDatabase.read(fs);
  } catch (error) {
    if (error instanceof ProvenanceError)
      throw new ExportError('EXPORT_BAD_ROOT', error.message, { cause: error });
    throw error;
  }
}

function firstElfProgram(selection: Selection): string | null {
  for (const entry of selection.values()) {
    if (entry.type === 'file' && fileKind(selection.fs.hostPath(entry.path)).kind === 'elf')
      return entry.path;
  }
  return null;
}
