/** `dit deps` end to end: real files, the real CLI code, what a user sees on stdout, stderr and in the exit status. */
import { execFileSync, spawnSync } from 'node:child_process';
import {
  chmodSync,
  copyFileSync,
  existsSync,
  mkdirSync,
  readFileSync,
  symlinkSync,
  writeFileSync,
} from 'node:fs';
import { join, resolve } from 'node:path';
import { nativeStatus } from '@dit/native';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { listElfCorpus } from '../../../test-support/corpus.mjs';
import { compile, programSource, sharedLibrarySource, tempDir } from '../../../test-support/fixtures.js';
import { loaderTrace } from '../../../test-support/ld-trace.mjs';
import { dit } from './run-cli.js';

const temp = tempDir('dit-cli-');
const T = temp.path;
afterAll(() => temp.cleanup());

beforeAll(() => {
  compile(sharedLibrarySource('dep'), join(T, 'lib/libdep.so'), {
    flags: ['-shared', '-Wl,-soname,libdep.so'],
  });
  compile(programSource(['dep']), join(T, 'app'), {
    flags: [`-L${T}/lib`, '-ldep', '-Wl,--enable-new-dtags,-rpath,$ORIGIN/lib'],
  });
  compile(programSource(['dep']), join(T, 'broken'), { flags: [`-L${T}/lib`, '-ldep'] }); // no RUNPATH: libdep not found
  compile(programSource(), join(T, 'static'), { flags: ['-static'] });
  compile(programSource(), join(T, 'musl'), { compiler: 'musl-gcc' });
  writeFileSync(join(T, 'notes.txt'), 'just text\n');
  writeFileSync(join(T, 'truncated'), readFileSync(join(T, 'app')).subarray(0, 100));
  symlinkSync('loop2', join(T, 'loop1'));
  symlinkSync('loop1', join(T, 'loop2'));
});

