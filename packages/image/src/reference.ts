import { ImageError } from './errors.js';

/**
 * An image named as podman, buildah and skopeo name it, by transport:
 * `oci:DIR[:TAG]`, `oci-archive:FILE[:TAG]`, `docker-archive:FILE[:NAME[:TAG]]`.
 */
export type ImageReference =
  | { readonly transport: 'oci'; readonly path: string; readonly tag: string | null }
  | { readonly transport: 'oci-archive'; readonly path: string; readonly tag: string | null }
  | { readonly transport: 'docker-archive'; readonly path: string; readonly name: string | null };

const TRANSPORTS = ['oci', 'oci-archive', 'docker-archive'] as const;

/** Parses a reference; the path is everything up to the next `:` (as in containers/image). */
export function parseImageReference(text: string): ImageReference {
  const colon = text.indexOf(':');
  const transport = TRANSPORTS.find((known) => known === text.slice(0, colon));
  if (colon < 0 || transport === undefined) {
    throw new ImageError(
      'IMAGE_BAD_REFERENCE',
      `${text}: not an image reference (oci:DIR[:TAG], oci-archive:FILE[:TAG] or docker-archive:FILE[:NAME:TAG])`,
    );
  }
  const rest = text.slice(colon + 1);
  const split = rest.indexOf(':');
  const path = split < 0 ? rest : rest.slice(0, split);
  const suffix = split < 0 ? null : rest.slice(split + 1);
  if (path === '')
    throw new ImageError(
      'IMAGE_BAD_REFERENCE',
      `${text}: no ${transport === 'oci' ? 'folder' : 'file'} after ${transport}:`,
    );
  if (suffix === '') throw new ImageError('IMAGE_BAD_REFERENCE', `${text}: empty name after the last ':'`);
  if (transport === 'docker-archive') {
    if (suffix !== null && !/^[a-z0-9][a-z0-9._\-/:]*$/.test(suffix)) {
      throw new ImageError(
        'IMAGE_BAD_REFERENCE',
        `${text}: "${suffix}" is not an image name (lower case, NAME:TAG)`,
      );
    }
    return { transport, path, name: suffix === null ? null : withTag(suffix) };
  }
  if (suffix !== null && !/^[A-Za-z0-9._\-:@/+]+$/.test(suffix)) {
    throw new ImageError('IMAGE_BAD_REFERENCE', `${text}: "${suffix}" is not a tag`);
  }
  return { transport, path, tag: suffix };
}

/** `name` → `name:latest`; `host:5000/name` too (the last `:` after the last `/` is the tag's). */
function withTag(name: string): string {
  const slash = name.lastIndexOf('/');
  return name.indexOf(':', slash + 1) >= 0 ? name : `${name}:latest`;
}

export function formatImageReference(reference: ImageReference): string {
  const suffix = reference.transport === 'docker-archive' ? reference.name : reference.tag;
  return `${reference.transport}:${reference.path}${suffix === null ? '' : `:${suffix}`}`;
}
