/**
 * Helpers for tests that build real fixtures: temporary folders, files, and programs compiled by
 * the real gcc / musl-gcc. Nothing here fakes a result; it only saves typing.
 */
import { execFileSync } from 'node:child_process';
import { chmodSync, mkdirSync, mkdtempSync, rmSync, symlinkSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { dirname, join } from 'node:path';

/** A fresh folder under the system temp dir; `cleanup()` removes it. */
export function tempDir(prefix = 'dit-test-'): { path: string; cleanup: () => void } {
  const path = mkdtempSync(join(tmpdir(), prefix));
  return { path, cleanup: () => rmSync(path, { recursive: true, force: true }) };
}

export type TreeEntry =
  | string
  | Uint8Array
  | { symlink: string }
  | { mode: number; content: string | Uint8Array };

/** Writes a tree of files and symlinks under `root` (`{ 'a/b.txt': 'x', 'lib': { symlink: 'usr/lib' } }`). */
export function writeTree(root: string, tree: Record<string, TreeEntry>): void {
  for (const [relative, entry] of Object.entries(tree)) {
    const path = join(root, relative);
    mkdirSync(dirname(path), { recursive: true });
    if (typeof entry === 'object' && 'symlink' in entry) {
      symlinkSync(entry.symlink, path);
    } else if (typeof entry === 'object' && 'mode' in entry) {
      writeFileSync(path, entry.content);
      chmodSync(path, entry.mode);
    } else {
      writeFileSync(path, entry);
    }
  }
}

export interface CompileOptions {
  /** `gcc` (default) or `musl-gcc`. */
  compiler?: 'gcc' | 'musl-gcc';
  /** Extra flags: `-shared`, `-Wl,-soname,libx.so.1`, `-L...`, `-lx`, ... */
  flags?: string[];
}

/** Compiles one C source to `output` with the real compiler; throws with the compiler's message. */
export function compile(source: string, output: string, options: CompileOptions = {}): string {
  mkdirSync(dirname(output), { recursive: true });
  const sourcePath = `${output}.c`;
  writeFileSync(sourcePath, source);
  const flags = options.flags ?? [];
  const shared = flags.includes('-shared') ? ['-fPIC'] : [];
  try {
    execFileSync(options.compiler ?? 'gcc', [...shared, '-o', output, sourcePath, ...flags], {
      stdio: ['ignore', 'pipe', 'pipe'],
    });
  } catch (error) {
    const stderr = (error as { stderr?: Buffer }).stderr?.toString() ?? '';
    throw new Error(`compiling ${output} failed:\n${stderr}`, { cause: error });
  } finally {
    rmSync(sourcePath, { force: true });
  }
  return output;
}

/** A shared library exporting `name()` that returns `value`, optionally calling functions of its dependencies. */
export function sharedLibrarySource(name: string, calls: string[] = []): string {
  const declarations = calls.map((call) => `int ${call}(void);`).join('\n');
  const body = calls.length > 0 ? calls.map((call) => `${call}()`).join(' + ') : '1';
  return `${declarations}\nint ${name}(void) { return ${body}; }\n`;
}

/** A main program calling `calls` (functions from its libraries). */
export function programSource(calls: string[] = []): string {
  const declarations = calls.map((call) => `int ${call}(void);`).join('\n');
  const body = calls.map((call) => `${call}();`).join(' ');
  return `${declarations}\nint main(void) { ${body} return 0; }\n`;
}

/** Runs a command and returns its stdout; throws with stderr on failure. */
export function run(
  command: string,
  args: string[],
  options: { cwd?: string; env?: NodeJS.ProcessEnv } = {},
): string {
  return execFileSync(command, args, { ...options, encoding: 'utf8', stdio: ['ignore', 'pipe', 'pipe'] });
}
