/**
 * A program the user named (a --binary, the check command) that misses a library cannot start, so
 * its export is refused as `dit deps` refuses it: nothing exported, one line naming the library and
 * who needs it, exit 2. A library missing for an ELF file only the trace found (a plugin the check
 * did not load) stays a warning. Real gcc programs, the real loader as the judge of "cannot start".
 */
import { spawnSync } from 'node:child_process';
import { existsSync, mkdtempSync, rmSync } from 'node:fs';
import { join } from 'node:path';
import { ExportError, exportImage } from '@dit/exporter';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { dit } from '../../../apps/cli/test/run-cli.js';
import { compile, programSource, sharedLibrarySource, tempDir } from '../../../test-support/fixtures.js';

const temp = tempDir('dit-missing-library-');
const T = temp.path;
// What the check leaves under /tmp is scratch, never exported: the traced plugin lives elsewhere.
const P = mkdtempSync('/var/cache/dit-missing-library-');
afterAll(() => {
  temp.cleanup();
  rmSync(P, { recursive: true, force: true });
});

const ENV = { PATH: '/usr/bin:/bin', LANG: 'C.UTF-8' };

beforeAll(() => {
  // libdep.so is linked against but not where the loader looks: `lonely` cannot start.
  compile(sharedLibrarySource('dep'), join(T, 'away/libdep.so'), { flags: ['-shared'] });
  compile(programSource(['dep']), join(T, 'lonely'), { flags: [`-L${T}/away`, '-ldep'] });
  // libmid.so is found (RUNPATH), but it needs libdeep.so, which is nowhere the loader looks.
  compile(sharedLibrarySource('deep'), join(T, 'away/libdeep.so'), { flags: ['-shared'] });
  compile(sharedLibrarySource('mid', ['deep']), join(T, 'lib/libmid.so'), {
    flags: ['-shared', `-L${T}/away`, '-ldeep'],
  });
  compile(programSource(['mid']), join(T, 'deep'), {
    flags: [`-L${T}/lib`, '-lmid', `-Wl,-rpath-link,${T}/away`, `-Wl,--enable-new-dtags,-rpath,${T}/lib`],
  });
  // A plugin nothing loads at start-up, whose library is missing too.
  compile(sharedLibrarySource('plugin', ['dep']), join(P, 'plugins/plugin.so'), {
    flags: ['-shared', `-L${T}/away`, '-ldep'],
  });
});

/** What the real loader does with the program: it must fail to start for these tests to mean anything. */
function loaderRefuses(program: string, library: string): void {
  const run = spawnSync(program, [], { env: {}, encoding: 'utf8' });
  expect(run.status).toBe(127);
  expect(run.stderr).toContain(`${library}: cannot open shared object file`);
}

async function exportError(options: Parameters<typeof exportImage>[0]): Promise<ExportError> {
  try {
    await exportImage(options);
  } catch (error) {
    expect(error).toBeInstanceOf(ExportError);
    return error as ExportError;
  }
  throw new Error('expected the export to be refused');
}

describe('a library missing for what the user named stops the export', () => {
  it('--binary whose own library is missing: EXPORT_LIBRARY_MISSING naming it and who needs it', async () => {
    const program = join(T, 'lonely');
    loaderRefuses(program, 'libdep.so');
    const output = join(T, 'out-lonely');
    const error = await exportError({ path: output, binaries: [program], env: ENV, verify: false });
    expect(error.code).toBe('EXPORT_LIBRARY_MISSING');
    expect(error.message).toBe(
      `libdep.so not found (needed by ${program}): ${program} would not start. Nothing was exported.`,
    );
    expect(existsSync(output)).toBe(false);
  });

  it('--binary whose library misses a library: the closure of what was named counts too', async () => {
    const program = join(T, 'deep');
    loaderRefuses(program, 'libdeep.so');
    const output = join(T, 'out-deep');
    const error = await exportError({ path: output, binaries: [program], env: ENV, verify: false });
    expect(error.code).toBe('EXPORT_LIBRARY_MISSING');
    expect(error.message).toBe(
      `libdeep.so not found (needed by ${T}/lib/libmid.so): ${program} would not start. Nothing was exported.`,
    );
    expect(existsSync(output)).toBe(false);
  });

  it('the check command itself: the same refusal', async () => {
    const program = join(T, 'lonely');
    // Traced with LD_LIBRARY_PATH, the check runs; the resolver is not told (no --library-path), so
    // the export would not start where the image runs without that variable.
    const output = join(T, 'out-command');
    const error = await exportError({
      path: output,
      command: [program],
      env: { ...ENV, LD_LIBRARY_PATH: `${T}/away` },
      verify: false,
    });
    expect(error.code).toBe('EXPORT_LIBRARY_MISSING');
    expect(error.message).toContain(`libdep.so not found (needed by ${program})`);
    expect(existsSync(output)).toBe(false);
  });

  it('dit export --binary: one line `dit: export: ...`, exit 2, nothing exported', async () => {
    const program = join(T, 'lonely');
    const output = join(T, 'out-cli');
    const { status, stdout, stderr } = await dit('export', '--path', output, '--binary', program);
    expect(status).toBe(2);
    expect(stdout).toBe('');
    expect(stderr).toBe(
      `dit: export: libdep.so not found (needed by ${program}): ${program} would not start. Nothing was exported.\n`,
    );
    expect(existsSync(output)).toBe(false);
  });
});

describe('a library missing for an ELF file only the trace found stays a warning', () => {
  it('a plugin the check only read: exported, with a warning naming the missing library', async () => {
    const plugin = join(P, 'plugins/plugin.so');
    const output = join(T, 'out-plugin');
    const report = await exportImage({
      path: output,
      command: ['/bin/sh', '-c', `cat ${plugin} > /dev/null`],
      env: ENV,
      verify: false,
    });
    expect(existsSync(join(output, plugin))).toBe(true);
    expect(report.warnings).toContain(
      `libdep.so (needed by ${plugin}) was not found: ${plugin} may not start`,
    );
  });
});
