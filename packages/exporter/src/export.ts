import { renameSync, rmSync, statfsSync, statSync, writeFileSync } from 'node:fs';
import { resolve as resolvePath } from 'node:path';
import { RootFs } from '@dit/paths';
import { DpkgDatabase, ProvenanceError } from '@dit/provenance';
import { createResolver } from '@dit/resolver';
import { TraceError, type TraceReport, trace } from '@dit/trace';
import { writeArchive } from './archive.js';
import { Closure } from './closure.js';
import { dedupeEntries } from './dedupe.js';
import { commandEnvironment } from './environment.js';
import { ExportError } from './errors.js';
import { addIncludes, applyExcludes } from './globs.js';
import { hashEntries } from './hash.js';
import { resolveIdentity, writeIdentity } from './identity.js';
import { materialize } from './materialize.js';
import {
  checkOutputFile,
  checkOutputTarget,
  checkSourcesOutsideOutput,
  isInside,
  type OutputTarget,
} from './output.js';
import {
  metadataCost,
  packageUsage,
  selectPackageMetadata,
  withOwners,
  writePackageMetadata,
} from './package-metadata.js';
import { DEFAULT_PATH, fileKind, findOnPath } from './programs.js';
import { addRuntimeData } from './runtime-data.js';
import { checkSbomOutputs, writeSboms } from './sbom-output.js';
import { isScratch } from './scratch.js';
import { describeWithheld, type Selected, Selection } from './selection.js';
import { refuseFailedService, Supervision } from './service.js';
import { type StagedOutput, stageOutput } from './staging.js';
import { tracedBy } from './traced-by.js';
import type { ExportOptions, ExportReport, SbomOutput } from './types.js';
import { verifyExport } from './verify.js';
import { describeWriteError } from './write-errors.js';

/**
 * Exports exactly what an application needs into `options.path`: the static closure of the named
 * binaries and the command, everything the traced command used, the includes, minus the excludes
 * and the deny list; then, with a command, proves it by running the command inside the export.
 *
 * What was at `options.path` is removed only once the new export is complete (see staging.ts):
 * every refusal and failure before that leaves it as it was, and leaves nothing of dit behind.
 */
export async function exportImage(options: ExportOptions): Promise<ExportReport> {
  const rootDir = resolvePath(options.root ?? '/');
  checkRoot(rootDir);
  // The one RootFs of the root: every stage below reads the root through it (the selection, the
  // resolver, the trace's command lookup and link walks, the dpkg database, the verification's
  // "does it exist in the source?"), so each path is walked once and all stages see the same tree.
  const fs = new RootFs(rootDir);
  // Every place dit will write is checked before any work, so a refusal costs nothing.
  const target = checkOutputTarget(options.path, { force: options.force ?? false, root: rootDir });
  const tarFile = options.tar === undefined ? undefined : checkOutputFile(options.tar, '--tar', target);
  const reportFile =
    options.report === undefined ? undefined : checkOutputFile(options.report, '--report', target);
  if (tarFile !== undefined && tarFile === reportFile) {
    throw new ExportError('EXPORT_BAD_OUTPUT', `--tar and --report name the same file ${options.tar}`);
  }
  const sbomFiles = checkSbomOutputs(options.sbom ?? [], target, [tarFile, reportFile]);
  options.signal?.throwIfAborted();
  // Made now: it proves the target can be written before the (possibly long) trace, and it lies on
  // the target's filesystem, so the export ends with renames.
  const staged = stageOutput(target);
  try {
    return await exportInto(options, { rootDir, fs, target, staged, tarFile, reportFile, sbomFiles });
  } catch (error) {
    staged.discard(); // after the commit there is nothing left to discard: this removes nothing then
    throw error;
  }
}

interface Destination {
  readonly rootDir: string;
  readonly fs: RootFs;
  readonly target: OutputTarget;
  readonly staged: StagedOutput;
  readonly tarFile: string | undefined;
  readonly reportFile: string | undefined;
  readonly sbomFiles: readonly SbomOutput[];
}

