/**
 * `dit export`'s service options: `--probe`, `--probe-http`, `--ready`, `--ready-tcp`,
 * `--ready-timeout`, `--stop-signal`, `--stop-timeout`. Any of the probes or readiness checks makes
 * the command a service (see @dit/exporter's service.ts).
 */
import { constants as osConstants } from 'node:os';
import {
  DEFAULT_READY_TIMEOUT_MS,
  DEFAULT_STOP_TIMEOUT_MS,
  isLoopback,
  type Probe,
  type ServiceSpec,
} from '@dit/exporter';
import { UsageError } from './io.js';

export const SERVICE_OPTIONS = {
  probe: { type: 'string', multiple: true },
  'probe-http': { type: 'string', multiple: true },
  ready: { type: 'string' },
  'ready-tcp': { type: 'string' },
  'ready-timeout': { type: 'string' },
  'stop-signal': { type: 'string' },
  'stop-timeout': { type: 'string' },
} as const;

export const SERVICE_HELP = `Servers (service mode: any --probe, --probe-http, --ready or --ready-tcp):
  --probe CMD            a shell command line (sh -c, run from the build stage, never traced) that
                         must succeed while the server runs (repeatable; probes run in the order given)
  --probe-http URL[=STATUS]  GET URL (http://, loopback only; dit's own client, no curl needed): the
                         answer must have STATUS, or any status below 400 (repeatable)
  --ready CMD            the server is ready once CMD succeeds (default: once the first probe passes)
  --ready-tcp HOST:PORT  the server is ready once it accepts a connection on HOST:PORT (loopback)
  --ready-timeout S      how long the server may take to be ready (default ${DEFAULT_READY_TIMEOUT_MS / 1000})
  --stop-signal SIG      what stops the server (default SIGTERM)
  --stop-timeout S       how long it may take to exit after the stop signal before it is killed
                         (default ${DEFAULT_STOP_TIMEOUT_MS / 1000})
  CMD is started under the trace, waited for, probed in order and stopped; only its process tree is
  traced and exported. The verification starts it inside the export and asks the same probes.
`;

interface ServiceValues {
  readonly probe?: string[];
  readonly 'probe-http'?: string[];
  readonly ready?: string;
  readonly 'ready-tcp'?: string;
  readonly 'ready-timeout'?: string;
  readonly 'stop-signal'?: string;
  readonly 'stop-timeout'?: string;
}

/**
 * The service spec, or undefined when none of its options is given. `argv`: the command's own
 * arguments, read again only for the order in which --probe and --probe-http were given. With
 * `image`, --stop-signal alone is the image's StopSignal, not a stray server option.
 */
export function parseServiceOptions(
  given: ServiceValues,
  argv: readonly string[],
  who: 'export' | 'minify',
  { image }: { image: boolean },
): ServiceSpec | undefined {
  const serverless =
    !given.probe?.length &&
    !given['probe-http']?.length &&
    given.ready === undefined &&
    given['ready-tcp'] === undefined;
  const values = image && serverless ? { ...given, 'stop-signal': undefined } : given;
  const commands = [...(values.probe ?? [])];
  const urls = [...(values['probe-http'] ?? [])];
  const probes: Probe[] = [];
  for (const kind of probeOrder(argv)) {
    if (kind === 'command') {
      const command = commands.shift();
      if (command !== undefined) probes.push(commandProbe(command, '--probe', who));
    } else {
      const url = urls.shift();
      if (url !== undefined) probes.push(httpProbe(url, who));
    }
  }
  if (values.ready !== undefined && values['ready-tcp'] !== undefined) {
    throw new UsageError(`${who}: --ready and --ready-tcp exclude each other`);
  }
  const ready =
    values.ready !== undefined
      ? commandProbe(values.ready, '--ready', who)
      : values['ready-tcp'] !== undefined
        ? tcpProbe(values['ready-tcp'], who)
        : undefined;
  const tuning = ['ready-timeout', 'stop-signal', 'stop-timeout'] as const;
  if (probes.length === 0 && ready === undefined) {
    const stray = tuning.find((name) => values[name] !== undefined);
    if (stray !== undefined) {
      throw new UsageError(
        `${who}: --${stray} needs a server: give --probe, --probe-http, --ready or --ready-tcp`,
      );
    }
    return undefined;
  }
  return {
    probes,
    ready,
    readyTimeoutMs: seconds(values['ready-timeout'], '--ready-timeout', who),
    stopTimeoutMs: seconds(values['stop-timeout'], '--stop-timeout', who),
    stopSignal: signalName(values['stop-signal'], who),
  };
}

