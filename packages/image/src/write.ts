import { createHash } from 'node:crypto';
import {
  copyFileSync,
  existsSync,
  mkdirSync,
  readFileSync,
  renameSync,
  rmSync,
  writeFileSync,
} from 'node:fs';
import { dirname, join } from 'node:path';
import { makeWorkFolder, partialFile, sweepKilledRuns } from '@dit/exporter';
import { type ArchiveMember, writeArchiveFile } from './archive-file.js';
import {
  type HistoryEntry,
  type ImageConfig,
  imageConfig,
  type Platform,
  platformOf,
  type RunConfig,
} from './config.js';
import { ImageError } from './errors.js';
import { type Compression, type Layer, writeLayer } from './layer.js';
import { formatImageReference, type ImageReference } from './reference.js';

export interface WriteImageOptions {
  /** The tree that becomes the image's one layer (an export folder, or a staging copy of one). */
  readonly folder: string;
  /** Where to write it; check them first with checkImageTargets. */
  readonly targets: readonly ImageReference[];
  /** Entrypoint, Cmd, Env, User, ... of the image. */
  readonly run: RunConfig;
  /** History before dit's own entry (a minified image's source history); their layers are gone, so they are kept as empty layers. */
  readonly baseHistory?: readonly HistoryEntry[];
  /** dit's entry: what made the layer (`dit export -- ...`), and the tool's version as its comment. */
  readonly createdBy: string;
  readonly toolVersion: string;
  /** Default: read from the folder's ELF files. */
  readonly platform?: Platform;
  /** The layer's compression in `oci:` and `oci-archive:` images (docker-archive layers are plain tar, as `docker save` writes them). Default gzip. */
  readonly compression?: 'gzip' | 'zstd';
  /** SOURCE_DATE_EPOCH; undefined means 0 (see LayerOptions). */
  readonly sourceDateEpoch?: number;
}

export interface WrittenImage {
  readonly reference: string;
  /** `sha256:...` of the manifest (what a registry and `skopeo inspect` call the image's digest); null for docker-archive, which has none. */
  readonly manifestDigest: string | null;
  /** `sha256:...` of the config: the image ID podman and docker show. */
  readonly configDigest: string;
  readonly layer: Layer;
}

const MANIFEST = 'application/vnd.oci.image.manifest.v1+json';
const CONFIG = 'application/vnd.oci.image.config.v1+json';
const INDEX = 'application/vnd.oci.image.index.v1+json';
const LAYOUT = Buffer.from('{"imageLayoutVersion":"1.0.0"}');

interface Blob {
  readonly digest: string;
  readonly size: number;
  readonly data: Buffer;
}

function blobOf(value: unknown): Blob {
  const data = Buffer.from(JSON.stringify(value));
  return { digest: `sha256:${createHash('sha256').update(data).digest('hex')}`, size: data.length, data };
}

const hex = (digest: string) => digest.slice('sha256:'.length);

/**
 * Writes `folder` as a one-layer image to every target. Reproducible: the same tree and settings
 * give byte-identical blobs, hence the same digests (see writeLayer). Each archive is written beside
 * its place and renamed in; an `oci:` layout gets its blobs first and its index.json last, renamed in.
 */
export async function writeImage(options: WriteImageOptions): Promise<WrittenImage[]> {
  if (options.targets.length === 0) return [];
  const platform = options.platform ?? platformOf(options.folder);
  for (const target of options.targets) {
    sweepKilledRuns(dirname(target.path));
    if (target.transport === 'oci') {
      sweepKilledRuns(target.path);
      sweepKilledRuns(join(target.path, 'blobs', 'sha256'));
    }
  }
  const work = makeWorkFolder(dirname(options.targets[0]!.path), 'image');
  try {
    const layers = new Map<Compression, { layer: Layer; file: string }>();
    const layerAs = async (compression: Compression) => {
      let made = layers.get(compression);
      if (made === undefined) {
        const file = join(work, `layer.${compression}`);
        const layer = await writeLayer(options.folder, file, {
          compression,
          sourceDateEpoch: options.sourceDateEpoch,
        });
        made = { layer, file };
        layers.set(compression, made);
      }
      return made;
    };
    const compressionOf = (target: ImageReference): Compression =>
      target.transport === 'docker-archive' ? 'none' : (options.compression ?? 'gzip');
    // The config names the uncompressed tar (diff_id), the same for every target: one image ID.
    const plain = await layerAs(compressionOf(options.targets[0]!));
    const config = imageConfig({
      platform,
      run: options.run,
      layers: [plain.layer],
      history: [
        ...(options.baseHistory ?? []).map((entry) => ({ ...entry, empty_layer: true })),
        {
          created: new Date((options.sourceDateEpoch ?? 0) * 1000).toISOString().replace('.000Z', 'Z'),
          created_by: options.createdBy,
          comment: `dit ${options.toolVersion}`,
        },
      ],
      sourceDateEpoch: options.sourceDateEpoch,
    });
    const configBlob = blobOf(config);
    const written: WrittenImage[] = [];
    for (const target of options.targets) {
      const { layer, file } = await layerAs(compressionOf(target));
      const result = await writeTarget(target, {
        config,
        configBlob,
        layer,
        layerFile: file,
        epoch: options.sourceDateEpoch ?? 0,
      });
      written.push({
        reference: formatImageReference(target),
        manifestDigest: result,
        configDigest: configBlob.digest,
        layer,
      });
    }
    return written;
  } finally {
    rmSync(work, { recursive: true, force: true });
  }
}

interface Parts {
  readonly config: ImageConfig;
  readonly configBlob: Blob;
  readonly layer: Layer;
  readonly layerFile: string;
  readonly epoch: number;
}