async function exportInto(options: ExportOptions, destination: Destination): Promise<ExportReport> {
  const { rootDir, fs, target, staged } = destination;
  const output = target.canonical;
  // The image's environment in both phases, not the build's (environment.ts).
  const identity = options.identity === undefined ? null : resolveIdentity(fs, options.identity.user);
  const environment = commandEnvironment(fs, options.env, options.setEnv, identity?.uid);
  const env = environment.env;
  // The runtime reads HOME from the export's passwd, which holds the user's line (identity.ts).
  if (identity !== null && options.env === undefined && options.setEnv?.HOME === undefined)
    env.HOME = identity.home;
  const searchPath = env.PATH ?? DEFAULT_PATH;
  // Inside a root the command starts in its `/`; on the host, where dit was started.
  const cwd = options.cwd ?? (rootDir === '/' ? process.cwd() : '/');
  const command = options.command && options.command.length > 0 ? [...options.command] : null;

  // Never exported: the output folder and dit's staging folders, where they lie inside the root.
  const insideRoot = [output, ...staged.scratch].flatMap((path) =>
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

  for (const binary of options.binaries ?? []) {
    const found = findOnPath(fs, binary, searchPath, cwd);
    if (found === null)
      throw new ExportError(
        'EXPORT_NOT_FOUND',
        `--binary ${binary}: not found${rootDir === '/' ? '' : ` in ${rootDir}`}`,
      );
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
  /** What the traced run used that belongs to the application (its scratch left out): hints come from these. */
  const used: string[] = [];
  let program: string | null = null;
  if (command !== null) {
    const executable = findOnPath(fs, command[0]!, searchPath, cwd);
    if (executable === null) {
      throw new ExportError(
        'EXPORT_NOT_FOUND',
        `${command[0]}: command not found${rootDir === '/' ? '' : ` in ${rootDir}`} (PATH=${searchPath})`,
      );
    }
    sources.push({ hostPath: hostPathOf(executable), what: `the command ${command[0]}` });
    checkSourcesOutsideOutput(target, sources);
    selection.add(executable, { kind: 'command' }, { exact: true });
    // The working directory is part of how the command runs (an image's WORKDIR exists).
    if (fs.lookup(cwd).type === 'directory')
      selection.add(cwd, { kind: 'runtime-data', why: 'the working directory of the command' });
    if (environment.passwd !== null)
      selection.add(environment.passwd, { kind: 'runtime-data', why: 'the runtime reads HOME from it' });
    options.onProgress?.({ stage: 'trace', command });
    const traceStartedMs = Date.now();
    traced = await traceCommand(command, {
      rootDir,
      fs,
      cwd,
      env,
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

  // The last moment at which stopping leaves nothing behind: the copy is renamed into place at its end.
  options.signal?.throwIfAborted();
  const entriesToWrite = [...selection.values()];
  checkFreeSpace(staged.staging, target.path, entriesToWrite, fs);
  const materialized = materialize({
    fs,
    entries: entriesToWrite,
    output: target.path,
    staging: staged.staging,
    keepSetuid: options.keepSetuid ?? false,
    onProgress: (done, total) => options.onProgress?.({ stage: 'copy', done, total }),
  });
  warnings.push(...materialized.warnings);
  options.onProgress?.({ stage: 'hash', files: materialized.entries.length });
  let written = materialized.entries;
  let records = 0;
  if (packageMetadata) {
    // Generated, not copied: written into the staging tree now, hashed and archived with the rest.
    const metadata = writePackageMetadata({ fs, staging: staged.staging, entries: written, database });
    warnings.push(...metadata.warnings);
    records = metadata.records.size;
    written = [...written, ...metadata.entries].sort((a, b) => a.path.localeCompare(b.path));
  }
  if (identity !== null) {
    const users = writeIdentity(staged.staging, written, identity);
    warnings.push(...users.warnings);
    const changed = new Set(users.entries.map((entry) => entry.path));
    written = [...written.filter((entry) => !changed.has(entry.path)), ...users.entries].sort((a, b) =>
      a.path.localeCompare(b.path),
    );
  }
  let entries = withOwners(database, await hashEntries(staged.staging, written));
  if (options.dedupe) entries = dedupeEntries(staged.staging, entries).entries;

  // The archive is written from the staging tree too, and put in place only with the folder.
  const archive =
    destination.tarFile === undefined ? null : await writeArchive(staged.staging, destination.tarFile);
  options.signal?.throwIfAborted();
  try {
    staged.commit();
  } catch (error) {
    archive?.discard();
    throw error;
  }
  archive?.commit();

  let verification: ExportReport['verification'] = null;
  if (command !== null && options.verify !== false) {
    options.onProgress?.({ stage: 'verifying' });
    verification = await verifyExport({
      output,
      fs,
      command,
      cwd,
      env,
      timeoutMs: options.timeoutMs,
      expectedExitCode: traced?.exitCode ?? 0,
      usedPaths: used,
      user: identity ?? undefined,
      onIsolation: (isolation) => options.onProgress?.({ stage: 'verify', isolation }),
      signal: options.signal,
      service: options.service,
    });
  }

  const files = entries.filter((e) => e.type === 'file');
  const report: ExportReport = {
    version: 1,
    output: target.path,
    root: rootDir,
    command,
    entries,
    totals: {
      files: files.length,
      symlinks: entries.filter((e) => e.type === 'symlink').length,
      directories: entries.filter((e) => e.type === 'directory').length,
      bytes: files.filter((e) => e.hardLinkOf === undefined).reduce((sum, e) => sum + e.size, 0),
    },
    warnings,
    withheld: withheld.map(({ path, rule }) => ({ path, rule })),
    packages: packageUsage(database, entries),
    packageMetadata: packageMetadata ? metadataCost(entries, records) : null,
    trace:
      traced === null
        ? null
        : {
            exitCode: traced.exitCode,
            durationMs: traced.durationMs,
            paths: traced.paths.length,
            service: supervision?.summary(),
          },
    verification,
  };
  writeSboms(destination.sbomFiles, { report, database, fs, toolVersion: options.toolVersion ?? 'unknown' });
  if (destination.reportFile !== undefined) writeReport(destination.reportFile, report);
  return report;
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

/**
 * With --force, the old content of --path is removed at the end. If the check itself used something
 * in there, that would remove part of what the export is made from: refuse, before anything is written.
 */
function refuseUsedInsideOutput(
  traced: TraceReport,
  target: OutputTarget,
  hostPathOf: (path: string) => string,
): void {
  const used = traced.paths.find((path) => path.ok && isInside(hostPathOf(path.path), target.canonical));
  if (used !== undefined) {
    throw new ExportError(
      'EXPORT_BAD_OUTPUT',
      `--path ${target.path}: the check used ${used.path}, which lies inside it; replacing --path would remove what the application is made from`,
    );
  }
}

/** Fails before copying when the target's filesystem clearly cannot hold the export. */
function checkFreeSpace(staging: string, path: string, entries: readonly Selected[], fs: RootFs): void {
  let needed = 0;
  for (const entry of entries) if (entry.type === 'file') needed += fs.stat(entry.path)?.size ?? 0;
  let free: number;
  try {
    const stats = statfsSync(staging);
    free = stats.bavail * stats.bsize;
  } catch {
    return; // no figures (an unusual filesystem): the copy itself will say if it runs out
  }
  if (needed > free) {
    throw new ExportError(
      'EXPORT_WRITE_FAILED',
      `--path ${path}: not enough space: the export needs ${mebibytes(needed)}, the filesystem has ${mebibytes(free)} free (ENOSPC)`,
    );
  }
}

function mebibytes(bytes: number): string {
  return `${(bytes / 1024 / 1024).toFixed(1)} MiB`;
}

/** The JSON report, written beside its place and renamed into it (never half-written). */
function writeReport(file: string, report: ExportReport): void {
  const partial = `${file}.dit-partial-${process.pid}`;
  try {
    writeFileSync(partial, `${JSON.stringify(report, null, 1)}\n`);
    renameSync(partial, file);
  } catch (error) {
    rmSync(partial, { force: true });
    throw new ExportError(
      'EXPORT_WRITE_FAILED',
      `--report ${file}: ${describeWriteError(error)}; the export at ${report.output} is complete${report.verification?.ok ? ' and verified' : ''}`,
      { cause: error },
    );
  }
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

function checkRoot(root: string): void {
  let ok = false;
  try {
    ok = statSync(root).isDirectory();
  } catch {
    ok = false;
  }
  if (!ok) throw new ExportError('EXPORT_BAD_ROOT', `--root ${root}: not a folder`);
}

async function traceCommand(
  command: string[],
  options: {
    rootDir: string;
    fs: RootFs;
    cwd: string;
    env: Record<string, string | undefined>;
    timeoutMs?: number;
    signal?: AbortSignal;
    supervision: Supervision | null;
    user?: { readonly uid: number; readonly gid: number; readonly groups: readonly number[] };
  },
): Promise<TraceReport> {
  let report: TraceReport;
  try {
    report = await trace(command, {
      cwd: options.cwd,
      env: options.env,
      timeoutMs: options.timeoutMs,
      root: options.rootDir === '/' ? undefined : options.rootDir,
      fs: options.fs,
      user: options.user,
      stdio: 'inherit',
      signal: options.signal,
      service: options.supervision?.supervise,
    });
  } catch (error) {
    if (error instanceof TraceError) {
      const code = error.code === 'TRACE_COMMAND_NOT_FOUND' ? 'EXPORT_NOT_FOUND' : 'EXPORT_TRACE_UNAVAILABLE';
      throw new ExportError(code, error.message, { cause: error });
    }
    throw error;
  }
  if (report.timedOut) {
    throw new ExportError(
      'EXPORT_TIMEOUT',
      `${command.join(' ')}: still running after ${options.timeoutMs} ms; it and everything it started were killed. Nothing was exported.`,
    );
  }
  // A server's exit status says nothing (it was stopped): its readiness and probes do.
  if (options.supervision !== null) {
    refuseFailedService(command, report, options.supervision.outcome());
    return report;
  }
  if (report.exitCode !== 0) {
    const how = report.signal ? `was killed by ${report.signal}` : `exited with status ${report.exitCode}`;
    throw new ExportError(
      'EXPORT_COMMAND_FAILED',
      `${command.join(' ')} ${how}: the check must succeed before its files can be trusted. Nothing was exported.`,
    );
  }
  return report;
}

function firstElfProgram(selection: Selection): string | null {
  for (const entry of selection.values()) {
    if (entry.type === 'file' && fileKind(selection.fs.hostPath(entry.path)).kind === 'elf')
      return entry.path;
  }
  return null;
}
