// `docker save` since Docker 25 writes a docker-archive that is also an OCI image layout. No Docker
// engine runs here, so this rewrites what `podman save --format docker-archive` wrote into that
// layout, as Docker documents it (the OCI image layout specification, plus the manifest.json and
// repositories files of the docker-archive format):
//
//   oci-layout                 {"imageLayoutVersion": "1.0.0"}
//   index.json                 an OCI index naming the image's manifest, annotated with its name
//                              (io.containerd.image.name) and tag (org.opencontainers.image.ref.name)
//   blobs/sha256/<hex>         every blob by its digest: the OCI manifest, the config, each layer as
//                              an uncompressed tar (media type application/vnd.oci.image.layer.v1.tar)
//   manifest.json              the docker-archive index: [{Config, RepoTags, Layers}], where Config
//                              and Layers are blobs/sha256/<hex> paths into the same blobs
//   repositories               {NAME: {TAG: <top layer's hex>}}
//
// No legacy <id>/layer.tar folders: Docker 25 writes none either. dit must read the archive through
// manifest.json or index.json and find the same image as in podman's layout.

import { execFileSync } from 'node:child_process';
import { createHash } from 'node:crypto';
import { mkdirSync, mkdtempSync, readFileSync, renameSync, rmSync, statSync, writeFileSync } from 'node:fs';
import { dirname, join } from 'node:path';

/** Rewrites the podman docker-archive `source` (one image, tagged `reference`) as Docker 25 would write it, at `target`. */
export function docker25Archive(source, target, reference) {
  const work = mkdtempSync(join(dirname(target), '.docker25-'));
  try {
    const unpacked = join(work, 'podman');
    mkdirSync(unpacked);
    execFileSync('tar', ['-x', '-C', unpacked, '-f', source]);
    const [entry, ...more] = JSON.parse(readFileSync(join(unpacked, 'manifest.json'), 'utf8'));
    if (entry === undefined || more.length > 0)
      throw new Error(`${source}: expected one image in manifest.json`);
    const out = join(work, 'docker');
    const blobs = join(out, 'blobs', 'sha256');
    mkdirSync(blobs, { recursive: true });
    const configText = readFileSync(join(unpacked, entry.Config));
    const configHex = createHash('sha256').update(configText).digest('hex');
    writeFileSync(join(blobs, configHex), configText);
    const diffIds = JSON.parse(configText).rootfs.diff_ids;
    // podman names each (uncompressed) layer file by its diff ID, which is then its blob digest too.
    const layers = entry.Layers.map((file, i) => {
      const hex = /([0-9a-f]{64})\.tar$/.exec(file)?.[1];
      if (hex === undefined || diffIds[i] !== `sha256:${hex}`)
        throw new Error(`${source}: layer ${file} is not named by its diff ID ${diffIds[i]}`);
      const size = statSync(join(unpacked, file)).size;
      renameSync(join(unpacked, file), join(blobs, hex));
      return { hex, size };
    });
    const manifestText = JSON.stringify({
      schemaVersion: 2,
      mediaType: 'application/vnd.oci.image.manifest.v1+json',
      config: {
        mediaType: 'application/vnd.oci.image.config.v1+json',
        digest: `sha256:${configHex}`,
        size: configText.length,
      },
      layers: layers.map(({ hex, size }) => ({
        mediaType: 'application/vnd.oci.image.layer.v1.tar',
        digest: `sha256:${hex}`,
        size,
      })),
    });
    const manifestHex = createHash('sha256').update(manifestText).digest('hex');
    writeFileSync(join(blobs, manifestHex), manifestText);
    const colon = reference.lastIndexOf(':');
    const [name, tag] = [reference.slice(0, colon), reference.slice(colon + 1)];
    writeFileSync(join(out, 'oci-layout'), JSON.stringify({ imageLayoutVersion: '1.0.0' }));
    writeFileSync(
      join(out, 'index.json'),
      JSON.stringify({
        schemaVersion: 2,
        mediaType: 'application/vnd.oci.image.index.v1+json',
        manifests: [
          {
            mediaType: 'application/vnd.oci.image.manifest.v1+json',
            digest: `sha256:${manifestHex}`,
            size: manifestText.length,
            annotations: { 'io.containerd.image.name': reference, 'org.opencontainers.image.ref.name': tag },
          },
        ],
      }),
    );
    writeFileSync(
      join(out, 'manifest.json'),
      JSON.stringify([
        {
          Config: `blobs/sha256/${configHex}`,
          RepoTags: [reference],
          Layers: layers.map(({ hex }) => `blobs/sha256/${hex}`),
        },
      ]),
    );
    writeFileSync(join(out, 'repositories'), JSON.stringify({ [name]: { [tag]: layers.at(-1).hex } }));
    rmSync(unpacked, { recursive: true, force: true });
    execFileSync('tar', [
      '-c',
      '-C',
      out,
      '-f',
      target,
      'blobs',
      'index.json',
      'manifest.json',
      'oci-layout',
      'repositories',
    ]);
  } finally {
    rmSync(work, { recursive: true, force: true });
  }
}
