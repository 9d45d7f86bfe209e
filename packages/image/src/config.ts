import { closeSync, lstatSync, openSync, readdirSync, readSync } from 'node:fs';
import { join } from 'node:path';
import { isElfMagic, readElfHeaderSync } from '@dit/elf';
import { ImageError } from './errors.js';
import type { Layer } from './layer.js';

/** The runtime part of an image config (the OCI spec's `config`), as dit writes and reads it. */
export interface RunConfig {
  readonly User?: string;
  readonly ExposedPorts?: Readonly<Record<string, object>>;
  readonly Env?: readonly string[];
  readonly Entrypoint?: readonly string[];
  readonly Cmd?: readonly string[];
  readonly Volumes?: Readonly<Record<string, object>>;
  readonly WorkingDir?: string;
  readonly Labels?: Readonly<Record<string, string>>;
  readonly StopSignal?: string;
}

export interface HistoryEntry {
  readonly created?: string;
  readonly created_by?: string;
  readonly comment?: string;
  readonly empty_layer?: boolean;
}

export interface Platform {
  readonly architecture: string;
  readonly os: string;
  readonly variant?: string;
}

/** OCI image config (application/vnd.oci.image.config.v1+json), keys in the spec's order. */
export interface ImageConfig extends Platform {
  readonly created: string;
  readonly config: RunConfig;
  readonly rootfs: { readonly type: 'layers'; readonly diff_ids: readonly string[] };
  readonly history: readonly HistoryEntry[];
}

/** The timestamp every generated field uses: SOURCE_DATE_EPOCH, or 0 (see LayerOptions). */
export function createdAt(sourceDateEpoch: number | undefined): string {
  return new Date((sourceDateEpoch ?? 0) * 1000).toISOString().replace('.000Z', 'Z');
}

/** The config of an image made of `layers` on top of nothing, with `history` (one entry per layer). */
export function imageConfig(options: {
  readonly platform: Platform;
  readonly run: RunConfig;
  readonly layers: readonly Pick<Layer, 'diffId'>[];
  readonly history: readonly HistoryEntry[];
  readonly sourceDateEpoch?: number;
}): ImageConfig {
  const { architecture, os, variant } = options.platform;
  return {
    created: createdAt(options.sourceDateEpoch),
    architecture,
    os,
    ...(variant === undefined ? {} : { variant }),
    config: compactRun(options.run),
    rootfs: { type: 'layers', diff_ids: options.layers.map((layer) => layer.diffId) },
    history: options.history,
  };
}

/** A RunConfig without its empty fields, keys in one fixed order (JSON text, hence digests, depend on it). */
export function compactRun(run: RunConfig): RunConfig {
  const out: Record<string, unknown> = {};
  const order: (keyof RunConfig)[] = [
    'User',
    'ExposedPorts',
    'Env',
    'Entrypoint',
    'Cmd',
    'Volumes',
    'WorkingDir',
    'Labels',
    'StopSignal',
  ];
  for (const key of order) {
    const value = run[key];
    if (value === undefined || value === '' || value === null) continue;
    if (Array.isArray(value) && value.length === 0) continue;
    if (typeof value === 'object' && !Array.isArray(value) && Object.keys(value).length === 0) continue;
    out[key] =
      typeof value === 'object' && !Array.isArray(value)
        ? sortedObject(value as Record<string, unknown>)
        : value;
  }
  return out as RunConfig;
}

function sortedObject(value: Record<string, unknown>): Record<string, unknown> {
  return Object.fromEntries(Object.entries(value).sort(([a], [b]) => (a < b ? -1 : a > b ? 1 : 0)));
}

/** ELF e_machine → the OCI (Go) architecture name. */
const ARCHITECTURES: Record<number, string> = {
  3: '386',
  8: 'mips',
  20: 'ppc',
  21: 'ppc64le',
  22: 's390x',
  40: 'arm',
  62: 'amd64',
  183: 'arm64',
  243: 'riscv64',
  258: 'loong64',
};

/**
 * The platform of an export, from its ELF files: the machine every ELF file is built for. Files for
 * two machines (an x86-64 program beside an aarch64 one) are an error: an image runs on one.
 * Without any ELF file (a shell script on a busybox someone else provides) it is this machine's.
 */
export function platformOf(folder: string): Platform {
  const machines = new Map<string, string>();
  const visit = (relative: string) => {
    for (const name of readdirSync(join(folder, relative)).sort()) {
      const rel = `${relative}/${name}`;
      const path = join(folder, rel);
      const stat = lstatSync(path);
      if (stat.isDirectory()) visit(rel);
      else if (stat.isFile() && stat.size >= 64 && hasElfMagic(path)) {
        let machine: number;
        try {
          machine = readElfHeaderSync(path).header.machine;
        } catch {
          continue; // not a well-formed ELF file: it says nothing about the platform
        }
        const architecture = ARCHITECTURES[machine] ?? `elf-machine-${machine}`;
        if (!machines.has(architecture)) machines.set(architecture, rel);
      }
    }
  };
  visit('');
  if (machines.size > 1) {
    const list = [...machines].map(([arch, file]) => `${arch} (${file})`).join(', ');
    throw new ImageError(
      'IMAGE_BAD_SOURCE',
      `the export holds ELF files for more than one architecture: ${list}`,
    );
  }
  const [architecture] = [...machines.keys()];
  return { architecture: architecture ?? hostArchitecture(), os: 'linux' };
}

function hostArchitecture(): string {
  const names: Record<string, string> = {
    x64: 'amd64',
    arm64: 'arm64',
    ia32: '386',
    arm: 'arm',
    s390x: 's390x',
    ppc64: 'ppc64le',
    riscv64: 'riscv64',
  };
  return names[process.arch] ?? process.arch;
}

function hasElfMagic(path: string): boolean {
  const head = Buffer.alloc(4);
  let fd: number | null = null;
  try {
    fd = openSync(path, 'r');
    readSync(fd, head, 0, 4, 0);
    return isElfMagic(head);
  } catch {
    return false;
  } finally {
    if (fd !== null) closeSync(fd);
  }
}
