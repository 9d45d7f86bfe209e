import { constants as osConstants } from 'node:os';
import { parseArgs } from 'node:util';
import type { ProgressEvent } from '@dit/exporter';
import { minifyImage, parseImageReference } from '@dit/image';
import { refuseArgumentsNotUtf8 } from '../argument-bytes.js';
import { EXPORT_OPTIONS, parseExportOptions } from '../export-options.js';
import { IMAGE_HELP, IMAGE_OPTIONS, parseImageOptions } from '../image-options.js';
import { EXIT, type Io, UsageError } from '../io.js';
import { abortOnSignals, exitForFailure, Interrupted } from '../run-options.js';
import { parseServiceOptions, SERVICE_HELP, SERVICE_OPTIONS } from '../service-options.js';
import { ditVersion } from './export.js';
import { imageLines } from './export-image.js';

export const minifyHelp = `Usage: dit minify SRC DEST [options] [-- CMD [ARGS...]]

Make an existing image small, without a daemon and without its Dockerfile: SRC's layers are
unpacked in order (whiteouts applied; a layer that writes outside its root, links out of it or
makes a device node is refused), CMD (default: SRC's Entrypoint + Cmd) is traced chrooted into it
as SRC's user, in its WorkingDir, with its Env, exactly what it needs is exported and verified, and
DEST is written with SRC's config (Env, WorkingDir, User, Entrypoint, Cmd, ExposedPorts, Labels,
StopSignal, Volumes) and history, a dit entry added.

SRC and DEST: oci:DIR[:TAG], oci-archive:FILE[:TAG], docker-archive:FILE[:NAME:TAG] (what
\`podman save\` and \`docker save\` write, with --format oci-archive too).

Options:
  --include GLOB, --exclude GLOB, --binary FILE   as for dit export, inside SRC's root (repeatable)
  --env K=V              set a variable for CMD and in DEST's Env (repeatable)
  --path DIR             also keep the export as a folder
  --report FILE          write dit export's JSON report
  --tar FILE             also write the export as a tar archive
  --sbom [FORMAT:]FILE   also write an SBOM: cyclonedx-json (default) or spdx-json (repeatable)
  --dedupe               store identical files once, as hard links
  --timeout SECONDS      kill CMD (and everything it started) after this long
  --no-verify            do not run CMD inside the export afterwards
  --keep-setuid          keep setuid/setgid bits (dropped by default)
  --no-package-metadata  leave out what scanners read
  --no-explain-record    leave out /var/lib/dit/explain.json (why each file is in; dit explain --path)
  --force                replace a non-empty --path
  -q, --quiet            no progress on stderr
  -h, --help             show this help

${IMAGE_HELP}  Settings given here replace SRC's (--label and --expose add to them); --image adds more DESTs.

${SERVICE_HELP}  Here --probe and --ready command lines run chrooted into SRC's root (never traced), so
  they use SRC's clients (psql, redis-cli), not this machine's.

Exit status: as dit export's: 0 written and verified; 1 CMD does not run inside the export (nothing
written); 2 bad input (SRC unreadable or not an image, a hostile layer, a bad DEST, CMD failing); 3
DEST or the staging could not be written; 70 internal error; 130, 143 stopped by SIGINT/SIGTERM.
`;

export async function minifyCommand(argv: string[], io: Io): Promise<number> {
  const split = argv.indexOf('--');
  const own = split < 0 ? argv : argv.slice(0, split);
  const command = split < 0 ? [] : argv.slice(split + 1);
  const { values, positionals } = parseArgs({
    args: own,
    allowPositionals: true,
    options: {
      ...EXPORT_OPTIONS,
      ...IMAGE_OPTIONS,
      ...SERVICE_OPTIONS,
      quiet: { type: 'boolean', short: 'q' },
      help: { type: 'boolean', short: 'h' },
    },
  });
  if (values.help) {
    io.stdout(minifyHelp);
    return EXIT.ok;
  }
  if (positionals.length !== 2) {
    throw new UsageError(
      `minify: expected SRC and DEST (got ${positionals.length} names; the command goes after --)`,
    );
  }
  refuseArgumentsNotUtf8(argv, 'minify');
  if (split >= 0 && command.length === 0) throw new UsageError('minify: nothing after --');
  const reference = (text: string, what: string) => {
    try {
      return parseImageReference(text);
    } catch (error) {
      throw new UsageError(`minify: ${what} ${(error as Error).message}`);
    }
  };
  const source = reference(positionals[0]!, 'SRC');
  const destination = reference(positionals[1]!, 'DEST');
  const image = parseImageOptions(values, 'minify');
  const shared = parseExportOptions(values, 'minify');
  // A server (any probe or readiness check) is started, probed and stopped as by dit export; without
  // one, --stop-signal is only the image's StopSignal.
  const service = parseServiceOptions(values, own, 'minify', { image: true });
  const progress = (event: ProgressEvent) => {
    if (values.quiet) return;
    if (event.stage === 'trace')
      io.stderr(`dit: tracing ${event.command.join(' ')} inside ${positionals[0]}\n`);
    if (event.stage === 'verifying') io.stderr('dit: verifying inside the export\n');
  };
  const interruption = abortOnSignals();
  try {
    if (!values.quiet) io.stderr(`dit: unpacking ${positionals[0]}\n`);
    const { report, images } = await minifyImage({
      ...shared,
      source,
      targets: [destination, ...image.references],
      command,
      service,
      image: image.settings,
      toolVersion: ditVersion(),
      onProgress: progress,
      signal: interruption.signal,
    });
    for (const warning of report.warnings) io.stderr(`dit: warning: ${warning}\n`);
    for (const line of imageLines(images)) io.stderr(`dit: ${line}\n`);
    const summary = `minified ${positionals[0]} to ${report.totals.files} files, ${report.totals.symlinks} symlinks (${(report.totals.bytes / 1024 / 1024).toFixed(1)} MiB)`;
    const verification = report.verification;
    if (verification === null || verification.ok) {
      io.stdout(
        `${summary}${verification === null ? ' (not verified: --no-verify)' : `; verified (${verification.isolation})`}\n`,
      );
      return EXIT.ok;
    }
    io.stdout(`${summary}; NOT verified: nothing written to ${positionals[1]}\n`);
    io.stderr(`dit: verification ${verification.ran ? 'failed' : 'could not run'}: ${verification.note}\n`);
    for (const path of verification.missing) io.stderr(`  --include ${path}\n`);
    return EXIT.incomplete;
  } catch (error) {
    const failed = exitForFailure(error, 'minify', io);
    if (failed !== undefined) return failed;
    if (error instanceof Interrupted) {
      io.stderr(
        `dit: minify: stopped by ${error.signal}; the command and what it started were killed, nothing was written\n`,
      );
      return 128 + osConstants.signals[error.signal];
    }
    throw error;
  } finally {
    interruption.release();
  }
}
