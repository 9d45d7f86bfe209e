import { RootFs } from '@dit/paths';
import { trace } from '@dit/trace';
import { denyReason } from './deny.js';
import { stderrExcerpt, unfixable } from './failure-report.js';
import { type Identity, unreadableAs } from './identity.js';
import { runIsolated } from './isolate.js';
import { type ServiceOutcome, Supervision } from './service.js';
import type { Isolation, ServiceSpec, Verification } from './types.js';

/** A run that ended before its supervisor could look at it. */
const FAILED_TO_START: ServiceOutcome = {
  ok: false,
  failure: 'never started',
  readyMs: null,
  probesPassed: 0,
  stopped: null,
};

export interface VerifyOptions {
  readonly output: string;
  /** The source the export came from, to tell "missing from the export" from "missing everywhere". */
  readonly fs: RootFs;
  readonly command: readonly string[];
  readonly cwd: string;
  readonly env: Record<string, string | undefined>;
  readonly timeoutMs?: number;
  readonly expectedExitCode: number;
  readonly onIsolation?: (isolation: Isolation) => void;
  /** Paths the traced run used successfully: any of them absent from the export is a suspect. */
  readonly usedPaths?: readonly string[];
  /** Run as this user (uid, gid, groups) instead of root: the image's --user. */
  readonly user?: Identity;
  /** Kills the runs when aborted; verifyExport then rejects with the signal's reason. */
  readonly signal?: AbortSignal;
  /** Service mode: the command is a server, judged by readiness and probes, not by its exit status. */
  readonly service?: ServiceSpec;
}

/**
 * Runs the command again inside the export, isolated like a container, and compares its exit status
 * with the traced run. When it breaks, the run is traced inside the export and every path it looked
 * for in vain that exists in the source is reported: each is an `--include` that would fix it.
 */
export async function verifyExport(options: VerifyOptions): Promise<Verification> {
  const served = supervisor(options);
  const run = await runIsolated(options.output, options.command, {
    env: options.env,
    cwd: options.cwd,
    timeoutMs: options.timeoutMs,
    signal: options.signal,
    user: options.user,
    service: served?.supervise,
  });
  const outcome = served === null ? null : (served.outcome() ?? FAILED_TO_START);
  if (run.isolation !== null) options.onIsolation?.(run.isolation);
  const base = {
    isolation: run.isolation,
    expectedExitCode: options.expectedExitCode,
    exitCode: run.exitCode,
    signal: run.signal,
  };
  if (run.isolation === null) return { ...base, ran: false, ok: false, missing: [], note: run.note };
  const passed = outcome === null ? run.exitCode === options.expectedExitCode : outcome.ok;
  if (passed && !run.timedOut) {
    return { ...base, service: served?.summary(), ran: true, ok: true, missing: [], note: run.note };
  }
  const missing = [...new Set([...usedButAbsent(options), ...(await findMissing(options))])].sort();
  const stderrTail = stderrExcerpt(run.stderr.toString('utf8'));
  const what = run.timedOut
    ? 'timed out'
    : outcome !== null
      ? `was started as a service and ${outcome.failure}`
      : run.signal
        ? `died of ${run.signal}`
        : `exited with ${run.exitCode}`;
  const expected = outcome === null ? ` (expected ${options.expectedExitCode})` : '';
  return {
    ...base,
    service: served?.summary(),
    ran: true,
    ok: false,
    missing,
    note: `inside the export the command ${what}${expected}${deniedNote(options)}${stderrTail ? `; it said:\n${stderrTail}` : ''}`,
  };
}

async function findMissing(options: VerifyOptions): Promise<string[]> {
  let report: Awaited<ReturnType<typeof trace>>;
  try {
    report = await trace([...options.command], {
      // The export folder as root, not the source: the trace makes its own RootFs for it.
      root: options.output,
      cwd: options.cwd,
      env: options.env,
      timeoutMs: options.timeoutMs,
      stdio: 'pipe',
      // The diagnosis is part of the verification: it must not change the export either.
      discardWrites: true,
      signal: options.signal,
      // A server is started, probed and stopped the same way, so that the diagnosis ends.
      service: supervisor(options)?.supervise,
    });
  } catch {
    if (options.signal?.aborted) throw options.signal.reason;
    return []; // the diagnosis is a courtesy; the failure itself is already established
  }
  const missing = new Set<string>();
  // The export folder, not the pipeline's root; made after the diagnosis run, so that it sees the
  // export as the run left it (usedButAbsent's instance walked it before).
  const exported = new RootFs(options.output);
  for (const path of report.paths) {
    // Only "not there" counts: EINVAL from readlink on a plain file, say, is no sign of a gap.
    if (path.ok || !path.failedErrnos.some((errno) => errno === 'ENOENT' || errno === 'ENOTDIR')) continue;
    // A file it meant to write (a scratch file in a folder the export lacks) is output, not input:
    // an --include of it could not help.
    if (path.write) continue;
    if (denyReason(path.path) !== null || unfixable(path.path)) continue;
    // Already in the export (the run missed it under another working directory, or raced its
    // creation): an --include of it would change nothing.
    if (exported.lookup(path.path).error === null) continue;
    if (options.fs.lookup(path.path).error === null) missing.add(path.path);
  }
  return [...missing].sort();
}

/**
 * What the traced run used that the export lacks (excluded, denied, or gone). Programs often never
 * ask for a file they do not see in a directory listing (Python's import system works that way),
 * so the failing run's errors alone would not name it.
 */
function usedButAbsent(options: VerifyOptions): string[] {
  // Another root than the pipeline's: the export folder, walked through a RootFs of its own.
  const export_ = new RootFs(options.output);
  const absent: string[] = [];
  for (const path of options.usedPaths ?? []) {
    if (denyReason(path) !== null) continue;
    const source = options.fs.lookup(path);
    if (source.type !== 'file') continue;
    if (export_.lookup(path).error !== null) absent.push(path);
  }
  return absent;
}

/** Paths the check used that the verification's user may not read: the likely cause when only the user differs. */
function deniedNote(options: VerifyOptions): string {
  if (options.user === undefined) return '';
  const denied = unreadableAs(options.output, options.usedPaths ?? [], options.user);
  if (denied.length === 0) return '';
  return `; as uid ${options.user.uid} (--user ${options.user.spec}) it cannot read ${denied.join(', ')}`;
}

/** Inside the export the server is pid 1 of its namespace and may ignore the stop signal, as in any container. */
function supervisor(options: VerifyOptions): Supervision | null {
  return options.service === undefined
    ? null
    : new Supervision(options.service, { stopTimeoutFails: false, signal: options.signal });
}
