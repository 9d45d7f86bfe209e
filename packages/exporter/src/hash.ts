import { join } from 'node:path';
import { hashFiles } from '@dit/native';
import type { ExportedEntry } from './types.js';

/**
 * SHA-256 of every exported regular file, read back from the export itself (what was written, not
 * what was meant to be), on all cores through @dit/native. Hard links share their first copy's hash.
 */
export async function hashEntries(
  output: string,
  entries: readonly ExportedEntry[],
): Promise<ExportedEntry[]> {
  const files = entries.filter((entry) => entry.type === 'file' && entry.hardLinkOf === undefined);
  const results = await hashFiles(files.map((entry) => join(output, entry.path)));
  const digests = new Map<string, string | null>();
  files.forEach((entry, index) => {
    const result = results[index];
    digests.set(entry.path, result?.sha256 ?? null);
  });
  return entries.map((entry) =>
    entry.type === 'file' ? { ...entry, sha256: digests.get(entry.hardLinkOf ?? entry.path) ?? null } : entry,
  );
}
