import { renameSync, rmSync } from 'node:fs';
import { ExportError } from './errors.js';
import { partialFile } from './leftovers.js';
import { describeWriteError } from './write-errors.js';

/** An archive written beside its place, put there (or dropped) together with the export folder. */
export interface PendingArchive {
  commit(): void;
  discard(): void;
}

/**
 * Writes the export folder as a tar archive (for `podman import`, `docker import`, or a layer):
 * numeric owners kept as they are, modes and times kept, links as links, hard links as hard links.
 * Written complete beside `file`; `commit` renames it into place once the folder is in place too, so
 * an export that fails at its last step does not leave a new archive beside an old folder.
 */
export async function writeArchive(folder: string, file: string): Promise<PendingArchive> {
  // node-tar is loaded here, not at the top: it is a good share of dit's start-up (about 30 ms
  // here), and only `--tar` needs it.
  const { create } = await import('tar');
  const partial = partialFile(file);
  const fail = (error: unknown) => {
    rmSync(partial, { force: true });
    return new ExportError('EXPORT_WRITE_FAILED', `--tar ${file}: ${describeWriteError(error)}`, {
      cause: error,
    });
  };
  try {
    // Synchronous: the archive is complete on disk before it can be renamed into place.
    create({ sync: true, file: partial, cwd: folder, portable: false }, ['.']);
  } catch (error) {
    throw fail(error);
  }
  return {
    commit() {
      try {
        renameSync(partial, file);
      } catch (error) {
        throw fail(error);
      }
    },
    discard() {
      rmSync(partial, { force: true });
    },
  };
}
