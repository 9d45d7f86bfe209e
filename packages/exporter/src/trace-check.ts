import type { RootFs } from '@dit/paths';
import { TraceError, type TraceReport, trace } from '@dit/trace';
import { ExportError } from './errors.js';
import { isInside, type OutputTarget } from './output.js';
import { refuseFailedService, type Supervision } from './service.js';

/** How the check runs under the trace: in the root, with the image's environment and user. */
export interface TraceCheckOptions {
  readonly rootDir: string;
  readonly fs: RootFs;
  readonly cwd: string;
  readonly env: Record<string, string | undefined>;
  readonly timeoutMs?: number;
  readonly signal?: AbortSignal;
  /** A server's readiness, probes and stop (service.ts); null for a plain check. */
  readonly supervision: Supervision | null;
  readonly user?: { readonly uid: number; readonly gid: number; readonly groups: readonly number[] };
}

/**
 * Runs the check under the trace and refuses a run whose files cannot be trusted: one that could not
 * start, failed, hung past its timeout, or (a server) never became ready or failed a probe.
 */
export async function traceCheck(command: string[], options: TraceCheckOptions): Promise<TraceReport> {
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

/**
 * With --force, the old content of --path is removed at the end. If the check itself used something
 * in there, that would remove part of what the export is made from: refuse, before anything is written.
 */
export function refuseUsedInsideOutput(
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
