/**
 * `resolveMany`, the one entry point of `dit deps` and the exporter's closure: one answer per file in
 * input order, a file that is itself unusable answered by its ResolveError in its place, and the same
 * answers `resolve` gives file by file.
 */
import { copyFileSync, mkdirSync, mkdtempSync, realpathSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { RootFs } from '@dit/paths';
import { afterAll, describe, expect, it } from 'vitest';
import { ResolveError } from './errors.js';
import { createResolver, resolve, resolveMany } from './resolve.js';

// A root with two programs and a text file; none of their libraries.
const root = realpathSync(mkdtempSync(join(tmpdir(), 'dit-resolve-many-')));
afterAll(() => rmSync(root, { recursive: true, force: true }));
mkdirSync(join(root, 'bin'));
copyFileSync(realpathSync('/bin/true'), join(root, 'bin/true'));
copyFileSync(realpathSync('/bin/false'), join(root, 'bin/false'));
writeFileSync(join(root, 'bin/notes.txt'), 'not a program\n');

const files = ['/bin/true', '/bin/missing', '/bin', '/bin/notes.txt', '/bin/false', '/bin/true'];

describe('resolveMany', () => {
  it('answers every file in order, bad input as its ResolveError, good input as resolve does', () => {
    const answers = resolveMany(files, { root });
    expect(answers).toHaveLength(files.length);
    answers.forEach((answer, index) => {
      const file = files[index]!;
      let expected: unknown;
      try {
        expected = resolve(file, { root });
      } catch (error) {
        expected = error;
      }
      if (expected instanceof ResolveError) {
        expect(answer).toBeInstanceOf(ResolveError);
        expect(answer).toMatchObject({ code: expected.code, path: file, problem: expected.problem });
      } else {
        expect(answer).toEqual(expected);
      }
    });
    expect(answers.map((answer) => answer instanceof ResolveError)).toEqual([
      false,
      true,
      true,
      true,
      false,
      false,
    ]);
  });

  it('shares one session: a library missing for the first file is not looked for again', () => {
    const asked: string[] = [];
    const fs = new (class extends RootFs {
      override lookup(path: string, cwd?: string) {
        asked.push(path);
        return super.lookup(path, cwd);
      }
    })(root);
    createResolver({ fs }).resolveMany(['/bin/true']);
    const firstRun = asked.length;
    createResolver({ fs }).resolveMany(['/bin/true', '/bin/true', '/bin/true']);
    // Three files through one resolver cost fewer lookups than three resolvers of one file each.
    const shared = asked.length - firstRun;
    expect(shared).toBeGreaterThan(0);
    expect(shared).toBeLessThan(3 * firstRun);
  });
});
