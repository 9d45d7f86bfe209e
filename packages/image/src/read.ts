import { createReadStream, existsSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import type { Readable } from 'node:stream';
import type { HistoryEntry, RunConfig } from './config.js';
import { ImageError } from './errors.js';
import { formatImageReference, type ImageReference } from './reference.js';
import { indexTar, memberBytes, memberStream, type TarIndex } from './tar-index.js';

/** An image read from disk: its config and its layers in order, each opened on demand. */
export interface SourceImage {
  readonly config: {
    readonly architecture?: string;
    readonly os?: string;
    readonly config?: RunConfig;
    readonly history?: readonly HistoryEntry[];
  };
  readonly layers: readonly { readonly name: string; open(): Readable }[];
}

const MANIFEST_TYPES = [
  'application/vnd.oci.image.manifest.v1+json',
  'application/vnd.docker.distribution.manifest.v2+json',
];
const INDEX_TYPES = [
  'application/vnd.oci.image.index.v1+json',
  'application/vnd.docker.distribution.manifest.list.v2+json',
];

/**
 * Reads `oci:DIR[:TAG]`, `oci-archive:FILE[:TAG]` or `docker-archive:FILE[:NAME:TAG]`: what podman
 * save and docker save write (docker's manifest.json, with or without the OCI layout Docker 25+
 * puts beside it), skopeo and buildah too. Archives are read in place.
 */
export function readImage(reference: ImageReference): SourceImage {
  const named = formatImageReference(reference);
  if (!existsSync(reference.path))
    throw new ImageError('IMAGE_BAD_SOURCE', `${named}: ${reference.path} does not exist`);
  try {
    if (reference.transport === 'docker-archive')
      return readDockerArchive(indexTar(reference.path), reference.name, named);
    const store: BlobStore =
      reference.transport === 'oci' ? folderStore(reference.path) : archiveStore(indexTar(reference.path));
    return readOciLayout(store, reference.tag, named);
  } catch (error) {
    if (error instanceof ImageError) throw error;
    throw new ImageError('IMAGE_BAD_SOURCE', `${named}: ${(error as Error).message}`, { cause: error });
  }
}

interface BlobStore {
  has(name: string): boolean;
  bytes(name: string): Buffer;
  stream(name: string): Readable;
}

function folderStore(folder: string): BlobStore {
  return {
    has: (name) => existsSync(join(folder, name)),
    bytes: (name) => readFileSync(join(folder, name)),
    stream: (name) => createReadStream(join(folder, name)),
  };
}

function archiveStore(index: TarIndex): BlobStore {
  return {
    has: (name) => index.members.has(name),
    bytes: (name) => memberBytes(index, name),
    stream: (name) => memberStream(index, name),
  };
}

/** The fields dit reads of an index, a manifest, a descriptor; the rest is left as it is. */
interface Descriptor {
  readonly mediaType?: string;
  readonly digest?: string;
  readonly annotations?: Readonly<Record<string, string>>;
  readonly platform?: { readonly os?: string; readonly architecture?: string };
}
interface Manifest {
  readonly mediaType?: string;
  readonly manifests?: readonly Descriptor[];
  readonly config?: Descriptor;
  readonly layers?: readonly Descriptor[];
}
interface DockerEntry {
  readonly Config?: string;
  readonly RepoTags?: readonly string[];
  readonly Layers?: readonly string[];
}

function json<T>(store: BlobStore, name: string | undefined, named: string): T {
  if (name === undefined) throw new ImageError('IMAGE_BAD_SOURCE', `${named}: a manifest names no config`);
  if (!store.has(name)) throw new ImageError('IMAGE_BAD_SOURCE', `${named}: has no ${name}`);
  try {
    return JSON.parse(store.bytes(name).toString('utf8')) as T;
  } catch (error) {
    throw new ImageError('IMAGE_BAD_SOURCE', `${named}: ${name} is not JSON`, { cause: error });
  }
}

const blobName = (digest: unknown, named: string): string => {
  if (typeof digest !== 'string' || !/^sha256:[0-9a-f]{64}$/.test(digest)) {
    throw new ImageError('IMAGE_BAD_SOURCE', `${named}: a digest that is not sha256:HEX (${String(digest)})`);
  }
  return `blobs/sha256/${digest.slice(7)}`;
};

/** An OCI layout: index.json → (an index for several platforms →) the manifest → config and layers. */
function readOciLayout(store: BlobStore, tag: string | null, named: string): SourceImage {
  const index = json<Manifest>(store, 'index.json', named);
  const manifests = Array.isArray(index.manifests) ? index.manifests : [];
  const tagged =
    tag === null
      ? manifests
      : manifests.filter((m) => m.annotations?.['org.opencontainers.image.ref.name'] === tag);
  if (tagged.length !== 1) {
    const tags = manifests.map((m) => m.annotations?.['org.opencontainers.image.ref.name']).filter(Boolean);
    throw new ImageError(
      'IMAGE_BAD_SOURCE',
      tagged.length === 0
        ? `${named}: no image${tag === null ? '' : ` tagged ${tag}`} in it${tags.length > 0 ? ` (it has ${tags.join(', ')})` : ''}`
        : `${named}: holds ${tagged.length} images; name one with :TAG (${tags.join(', ')})`,
    );
  }
  let descriptor = tagged[0]!;
  for (let depth = 0; INDEX_TYPES.includes(descriptor.mediaType ?? ''); depth++) {
    const nested = json<Manifest>(store, blobName(descriptor.digest, named), named);
    descriptor = pickPlatform(nested.manifests ?? [], named);
    if (depth > 4) throw new ImageError('IMAGE_BAD_SOURCE', `${named}: indexes nested too deep`);
  }
  const manifest = json<Manifest>(store, blobName(descriptor.digest, named), named);
  if (manifest.mediaType !== undefined && !MANIFEST_TYPES.includes(manifest.mediaType)) {
    throw new ImageError(
      'IMAGE_BAD_SOURCE',
      `${named}: a manifest of type ${manifest.mediaType}, not an image`,
    );
  }
  const config = json<SourceImage['config']>(store, blobName(manifest.config?.digest, named), named);
  const layers = (manifest.layers ?? []).map((layer) => {
    const name = blobName(layer.digest, named);
    if (!store.has(name)) throw new ImageError('IMAGE_BAD_SOURCE', `${named}: has no ${name} (a layer)`);
    return { name, open: () => store.stream(name) };
  });
  return { config, layers };
}

/** In a multi-platform index, the manifest for this machine's architecture on Linux. */
function pickPlatform(manifests: readonly Descriptor[], named: string): Descriptor {
  const arch =
    { x64: 'amd64', arm64: 'arm64', ia32: '386', arm: 'arm', s390x: 's390x', ppc64: 'ppc64le' }[
      process.arch as string
    ] ?? process.arch;
  const found = manifests.find((m) => m.platform?.os === 'linux' && m.platform?.architecture === arch);
  if (found === undefined)
    throw new ImageError('IMAGE_BAD_SOURCE', `${named}: no image for linux/${arch} in its index`);
  return found;
}

/**
 * Whether a RepoTags entry names the image asked for. A short name means what the engines make of
 * it: podman saves `localhost/app:1` for a local build and `docker.io/library/debian:12` for a pulled
 * one, docker saves `debian:12`; so `app:1` and `debian:12` find them, as `podman load` users expect.
 */
function sameImageName(saved: string, asked: string): boolean {
  return (
    saved === asked ||
    saved === `localhost/${asked}` ||
    saved === `docker.io/${asked}` ||
    saved === `docker.io/library/${asked}`
  );
}

/** docker save / podman save: manifest.json lists each image's config and layer files. */
function readDockerArchive(index: TarIndex, name: string | null, named: string): SourceImage {
  const store = archiveStore(index);
  const entries = json<DockerEntry[]>(store, 'manifest.json', named);
  const chosen =
    name === null
      ? entries.length === 1
        ? entries[0]
        : undefined
      : entries.find((entry) => (entry.RepoTags ?? []).some((tag: string) => sameImageName(tag, name)));
  if (chosen === undefined) {
    const tags = entries.flatMap((entry) => entry.RepoTags ?? []);
    throw new ImageError(
      'IMAGE_BAD_SOURCE',
      name === null
        ? `${named}: holds ${entries.length} images; name one with :NAME:TAG (${tags.join(', ')})`
        : `${named}: no image ${name} in it (it has ${tags.join(', ') || 'no names'})`,
    );
  }
  const config = json<SourceImage['config']>(store, chosen.Config, named);
  const layers = (chosen.Layers ?? []).map((layer) => {
    if (!store.has(layer)) throw new ImageError('IMAGE_BAD_SOURCE', `${named}: has no ${layer} (a layer)`);
    return { name: layer, open: () => store.stream(layer) };
  });
  return { config, layers };
}
