import { statSync } from 'node:fs';
import { resolve as resolvePath } from 'node:path';
import { RootFs } from '@dit/paths';
import { commandEnvironment } from './environment.js';
import { ExportError } from './errors.js';
import { resolveIdentity } from './identity.js';
import { checkOutputFile, checkOutputTarget, type OutputTarget } from './output.js';
import { DEFAULT_PATH } from './programs.js';
import { buildReport, writeReport } from './report.js';
import { checkSbomOutputs, writeSboms } from './sbom-output.js';
import { selectFiles } from './select.js';
import { type StagedOutput, stageOutput } from './staging.js';
import type { ExportOptions, ExportReport, SbomOutput } from './types.js';
import { verifyExport } from './verify.js';
import { writeExport } from './write.js';

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
  // The image's environment in both phases, not the build's (environment.ts).
  const identity = options.identity === undefined ? null : resolveIdentity(fs, options.identity.user);
  const environment = commandEnvironment(fs, options.env, options.setEnv, identity?.uid);
  const env = environment.env;
  // The runtime reads HOME from the export's passwd, which holds the user's line (identity.ts).
  if (identity !== null && options.env === undefined && options.setEnv?.HOME === undefined)
    env.HOME = identity.home;
  // Inside a root the command starts in its `/`; on the host, where dit was started.
  const cwd = options.cwd ?? (rootDir === '/' ? process.cwd() : '/');
  const command = options.command && options.command.length > 0 ? [...options.command] : null;

  // 1. What goes in (select.ts): read-only, with the trace of the check.
  const files = await selectFiles({
    options,
    rootDir,
    fs,
    target,
    scratch: staged.scratch,
    env,
    passwd: environment.passwd,
    identity,
    cwd,
    searchPath: env.PATH ?? DEFAULT_PATH,
    command,
  });
  // 2. Written into the staging folder, then put in place of --path (write.ts).
  const written = await writeExport(
    { options, fs, target, staged, identity, tarFile: destination.tarFile },
    files,
  );
  // 3. The proof: the check again, inside the export, isolated like a container (verify.ts).
  let verification: ExportReport['verification'] = null;
  if (command !== null && options.verify !== false) {
    options.onProgress?.({ stage: 'verifying' });
    verification = await verifyExport({
      output: target.canonical,
      fs,
      command,
      cwd,
      env,
      timeoutMs: options.timeoutMs,
      expectedExitCode: files.traced?.exitCode ?? 0,
      usedPaths: files.used,
      user: identity ?? undefined,
      onIsolation: (isolation) => options.onProgress?.({ stage: 'verify', isolation }),
      signal: options.signal,
      service: options.service,
    });
  }
  // 4. What was done, for people (the CLI's summary), tools (--report) and scanners (--sbom).
  const report = buildReport({ output: target.path, root: rootDir, command, files, written, verification });
  writeSboms(destination.sbomFiles, {
    report,
    database: files.database,
    fs,
    toolVersion: options.toolVersion ?? 'unknown',
  });
  if (destination.reportFile !== undefined) writeReport(destination.reportFile, report);
  return report;
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
