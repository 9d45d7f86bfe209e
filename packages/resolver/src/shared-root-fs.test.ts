/**
 * `createResolver({ fs })`: the resolver reads the root through the caller's RootFs (a pipeline's
 * one instance), and refuses one that reads another folder than `root`.
 */
import { copyFileSync, mkdirSync, mkdtempSync, realpathSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { type Lookup, RootFs } from '@dit/paths';
import { afterAll, describe, expect, it } from 'vitest';
import { ResolveError } from './errors.js';
import { createResolver } from './resolve.js';

/** A RootFs that remembers what it was asked: proof that the resolver walked through it. */
class CountingRootFs extends RootFs {
  readonly asked: string[] = [];
  override lookup(path: string, cwd?: string): Lookup {
    this.asked.push(path);
    return super.lookup(path, cwd);
  }
}

// A root holding one dynamically linked program and none of its libraries.
const root = realpathSync(mkdtempSync(join(tmpdir(), 'dit-resolver-fs-')));
afterAll(() => rmSync(root, { recursive: true, force: true }));
mkdirSync(join(root, 'bin'));
copyFileSync(realpathSync('/bin/true'), join(root, 'bin/true'));

describe('createResolver({ fs })', () => {
  it('resolves inside the RootFs given, through it', () => {
    const fs = new CountingRootFs(root);
    const resolution = createResolver({ fs }).resolve('/bin/true');
    expect(fs.asked).toContain('/bin/true');
    // The host's libc is not in this root: read through the root's RootFs, it is missing.
    expect(resolution.libraries.find((library) => library.name === 'libc.so.6')?.path ?? null).toBeNull();
    expect(resolution.missing.map((missing) => missing.name)).toContain('libc.so.6');
  });

  it('accepts `root` naming the same folder as the RootFs', () => {
    const fs = new CountingRootFs(root);
    createResolver({ root: `${root}/bin/..`, fs }).resolve('/bin/true');
    expect(fs.asked).toContain('/bin/true');
  });

  it('refuses a RootFs of another folder than `root`', () => {
    const fs = new RootFs(root);
    let error: unknown;
    try {
      createResolver({ root: '/', fs });
    } catch (caught) {
      error = caught;
    }
    expect(error).toBeInstanceOf(ResolveError);
    expect(error).toMatchObject({ code: 'RESOLVE_BAD_ROOT', path: '/' });
  });
});
