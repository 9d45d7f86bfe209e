import { statSync } from 'node:fs';
import { resolve as resolvePath } from 'node:path';
import { createResolver, RootFs } from '@dit/resolver';
import { TraceError, type TraceReport, trace } from '@dit/trace';
import { writeArchive } from './archive.js';
import { Closure } from './closure.js';
import { dedupeEntries } from './dedupe.js';
import { ExportError } from './errors.js';
import { addIncludes, applyExcludes } from './globs.js';
import { hashEntries } from './hash.js';
import { checkOutput, materialize } from './materialize.js';
import { DEFAULT_PATH, fileKind, findOnPath } from './programs.js';
import { addRuntimeData } from './runtime-data.js';
import { describeWithheld, Selection } from './selection.js';
import type { ExportOptions, ExportReport } from './types.js';
import { verifyExport } from './verify.js';

/**
 * Exports exactly what an application needs into `options.path`: the static closure of the named
 * binaries and the command, everything the traced command used, the includes, minus the excludes
 * and the deny list; then, with a command, proves it by running the command inside the export.
 */
export async function exportImage(options: ExportOptions): Promise<ExportReport> {
  const rootDir = resolvePath(options.root ?? '/');
  checkRoot(rootDir);
  const fs = new RootFs(rootDir);
  const output = resolvePath(options.path);
  const env = { ...(options.env ?? process.env) };
  const searchPath = env.PATH ?? DEFAULT_PATH;
  // Inside a root the command starts in its `/`; on the host, where dit was started.
  const cwd = options.cwd ?? (rootDir === '/' ? process.cwd() : '/');
  const command = options.command && options.command.length > 0 ? [...options.command] : null;

  // The output folder must not be exported into itself when it lies inside the root.
  const outputInRoot =
    rootDir === '/' ? output : output.startsWith(`${rootDir}/`) ? output.slice(rootDir.length) : null;
  const selection = new Selection(fs, outputInRoot === null ? [] : [outputInRoot]);
  const resolver = createResolver({ root: rootDir, libraryPath: options.libraryPath });
  const closure = new Closure(selection, resolver, searchPath);
  const warnings: string[] = [];

  // Check the output before the (possibly long) trace, so a refusal costs nothing.
  checkOutput(output, options.force ?? false);
  options.signal?.throwIfAborted();

  for (const binary of options.binaries ?? []) {
    const found = findOnPath(fs, binary, searchPath, cwd);
    if (found === null)
      throw new ExportError(
        'EXPORT_NOT_FOUND',
        `--binary ${binary}: not found${rootDir === '/' ? '' : ` in ${rootDir}`}`,
      );
    selection.add(found, { kind: 'binary' }, { exact: true });
  }

  let traced: TraceReport | null = null;
  let program: string | null = null;
  if (command !== null) {
    const executable = findOnPath(fs, command[0]!, searchPath, cwd);
    if (executable === null) {
      throw new ExportError(
        'EXPORT_NOT_FOUND',
        `${command[0]}: command not found${rootDir === '/' ? '' : ` in ${rootDir}`} (PATH=${searchPath})`,
      );
    }
    selection.add(executable, { kind: 'command' }, { exact: true });
    // The working directory is part of how the command runs (an image's WORKDIR exists).
    if (fs.lookup(cwd).type === 'directory')
      selection.add(cwd, { kind: 'runtime-data', why: 'the working directory of the command' });
    options.onProgress?.({ stage: 'trace', command });
    traced = await traceCommand(command, {
      rootDir,
      cwd,
      env,
      timeoutMs: options.timeoutMs,
      signal: options.signal,
    });
    for (const path of traced.paths) {
      // /tmp and /var/tmp are scratch: what the check left there is not part of the application.
      if (!path.ok || isScratch(path.path)) continue;
      selection.add(path.path, { kind: 'traced', how: path.kinds });
    }
    if (fileKind(fs.hostPath(fs.lookup(executable).realPath!)).kind === 'elf') program = executable;
  }
  program ??= firstElfProgram(selection);

  await addIncludes(selection, options.include ?? []);
  closure.complete((files) => options.onProgress?.({ stage: 'resolve', files }));
  if (traced !== null) {
    addRuntimeData(selection, closure, new Set(traced.paths.filter((p) => p.ok).map((p) => p.path)), program);
    closure.complete();
  }
  await applyExcludes(selection, options.exclude ?? []);
  warnings.push(...closure.warnings);
  // Secrets are never copied; every one withheld is said, with the rule and how to take it anyway.
  const withheld = [...selection.withheld.values()].sort((a, b) => a.path.localeCompare(b.path));
  warnings.push(...withheld.map(describeWithheld));

  // The last moment at which stopping leaves nothing behind: the copy is renamed into place at its end.
  options.signal?.throwIfAborted();
  const materialized = materialize({
    fs,
    entries: [...selection.values()],
    output,
    force: options.force ?? false,
    keepSetuid: options.keepSetuid ?? false,
    onProgress: (done, total) => options.onProgress?.({ stage: 'copy', done, total }),
  });
  warnings.push(...materialized.warnings);
  options.onProgress?.({ stage: 'hash', files: materialized.entries.length });
  let entries = await hashEntries(output, materialized.entries);
  if (options.dedupe) entries = dedupeEntries(output, entries).entries;

  if (options.tar !== undefined) await writeArchive(output, resolvePath(options.tar));

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
      usedPaths: traced?.paths.filter((path) => path.ok).map((path) => path.path),
      onIsolation: (isolation) => options.onProgress?.({ stage: 'verify', isolation }),
      signal: options.signal,
    });
  }

  const files = entries.filter((e) => e.type === 'file');
  return {
    version: 1,
    output,
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
    trace:
      traced === null
        ? null
        : { exitCode: traced.exitCode, durationMs: traced.durationMs, paths: traced.paths.length },
    verification,
  };
}

function isScratch(path: string): boolean {
  return ['/tmp', '/var/tmp'].some((dir) => path === dir || path.startsWith(`${dir}/`));
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
    cwd: string;
    env: Record<string, string | undefined>;
    timeoutMs?: number;
    signal?: AbortSignal;
  },
): Promise<TraceReport> {
  let report: TraceReport;
  try {
    report = await trace(command, {
      cwd: options.cwd,
      env: options.env,
      timeoutMs: options.timeoutMs,
      root: options.rootDir === '/' ? undefined : options.rootDir,
      stdio: 'inherit',
      signal: options.signal,
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
