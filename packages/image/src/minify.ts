import { mkdirSync, rmSync } from 'node:fs';
import { basename, dirname, join } from 'node:path';
import { makeWorkFolder, type Probe, sweepKilledRuns } from '@dit/exporter';
import { ImageError } from './errors.js';
import {
  exportAsImages,
  type ImageExportOptions,
  type ImageExportResult,
  type ImageSettings,
} from './export-image.js';
import { readImage } from './read.js';
import { formatImageReference, type ImageReference } from './reference.js';
import { checkImageTargets } from './targets.js';
import { unpackLayers } from './unpack.js';

export interface MinifyOptions
  extends Omit<ImageExportOptions, 'root' | 'images' | 'cwd' | 'env' | 'identity'> {
  /** The image to make small: `oci:`, `oci-archive:` or `docker-archive:` (what `podman save` and `docker save` write). */
  readonly source: ImageReference;
  readonly targets: readonly ImageReference[];
  /** The check; default the source's Entrypoint + Cmd. */
  readonly command?: readonly string[];
  /** Settings given on the command line: each replaces the source's (labels and ports are added). */
  readonly image?: ImageSettings;
}

/**
 * `dit minify`: the source image's layers unpacked in order into a staging root (whiteouts applied,
 * confined: unpack.ts), exported from there with `--root` semantics (the check traced chrooted into
 * it, as the source's user, in its WorkingDir, with its Env), and written to every target carrying
 * the source's config (Env, WorkingDir, User, Entrypoint, Cmd, ExposedPorts, Labels, StopSignal,
 * Volumes) and history (its entries kept as empty layers), dit's entry added. The staging root
 * lies beside the first target and is removed after.
 */
export async function minifyImage(options: MinifyOptions): Promise<ImageExportResult> {
  const targets = checkImageTargets(options.targets, options.path === undefined ? [] : [options.path]);
  if (targets.length === 0)
    throw new ImageError('IMAGE_BAD_REFERENCE', 'dit minify needs a destination image');
  const source = readImage(options.source);
  const run = source.config.config ?? {};
  const given = options.image ?? {};
  const command =
    options.command !== undefined && options.command.length > 0
      ? [...options.command]
      : [...(run.Entrypoint ?? []), ...(run.Cmd ?? [])];
  if (command.length === 0) {
    throw new ImageError(
      'IMAGE_BAD_SOURCE',
      `${formatImageReference(options.source)}: has no Entrypoint or Cmd to check; give the check after --`,
    );
  }
  // A killed minify leaves an unpacked root the size of the source image: the next run removes it.
  sweepKilledRuns(dirname(targets[0]!.path));
  const staging = makeWorkFolder(dirname(targets[0]!.path), 'minify');
  try {
    const root = join(staging, 'root');
    mkdirSync(root, { mode: 0o755 });
    const unpackWarnings = await unpackLayers(source.layers, root);
    const imageEnv = Object.fromEntries(
      (run.Env ?? []).map((entry) => [
        entry.slice(0, entry.indexOf('=')),
        entry.slice(entry.indexOf('=') + 1),
      ]),
    );
    const user = given.user ?? (run.User || undefined);
    // A server's --probe and --ready command lines run inside the source's root: its clients
    // (psql, redis-cli) are there, as they are in a build stage for dit export; the machine
    // running dit minify need not have them.
    const inRoot = (probe: Probe): Probe => (probe.kind === 'command' ? { ...probe, root } : probe);
    const service =
      options.service === undefined
        ? undefined
        : {
            ...options.service,
            probes: options.service.probes.map(inRoot),
            ready: options.service.ready === undefined ? undefined : inRoot(options.service.ready),
          };
    const result = await exportAsImages({
      ...options,
      service,
      root,
      command,
      images: targets,
      // The check runs as the image will: its Env (then --env), its user, its working folder.
      setEnv: { ...imageEnv, ...(options.setEnv ?? {}) },
      identity: { user },
      image: {
        ...given,
        entrypoint: given.entrypoint ?? run.Entrypoint ?? [],
        cmd: given.cmd ?? run.Cmd,
        baseEnv: run.Env ?? [],
        workdir: given.workdir ?? (run.WorkingDir || undefined),
        user,
        labels: { ...(run.Labels ?? {}), ...(given.labels ?? {}) },
        expose: [...Object.keys(run.ExposedPorts ?? {}), ...(given.expose ?? [])],
        stopSignal: given.stopSignal ?? run.StopSignal,
        volumes: [...Object.keys(run.Volumes ?? {}), ...(given.volumes ?? [])],
        baseHistory: source.config.history ?? [],
        // The source by file name only: where it lay must not change the digest.
        createdBy: `dit minify ${options.source.transport}:${basename(options.source.path)}${options.command?.length ? ` -- ${command.join(' ')}` : ''}`,
      },
    });
    return {
      ...result,
      report: { ...result.report, warnings: [...unpackWarnings, ...result.report.warnings] },
    };
  } finally {
    rmSync(staging, { recursive: true, force: true });
  }
}
