import { mkdtempSync, rmSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { type ExportOptions, type ExportReport, exportImage } from '@dit/exporter';
import type { HistoryEntry, RunConfig } from './config.js';
import type { ImageReference } from './reference.js';
import { checkImageTargets } from './targets.js';
import { type WrittenImage, writeImage } from './write.js';

/** What the image says about running it, on top of what the export decides. */
export interface ImageSettings {
  /** Default: the check command as given. */
  readonly entrypoint?: readonly string[];
  readonly cmd?: readonly string[];
  /** `K=V` after PATH (a PATH here replaces the check's). */
  readonly env?: readonly string[];
  /** The Env to start from instead of the check's PATH (dit minify: the source image's Env). */
  readonly baseEnv?: readonly string[];
  /** The image's WorkingDir, and where the check runs (default `/`: where the image will run it). */
  readonly workdir?: string;
  readonly user?: string;
  readonly labels?: Readonly<Record<string, string>>;
  /** `80`, `80/tcp`, `53/udp`. Default: the TCP ports the traced run listened on. */
  readonly expose?: readonly string[];
  readonly stopSignal?: string;
  readonly volumes?: readonly string[];
  readonly compression?: 'gzip' | 'zstd';
  /** SOURCE_DATE_EPOCH (seconds); undefined: 0 (see writeLayer). */
  readonly sourceDateEpoch?: number;
  /** History of the image this one replaces (dit minify), kept as empty layers before dit's entry. */
  readonly baseHistory?: readonly HistoryEntry[];
  /** dit's history entry: what made the layer. */
  readonly createdBy?: string;
}

export interface ImageExportOptions extends Omit<ExportOptions, 'path'> {
  /** Also keep the export as a folder here; without it the export is staged in a temporary folder removed after. */
  readonly path?: string;
  readonly images: readonly ImageReference[];
  readonly image?: ImageSettings;
}

export interface ImageExportResult {
  readonly report: ExportReport;
  /** Empty when the verification failed: an image whose check fails inside it is not written. */
  readonly images: readonly WrittenImage[];
}

/**
 * `dit export --image`: every image output is checked before any work, the export is made (in
 * `path`, or in a temporary folder beside the first image that is removed after), verified, and
 * written as a one-layer image to every target.
 */
export async function exportAsImages(options: ImageExportOptions): Promise<ImageExportResult> {
  const settings = options.image ?? {};
  const targets = checkImageTargets(options.images, options.path === undefined ? [] : [options.path]);
  const temporary =
    options.path === undefined && targets.length > 0
      ? mkdtempSync(join(dirname(targets[0]!.path), '.dit-export-'))
      : null;
  try {
    const env = options.env ?? process.env;
    const report = await exportImage({
      ...options,
      path: options.path ?? join(temporary!, 'export'),
      cwd: options.cwd ?? settings.workdir ?? '/',
    });
    if (report.verification !== null && !report.verification.ok) return { report, images: [] };
    const command = report.command ?? [];
    const images = await writeImage({
      folder: report.output,
      targets,
      run: runConfig({ ...settings, expose: settings.expose ?? listenedPorts(report) }, command, env.PATH),
      baseHistory: settings.baseHistory,
      createdBy: settings.createdBy ?? `dit export${command.length > 0 ? ` -- ${command.join(' ')}` : ''}`,
      toolVersion: options.toolVersion ?? 'unknown',
      compression: settings.compression,
      sourceDateEpoch: settings.sourceDateEpoch,
    });
    return { report, images };
  } finally {
    if (temporary !== null) rmSync(temporary, { recursive: true, force: true });
  }
}

/**
 * The TCP ports a server listened on under the trace, as ExposedPorts keys: what a runtime should
 * publish, unless --expose names them. Only in service mode: a check command that is not a server
 * may start one for a moment (a self-test), and that is not what the image serves. Sorted, not in
 * the order listened: workers that listen in parallel must not change the digest between builds.
 */
export function listenedPorts(report: ExportReport): string[] {
  if (report.trace?.service === undefined) return [];
  const ports = new Set(report.trace.listening.map((socket) => socket.port));
  return [...ports].sort((a, b) => a - b).map((port) => `${port}/tcp`);
}

/** The image's run settings: the check as Entrypoint unless told otherwise, the check's PATH first in Env. */
export function runConfig(
  settings: ImageSettings,
  command: readonly string[],
  path: string | undefined,
): RunConfig {
  const env = [...(settings.baseEnv ?? (path === undefined ? [] : [`PATH=${path}`]))];
  for (const entry of settings.env ?? []) {
    const name = entry.slice(0, entry.indexOf('='));
    const same = env.findIndex((existing) => existing.startsWith(`${name}=`));
    if (same >= 0) env[same] = entry;
    else env.push(entry);
  }
  const entrypoint = settings.entrypoint ?? (command.length > 0 ? command : undefined);
  return {
    User: settings.user,
    ExposedPorts: Object.fromEntries(
      (settings.expose ?? []).map((port) => [port.includes('/') ? port : `${port}/tcp`, {}]),
    ),
    Env: env,
    Entrypoint: entrypoint,
    Cmd: settings.cmd,
    Volumes: Object.fromEntries((settings.volumes ?? []).map((volume) => [volume, {}])),
    WorkingDir: settings.workdir ?? '/',
    Labels: settings.labels,
    StopSignal: settings.stopSignal,
  };
}
