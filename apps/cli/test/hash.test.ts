/**
 * `dit hash` end to end: real files, the real command code, byte for byte against GNU sha256sum,
 * once with the native addon and once with DIT_NATIVE=0 (the TypeScript path).
 */
import { execFileSync, spawnSync } from 'node:child_process';
import { chmodSync, existsSync, mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import { join, resolve } from 'node:path';
import { afterAll, afterEach, beforeAll, describe, expect, it, vi } from 'vitest';
import { withoutRoot } from '../../../packages/native/test/helpers.js';
import { tempDir, writeTree } from '../../../test-support/fixtures.js';
import type { Io } from '../src/io.js';
import { ditHash } from './run-cli.js';

const temp = tempDir('dit-cli-hash-');
const T = temp.path;
afterAll(() => temp.cleanup());
afterEach(() => {
  vi.unstubAllEnvs();
  vi.resetModules();
});

/** Files with awkward names, given in this (unsorted) order. */
const named: string[] = [];

beforeAll(() => {
  // Readable to `nobody` for the permission test, except what is made unreadable on purpose.
  chmodSync(T, 0o755);
  writeTree(T, {
    'z-last-alphabetically': 'z\n',
    empty: '',
    'a b': 'space\n',
    'back\\slash': 'backslash\n',
    'new\nline': 'newline\n',
    'carriage\rreturn': 'cr\n',
    ünï: 'utf-8\n',
    big: 'x'.repeat(3 * 1024 * 1024 + 1),
    'tree/b': 'b',
    'tree/a-b': 'a-b',
    'tree/a/x': 'a/x',
    'tree/a/sub/deep': 'deep',
    'tree/A': 'A',
    'tree/odd\\name': 'odd',
    'tree/link-to-file': { symlink: 'b' },
    'tree/link-to-dir': { symlink: 'a' },
    'tree/dangling': { symlink: 'nowhere' },
  });
  mkdirSync(join(T, 'tree', 'empty-dir'));
  execFileSync('mkfifo', [join(T, 'tree', 'fifo')]);
  for (const name of [
    'z-last-alphabetically',
    'empty',
    'a b',
    'back\\slash',
    'new\nline',
    'carriage\rreturn',
    'ünï',
    'big',
  ]) {
    named.push(join(T, name));
  }
});

function sha256sum(args: string[], options: { cwd?: string } = {}): string {
  return execFileSync('sha256sum', args, { ...options, encoding: 'utf8' });
}

/** `find DIR -type f | LC_ALL=C sort | xargs sha256sum`: the reference for a walked folder. */
function sha256sumTree(dir: string): string {
  return execFileSync(
    'sh',
    ['-c', 'find "$1" -type f -print0 | LC_ALL=C sort -z | xargs -0 sha256sum --', 'sh', dir],
    { encoding: 'utf8' },
  );
}

for (const variant of [
  { name: 'native addon', DIT_NATIVE: '' },
  { name: 'DIT_NATIVE=0', DIT_NATIVE: '0' },
]) {
  describe(`dit hash (${variant.name})`, () => {
    /** `dit hash ARGS` in-process, with this variant's DIT_NATIVE. */
    const dit = (...argv: string[]) => ditHash(variant.DIT_NATIVE, ...argv);

    it('prints exactly what sha256sum prints, in the order given, escaped names included', async () => {
      const { status, stdout, stderr } = await dit(...named);
      expect(stderr).toBe('');
      expect(status).toBe(0);
      expect(stdout).toBe(sha256sum(['--', ...named]));
      // backslash, newline, carriage return: escaped, and the line starts with a backslash
      expect(stdout.split('\n').filter((line) => line.startsWith('\\'))).toHaveLength(3);
    });

    it('writes lines that `sha256sum -c` accepts', async () => {
      const { stdout } = await dit(...named, join(T, 'tree'));
      const list = join(T, `sums-${variant.DIT_NATIVE || 'native'}.txt`);
      writeFileSync(list, stdout);
      const check = spawnSync('sha256sum', ['--check', '--strict', list], { encoding: 'utf8' });
      expect(check.stderr).toBe('');
      expect(check.status).toBe(0);
      expect(check.stdout.match(/: OK$/gm)).toHaveLength(named.length + 6);
    });

    it('walks a folder: regular files in sorted path order, links not followed', async () => {
      const tree = join(T, 'tree');
      const { status, stdout } = await dit(tree);
      expect(status).toBe(0);
      expect(stdout).toBe(sha256sumTree(tree));
      expect(stdout).not.toMatch(/link-to|dangling|fifo/);
      const names = stdout
        .split('\n')
        .filter(Boolean)
        .map((line) => line.slice(line.indexOf(tree) + tree.length));
      expect(names).toEqual(['/A', '/a-b', '/a/sub/deep', '/a/x', '/b', '/odd\\\\name']);
    });

    it('-z ends lines with NUL and escapes nothing, as sha256sum -z', async () => {
      const { stdout } = await dit('-z', ...named);
      expect(stdout).toBe(sha256sum(['-z', '--', ...named]));
    });

    it('names an unreadable file on stderr, hashes the rest, and exits 1', async () => {
      const secret = join(T, 'secret');
      writeFileSync(secret, 'secret\n');
      chmodSync(secret, 0o000);
      const ok = join(T, 'a b');
      const missing = join(T, 'missing');
      const { status, stdout, stderr } = await withoutRoot(() => dit(ok, secret, missing, ok));
      expect(status).toBe(1);
      expect(stdout).toBe(sha256sum([ok, ok]));
      expect(stderr).toBe(
        `dit: ${secret}: EACCES: permission denied\ndit: ${missing}: ENOENT: no such file or directory\n`,
      );
    });

    it('--json gives one object per file and per failure', async () => {
      const { status, stdout } = await dit('--json', join(T, 'empty'), join(T, 'missing'));
      expect(status).toBe(1);
      expect(JSON.parse(stdout)).toEqual([
        {
          path: join(T, 'empty'),
          sha256: 'e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855',
        },
        { path: join(T, 'missing'), code: 'ENOENT', error: 'ENOENT: no such file or directory' },
      ]);
    });

    it('DEBUG=dit:native says which implementation runs', async () => {
      vi.stubEnv('DEBUG', 'dit:*');
      const { stderr } = await dit(join(T, 'empty'));
      const { nativeStatus } = await import('@dit/native');
      expect(stderr).toMatch(
        variant.DIT_NATIVE === '0'
          ? /^dit:native hashing in TypeScript: DIT_NATIVE=0/
          : nativeStatus().native
            ? /^dit:native hashing with the addon .*\.node\n$/
            : /^dit:native hashing in TypeScript: the addon/,
      );
    });
  });
}

describe('dit hash on names that are not UTF-8 (the installed command)', () => {
  // Node's child_process passes arguments as strings, so a shell makes the Latin-1 bytes (printf).
  const built = existsSync(resolve(__dirname, '../dist/cli/main.cjs'));
  const bin = resolve(__dirname, '../bin/dit.cjs');
  const dir = join(T, 'latin1');
  const bytes = (...parts: Array<string | number[]>) =>
    Buffer.concat(parts.map((part) => (typeof part === 'string' ? Buffer.from(part) : Buffer.from(part))));

  beforeAll(() => {
    mkdirSync(bytes(dir, '/sub', [0xfe]), { recursive: true });
    writeFileSync(bytes(dir, '/caf', [0xe9]), 'café in Latin-1\n');
    writeFileSync(bytes(dir, '/sub', [0xfe], '/inside'), 'inside\n');
    writeFileSync(bytes(dir, '/back\\slash', [0xff]), 'escaped, and not UTF-8\n');
    writeFileSync(join(dir, 'plain'), 'plain\n');
  });

  /** `sh -c SCRIPT` with $D the folder and $E its Latin-1 file, raw stdout and stderr. */
  const sh = (script: string, env: Record<string, string> = {}) =>
    spawnSync('sh', ['-c', `E="$D/$(printf 'caf\\351')"; ${script}`], {
      env: { ...process.env, ...env, D: dir, DIT: `"${process.execPath}" "${bin}"` },
    });

  for (const nativeSetting of ['', '0']) {
    const env = { DIT_NATIVE: nativeSetting };
    const label = nativeSetting === '' ? 'native addon' : 'DIT_NATIVE=0';

    it.runIf(built)(`prints them byte for byte as sha256sum, typed and found in a folder (${label})`, () => {
      const ours = sh('eval "$DIT hash \\"\\$E\\" \\"\\$D\\""', env);
      const theirs = sh(
        'sha256sum -- "$E"; find "$D" -type f -print0 | LC_ALL=C sort -z | xargs -0 sha256sum --',
      );
      expect(ours.stderr.toString()).toBe('');
      expect(ours.status).toBe(0);
      expect(ours.stdout).toEqual(theirs.stdout);
      expect(ours.stdout.includes(bytes('/caf', [0xe9], '\n'))).toBe(true);
      const zero = sh('eval "$DIT hash -z \\"\\$D\\""', env);
      expect(zero.stdout).toEqual(
        sh('find "$D" -type f -print0 | LC_ALL=C sort -z | xargs -0 sha256sum -z --').stdout,
      );
    });

    it.runIf(built)(`checks a list of them as sha256sum --check does (${label})`, () => {
      const list = join(dir, '..', `latin1-${nativeSetting || 'native'}.sums`);
      writeFileSync(
        list,
        sh('sha256sum -- "$E"; find "$D" -type f -print0 | LC_ALL=C sort -z | xargs -0 sha256sum --').stdout,
      );
      const ours = spawnSync(process.execPath, [bin, 'hash', '--check', list], {
        env: { ...process.env, ...env },
      });
      const theirs = spawnSync('sha256sum', ['--check', list]);
      expect(ours.status).toBe(0);
      expect(ours.stdout).toEqual(theirs.stdout);
      expect(ours.stdout.includes(bytes('/caf', [0xe9], ': OK\n'))).toBe(true);
    });

    it.runIf(built)(`names a missing one by its bytes, and gives its bytes in --json (${label})`, () => {
      const missing = sh('eval "$DIT hash \\"\\$D/$(printf "gone\\\\351")\\""', env);
      expect(missing.status).toBe(1);
      expect(missing.stderr).toEqual(
        bytes('dit: ', dir, '/gone', [0xe9], ': ENOENT: no such file or directory\n'),
      );
      const json = JSON.parse(sh('eval "$DIT hash --json \\"\\$E\\""', env).stdout.toString());
      expect(json).toEqual([
        { path: `${dir}/caf\uFFFD`, pathBase64: expect.any(String), sha256: expect.any(String) },
      ]);
      expect(Buffer.from(json[0].pathBase64, 'base64')).toEqual(bytes(dir, '/caf', [0xe9]));
    });
  }
});

describe('dit hash when its reader goes away (the installed command)', () => {
  const built = existsSync(resolve(__dirname, '../dist/cli/main.cjs'));
  it.runIf(built && existsSync('/usr/share/zoneinfo'))(
    'exits quietly with 141, as a C program dying of SIGPIPE does, instead of an EPIPE stack trace',
    () => {
      // Far more than a pipe holds (64 KiB), so a write fails once head has gone. $PIPESTATUS is the
      // status of the pipeline's first command.
      const script = '"$@" /usr/share/zoneinfo 2>"$STDERR" | head -c 1 >/dev/null; echo "$PIPESTATUS"';
      const stderrFile = join(T, 'epipe-stderr.txt');
      const run = (...command: string[]) =>
        execFileSync('bash', ['-c', script, 'bash', ...command], {
          encoding: 'utf8',
          env: { ...process.env, STDERR: stderrFile },
        }).trim();
      expect(run('yes')).toBe('141'); // a C program killed by SIGPIPE, for reference
      expect(run(process.execPath, resolve(__dirname, '../bin/dit.cjs'), 'hash')).toBe('141');
      expect(readFileSync(stderrFile, 'utf8')).toBe('');
    },
  );
});

describe('dit hash usage', () => {
  it('wants a PATH, and does not read standard input', async () => {
    const { hash } = await import('../src/commands/hash.js');
    const io: Io = { stdout: () => {}, stderr: () => {} };
    await expect(hash([], io)).rejects.toThrow(/no PATH given/);
    await expect(hash(['-'], io)).rejects.toThrow(/standard input/);
  });

  it('--help describes the command', async () => {
    const { hash, hashHelp } = await import('../src/commands/hash.js');
    let stdout = '';
    expect(await hash(['--help'], { stdout: (text) => (stdout += text), stderr: () => {} })).toBe(0);
    expect(stdout).toBe(hashHelp);
    expect(hashHelp).toMatch(/^Usage: dit hash/);
  });
});
