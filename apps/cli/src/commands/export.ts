import { existsSync, readFileSync } from 'node:fs';
import { constants as osConstants } from 'node:os';
import { resolve } from 'node:path';
import { parseArgs } from 'node:util';
import { formatBytes } from '@dit/explain';
import { type ExportReport, exportImage, type ProgressEvent } from '@dit/exporter';
import { refuseArgumentsNotUtf8 } from '../argument-bytes.js';
import { EXPORT_OPTIONS, parseExportOptions } from '../export-options.js';
import { IMAGE_HELP, IMAGE_OPTIONS, parseImageOptions } from '../image-options.js';
import { EXIT, type Io, UsageError } from '../io.js';
import { abortOnSignals, exitForFailure, Interrupted } from '../run-options.js';
import { parseServiceOptions, SERVICE_HELP, SERVICE_OPTIONS } from '../service-options.js';
import { exportWithImages } from './export-image.js';

export const exportHelp = `Usage: dit export (--path DIR | --image REF...) [options] [-- CMD [ARGS...]]

Copy exactly what CMD needs into DIR, so that \`FROM scratch\` + \`COPY --from=build DIR /\` runs it:
the libraries and loader of every program (as the loader would find them), every file the traced
CMD used, runtime data it depends on (NSS modules, CA certificates, gconv, the whole zone database
once a zone is read by name), and what you include. Then run CMD again inside DIR, isolated like a
container, and fail with the missing paths if it breaks. Without CMD, nothing is traced: DIR gets the closure of --binary and --include.

Options:
  --path DIR             the output folder: empty or missing (--force replaces it once the new export is complete)
  --binary FILE          also export FILE and its closure (repeatable)
  --include GLOB         also export what GLOB matches inside the root; an exact folder takes all of it but its
                         secrets (withheld, each named in a warning), an exact file even a secret (repeatable)
  --exclude GLOB         never export what GLOB matches (repeatable)
  --root DIR             read everything inside this unpacked image; CMD runs chrooted into it
  --library-path PATHS   LD_LIBRARY_PATH for resolving libraries
  --env NAME=VALUE       set a variable for CMD, as the image's ENV will (repeatable). CMD runs, traced
                         and verified, with the image's environment: PATH, HOME from the user's
                         /etc/passwd entry (exported with it) or /, and these; not the build's
  --keep-env             run CMD with dit's whole environment instead (plus --env)
  --force                replace a non-empty --path
  --keep-setuid          keep setuid/setgid bits (dropped by default)
  --no-verify            do not run CMD inside the export afterwards
  --timeout SECONDS      kill CMD (and everything it started) after this long
  --report FILE          write a JSON report: every file with size, mode, sha256 and why it is there
  --tar FILE             also write the export as a tar archive (owners, modes, links kept)
  --sbom [FORMAT:]FILE   also write a software bill of materials: cyclonedx-json (CycloneDX 1.6, the
                         default) or spdx-json (SPDX 2.3); packages with purls, licenses, dependencies,
                         application files with digests (repeatable)
  --dedupe               store identical files once, as hard links (off: writing one would change the other)
  --no-package-metadata  leave out what scanners read: /var/lib/dpkg/status.d records of the Debian
                         packages the files come from, their copyright files, os-release, debian_version
  --no-explain-record    leave out /var/lib/dit/explain.json, the record of why each file is in that
                         \`dit explain --path DIR\` reads (no command line, host path or pid in it)
  -q, --quiet            no progress on stderr
  -h, --help             show this help

${IMAGE_HELP}
${SERVICE_HELP}
dit never deletes what was at --path unless the new export is complete: it is built beside DIR (or
inside it, when DIR is a mount point) and renamed into place. --path may not be empty, /, a system
folder or your home folder with something in it, the --root, or hold what the export is made from;
--tar and --report may not lie inside it.

Exit status:
  0    exported (and verified)
  1    exported, but CMD does not run inside the export (the missing paths are listed); no --image written
  2    bad input; nothing was exported and --path is as it was. Also a server that exits before it
       is ready, is not ready within --ready-timeout, fails a probe or outlives --stop-timeout (it and
       everything it started are killed)
  3    the export could not be written (no space, read-only, permission denied, ...); nothing was
       exported and --path is as it was
  70   an internal error of dit (a bug: please report it; DEBUG=dit shows the stack)
  130, 143  stopped by SIGINT/SIGTERM: CMD and what it started are killed; nothing is left at DIR
       unless the export was complete, and then it stays, unverified
`;

