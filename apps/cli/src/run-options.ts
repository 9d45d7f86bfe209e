import { ExportError } from '@dit/exporter';
import { ImageError } from '@dit/image';
import { EXIT, type Io, UsageError } from './io.js';

/**
 * What `dit export` and `dit minify` share about running the check: --timeout, --env, and stopping
 * cleanly on SIGINT or SIGTERM. One home, so the two commands cannot drift apart.
 */

/** `--timeout SECONDS` as milliseconds (undefined when not given); anything but a positive number is refused. */
export function parseTimeout(value: string | undefined, command: string): number | undefined {
  if (value === undefined) return undefined;
  const seconds = Number(value);
  if (!(seconds > 0)) {
    throw new UsageError(`${command}: --timeout must be a positive number of seconds (got "${value}")`);
  }
  return seconds * 1000;
}

/** `--env K=V` (repeatable; a later one wins): K a variable name, V anything, possibly empty. */
export function parseEnvOptions(values: readonly string[], command: string): Record<string, string> {
  const env: Record<string, string> = {};
  for (const value of values) {
    const equals = value.indexOf('=');
    const name = equals < 0 ? '' : value.slice(0, equals);
    if (!/^[A-Za-z_][A-Za-z0-9_]*$/.test(name)) {
      throw new UsageError(`${command}: --env ${value}: expected NAME=VALUE`);
    }
    env[name] = value.slice(equals + 1);
  }
  return env;
}

/** Why a command stopped early: dit itself was sent SIGINT or SIGTERM. */
export class Interrupted extends Error {
  constructor(readonly signal: NodeJS.Signals) {
    super(`stopped by ${signal}`);
  }
}

/**
 * SIGINT (Ctrl-C) or SIGTERM aborts `signal` with an {@link Interrupted}: the command under trace or
 * verification and everything it started are killed, and nothing half-written is left. A second
 * signal is not caught (`once`), so it ends dit at once. `release` stops listening.
 */
export function abortOnSignals(): { signal: AbortSignal; release: () => void } {
  const interruption = new AbortController();
  const interrupt = (signal: NodeJS.Signals) => interruption.abort(new Interrupted(signal));
  process.once('SIGINT', interrupt).once('SIGTERM', interrupt);
  return {
    signal: interruption.signal,
    release: () => {
      process.off('SIGINT', interrupt).off('SIGTERM', interrupt);
    },
  };
}

/**
 * A typed refusal or write failure of @dit/exporter or @dit/image, reported as the CLI reports them:
 * one `dit: COMMAND: …` line and exit 3 when something could not be written, else 2 (bad input).
 * Undefined for any other error, which the caller handles or rethrows.
 */
export function exitForFailure(error: unknown, command: 'export' | 'minify', io: Io): number | undefined {
  const cannotWrite =
    error instanceof ImageError
      ? error.code === 'IMAGE_WRITE_FAILED'
      : error instanceof ExportError
        ? error.code === 'EXPORT_WRITE_FAILED'
        : undefined;
  if (cannotWrite === undefined) return undefined;
  io.stderr(`dit: ${command}: ${(error as Error).message}\n`);
  return cannotWrite ? EXIT.cannotWrite : EXIT.usage;
}
