import { renameSync, rmSync } from 'node:fs';
import { ExportError } from './errors.js';

/**
 * Writes the export folder as a tar archive (for `podman import`, `docker import`, or a layer):
 * numeric owners kept as they are, modes and times kept, links as links, hard links as hard links.
 * Written beside the target and renamed into place, like the folder.
 */
export async function writeArchive(folder: string, file: string): Promise<void> {
  // node-tar is loaded here, not at the top: it is a good share of dit's start-up (about 30 ms
  // here), and only `--tar` needs it.
  const { create } = await import('tar');
  const partial = `${file}.dit-partial`;
  try {
    // Synchronous: the archive is complete on disk before it is renamed into place.
    create({ sync: true, file: partial, cwd: folder, portable: false }, ['.']);
    renameSync(partial, file);
  } catch (error) {
    rmSync(partial, { force: true });
    throw new ExportError('EXPORT_WRITE_FAILED', `writing ${file} failed: ${(error as Error).message}`, {
      cause: error,
    });
  }
}
