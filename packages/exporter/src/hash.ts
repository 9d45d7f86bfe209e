import { createHash } from 'node:crypto';
import { createReadStream } from 'node:fs';
import { join } from 'node:path';
import type { ExportedEntry } from './types.js';

/** SHA-256 of every exported regular file (hard links share their first copy's hash), read from the export itself. */
export async function hashEntries(
  output: string,
  entries: readonly ExportedEntry[],
): Promise<ExportedEntry[]> {
  const files = entries.filter((entry) => entry.type === 'file' && entry.hardLinkOf === undefined);
  const digests = new Map<string, string>();
  let next = 0;
  const worker = async () => {
    while (next < files.length) {
      const entry = files[next++]!;
      digests.set(entry.path, await sha256(join(output, entry.path)));
    }
  };
  await Promise.all(Array.from({ length: 8 }, worker));
  return entries.map((entry) =>
    entry.type === 'file' ? { ...entry, sha256: digests.get(entry.hardLinkOf ?? entry.path) ?? null } : entry,
  );
}

function sha256(path: string): Promise<string> {
  return new Promise((resolve, reject) => {
    const hash = createHash('sha256');
    createReadStream(path)
      .on('data', (chunk) => hash.update(chunk))
      .on('error', reject)
      .on('end', () => resolve(hash.digest('hex')));
  });
}