/** --probe and --probe-http in the order they appear (both spellings: `--probe X`, `--probe=X`). */
function probeOrder(argv: readonly string[]): ('command' | 'http')[] {
  const order: ('command' | 'http')[] = [];
  for (let i = 0; i < argv.length; i++) {
    const arg = argv[i]!;
    const name = arg.startsWith('--') ? arg.slice(2).split('=')[0] : null;
    if (name === 'probe') order.push('command');
    else if (name === 'probe-http') order.push('http');
    else continue;
    if (!arg.includes('=')) i++; // its value
  }
  return order;
}

function commandProbe(command: string, option: string, who: string): Probe {
  if (command.trim() === '') throw new UsageError(`${who}: ${option} needs a command line`);
  return { kind: 'command', command };
}

function httpProbe(value: string, who: string): Probe {
  // URL[=STATUS]: a trailing =NNN is the status (a URL's own `=` is in its query, never followed by 3 digits and the end).
  const match = /^(.*)=(\d{3})$/.exec(value);
  const url = match === null ? value : match[1]!;
  let parsed: URL;
  try {
    parsed = new URL(url);
  } catch {
    throw new UsageError(`${who}: --probe-http ${value}: not a URL`);
  }
  if (parsed.protocol !== 'http:') throw new UsageError(`${who}: --probe-http ${value}: only http:// URLs`);
  if (!isLoopback(parsed.hostname)) {
    throw new UsageError(
      `${who}: --probe-http ${value}: the host must be loopback (127.0.0.1, ::1, localhost)`,
    );
  }
  return match === null ? { kind: 'http', url } : { kind: 'http', url, status: Number(match[2]) };
}

function tcpProbe(value: string, who: string): Probe {
  const match = /^(?:\[([^\]]+)\]|([^:]+)):(\d+)$/.exec(value);
  const port = Number(match?.[3]);
  const host = match?.[1] ?? match?.[2] ?? '';
  if (match === null || !(port >= 1 && port <= 65535)) {
    throw new UsageError(`${who}: --ready-tcp ${value}: expected HOST:PORT`);
  }
  if (!isLoopback(host)) {
    throw new UsageError(
      `${who}: --ready-tcp ${value}: the host must be loopback (127.0.0.1, ::1, localhost)`,
    );
  }
  return { kind: 'tcp', host, port };
}

function seconds(value: string | undefined, option: string, who: string): number | undefined {
  if (value === undefined) return undefined;
  const number = Number(value);
  if (!(number > 0))
    throw new UsageError(`${who}: ${option} must be a positive number of seconds (got "${value}")`);
  return number * 1000;
}

function signalName(value: string | undefined, who: string): NodeJS.Signals | undefined {
  if (value === undefined) return undefined;
  const upper = value.toUpperCase();
  const name = (upper.startsWith('SIG') ? upper : `SIG${upper}`) as NodeJS.Signals;
  if (/^\d+$/.test(value)) {
    const found = Object.entries(osConstants.signals).find(([, number]) => number === Number(value));
    if (found !== undefined) return found[0] as NodeJS.Signals;
  } else if (name in osConstants.signals) {
    return name;
  }
  throw new UsageError(`${who}: --stop-signal ${value}: not a signal name (SIGTERM, SIGQUIT, SIGINT, ...)`);
}
