import { closeSync, openSync, readSync } from 'node:fs';
import type { RootFs } from '@dit/paths';

/** The PATH a shell would use when the environment has none (Debian's default for root). */
export const DEFAULT_PATH = '/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin';

/** Finds `name` like a shell does: a name with `/` is taken as is, else the first executable file on PATH. */
export function findOnPath(fs: RootFs, name: string, path: string, cwd: string): string | null {
  if (name.includes('/')) {
    const lookup = fs.lookup(name, cwd);
    return lookup.type === 'file' ? lookup.path : null;
  }
  for (const dir of path.split(':')) {
    const candidate = `${dir === '' ? cwd : dir}/${name}`.replace(/\/+/g, '/');
    const lookup = fs.lookup(candidate, cwd);
    if (lookup.type === 'file' && isExecutable(fs, lookup.realPath!)) return lookup.path;
  }
  return null;
}

function isExecutable(fs: RootFs, realPath: string): boolean {
  const mode = fs.stat(realPath)?.mode ?? 0;
  return (mode & 0o111) !== 0;
}

export type FileKind =
  | { kind: 'elf' }
  | { kind: 'script'; interpreter: string; argument: string | null }
  | { kind: 'other' };

/** What a file is, from its first bytes: ELF, a `#!` script (and its interpreter), or anything else. */
export function fileKind(hostPath: string): FileKind {
  let fd: number;
  try {
    fd = openSync(hostPath, 'r');
  } catch {
    return { kind: 'other' };
  }
  try {
    // The kernel reads at most this much of a #! line (BINPRM_BUF_SIZE is 256 since Linux 5.1).
    const head = Buffer.alloc(256);
    const length = readSync(fd, head, 0, head.length, 0);
    if (length >= 4 && head[0] === 0x7f && head[1] === 0x45 && head[2] === 0x4c && head[3] === 0x46)
      return { kind: 'elf' };
    if (length >= 2 && head[0] === 0x23 && head[1] === 0x21) {
      const line = head.toString('latin1', 2, length).split('\n')[0]!.trim();
      // The kernel splits once: the interpreter, then everything else as one argument.
      const match = /^(\S+)(?:\s+(.*))?$/.exec(line);
      if (match) return { kind: 'script', interpreter: match[1]!, argument: match[2]?.trim() || null };
    }
    return { kind: 'other' };
  } finally {
    closeSync(fd);
  }
}
