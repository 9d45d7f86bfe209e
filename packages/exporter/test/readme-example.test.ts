/**
 * The build script in README.md's Usage section, run as it is written: the code block after the
 * `readme-example` marker is cut out of the README, its `@dit/exporter` import pointed at this
 * package's sources, and imported as a module with the arguments a Dockerfile's `RUN` would give it.
 * If the README's code stops compiling against the API, or stops producing a working export, this
 * fails.
 */
import { existsSync, mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import { join, resolve } from 'node:path';
import { pathToFileURL } from 'node:url';
import { afterAll, afterEach, describe, expect, it, vi } from 'vitest';
import { tempDir } from '../../../test-support/fixtures.js';

const README = resolve(__dirname, '../README.md');
const SOURCES = resolve(__dirname, '../src/index.ts');

const temp = tempDir('dit-readme-');
const T = temp.path;
afterAll(() => temp.cleanup());

/** The README's example, exactly as written there. */
function readmeExample(): string {
  const readme = readFileSync(README, 'utf8');
  const match = /<!-- readme-example[^>]*-->\s*```js\n([\s\S]*?)\n```/.exec(readme);
  if (match === null) throw new Error('README.md has no ```js block after a readme-example marker');
  return match[1]!;
}

let runs = 0;

/** Runs the example as `node export.mjs ...args`; what it printed, and the exit status it set. */
async function runExample(...args: string[]) {
  const code = readmeExample();
  // The one change: the package name, which resolves to the built package outside this workspace.
  expect(code).toContain("from '@dit/exporter'");
  const script = join(T, `export-${++runs}.mjs`);
  writeFileSync(script, code.replace("from '@dit/exporter'", `from ${JSON.stringify(SOURCES)}`));
  const stdout: string[] = [];
  const stderr: string[] = [];
  vi.spyOn(console, 'log').mockImplementation((...parts) => void stdout.push(parts.join(' ')));
  vi.spyOn(console, 'error').mockImplementation((...parts) => void stderr.push(parts.join(' ')));
  const argv = process.argv;
  process.argv = [process.execPath, script, ...args];
  try {
    await import(/* @vite-ignore */ pathToFileURL(script).href);
  } finally {
    process.argv = argv;
    vi.restoreAllMocks();
  }
  const exitCode = process.exitCode;
  process.exitCode = undefined;
  return { stdout: stdout.join('\n'), stderr: stderr.join('\n'), exitCode };
}

afterEach(() => {
  process.exitCode = undefined;
});

describe("the README's build script", () => {
  it('exports python3 with what the check used, verified inside the export', async () => {
    const output = join(T, 'export');
    const reportFile = join(T, 'report.json');
    const run = await runExample(output, reportFile);
    expect(run.stderr).not.toMatch(/export failed/);
    expect(run.exitCode ?? 0).toBe(0);
    expect(run.stdout).toMatch(
      new RegExp(`^exported \\d+ files, \\d+ symlinks \\(\\d+ bytes\\) to ${output}$`),
    );
    expect(run.stderr).toContain('tracing /usr/bin/python3 -c');
    expect(run.stderr).toMatch(/verified in (namespaces|chroot)/);
    // The export holds the program and a module the check imported.
    expect(existsSync(join(output, 'usr/bin/python3'))).toBe(true);
    const report = JSON.parse(readFileSync(reportFile, 'utf8'));
    expect(report.verification.ok).toBe(true);
    expect(report.entries.some((entry: { path: string }) => /\/_sqlite3\.[^/]*\.so$/.test(entry.path))).toBe(
      true,
    );
  });

  it('reports a refusal by its code and exit status 2, leaving the folder as it was', async () => {
    const output = join(T, 'occupied');
    mkdirSync(output);
    writeFileSync(join(output, 'keep.txt'), 'mine');
    const run = await runExample(output, join(T, 'refused.json'));
    expect(run.exitCode).toBe(2);
    expect(run.stderr).toMatch(/^export failed \(EXPORT_OUTPUT_NOT_EMPTY\): /m);
    expect(run.stdout).toBe('');
    expect(readFileSync(join(output, 'keep.txt'), 'utf8')).toBe('mine');
    expect(existsSync(join(T, 'refused.json'))).toBe(false);
  });
});