describe('dit deps --json', () => {
  it('prints one object per FILE in input order, with the whole transitive set in load order', async () => {
    const { status, stdout, stderr } = await dit(
      'deps',
      '--json',
      join(T, 'app'),
      join(T, 'static'),
      '/usr/bin/ls',
    );
    expect(stderr).toBe('');
    expect(status).toBe(0);
    const result = JSON.parse(stdout);
    expect(result.map((entry: { file: string }) => entry.file)).toEqual([
      join(T, 'app'),
      join(T, 'static'),
      '/usr/bin/ls',
    ]);
    expect(result[0]).toEqual({
      file: join(T, 'app'),
      interpreter: '/lib64/ld-linux-x86-64.so.2',
      libraries: [
        { name: 'libdep.so', path: `${T}/lib/libdep.so` },
        { name: 'libc.so.6', path: '/lib/x86_64-linux-gnu/libc.so.6' },
        { name: 'ld-linux-x86-64.so.2', path: '/lib64/ld-linux-x86-64.so.2' },
      ],
    });
    expect(result[1]).toEqual({ file: join(T, 'static'), interpreter: null, libraries: [] });
    // The loader is the judge of the real program.
    const oracle = (loaderTrace('/usr/bin/ls') as { libraries: { name: string; path: string | null }[] })
      .libraries;
    expect(new Set(result[2].libraries.map((l: { path: string }) => l.path))).toEqual(
      new Set(oracle.map((l) => l.path)),
    );
  });

  it('resolves a musl program with musl rules', async () => {
    const { status, stdout } = await dit('deps', '--json', join(T, 'musl'));
    expect(status).toBe(0);
    expect(JSON.parse(stdout)[0]).toEqual({
      file: join(T, 'musl'),
      interpreter: '/lib/ld-musl-x86_64.so.1',
      libraries: [{ name: 'libc.so', path: '/lib/ld-musl-x86_64.so.1' }],
    });
  });

  it('exits 1 and says what is missing and who needed it', async () => {
    const { status, stdout, stderr } = await dit('deps', '--json', join(T, 'broken'));
    expect(status).toBe(1);
    expect(stderr).toContain(
      `dit: ${join(T, 'broken')}: libdep.so not found (needed by ${join(T, 'broken')})`,
    );
    expect(JSON.parse(stdout)[0].libraries[0]).toEqual({ name: 'libdep.so', path: null });
  });

  it('--library-path finds what was missing', async () => {
    const { status } = await dit('deps', '--library-path', `${T}/lib`, join(T, 'broken'));
    expect(status).toBe(0);
  });

  it('exits 2 on bad input, naming each file and the problem, and still resolves the rest', async () => {
    const { status, stdout, stderr } = await dit(
      'deps',
      '--json',
      join(T, 'notes.txt'),
      join(T, 'truncated'),
      join(T, 'loop1'),
      join(T, 'nothing-here'),
      T,
      join(T, 'app'),
    );
    expect(status).toBe(2);
    expect(stderr).toContain(`${join(T, 'notes.txt')}: not an ELF file`);
    expect(stderr).toContain(`${join(T, 'truncated')}: `);
    expect(stderr).toMatch(/truncated/);
    expect(stderr).toContain(`${join(T, 'loop1')}: too many levels of symbolic links`);
    expect(stderr).toContain(`${join(T, 'nothing-here')}: no such file`);
    expect(stderr).toContain(`${T}: is a directory`);
    const result = JSON.parse(stdout);
    expect(result).toHaveLength(6);
    expect(result[5].libraries.length).toBe(3);
    expect(result[0].error).toMatch(/not an ELF file/);
  });

  it('exits 2 on usage errors', async () => {
    expect((await dit('deps')).status).toBe(2);
    expect((await dit('deps', '--bogus', '/usr/bin/ls')).status).toBe(2);
    expect((await dit('deps', '--cpu-level', '9', '/usr/bin/ls')).status).toBe(2);
    expect((await dit('nosuchcommand')).status).toBe(2);
  });

  it('resolves inside --root: FILEs and every path are inside the root', async () => {
    const root = join(T, 'root');
    mkdirSync(join(root, 'usr/bin'), { recursive: true });
    mkdirSync(join(root, 'lib64'), { recursive: true });
    compile(programSource(), join(root, 'usr/bin/prog'));
    const { status, stdout, stderr } = await dit('deps', '--root', root, '--json', '/usr/bin/prog');
    // An empty root: the interpreter and libc are missing inside it, whatever the host has.
    expect(status).toBe(1);
    expect(JSON.parse(stdout)[0].libraries).toEqual([{ name: 'libc.so.6', path: null }]);
    expect(stderr).toContain('/lib64/ld-linux-x86-64.so.2 not found');
  });

  it('handles thousands of FILEs in one call, in input order', async () => {
    const files = listElfCorpus(['/usr/lib/x86_64-linux-gnu', '/usr/bin']);
    expect(files.length).toBeGreaterThan(1000);
    const { stdout } = await dit('deps', '--json', ...files);
    const result = JSON.parse(stdout) as { file: string }[];
    expect(result.map((entry) => entry.file)).toEqual(files);
  });
});

describe('dit deps (tree)', () => {
  it('prints each library under the object that first needed it', async () => {
    const { status, stdout } = await dit('deps', join(T, 'app'));
    expect(status).toBe(0);
    expect(stdout).toBe(
      `${join(T, 'app')} (interpreter => /lib64/ld-linux-x86-64.so.2)\n` +
        `    libdep.so => ${T}/lib/libdep.so\n` +
        '    libc.so.6 => /lib/x86_64-linux-gnu/libc.so.6\n' +
        '        ld-linux-x86-64.so.2 => /lib64/ld-linux-x86-64.so.2\n',
    );
  });
});

