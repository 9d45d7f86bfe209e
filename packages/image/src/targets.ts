import { accessSync, constants, existsSync, lstatSync, readdirSync, type Stats } from 'node:fs';
import { posix } from 'node:path';
import { canonicalHostPath } from '@dit/paths';
import { ImageError } from './errors.js';
import { formatImageReference, type ImageReference } from './reference.js';

/**
 * Checks every image output before any work, like --tar and --report are checked: a file's folder
 * exists and can be written, a file is not a folder, an `oci:` folder is missing, empty or already
 * an OCI layout (images are added to it), nothing lies inside `avoid` (the export folder: an image
 * inside the export would end up in itself), and no two outputs are the same file. Returns the
 * references with absolute paths.
 */
export function checkImageTargets(
  references: readonly ImageReference[],
  avoid: readonly string[] = [],
): ImageReference[] {
  const seen = new Map<string, string>();
  return references.map((reference) => {
    const named = formatImageReference(reference);
    const absolute = posix.resolve(reference.path);
    const canonical = canonical_(absolute, named);
    for (const folder of avoid) {
      const inside = canonical_(posix.resolve(folder), named);
      if (canonical === inside || canonical.startsWith(`${inside}/`)) {
        throw new ImageError(
          'IMAGE_BAD_OUTPUT',
          `--image ${named}: lies inside --path ${folder}; it would end up in the image`,
        );
      }
    }
    if (/^\/(proc|sys|dev)(\/|$)/.test(canonical)) {
      throw new ImageError(
        'IMAGE_WRITE_FAILED',
        `--image ${named}: a virtual filesystem of the kernel; nothing can be written there`,
      );
    }
    const other = seen.get(canonical);
    if (other !== undefined)
      throw new ImageError('IMAGE_BAD_OUTPUT', `--image ${named}: the same place as --image ${other}`);
    seen.set(canonical, named);
    const existing = lstatOrNull(canonical);
    if (reference.transport === 'oci') {
      if (existing !== null) checkLayoutFolder(canonical, existing, named);
    } else if (existing?.isDirectory()) {
      throw new ImageError('IMAGE_BAD_OUTPUT', `--image ${named}: is a folder (an archive is a file)`);
    }
    const parent = existing?.isDirectory() ? canonical : posix.dirname(canonical);
    const parentStat = lstatOrNull(parent);
    if (parentStat === null || !parentStat.isDirectory()) {
      throw new ImageError('IMAGE_WRITE_FAILED', `--image ${named}: the folder ${parent} does not exist`);
    }
    try {
      accessSync(parent, constants.W_OK);
    } catch (error) {
      throw new ImageError('IMAGE_WRITE_FAILED', `--image ${named}: permission denied (${parent})`, {
        cause: error,
      });
    }
    return { ...reference, path: absolute };
  });
}

function checkLayoutFolder(path: string, stat: Stats, named: string): void {
  if (!stat.isDirectory())
    throw new ImageError('IMAGE_BAD_OUTPUT', `--image ${named}: exists and is not a folder`);
  const names = readdirSync(path);
  if (names.length > 0 && !existsSync(posix.join(path, 'oci-layout'))) {
    throw new ImageError(
      'IMAGE_BAD_OUTPUT',
      `--image ${named}: is a folder with other things in it, not an OCI layout; dit only adds images to an empty folder or a layout`,
    );
  }
}

/** The real place an output will be; a symlink loop on the way is refused (it can never be written). */
function canonical_(path: string, named: string): string {
  try {
    return canonicalHostPath(path);
  } catch (error) {
    if ((error as NodeJS.ErrnoException).code !== 'ELOOP') throw error;
    throw new ImageError('IMAGE_BAD_OUTPUT', `--image ${named}: too many levels of symbolic links`, {
      cause: error,
    });
  }
}

function lstatOrNull(path: string): Stats | null {
  try {
    return lstatSync(path);
  } catch {
    return null;
  }
}