export async function exportCommand(argv: string[], io: Io): Promise<number> {
  const split = argv.indexOf('--');
  const own = split < 0 ? argv : argv.slice(0, split);
  const command = split < 0 ? [] : argv.slice(split + 1);
  const { values, positionals } = parseArgs({
    args: own,
    allowPositionals: true,
    options: {
      ...EXPORT_OPTIONS,
      root: { type: 'string' },
      'library-path': { type: 'string' },
      'keep-env': { type: 'boolean' },
      ...IMAGE_OPTIONS,
      ...SERVICE_OPTIONS,
      quiet: { type: 'boolean', short: 'q' },
      help: { type: 'boolean', short: 'h' },
    },
  });
  if (values.help) {
    io.stdout(exportHelp);
    return EXIT.ok;
  }
  if (positionals.length > 0) {
    throw new UsageError(`export: unexpected "${positionals[0]}" (the command goes after --)`);
  }
  if (values.path === undefined && !values.image?.length)
    throw new UsageError('export: --path DIR or --image REF is required');
  const image = parseImageOptions(values, 'export');
  refuseArgumentsNotUtf8(argv, 'export');
  if (split >= 0 && command.length === 0) throw new UsageError('export: nothing after --');
  if (command.length === 0 && !values.binary?.length && !values.include?.length) {
    throw new UsageError(
      'export: give a command after --, or --binary, or --include: there is nothing to export',
    );
  }
  const shared = parseExportOptions(values, 'export');
  const service = parseServiceOptions(values, own, 'export', { image: Boolean(values.image?.length) });
  if (service !== undefined && command.length === 0) {
    throw new UsageError('export: a server needs its command after -- (the probes ask it)');
  }

  const progress = (event: ProgressEvent) => {
    if (values.quiet) return;
    switch (event.stage) {
      case 'trace':
        io.stderr(`dit: tracing ${event.command.join(' ')}\n`);
        break;
      case 'copy':
        if (event.done === event.total) io.stderr(`dit: copied ${event.total} files\n`);
        break;
      case 'verifying':
        // How it was isolated comes in the summary line, once the check has run.
        io.stderr('dit: verifying inside the export\n');
        break;
    }
  };

  // SIGINT or SIGTERM stops the export cleanly (run-options.ts).
  const interruption = abortOnSignals();
  let report: ExportReport;
  try {
    const exportOptions = {
      ...shared,
      path: values.path as string,
      command,
      root: values.root,
      libraryPath: values['library-path'],
      // The image's environment unless --keep-env: the build's HOME and variables would make the
      // proof pass where the runtime fails.
      env: values['keep-env'] ? process.env : undefined,
      service,
      // An image gets the users it runs as (identity.ts in @dit/exporter); --user alone asks for them too.
      identity: image.references.length > 0 || values.user !== undefined ? { user: values.user } : undefined,
      toolVersion: ditVersion(),
      onProgress: progress,
      signal: interruption.signal,
    };
    report =
      image.references.length === 0
        ? await exportImage(exportOptions)
        : await exportWithImages(exportOptions, image, io);
  } catch (error) {
    const failed = exitForFailure(error, 'export', io);
    if (failed !== undefined) return failed;
    if (error instanceof Interrupted) {
      const left =
        values.path !== undefined && existsSync(resolve(values.path))
          ? `${values.path} holds the export, not (fully) verified`
          : 'nothing was exported';
      io.stderr(
        `dit: export: stopped by ${error.signal}; the command and what it started were killed, ${left}\n`,
      );
      // The shell's convention for a death by signal: 128 + its number.
      return 128 + osConstants.signals[error.signal];
    }
    throw error;
  } finally {
    interruption.release();
  }

  for (const warning of report.warnings) io.stderr(`dit: warning: ${warning}\n`);
  if (!values.quiet) for (const line of packageLines(report)) io.stderr(`dit: ${line}\n`);
  const summary = `exported ${report.totals.files} files, ${report.totals.symlinks} symlinks (${formatBytes(report.totals.bytes)}) to ${values.path === undefined ? values.image?.join(', ') : report.output}`;
  const verification = report.verification;
  if (verification === null) {
    io.stdout(`${summary}${command.length > 0 ? ' (not verified: --no-verify)' : ''}\n`);
    return EXIT.ok;
  }
  if (verification.ok) {
    const proven =
      service === undefined
        ? 'the command runs inside it'
        : 'the server runs inside it and answers its probes';
    io.stdout(`${summary}; verified: ${proven} (${verification.isolation})\n`);
    return EXIT.ok;
  }
  io.stdout(`${summary}; NOT verified\n`);
  if (!verification.ran) {
    io.stderr(`dit: verification could not run: ${verification.note}\n`);
    return EXIT.incomplete;
  }
  io.stderr(`dit: verification failed: ${verification.note}\n`);
  if (verification.missing.length > 0) {
    io.stderr(
      'dit: these paths exist in the source but not in the export; each could be added with --include:\n',
    );
    for (const path of verification.missing) io.stderr(`  --include ${path}\n`);
  }
  return EXIT.incomplete;
}

/** dit's version for SBOMs: written into the bundles at build time, else read from the CLI's package.json. */
export function ditVersion(): string {
  if (process.env.DIT_BUNDLED_VERSION) return process.env.DIT_BUNDLED_VERSION;
  try {
    const manifest = JSON.parse(readFileSync(new URL('../../package.json', import.meta.url), 'utf8')) as {
      version: string;
    };
    return manifest.version;
  } catch {
    return 'unknown';
  }
}

/** What the scanner metadata cost, and the few packages that weigh most in the export. */
function packageLines(report: ExportReport): string[] {
  const lines: string[] = [];
  const metadata = report.packageMetadata;
  if (metadata !== null && metadata.packages > 0) {
    lines.push(
      `package metadata for scanners: ${metadata.packages} packages recorded in /var/lib/dpkg/status.d, ` +
        `${metadata.files} files, ${formatBytes(metadata.bytes)} added (--no-package-metadata leaves them out)`,
    );
  }
  if (report.packages.length > 0) {
    const biggest = report.packages
      .slice(0, 5)
      .map((pkg) => `${pkg.name} ${formatBytes(pkg.bytes)}`)
      .join(', ');
    lines.push(
      `biggest packages: ${biggest}${report.packages.length > 5 ? ` (of ${report.packages.length})` : ''}`,
    );
  }
  return lines;
}
