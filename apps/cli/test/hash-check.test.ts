/**
 * `dit hash --check` against GNU sha256sum --check on the same lists: the same standard output byte
 * for byte, the same exit status and the same warnings, for every option, with the native addon and
 * with DIT_NATIVE=0. The lists mix every format sha256sum writes with damaged and hand-made lines.
 */
import { execFileSync, spawnSync } from 'node:child_process';
import { writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { afterAll, afterEach, beforeAll, describe, expect, it, vi } from 'vitest';
import { tempDir, writeTree } from '../../../test-support/fixtures.js';
import type { Io } from '../src/io.js';
import { ditHash } from './run-cli.js';

const temp = tempDir('dit-cli-check-');
const T = temp.path;
afterAll(() => temp.cleanup());
afterEach(() => {
  vi.unstubAllEnvs();
  vi.resetModules();
});

const lists: Record<string, string> = {};

beforeAll(() => {
  writeTree(T, {
    a: 'a\n',
    b: 'b\n',
    'c\\d': 'backslash\n',
    'car\rret': 'carriage return\n',
    'new\nline': 'newline\n',
    'sp ace': 'space\n',
    'paren (1)': 'parenthesis\n',
  });
  const files = ['a', 'b', 'c\\d', 'car\rret', 'new\nline', 'sp ace', 'paren (1)'].map((name) =>
    join(T, name),
  );
  const sums = (args: string[]) => execFileSync('sha256sum', args).toString();
  const hexOfA = sums([join(T, 'a')]).slice(0, 64);
  lists.good = sums(files);
  lists.tagged = sums(['--tag', ...files]);
  lists.mixed = [
    sums(files),
    sums([join(T, 'a')]).replace(join(T, 'a'), join(T, 'gone')),
    'not a checksum line\n',
    '# a comment\n\n',
    sums(['--tag', join(T, 'a'), join(T, 'new\nline')]),
    `${hexOfA.toUpperCase()} *${join(T, 'a')}\r\n`,
    `${hexOfA}  ${join(T, 'a')} \n`,
    `\\${hexOfA}  ${join(T, 'a')}\\t\n`,
    `SHA256 (${join(T, 'a')}) = ${hexOfA} \n`,
    `${hexOfA}  ${join(T, 'a')}`,
  ].join('');
  lists.reversed = `${hexOfA} ${join(T, 'a')}\n${hexOfA}  ${join(T, 'a')}\n`;
  lists.mixedReversed = `${hexOfA}  ${join(T, 'a')}\n${hexOfA} ${join(T, 'a')}\n`;
  lists.missingOnly = `${hexOfA}  ${join(T, 'gone')}\n`;
  lists.empty = '';
  lists.junk = 'junk\n';
  for (const [name, text] of Object.entries(lists)) writeFileSync(join(T, `${name}.sums`), text);
  // Changed after its checksum was taken: FAILED from here on.
  writeFileSync(join(T, 'b'), 'changed\n');
});

/** sha256sum's warnings and notes with our prefix, and without the lines naming unreadable files. */
function warnings(stderr: string, prefix: string): string[] {
  return stderr
    .split('\n')
    .filter((line) => /WARNING|improperly formatted|no properly formatted|no file was verified/.test(line))
    .map((line) => line.replace(prefix, 'PREFIX: ').replace(/'([^']*)'/g, '$1'));
}

for (const variant of [
  { name: 'native addon', DIT_NATIVE: '' },
  { name: 'DIT_NATIVE=0', DIT_NATIVE: '0' },
]) {
  describe(`dit hash --check (${variant.name})`, () => {
    /** `dit hash ARGS` in-process, with this variant's DIT_NATIVE. */
    const dit = (...argv: string[]) => ditHash(variant.DIT_NATIVE, ...argv);

    const optionSets = [[], ['--quiet'], ['--status'], ['--strict'], ['--warn'], ['--ignore-missing']];
    it('prints what sha256sum --check prints, exits as it does, and warns as it does', async () => {
      for (const list of Object.keys(lists)) {
        for (const options of optionSets) {
          const args = ['--check', ...options, join(T, `${list}.sums`)];
          const want = spawnSync('sha256sum', args, { encoding: 'utf8' });
          const got = await dit(...args);
          const what = `${list} ${options.join(' ')}`;
          expect(got.stdout, what).toBe(want.stdout);
          expect(got.status, what).toBe(want.status);
          expect(warnings(got.stderr, 'dit: '), what).toEqual(warnings(want.stderr, 'sha256sum: '));
        }
      }
    });

    it('names each file it cannot read on stderr, and checks several lists in turn', async () => {
      const args = ['-c', join(T, 'mixed.sums'), join(T, 'nowhere.sums'), join(T, 'good.sums')];
      const want = spawnSync('sha256sum', args, { encoding: 'utf8' });
      const got = await dit(...args);
      expect(got.stdout).toBe(want.stdout);
      expect(got.status).toBe(1);
      expect(got.stderr).toContain(`dit: ${join(T, 'gone')}: ENOENT: no such file or directory\n`);
      expect(got.stderr).toContain(`dit: ${join(T, 'nowhere.sums')}: ENOENT: no such file or directory\n`);
    });

    it('passes a list that is all good, and --quiet then prints nothing', async () => {
      expect(await dit('-c', join(T, 'good.sums'))).toMatchObject({ status: 1 }); // b changed
      writeFileSync(join(T, 'all-good.sums'), execFileSync('sha256sum', [join(T, 'a'), join(T, 'c\\d')]));
      expect(await dit('-c', '--quiet', join(T, 'all-good.sums'))).toEqual({
        status: 0,
        stdout: '',
        stderr: '',
      });
    });
  });
}

describe('dit hash --check usage', () => {
  it('refuses -z and --json with --check, check-only options without it, and no LIST', async () => {
    const { hash } = await import('../src/commands/hash.js');
    const io: Io = { stdout: () => {}, stderr: () => {} };
    await expect(hash(['-c', '-z', 'x'], io)).rejects.toThrow(/--check does not take -z/);
    await expect(hash(['-c', '--json', 'x'], io)).rejects.toThrow(/--check does not take --json/);
    await expect(hash(['--quiet', 'x'], io)).rejects.toThrow(/--quiet is only for --check/);
    await expect(hash(['-c'], io)).rejects.toThrow(/wants a LIST/);
  });
});
