/**
 * The vitest projects (vitest.config.ts) name their test files one by one, by what each needs. A file
 * in no list would never run, and a file in two would run twice under different limits: both are
 * caught here, in the fast project, before anything slow runs.
 */
import { readdirSync } from 'node:fs';
import { join, relative, resolve } from 'node:path';
import { describe, expect, it } from 'vitest';
import config, { PURE, SYSTEM, TOOLCHAIN } from '../vitest.config.js';

const REPO = resolve(__dirname, '..');
const SKIPPED = new Set(['node_modules', 'dist', 'target', '.turbo', '.git']);

/** Every `*.test.ts` / `*.test.mjs` under the folders that hold code, repo-relative. */
function testFiles(): string[] {
  const found: string[] = [];
  const walk = (dir: string) => {
    for (const entry of readdirSync(dir, { withFileTypes: true })) {
      if (SKIPPED.has(entry.name)) continue;
      const path = join(dir, entry.name);
      if (entry.isDirectory()) walk(path);
      else if (/\.test\.(ts|mts|mjs|js)$/.test(entry.name)) found.push(relative(REPO, path));
    }
  };
  for (const top of ['packages', 'apps', 'test-support', 'bench', 'scripts']) walk(join(REPO, top));
  return found.sort();
}

describe('vitest projects', () => {
  const lists = { pure: PURE, toolchain: TOOLCHAIN, system: SYSTEM };

  it('name every test file of the repo exactly once', () => {
    const listed = Object.entries(lists).flatMap(([project, files]) =>
      files.map((file) => ({ project, file })),
    );
    const files = testFiles();
    // Sanity: the walk itself finds the files (this one among them).
    expect(files).toContain('test-support/test-projects.test.ts');
    const unlisted = files.filter((file) => !listed.some((entry) => entry.file === file));
    expect(unlisted, 'test files in no project: add each to PURE, TOOLCHAIN or SYSTEM').toEqual([]);
    const twice = listed.filter(
      (entry, index) => listed.findIndex((other) => other.file === entry.file) !== index,
    );
    expect(twice, 'test files listed more than once').toEqual([]);
    const gone = listed.filter((entry) => !files.includes(entry.file));
    expect(gone, 'listed files that do not exist (moved or renamed?)').toEqual([]);
  });

  it('are the three lists, under their names, with nothing else included', () => {
    const projects = (config.test?.projects ?? []) as { test?: { name?: string; include?: string[] } }[];
    expect(projects.map((project) => [project.test?.name, project.test?.include])).toEqual([
      ['pure', PURE],
      ['toolchain', TOOLCHAIN],
      ['system', SYSTEM],
    ]);
  });
});
