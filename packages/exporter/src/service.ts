/**
 * Service mode: the command is a server. It is started (under the trace, or inside the export),
 * waited for until it is ready, asked every probe in order, and stopped as a runtime stops a
 * container: the stop signal to its main process, then, after the stop timeout, SIGKILL to all
 * that is left (the caller kills the rest of the tree when the supervisor returns).
 *
 * The same supervision runs in both phases, so the verification proves what the trace saw: the
 * server starts inside the export, becomes ready and answers the same questions.
 */
import type { ServiceHandle, TraceReport } from '@dit/trace';
import { ExportError } from './errors.js';
import { describeProbe, type ProbeResult, runProbe } from './probes.js';
import type { ServiceRun, ServiceSpec } from './types.js';

export const DEFAULT_READY_TIMEOUT_MS = 30_000;
export const DEFAULT_STOP_TIMEOUT_MS = 10_000;

/** How the supervision went. */
export interface ServiceOutcome {
  /** Ready, every probe passed and (where it counts) stopped by its stop signal in time. */
  readonly ok: boolean;
  /** Where it went wrong, as one clause: `exited before it was ready`, `--probe-http ... failed: HTTP 404`. */
  readonly failure: string | null;
  /** Milliseconds from the start of supervision to readiness, or null if it never was ready. */
  readonly readyMs: number | null;
  /** Probes that passed, the readiness probe included when it is one of them. */
  readonly probesPassed: number;
  /** How it ended: exited after the stop signal, killed after the stop timeout, or exited on its own. */
  readonly stopped: 'signal' | 'killed' | 'exited' | null;
}

/** Pause between readiness attempts: short enough not to add much to the time to ready. */
const RETRY_MS = 100;
/** The longest one readiness attempt may take; each gets less only when --ready-timeout has less left. */
const PROBE_ATTEMPT_MS = 5000;

/**
 * Supervises a started service. `stopTimeoutFails`: a service still running after the stop timeout
 * is a failure (the traced run). Inside the export it is not: there the server is the pid 1 of its
 * namespace, which, as in any container, ignores a signal it has no handler for; what a runtime does
 * then (kill it after the grace period) is what happens.
 */
export async function superviseService(
  service: ServiceHandle,
  spec: ServiceSpec,
  options: { stopTimeoutFails: boolean; signal?: AbortSignal },
): Promise<ServiceOutcome> {
  const started = performance.now();
  const readyTimeoutMs = spec.readyTimeoutMs ?? DEFAULT_READY_TIMEOUT_MS;
  const ready = spec.ready ?? spec.probes[0];
  if (ready === undefined) throw new Error('service mode without a probe or a readiness check');
  const fail = (failure: string, readyMs: number | null, probesPassed: number): ServiceOutcome => ({
    ok: false,
    failure,
    readyMs,
    probesPassed,
    stopped: service.mainExited() ? 'exited' : null,
  });

  // Ready: the readiness probe passes while the service still runs. A wrong answer is an answer:
  // the service is up, and when the readiness probe is also the first probe, it has failed.
  let lastAnswer: ProbeResult = null;
  for (;;) {
    if (options.signal?.aborted) return fail('stopped', null, 0);
    if (service.mainExited()) return fail('exited before it was ready', null, 0);
    const left = readyTimeoutMs - (performance.now() - started);
    if (left <= 0) {
      return fail(
        `not ready after ${readyTimeoutMs / 1000} s (--ready-timeout; ${describeProbe(ready)}: ${lastAnswer?.why ?? 'no answer'})`,
        null,
        0,
      );
    }
    const attemptMs = Math.max(1, Math.min(left, PROBE_ATTEMPT_MS));
    const answer = await runProbe(ready, attemptMs);
    if (answer === null) break;
    // An attempt cut short by what was left of --ready-timeout (it may get 1 ms) says no more than
    // that time ran out: the failure names the last full attempt's answer (ECONNREFUSED, …) instead.
    const cutShort = attemptMs < PROBE_ATTEMPT_MS && !answer.answered && lastAnswer !== null;
    if (!cutShort) lastAnswer = answer;
    if (answer.answered && spec.ready === undefined) {
      return fail(
        `${describeProbe(ready)} failed: ${answer.why}`,
        Math.round(performance.now() - started),
        0,
      );
    }
    await new Promise((resolve) => setTimeout(resolve, spec.retryMs ?? RETRY_MS));
  }
  const readyMs = Math.round(performance.now() - started);

  // Every probe in order (the readiness probe was the first one: it has passed).
  const rest = spec.ready === undefined ? spec.probes.slice(1) : spec.probes;
  let passed = spec.ready === undefined ? 1 : 0;
  for (const probe of rest) {
    if (service.mainExited())
      return fail(`exited while being probed (after ${passed} probes)`, readyMs, passed);
    const answer = await runProbe(probe, readyTimeoutMs);
    if (answer !== null) return fail(`${describeProbe(probe)} failed: ${answer.why}`, readyMs, passed);
    passed++;
  }
  if (service.mainExited()) return fail('exited while being probed', readyMs, passed);

  // Stop, as a runtime does.
  const stopSignal = spec.stopSignal ?? 'SIGTERM';
  const stopTimeoutMs = spec.stopTimeoutMs ?? DEFAULT_STOP_TIMEOUT_MS;
  service.signal(stopSignal);
  const stopStarted = performance.now();
  while (!service.mainExited() && performance.now() - stopStarted < stopTimeoutMs) {
    if (options.signal?.aborted) break;
    await new Promise((resolve) => setTimeout(resolve, 50));
  }
  if (service.mainExited())
    return { ok: true, failure: null, readyMs, probesPassed: passed, stopped: 'signal' };
  const stillRunning = `still running ${stopTimeoutMs / 1000} s after ${stopSignal} (--stop-timeout, --stop-signal); it was killed`;
  return {
    ok: !options.stopTimeoutFails,
    failure: options.stopTimeoutFails ? stillRunning : null,
    readyMs,
    probesPassed: passed,
    stopped: 'killed',
  };
}

/** One supervised run: the supervisor to hand to the run, and what it found once the run is over. */
export class Supervision {
  private result: ServiceOutcome | null = null;

  constructor(
    private readonly spec: ServiceSpec,
    private readonly options: { stopTimeoutFails: boolean; signal?: AbortSignal },
  ) {}

  readonly supervise = async (service: ServiceHandle): Promise<void> => {
    this.result = await superviseService(service, this.spec, this.options);
  };

  /** Null until a supervised run has ended (or when the command never started). */
  outcome(): ServiceOutcome | null {
    return this.result;
  }

  /** For the report. */
  summary(): ServiceRun | undefined {
    const outcome = this.result;
    return outcome === null
      ? undefined
      : { readyMs: outcome.readyMs, probesPassed: outcome.probesPassed, stopped: outcome.stopped };
  }
}

/** The traced server failed somewhere: one line that says where, and that nothing was exported. */
export function refuseFailedService(
  command: readonly string[],
  report: TraceReport,
  outcome: ServiceOutcome | null,
): void {
  if (outcome?.ok === true) return;
  let what = outcome?.failure ?? 'never started';
  if (outcome?.failure === 'exited before it was ready') {
    what = `${report.signal ? `died of ${report.signal}` : `exited with status ${report.exitCode}`} before it was ready`;
  }
  throw new ExportError(
    'EXPORT_SERVICE_FAILED',
    `${command.join(' ')}: the service ${what}; it and everything it started are gone. Nothing was exported.`,
  );
}
