import { realpathSync } from 'node:fs';
import { posix } from 'node:path';

/**
 * A host path with every symlink of its existing part resolved and the missing rest appended as it
 * is: where a file dit is about to create will really be (`--path`, `--tar`, `--image`), so that
 * "is it inside that folder?" compares real folders, not spellings. A symlink loop on the way is not
 * a missing part: its ELOOP error is thrown, for the caller to refuse the path.
 */
export function canonicalHostPath(path: string): string {
  const missing: string[] = [];
  let existing = path;
  for (;;) {
    try {
      const real = realpathSync(existing);
      return missing.length === 0 ? real : posix.join(real, ...missing.reverse());
    } catch (error) {
      if ((error as NodeJS.ErrnoException).code === 'ELOOP') throw error;
      if (existing === '/') return path;
      missing.push(posix.basename(existing));
      existing = posix.dirname(existing);
    }
  }
}