describe('the installed command', () => {
  const bin = resolve(__dirname, '../../../node_modules/.bin/dit');
  // The bin runs the bundles that `pnpm build` writes (scripts/build-cli.mjs).
  const built = existsSync(resolve(__dirname, '../dist/cli/main.cjs'));

  it.runIf(built && process.getuid?.() === 0)('names unreadable files, run as an unprivileged user', () => {
    // Root reads everything, so the CLI runs as nobody here; the repo must be readable to it.
    const open = join(T, 'open');
    mkdirSync(join(open, 'closed'), { recursive: true, mode: 0o755 });
    chmodSync(T, 0o755);
    chmodSync(join(open, 'closed'), 0o700);
    copyFileSync('/usr/bin/ls', join(open, 'secret'));
    chmodSync(join(open, 'secret'), 0o600);
    copyFileSync('/usr/bin/ls', join(open, 'closed/ls'));
    const result = spawnSync(
      'setpriv',
      [
        '--reuid=65534',
        '--regid=65534',
        '--clear-groups',
        process.execPath,
        resolve(__dirname, '../bin/dit.cjs'),
        'deps',
        join(open, 'secret'),
        join(open, 'closed/ls'),
        '/usr/bin/ls',
      ],
      { encoding: 'utf8' },
    );
    expect(result.status).toBe(2);
    expect(result.stderr).toContain(`${join(open, 'secret')}: permission denied`);
    expect(result.stderr).toContain(`${join(open, 'closed/ls')}: permission denied`);
    expect(result.stdout).toContain('/usr/bin/ls (interpreter => /lib64/ld-linux-x86-64.so.2)');
  });

  it.runIf(built)('node_modules/.bin/dit and docker-image-toolkit run the built CLI', () => {
    const out = execFileSync(bin, ['deps', '--json', '/usr/bin/ls'], { encoding: 'utf8' });
    expect(JSON.parse(out)[0].interpreter).toBe('/lib64/ld-linux-x86-64.so.2');
    const alias = spawnSync(
      resolve(__dirname, '../../../node_modules/.bin/docker-image-toolkit'),
      ['--version'],
      { encoding: 'utf8' },
    );
    expect(alias.stdout).toMatch(/^dit \d+\.\d+\.\d+/);
  });

  it.runIf(built)('the bundled commands find the native addon and share UsageError', () => {
    const hashed = spawnSync(bin, ['hash', '/usr/bin/ls'], {
      encoding: 'utf8',
      env: { ...process.env, DEBUG: 'dit:native', DIT_NATIVE: '' },
    });
    expect(hashed.status).toBe(0);
    expect(hashed.stderr).toMatch(/^dit:native hashing with the addon \S+\.node$/m);
    // A usage error thrown in hash.cjs is recognised by main.cjs (exit 2 and one line, no stack).
    const usage = spawnSync(bin, ['hash'], { encoding: 'utf8' });
    expect(usage.status).toBe(2);
    expect(usage.stderr).toBe('dit: hash: no PATH given (try `dit hash --help`)\n');
  });
});

describe('DIT_NATIVE and dit deps', () => {
  it('dit deps --json prints the same with the addon loaded and with DIT_NATIVE=0', async () => {
    expect(nativeStatus().native, 'the addon is built (pnpm build)').toBe(true);
    const files = [
      ...listElfCorpus(['/usr/bin']).slice(0, 300),
      join(T, 'app'),
      join(T, 'broken'),
      join(T, 'static'),
      join(T, 'musl'),
      join(T, 'notes.txt'),
      join(T, 'loop1'),
    ];
    const native = await dit('deps', '--json', ...files);
    process.env.DIT_NATIVE = '0';
    try {
      const typescript = await dit('deps', '--json', ...files);
      expect(native.stdout).toBe(typescript.stdout);
      expect(native.stderr).toBe(typescript.stderr);
      expect(native.status).toBe(typescript.status);
    } finally {
      delete process.env.DIT_NATIVE;
    }
  });
});
