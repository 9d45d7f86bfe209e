import { type ImageReference, type ImageSettings, parseImageReference, zstdAvailable } from '@dit/image';
import { UsageError } from './io.js';

/** The options of `dit export` and `dit minify` that shape the image (parseArgs's spec); `--env` is export's own. */
export const IMAGE_OPTIONS = {
  image: { type: 'string', multiple: true },
  entrypoint: { type: 'string' },
  cmd: { type: 'string' },
  workdir: { type: 'string' },
  user: { type: 'string' },
  label: { type: 'string', multiple: true },
  expose: { type: 'string', multiple: true },
  'stop-signal': { type: 'string' },
  compression: { type: 'string' },
} as const;

export const IMAGE_HELP = `Image output (no daemon; reproducible: the same input gives the same digest):
  --image REF            also write the export as a one-layer image (repeatable): oci:DIR[:TAG],
                         oci-archive:FILE[:TAG], docker-archive:FILE[:NAME:TAG]. With --image, --path
                         is optional (the export is then staged in a temporary folder, removed after)
  --entrypoint JSON      the image's Entrypoint, a JSON array (default: the check command)
  --cmd JSON             the image's Cmd, a JSON array
  (--env K=V also goes into the image's Env, after the check's PATH)
  --workdir DIR          the image's WorkingDir, and where the check runs (default /)
  --user USER[:GROUP]    the image's User: a name or uid inside the export (minimal /etc/passwd and
                         /etc/group are written when missing); the check is verified as that user
  --label K=V            an image label (repeatable)
  --expose PORT[/PROTO]  an exposed port (repeatable). A server (dit export with probes) gets the
                         TCP ports it listened on under the trace unless --expose is given
  --stop-signal SIGNAL   the image's StopSignal
  --compression gzip|zstd  layer compression of oci: images (zstd needs dit's native addon and
                         libzstd.so.1, or a Node.js with zstd in zlib)
  Times: every mtime is clamped to SOURCE_DATE_EPOCH when it is set, and 0 (1970-01-01) when not.
`;

export interface ImageOptionValues {
  image?: string[];
  entrypoint?: string;
  cmd?: string;
  workdir?: string;
  user?: string;
  label?: string[];
  expose?: string[];
  'stop-signal'?: string;
  compression?: string;
}

/** Parses and checks the image options; every mistake is a usage error (exit 2) before any work. */
export function parseImageOptions(
  values: ImageOptionValues,
  command: string,
  environment: NodeJS.ProcessEnv = process.env,
): { references: ImageReference[]; settings: ImageSettings } {
  const references = (values.image ?? []).map((text) => {
    try {
      return parseImageReference(text);
    } catch (error) {
      throw new UsageError(`${command}: --image ${(error as Error).message}`);
    }
  });
  const compression = values.compression;
  if (compression !== undefined && compression !== 'gzip' && compression !== 'zstd') {
    throw new UsageError(`${command}: --compression must be gzip or zstd (got "${compression}")`);
  }
  if (compression === 'zstd' && !zstdAvailable()) {
    throw new UsageError(
      `${command}: --compression zstd: dit's native addon cannot write it here (it needs libzstd.so.1) and this Node.js (${process.version}) has no zstd in node:zlib (22.15 and later have it); use gzip`,
    );
  }
  const keyValues = (list: string[] | undefined, option: string) =>
    (list ?? []).map((entry) => {
      const equals = entry.indexOf('=');
      if (equals <= 0) throw new UsageError(`${command}: ${option} ${entry}: expected KEY=VALUE`);
      return [entry.slice(0, equals), entry.slice(equals + 1)] as const;
    });
  const labels = Object.fromEntries(keyValues(values.label, '--label'));
  for (const port of values.expose ?? []) {
    if (!/^\d{1,5}(\/(tcp|udp|sctp))?$/.test(port) || Number(port.split('/')[0]) > 65535) {
      throw new UsageError(`${command}: --expose ${port}: expected PORT or PORT/tcp, PORT/udp, PORT/sctp`);
    }
  }
  if (values.workdir !== undefined && !values.workdir.startsWith('/')) {
    throw new UsageError(`${command}: --workdir ${values.workdir}: must be an absolute path`);
  }
  if (
    values.user !== undefined &&
    !/^[A-Za-z0-9_][A-Za-z0-9_.-]*(:[A-Za-z0-9_][A-Za-z0-9_.-]*)?$/.test(values.user)
  ) {
    throw new UsageError(`${command}: --user ${values.user}: expected USER, UID, USER:GROUP or UID:GID`);
  }
  return {
    references,
    settings: {
      entrypoint: jsonArray(values.entrypoint, '--entrypoint', command),
      cmd: jsonArray(values.cmd, '--cmd', command),
      workdir: values.workdir,
      user: values.user,
      labels,
      expose: values.expose,
      stopSignal: values['stop-signal'],
      compression: compression as 'gzip' | 'zstd' | undefined,
      sourceDateEpoch: sourceDateEpoch(environment, command),
    },
  };
}

function jsonArray(text: string | undefined, option: string, command: string): string[] | undefined {
  if (text === undefined) return undefined;
  let value: unknown;
  try {
    value = JSON.parse(text);
  } catch {
    value = null;
  }
  if (!Array.isArray(value) || !value.every((item) => typeof item === 'string')) {
    throw new UsageError(
      `${command}: ${option} ${text}: expected a JSON array of strings, like '["/app", "--serve"]'`,
    );
  }
  return value;
}

/** SOURCE_DATE_EPOCH as reproducible-builds.org defines it: a whole number of seconds. */
function sourceDateEpoch(environment: NodeJS.ProcessEnv, command: string): number | undefined {
  const text = environment.SOURCE_DATE_EPOCH;
  if (text === undefined || text === '') return undefined;
  if (!/^\d+$/.test(text)) {
    throw new UsageError(`${command}: SOURCE_DATE_EPOCH=${text}: expected a whole number of seconds`);
  }
  return Number(text);
}