function ociManifest(parts: Parts): Blob {
  return blobOf({
    schemaVersion: 2,
    mediaType: MANIFEST,
    config: { mediaType: CONFIG, digest: parts.configBlob.digest, size: parts.configBlob.size },
    layers: [{ mediaType: parts.layer.mediaType, digest: parts.layer.digest, size: parts.layer.size }],
  });
}

function indexEntry(manifest: Blob, tag: string | null, platform: Platform): object {
  return {
    mediaType: MANIFEST,
    digest: manifest.digest,
    size: manifest.size,
    ...(tag === null ? {} : { annotations: { 'org.opencontainers.image.ref.name': tag } }),
    platform: { architecture: platform.architecture, os: platform.os },
  };
}

async function writeTarget(target: ImageReference, parts: Parts): Promise<string | null> {
  const named = formatImageReference(target);
  try {
    if (target.transport === 'docker-archive') {
      await writeDockerArchive(target.path, target.name, parts);
      return null;
    }
    const manifest = ociManifest(parts);
    if (target.transport === 'oci') writeOciLayout(target.path, target.tag, manifest, parts);
    else await writeOciArchive(target.path, target.tag, manifest, parts);
    return manifest.digest;
  } catch (error) {
    if (error instanceof ImageError) throw error;
    throw new ImageError('IMAGE_WRITE_FAILED', `--image ${named}: ${(error as Error).message}`, {
      cause: error,
    });
  }
}

/** An OCI image layout folder: blobs first (each renamed in), index.json last, merged with what is there. */
function writeOciLayout(folder: string, tag: string | null, manifest: Blob, parts: Parts): void {
  const blobs = join(folder, 'blobs', 'sha256');
  mkdirSync(blobs, { recursive: true });
  const put = (digest: string, write: (partial: string) => void) => {
    const path = join(blobs, hex(digest));
    if (existsSync(path)) return; // content addressed: what is there is the same
    const partial = partialFile(path);
    write(partial);
    renameSync(partial, path);
  };
  put(parts.layer.digest, (partial) => copyFileSync(parts.layerFile, partial));
  put(parts.configBlob.digest, (partial) => writeFileSync(partial, parts.configBlob.data));
  put(manifest.digest, (partial) => writeFileSync(partial, manifest.data));
  const indexPath = join(folder, 'index.json');
  let manifests: { annotations?: Record<string, string> }[] = [];
  if (existsSync(indexPath)) {
    try {
      manifests =
        (JSON.parse(readFileSync(indexPath, 'utf8')) as { manifests?: typeof manifests }).manifests ?? [];
    } catch (error) {
      throw new ImageError('IMAGE_BAD_OUTPUT', `--image oci:${folder}: its index.json is not JSON`, {
        cause: error,
      });
    }
  }
  // An image of the same tag replaces the old one, as podman and skopeo do.
  const kept = manifests.filter(
    (entry) => (entry.annotations?.['org.opencontainers.image.ref.name'] ?? null) !== tag,
  );
  const index = {
    schemaVersion: 2,
    mediaType: INDEX,
    manifests: [...kept, indexEntry(manifest, tag, parts.config)],
  };
  const layoutPath = join(folder, 'oci-layout');
  if (!existsSync(layoutPath)) writeFileSync(layoutPath, LAYOUT);
  const partial = partialFile(indexPath);
  writeFileSync(partial, JSON.stringify(index));
  renameSync(partial, indexPath);
}

/** The same layout as one tar file (what `podman save --format oci-archive` writes). */
async function writeOciArchive(
  file: string,
  tag: string | null,
  manifest: Blob,
  parts: Parts,
): Promise<void> {
  const index = { schemaVersion: 2, mediaType: INDEX, manifests: [indexEntry(manifest, tag, parts.config)] };
  const blobs: ArchiveMember[] = [
    { name: `blobs/sha256/${hex(parts.configBlob.digest)}`, data: parts.configBlob.data },
    { name: `blobs/sha256/${hex(manifest.digest)}`, data: manifest.data },
    { name: `blobs/sha256/${hex(parts.layer.digest)}`, file: parts.layerFile, size: parts.layer.size },
  ].sort((a, b) => (a.name < b.name ? -1 : 1));
  await writeArchiveFile(
    file,
    [
      { name: 'blobs', directory: true },
      { name: 'blobs/sha256', directory: true },
      ...blobs,
      { name: 'index.json', data: Buffer.from(JSON.stringify(index)) },
      { name: 'oci-layout', data: LAYOUT },
    ],
    parts.epoch,
  );
}

/**
 * What `docker load` and `podman load` read: manifest.json naming the config and the layers (plain
 * tar, as `docker save` writes them), and the legacy `repositories` file for old readers.
 */
async function writeDockerArchive(file: string, name: string | null, parts: Parts): Promise<void> {
  const configName = `${hex(parts.configBlob.digest)}.json`;
  const layerName = `${hex(parts.layer.digest)}/layer.tar`;
  const manifest = [{ Config: configName, RepoTags: name === null ? [] : [name], Layers: [layerName] }];
  const members: ArchiveMember[] = [
    { name: hex(parts.layer.digest), directory: true },
    { name: layerName, file: parts.layerFile, size: parts.layer.size },
    { name: configName, data: parts.configBlob.data },
    { name: 'manifest.json', data: Buffer.from(JSON.stringify(manifest)) },
  ];
  if (name !== null) {
    const colon = name.lastIndexOf(':');
    const repositories = { [name.slice(0, colon)]: { [name.slice(colon + 1)]: hex(parts.layer.digest) } };
    members.push({ name: 'repositories', data: Buffer.from(JSON.stringify(repositories)) });
  }
  await writeArchiveFile(file, members, parts.epoch);
}
