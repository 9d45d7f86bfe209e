import { type Buffer, isUtf8 } from 'node:buffer';
import { readdirSync } from 'node:fs';
import { posix } from 'node:path';
import { printableBytes, type RootFs } from '@dit/paths';
import { ExportError } from './errors.js';
import type { Reason } from './types.js';

/**
 * Refuses a path that could not be found only because a name on it is not UTF-8.
 *
 * Node decodes file names as UTF-8, lossily: strace's record of `/data/caf\xe9` (Latin-1) and a
 * folder listed by a glob both reach the exporter as `/data/caf\uFFFD`, which names no file, so the
 * export would quietly lack it and fail verification with a misleading hint. This looks at the
 * folder holding the first such name, as bytes, and throws EXPORT_NAME_NOT_UTF8 naming the path
 * (with `\xNN` for the bytes) when a name there decodes to it. A path with a real U+FFFD that simply
 * does not exist (a probe that failed) passes.
 */
export function refuseNameNotUtf8(fs: RootFs, path: string, reason: Reason): void {
  if (!path.includes('\uFFFD')) return;
  const parts = path.split('/');
  const at = parts.findIndex((part) => part.includes('\uFFFD'));
  const parent = parts.slice(0, at).join('/') || '/';
  let names: Buffer[];
  try {
    names = readdirSync(fs.hostPath(parent), { encoding: 'buffer' });
  } catch {
    return;
  }
  const raw = names.find((name) => !isUtf8(name) && name.toString() === parts[at]);
  if (raw === undefined) return;
  const shown = posix.join(parent, printableBytes(raw), ...parts.slice(at + 1));
  const source =
    reason.kind === 'traced'
      ? 'used by the command'
      : reason.kind === 'included'
        ? `matched by --include ${reason.pattern}`
        : reason.kind;
  throw new ExportError(
    'EXPORT_NAME_NOT_UTF8',
    `${shown} (${source}): the name is not UTF-8, which dit export does not handle yet; rename it. ` +
      'Nothing was exported.',
  );
}
