/**
 * The native dependency walk (src/deps-walk-native.ts, src/deps.rs) against the TypeScript resolver:
 * the whole ELF corpus file by file, a fixture per glibc rule, and the speed of both. The
 * asynchronous walk (`depsWalkNativeAsync`) against the synchronous one: the same results, the same
 * errors, the same choice of implementation, and the event loop turning meanwhile.
 */

import { copyFileSync, existsSync, mkdirSync, realpathSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { afterAll, afterEach, beforeAll, describe, expect, it, vi } from 'vitest';
import { listElfCorpus } from '../../../test-support/corpus.mjs';
import { DEBIAN_ROOT_CACHE } from '../../../test-support/debian-root.mjs';
import { compile, programSource, run, sharedLibrarySource, tempDir } from '../../../test-support/fixtures.js';
import { glibcLayouts, libraryFixtures } from '../../../test-support/library-fixtures.js';
import { buildLoaderMutants } from '../../../test-support/loader-mutants.js';
// A relative import rather than a devDependency on @dit/resolver: the reference implementation.
import {
  type CpuProfile,
  createResolver,
  hostCpuProfile,
  ResolveError,
  type ResolveOptions,
  x86ProfileForLevel,
} from '../../resolver/src/index.js';
import {
  type DepsWalkOptions,
  depsWalkNative,
  depsWalkNativeAsync,
  depsWalkRequest,
  type NativeDepsResult,
} from '../src/deps-walk-native.js';
import { type LoadedAddon, loadAddon, type NativeBinding } from '../src/loader.js';

const addon = loadAddon();
const nativeOff = process.env.DIT_NATIVE === '0';
const hasWalk =
  !nativeOff &&
  addon.binding !== null &&
  typeof (addon.binding as unknown as Record<string, unknown>).depsWalk === 'function';
const skipReason = hasWalk
  ? ''
  : ` (skipped: ${nativeOff ? 'DIT_NATIVE=0' : addon.binding === null ? addon.reason : 'no depsWalk in the addon'})`;

type Options = Omit<ResolveOptions, 'cpu' | 'preload'> & { cpu?: CpuProfile };

/** What the TypeScript resolver says, in the native result's shape. */
function tsWalk(files: readonly string[], options: Options = {}): NativeDepsResult[] {
  const resolver = createResolver({ ...options, cpu: options.cpu ?? hostCpuProfile() });
  return files.map((file) => {
    try {
      const r = resolver.resolve(file);
      return {
        file,
        interpreter: r.interpreter,
        // The native walk leaves names that are not UTF-8 to TypeScript: these are all text.
        libraries: r.libraries.map((l) => ({ name: String(l.name), path: l.path && String(l.path) })),
        missing: r.missing.map((m) => ({ name: String(m.name), neededBy: String(m.neededBy) })),
        failure: r.failure === null ? null : { path: String(r.failure.path), message: r.failure.message },
      };
    } catch (error) {
      if (error instanceof ResolveError) return { file, error: error.problem };
      throw error;
    }
  });
}

function walkOptions(options: Options): DepsWalkOptions {
  return { ...options, libraryPath: options.libraryPath ?? null, cpu: options.cpu ?? hostCpuProfile() };
}

function nativeWalk(files: readonly string[], options: Options = {}): NativeDepsResult[] {
  const results = depsWalkNative(files, walkOptions(options));
  if (results === undefined) throw new Error('depsWalkNative returned undefined (DIT_NATIVE=0?)');
  return results;
}

async function nativeWalkAsync(files: readonly string[], options: Options = {}): Promise<NativeDepsResult[]> {
  const results = await depsWalkNativeAsync(files, walkOptions(options));
  if (results === undefined) throw new Error('depsWalkNativeAsync resolved to undefined (DIT_NATIVE=0?)');
  return results;
}

/** What `call` throws (it must throw). */
function thrownBy(call: () => unknown): unknown {
  try {
    call();
  } catch (error) {
    return error;
  }
  throw new Error('expected a throw');
}

/** What `promise` rejects with (it must reject). */
async function rejectionOf(promise: Promise<unknown>): Promise<unknown> {
  return promise.then(
    () => {
      throw new Error('expected a rejection');
    },
    (error: unknown) => error,
  );
}

/** The same error: class, message and code. */
function expectSameError(actual: unknown, expected: unknown): void {
  expect(actual).toBeInstanceOf(Error);
  expect(expected).toBeInstanceOf(Error);
  const [a, e] = [actual as Error & { code?: unknown }, expected as Error & { code?: unknown }];
  expect(a.constructor).toBe(e.constructor);
  expect({ message: a.message, code: a.code }).toEqual({ message: e.message, code: e.code });
}

/** Files whose native result differs from the TypeScript one (unsupported ones are listed apart). */
function compare(files: readonly string[], options: Options = {}) {
  const native = nativeWalk(files, options);
  const ts = tsWalk(files, options);
  const mismatches: { file: string; native: NativeDepsResult; ts: NativeDepsResult }[] = [];
  const unsupported: string[] = [];
  files.forEach((file, index) => {
    const n = native[index]!;
    if ('unsupported' in n) {
      unsupported.push(file);
      return;
    }
    if (JSON.stringify(n) !== JSON.stringify(ts[index])) mismatches.push({ file, native: n, ts: ts[index]! });
  });
  return { native, ts, mismatches, unsupported };
}

describe.skipIf(!hasWalk)(`depsWalk over the ELF corpus${skipReason}`, () => {
  const corpus = listElfCorpus();

  it('gives what the TypeScript resolver gives, file by file', () => {
    expect(corpus.length).toBeGreaterThan(100);
    const { mismatches, unsupported } = compare(corpus);
    expect(mismatches.map((m) => m.file)).toEqual([]);
    // The corpus is glibc x86-64 only: the native model covers all of it.
    expect(unsupported).toEqual([]);
  });

  it('also on an older CPU, without the cache, and with LD_LIBRARY_PATH', () => {
    const sample = corpus.filter((_, index) => index % 7 === 0);
    for (const options of [
      { cpu: x86ProfileForLevel(0) },
      { useCache: false },
      { libraryPath: '/usr/lib/x86_64-linux-gnu/openssl-1.0.0:$ORIGIN/../lib:' },
    ] satisfies Options[]) {
      const { mismatches, unsupported } = compare(sample, options);
      expect(mismatches.map((m) => m.file)).toEqual([]);
      expect(unsupported).toEqual([]);
    }
  });

  it('reports bad input as the TypeScript resolver words it; static programs and the loader itself', () => {
    const files = [
      '/nonexistent',
      '/usr',
      '/etc/hostname',
      '/dev/null',
      'usr/bin/ls',
      '/sbin/ldconfig',
      '/lib64/ld-linux-x86-64.so.2',
      '/lib/x86_64-linux-gnu/libc.so.6',
      '/usr/bin/../bin/ls',
    ];
    const { native, ts } = compare(files);
    native.forEach((result, index) => {
      if (!('unsupported' in result)) expect(result).toEqual(ts[index]);
    });
    expect(native[0]).toEqual({ file: '/nonexistent', error: 'no such file (or a dangling symlink)' });
    expect(native[1]).toEqual({ file: '/usr', error: 'is a directory' });
  });
});

const debianRoot = join(DEBIAN_ROOT_CACHE, 'bookworm-minbase');
const hasDebianRoot = existsSync(join(debianRoot, 'etc/debian_version'));

describe.skipIf(!hasWalk || !hasDebianRoot)(`depsWalk inside a Debian root${skipReason}`, () => {
  it('gives what the TypeScript resolver gives for every ELF file of the root', () => {
    const files = listElfCorpus(
      ['usr/bin', 'usr/sbin', 'usr/lib/x86_64-linux-gnu'].map((d) => join(debianRoot, d)),
    ).map((file) => file.slice(debianRoot.length));
    expect(files.length).toBeGreaterThan(50);
    for (const options of [
      { root: debianRoot },
      { root: debianRoot, useCache: false, cwd: '/usr' },
    ] satisfies Options[]) {
      const { mismatches, unsupported } = compare(files, options);
      expect(mismatches.map((m) => m.file)).toEqual([]);
      expect(unsupported).toEqual([]);
    }
  });
});

describe.skipIf(!hasWalk)(`depsWalk on fixtures, against the TypeScript resolver${skipReason}`, () => {
  const temp = tempDir('dit-walk-native-');
  const T = temp.path;
  afterAll(() => temp.cleanup());

  const { linkStub } = libraryFixtures(T);
  const layouts = glibcLayouts(T);

  /** The native walk agrees with the TypeScript resolver, and the asynchronous one with it. */
  async function same(files: string[], options: Options = {}) {
    const { mismatches, unsupported, native } = compare(files, options);
    expect(unsupported).toEqual([]);
    expect(mismatches).toEqual([]);
    expect(await nativeWalkAsync(files, options)).toStrictEqual(native);
    return native;
  }

  beforeAll(() => {
    layouts.linkStubs();
    linkStub('libcached.so');
  });

  it('DT_RPATH is inherited by the children, DT_RUNPATH is not', async () => {
    const [withRpath, withRunpath] = (await same([
      layouts.rpathInherited(),
      layouts.runpathNotInherited(),
    ])) as [NativeDepsResult, NativeDepsResult];
    expect('libraries' in withRpath && withRpath.missing).toEqual([]);
    expect('libraries' in withRunpath && withRunpath.missing.map((m) => m.name)).toEqual(['libb.so']);
  });

  it("$ORIGIN: the program's real directory, a library's directory as opened", async () => {
    const results = await same([
      layouts.programOriginThroughLink(),
      layouts.libraryOriginAsOpened(),
      layouts.libToken(),
    ]);
    const paths = results.flatMap((r) => ('libraries' in r ? r.libraries.map((l) => l.path) : []));
    expect(paths).toContain(`${T}/orig/app/bin/../lib/libdep.so`);
    expect(paths).toContain(`${T}/lo/x/lib/../dep/libdep.so`);
    expect(paths).toContain(`${T}/dl/lib/x86_64-linux-gnu/libdep.so`);
  });

  it('a wrong-class candidate is skipped; garbage is fatal; missing names are listed', async () => {
    const missing = layouts.missing();
    const [a, b, c] = (await same([
      layouts.wrongClassSkipped(),
      layouts.garbageIsFatal(),
      missing,
    ])) as NativeDepsResult[];
    expect(a && 'libraries' in a && a.libraries.find((l) => l.name === 'libw.so')?.path).toBe(
      `${T}/wc/d64/libw.so`,
    );
    expect(b && 'failure' in b && b.failure).toEqual({
      path: `${T}/gb/bad/libw.so`,
      message: 'invalid ELF header',
    });
    expect(c && 'missing' in c && c.missing).toEqual([{ name: 'libnothere.so.1', neededBy: missing }]);
  });

  it('hwcaps subdirectories per CPU level, LD_LIBRARY_PATH with an empty element', async () => {
    const hwcaps = layouts.hwcaps();
    await same([hwcaps]);
    await same([hwcaps], { cpu: x86ProfileForLevel(0) });
    const { main, first } = layouts.libraryPath();
    await same([main]);
    await same([main], { libraryPath: first });
    await same([main], { libraryPath: ':/nonexistent', cwd: first });
  });

  for (const format of ['new', 'compat', 'old'] as const) {
    it(`a foreign root with an ld.so.cache in the ${format} format`, async () => {
      const R = join(T, `root-${format}`);
      layouts.foreignRoot(R);
      run('/sbin/ldconfig', ['-r', R, '-c', format]);
      const [withCache] = await same(['/usr/bin/prog', '/bin/prog', '/usr/bin/missing'], { root: R });
      expect(withCache && 'libraries' in withCache && withCache.libraries.map((l) => l.path)).toContain(
        '/opt/extra/libcached.so',
      );
      const [withoutCache] = await same(['/usr/bin/prog'], { root: R, useCache: false });
      expect(withoutCache && 'missing' in withoutCache && withoutCache.missing.map((m) => m.name)).toEqual([
        'libcached.so',
      ]);
      // /etc/ld.so.preload of the root: loaded first, missing ones named after the file.
      writeFileSync(
        join(R, 'etc/ld.so.preload'),
        'libcached.so # a comment\nlibnope.so:/opt/extra/libcached.so\n',
      );
      const [preloaded] = await same(['/usr/bin/prog'], { root: R });
      expect(preloaded && 'missing' in preloaded && preloaded.missing).toEqual([
        { name: 'libnope.so', neededBy: '/etc/ld.so.preload' },
      ]);
    });
  }

  it('musl: reserved names, RUNPATH inherited, LD_LIBRARY_PATH, the path file of a root', async () => {
    const musl = (source: string, output: string, flags: string[]) =>
      compile(source, output, { compiler: 'musl-gcc', flags: ['-shared', ...flags] });
    musl(sharedLibrarySource('a', ['b']), join(T, 'musl/dir/liba.so'), [
      `-L${T}/link`,
      '-l:libb.so',
      '-Wl,-soname,liba.so',
    ]);
    musl(sharedLibrarySource('b'), join(T, 'musl/dir/libb.so'), ['-Wl,-soname,libb.so']);
    const main = compile(programSource(['a']), join(T, 'musl/main'), {
      compiler: 'musl-gcc',
      flags: [
        `-L${T}/link`,
        `-Wl,-rpath-link,${T}/link`,
        '-l:liba.so',
        '-lm',
        '-Wl,--enable-new-dtags,-rpath,$ORIGIN/dir',
      ],
    });
    musl(sharedLibrarySource('dep'), join(T, 'musl/llp/libdep.so'), ['-Wl,-soname,libdep.so']);
    const main2 = compile(programSource(['dep', 'nothere']), join(T, 'musl/main2'), {
      compiler: 'musl-gcc',
      flags: [`-L${T}/link`, '-l:libdep.so', '-l:libnothere.so.1'],
    });
    const [first] = await same([main, main2]);
    expect(first && 'libraries' in first && first.libraries.map((l) => l.path)).toContain(
      '/lib/ld-musl-x86_64.so.1',
    );
    const [withPath] = await same([main2], { libraryPath: `${T}/musl/llp` });
    expect(withPath && 'missing' in withPath && withPath.missing.map((m) => m.name)).toEqual([
      'libnothere.so.1',
    ]);

    const R = join(T, 'muslroot');
    mkdirSync(join(R, 'lib'), { recursive: true });
    mkdirSync(join(R, 'etc'), { recursive: true });
    copyFileSync(realpathSync('/lib/ld-musl-x86_64.so.1'), join(R, 'lib/ld-musl-x86_64.so.1'));
    musl(sharedLibrarySource('dep'), join(R, 'opt/musl-libs/libdep.so'), ['-Wl,-soname,libdep.so']);
    musl(sharedLibrarySource('dep'), join(R, 'usr/lib/libdep.so'), ['-Wl,-soname,libdep.so']);
    compile(programSource(['dep']), join(R, 'prog'), {
      compiler: 'musl-gcc',
      flags: [`-L${T}/link`, '-l:libdep.so'],
    });
    await same(['/prog'], { root: R });
    writeFileSync(join(R, 'etc/ld-musl-x86_64.path'), '/opt/musl-libs\n');
    const [fromPathFile] = await same(['/prog'], { root: R });
    expect(
      fromPathFile && 'libraries' in fromPathFile && fromPathFile.libraries.map((l) => l.path),
    ).toContain('/opt/musl-libs/libdep.so');
  });

  it('the loader cases of issue 9: PT_DYNAMIC at p_vaddr, DT_NEEDED "", exact 64-bit offsets', async () => {
    const mutants = buildLoaderMutants(join(T, 'mutants'));
    const results = await same([
      mutants.dynamicWithoutFileBytes,
      mutants.dynamicOffsetElsewhere,
      mutants.dynamicInZeroFill,
      mutants.libraryWithoutFileBytes,
      mutants.emptyNeeded,
      mutants.musl.dynamicWithoutFileBytes,
      mutants.musl.libraryWithoutFileBytes,
      mutants.musl.emptyNeeded,
    ]);
    expect(results.map((r) => ('failure' in r ? r.failure?.message : r))[3]).toBe(
      'object file has no dynamic section',
    );
    // Left to TypeScript: a name that is not UTF-8 (it keeps the bytes), and a file the native
    // reader refuses (TypeScript words the error, with the offset exact).
    const left = [mutants.notUtf8Needed, mutants.musl.notUtf8Needed, mutants.neededOffsetNear2p63];
    expect(compare(left).unsupported).toEqual(left);
  });

  it("reports a file that is not ELF in the TypeScript reader's words", async () => {
    writeFileSync(join(T, 'script.sh'), '#!/bin/sh\necho hi\n');
    writeFileSync(join(T, 'short'), '\x7fELF\x02');
    writeFileSync(join(T, 'empty'), '');
    await same([join(T, 'script.sh'), join(T, 'short'), join(T, 'empty')]);
  });
});

describe.skipIf(!hasWalk)(`depsWalkNativeAsync against depsWalkNative${skipReason}`, () => {
  const usrBin = listElfCorpus(['/usr/bin']).slice(0, 300);
  const badInput = ['/nonexistent', '/usr', '/etc/hostname', 'usr/bin/ls', '/lib64/ld-linux-x86-64.so.2'];

  it('gives the same results on a few hundred programs, with each set of options', async () => {
    expect(usrBin.length).toBeGreaterThan(100);
    for (const options of [
      {},
      { cpu: x86ProfileForLevel(0) },
      { useCache: false },
      { libraryPath: '/usr/lib/x86_64-linux-gnu/openssl-1.0.0:$ORIGIN/../lib:', cwd: '/usr' },
    ] satisfies Options[]) {
      const files = [...badInput, ...usrBin];
      expect(await nativeWalkAsync(files, options)).toStrictEqual(nativeWalk(files, options));
    }
  });

  it('keeps walks in flight apart: each promise gets its own files', async () => {
    const parts = [usrBin.slice(0, 100), usrBin.slice(100, 200), badInput, []];
    const results = await Promise.all(parts.map((files) => nativeWalkAsync(files)));
    expect(results).toStrictEqual(parts.map((files) => nativeWalk(files)));
  });

  it('keeps the event loop turning while it walks /usr/bin and /usr/lib/x86_64-linux-gnu', async () => {
    const corpus = listElfCorpus(['/usr/bin', '/usr/lib/x86_64-linux-gnu']);
    expect(corpus.length).toBeGreaterThan(500);
    const expected = nativeWalk(corpus);
    let ticks = 0;
    const timer = setInterval(() => ticks++, 1);
    try {
      const walking = nativeWalkAsync(corpus);
      // The call only queues the walk: nothing can have ticked yet.
      expect(ticks).toBe(0);
      const results = await walking;
      expect(ticks).toBeGreaterThan(0);
      expect(results).toStrictEqual(expected);
    } finally {
      clearInterval(timer);
    }
  });

  it('rejects a bad request with the error depsWalkNative throws', async () => {
    // Through the package: NaN does not survive JSON (it becomes null), which the addon refuses.
    const options = walkOptions({ cpu: { ...hostCpuProfile(), isaLevel: Number.NaN } });
    const thrown = thrownBy(() => depsWalkNative(['/usr/bin/ls'], options));
    expect(thrown).toMatchObject({ message: 'depsWalk: cpu.isaLevel must be a number' });
    expectSameError(await rejectionOf(depsWalkNativeAsync(['/usr/bin/ls'], options)), thrown);

    // The binding itself, with text that is not JSON or not the request.
    const binding = addon.binding as unknown as {
      depsWalk(request: unknown): string;
      depsWalkAsync(request: unknown): Promise<string>;
    };
    for (const request of ['{"files": [', 'not json', '{}', '[]', JSON.stringify({ files: [1] })]) {
      const error = thrownBy(() => binding.depsWalk(request));
      expect(error).toMatchObject({
        code: 'ERR_INVALID_ARG_VALUE',
        message: expect.stringMatching(/^depsWalk: /),
      });
      expectSameError(await rejectionOf(binding.depsWalkAsync(request)), error);
    }
    // Not a string at all: a TypeError thrown by the call itself, as hashFiles does.
    expect(() => binding.depsWalkAsync(42)).toThrow(
      expect.objectContaining({
        name: 'TypeError',
        code: 'ERR_INVALID_ARG_TYPE',
        message: 'depsWalkAsync: the request must be a JSON string',
      }),
    );
    expect(() => binding.depsWalkAsync(undefined)).toThrow(TypeError);
  });
});

describe('depsWalkNativeAsync decides as depsWalkNative does', () => {
  afterEach(() => {
    vi.doUnmock('../src/loader.js');
    vi.unstubAllEnvs();
    vi.resetModules();
  });

  const options = walkOptions({});
  const answer: NativeDepsResult[] = [{ file: '/x', error: 'is a directory' }];

  /** src/deps-walk-native.ts, loaded with `binding` as its addon (null: not built). */
  async function walkNativeWith(
    binding: Partial<NativeBinding & { depsWalk: unknown; depsWalkAsync: unknown }> | null,
  ) {
    const loaded: LoadedAddon =
      binding === null
        ? { binding: null, reason: 'the addon is not built (a test)' }
        : { binding: binding as NativeBinding, path: '/x/dit-native.node' };
    vi.resetModules();
    vi.doMock('../src/loader.js', async (importOriginal) => ({
      ...(await importOriginal<typeof import('../src/loader.js')>()),
      addonOnce: () => loaded,
    }));
    return import('../src/deps-walk-native.js');
  }

  it('resolves to undefined with DIT_NATIVE=0, whatever the addon has', async () => {
    vi.stubEnv('DIT_NATIVE', '0');
    // The real module and addon, as built or not.
    expect(await depsWalkNativeAsync(['/usr/bin/ls'], options)).toBeUndefined();
    expect(depsWalkNative(['/usr/bin/ls'], options)).toBeUndefined();
    const depsWalkAsync = vi.fn(async () => JSON.stringify(answer));
    const walk = await walkNativeWith({ hashFiles: async () => [], depsWalk: () => '[]', depsWalkAsync });
    expect(await walk.depsWalkNativeAsync(['/x'], options)).toBeUndefined();
    expect(depsWalkAsync).not.toHaveBeenCalled();
  });

  it("sends depsWalkNative's request to the addon's depsWalkAsync and parses the answer", async () => {
    vi.stubEnv('DIT_NATIVE', '');
    const depsWalkAsync = vi.fn(async () => JSON.stringify(answer));
    const walk = await walkNativeWith({ hashFiles: async () => [], depsWalk: () => '[]', depsWalkAsync });
    expect(await walk.depsWalkNativeAsync(['/x'], options)).toStrictEqual(answer);
    expect(depsWalkAsync).toHaveBeenCalledWith(depsWalkRequest(['/x'], options));
  });

  it('without the addon or its depsWalkAsync: undefined, or NativeError with DIT_NATIVE=1', async () => {
    const older = { hashFiles: async () => [], depsWalk: () => '[]' };
    vi.stubEnv('DIT_NATIVE', '');
    expect(await (await walkNativeWith(null)).depsWalkNativeAsync(['/x'], options)).toBeUndefined();
    expect(await (await walkNativeWith(older)).depsWalkNativeAsync(['/x'], options)).toBeUndefined();

    vi.stubEnv('DIT_NATIVE', '1');
    const unavailable = (reason: RegExp) =>
      expect.objectContaining({
        name: 'NativeError',
        code: 'NATIVE_UNAVAILABLE',
        message: expect.stringMatching(reason),
      });
    const notBuilt = await walkNativeWith(null);
    await expect(notBuilt.depsWalkNativeAsync(['/x'], options)).rejects.toThrow(unavailable(/not built/));
    expect(() => notBuilt.depsWalkNative(['/x'], options)).toThrow(unavailable(/not built/));
    const withoutAsync = await walkNativeWith(older);
    await expect(withoutAsync.depsWalkNativeAsync(['/x'], options)).rejects.toThrow(
      unavailable(/^DIT_NATIVE=1 but the addon does not export depsWalkAsync \(rebuild it\)$/),
    );
    // The synchronous walk is there: depsWalkNative still uses it.
    expect(withoutAsync.depsWalkNative(['/x'], options)).toStrictEqual([]);
  });
});
