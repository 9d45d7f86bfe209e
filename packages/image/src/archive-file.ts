import { createWriteStream, renameSync, rmSync } from 'node:fs';
import { Readable } from 'node:stream';
import { pipeline } from 'node:stream/promises';
import { partialFile } from '@dit/exporter';
import { ImageError } from './errors.js';
import { fileContent } from './layer.js';
import { END_OF_ARCHIVE, encodeHeader, padding } from './tar-format.js';

/** One member of an image archive: small JSON held in memory, or a blob on disk. */
export type ArchiveMember =
  | { readonly name: string; readonly directory: true }
  | { readonly name: string; readonly data: Buffer }
  | { readonly name: string; readonly file: string; readonly size: number };

/**
 * Writes an image archive (oci-archive, docker-archive) beside `file` and renames it into place:
 * a reader never sees half an archive, and an old one stays until the new one is complete. Members
 * in the order given, owned by 0:0, 0644 (folders 0755), all with the same time.
 */
export async function writeArchiveFile(
  file: string,
  members: readonly ArchiveMember[],
  mtime: number,
): Promise<void> {
  const partial = partialFile(file);
  async function* chunks(): AsyncGenerator<Buffer> {
    for (const member of members) {
      const common = { uid: 0, gid: 0, mtime, linkname: '' };
      if ('directory' in member) {
        yield encodeHeader({ ...common, name: `${member.name}/`, type: 'directory', mode: 0o755, size: 0 });
      } else if ('data' in member) {
        yield encodeHeader({
          ...common,
          name: member.name,
          type: 'file',
          mode: 0o644,
          size: member.data.length,
        });
        yield member.data;
        yield padding(member.data.length);
      } else {
        yield encodeHeader({ ...common, name: member.name, type: 'file', mode: 0o644, size: member.size });
        yield* fileContent(member.file, member.size);
        yield padding(member.size);
      }
    }
    yield END_OF_ARCHIVE;
  }
  try {
    await pipeline(Readable.from(chunks()), createWriteStream(partial));
    renameSync(partial, file);
  } catch (error) {
    rmSync(partial, { force: true });
    if (error instanceof ImageError) throw error;
    throw new ImageError('IMAGE_WRITE_FAILED', `${file}: ${(error as Error).message}`, { cause: error });
  }
}
