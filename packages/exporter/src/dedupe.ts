import { linkSync, renameSync } from 'node:fs';
import { join } from 'node:path';
import type { ExportedEntry } from './types.js';

/**
 * Stores identical files once: every regular file whose content (sha256), mode and owner equal an
 * earlier one's becomes a hard link to it. Off by default, because hard links share more than
 * content: a program that writes to one changes the other. Each replacement is atomic (a link made
 * beside the file and renamed over it).
 */
export function dedupeEntries(
  output: string,
  entries: readonly ExportedEntry[],
): { entries: ExportedEntry[]; saved: number } {
  const first = new Map<string, string>();
  let saved = 0;
  const result = entries.map((entry) => {
    if (entry.type !== 'file' || entry.sha256 === null || entry.hardLinkOf !== undefined) return entry;
    const key = `${entry.sha256}:${entry.mode}:${entry.uid}:${entry.gid}`;
    const original = first.get(key);
    if (original === undefined) {
      first.set(key, entry.path);
      return entry;
    }
    const target = join(output, entry.path);
    const temporary = `${target}.dit-link`;
    linkSync(join(output, original), temporary);
    renameSync(temporary, target);
    saved += entry.size;
    return { ...entry, hardLinkOf: original };
  });
  return { entries: result, saved };
}
