/** Which implementation runs, and why: the DIT_NATIVE switch, a missing build, a broken one. */
import { copyFileSync, mkdirSync, writeFileSync } from 'node:fs';
import { basename, join } from 'node:path';
import { afterAll, afterEach, describe, expect, it, vi } from 'vitest';
import { tempDir } from '../../../test-support/fixtures.js';
import { nativeSkipReason } from '../test/helpers.js';
import {
  ADDON_INTERFACE,
  addonFileNames,
  checkInterface,
  decide,
  type LoadedAddon,
  loadAddon,
} from './loader.js';

const temp = tempDir('dit-native-loader-');
afterAll(() => temp.cleanup());
afterEach(() => {
  vi.unstubAllEnvs();
  vi.resetModules();
});

const working: LoadedAddon = {
  binding: {
    interfaceVersion: ADDON_INTERFACE,
    hashFiles: async () => [],
    walkFiles: () => ({ files: [], errors: [] }),
    writeLayer: async () => ({ error: 'zlib', message: 'a fake' }),
    layerZlib: () => null,
    layerZstd: () => null,
  },
  path: '/x/dit-native.node',
};

describe('decide', () => {
  it('takes the TypeScript path when DIT_NATIVE=0, without loading anything', () => {
    const load = vi.fn(() => working);
    expect(decide({ DIT_NATIVE: '0' }, load)).toEqual({
      native: false,
      reason: 'DIT_NATIVE=0 selects the TypeScript path',
    });
    expect(load).not.toHaveBeenCalled();
  });

  it('takes the addon when it loads', () => {
    expect(decide({}, () => working)).toEqual({ native: true, path: '/x/dit-native.node' });
  });

  it('falls back with the load error as cause', () => {
    const cause = new Error('invalid ELF header');
    expect(decide({}, () => ({ binding: null, reason: 'could not be loaded', cause }))).toEqual({
      native: false,
      reason: 'could not be loaded',
      cause,
    });
  });
});

describe('loadAddon', () => {
  it('names the missing build', () => {
    const loaded = loadAddon(temp.path);
    expect(loaded.binding).toBeNull();
    expect(loaded).toMatchObject({
      reason: expect.stringMatching(/not built .*pnpm --filter @dit\/native build/),
    });
    expect('cause' in loaded).toBe(false);
  });

  it('keeps the error of a build that does not load', () => {
    const [name] = addonFileNames();
    writeFileSync(join(temp.path, name!), 'not a shared object');
    const loaded = loadAddon(temp.path);
    expect(loaded.binding).toBeNull();
    if (loaded.binding !== null) return;
    expect(loaded.reason).toMatch(/^the addon could not be loaded: /);
    expect(loaded.cause).toBeInstanceOf(Error);
  });

  it('takes the build from the first folder that has one (a bundle carries it beside itself)', () => {
    const built = loadAddon();
    expect(built.binding, 'the addon is built (pnpm build)').not.toBeNull();
    if (built.binding === null) return;
    const empty = join(temp.path, 'empty');
    const beside = join(temp.path, 'bundle');
    mkdirSync(empty, { recursive: true });
    mkdirSync(beside, { recursive: true });
    copyFileSync(built.path, join(beside, basename(built.path)));
    const loaded = loadAddon([empty, beside]);
    expect(loaded).toMatchObject({ path: join(beside, basename(built.path)) });
    const missing = loadAddon([empty, join(temp.path, 'nowhere')]);
    expect(missing).toMatchObject({ binding: null, reason: expect.stringContaining(`${empty} or `) });
  });

  it('refuses a build from other sources, saying how to rebuild it', () => {
    const { binding } = working;
    if (binding === null) throw new Error('unreachable');
    expect(checkInterface(binding, '/x/a.node')).toEqual({ binding, path: '/x/a.node' });
    const older = checkInterface({ hashFiles: binding.hashFiles }, '/x/old.node');
    expect(older).toMatchObject({
      binding: null,
      reason: expect.stringMatching(/\/x\/old\.node .*an older interface.*pnpm --filter @dit\/native build/),
    });
    const newer = checkInterface({ ...binding, interfaceVersion: ADDON_INTERFACE + 1 }, '/x/new.node');
    expect(newer).toMatchObject({
      binding: null,
      reason: expect.stringContaining(
        `interface version ${ADDON_INTERFACE + 1}; this dit needs version ${ADDON_INTERFACE}`,
      ),
    });
  });

  it.skipIf(nativeSkipReason(loadAddon()) !== undefined)(
    'the build here is of these sources (in CI it must exist)',
    () => {
      const built = loadAddon();
      expect(built.binding === null ? built.reason : built.binding.interfaceVersion).toBe(ADDON_INTERFACE);
    },
  );

  it('knows napi-rs’s file names', () => {
    expect(addonFileNames('linux', 'x64')).toEqual([
      'dit-native.linux-x64-gnu.node',
      'dit-native.linux-x64-musl.node',
    ]);
    expect(addonFileNames('darwin', 'arm64')).toEqual(['dit-native.darwin-arm64.node']);
  });
});

describe('the package face', () => {
  it('DIT_NATIVE=0 makes hashFiles use TypeScript, with the same results', async () => {
    vi.stubEnv('DIT_NATIVE', '0');
    const native = await import('./index.js');
    expect(native.nativeStatus()).toMatchObject({
      native: false,
      reason: expect.stringContaining('DIT_NATIVE=0'),
    });
    const [result] = await native.hashFiles(['/dev/null']);
    expect(result).toEqual({
      path: '/dev/null',
      sha256: 'e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855',
    });
  });

  it('uses the addon when it is built', async () => {
    vi.stubEnv('DIT_NATIVE', '');
    const native = await import('./index.js');
    expect(native.nativeStatus().native).toBe(loadAddon().binding !== null);
  });
});

describe('the layer writer’s zlib', () => {
  const withZlib = (version: string | null) => ({ ...working.binding!, layerZlib: () => version });

  it('is used only when it is node:zlib’s own', async () => {
    const { layerZlibProblem } = await import('./layer-zlib.js');
    expect(layerZlibProblem(withZlib(null))).toBe('the addon finds no zlib in this process');
    expect(layerZlibProblem(withZlib('0.9.9'))).toBe(
      `the addon finds zlib 0.9.9 in this process, node:zlib is ${process.versions.zlib}`,
    );
    // Node's own build carries a suffix (1.3.1-e00f703); a Debian node's libz has none.
    expect(layerZlibProblem(withZlib(String(process.versions.zlib).split('-')[0]!))).toBeUndefined();
  });

  it.skipIf(nativeSkipReason(loadAddon()) !== undefined)(
    'the built addon finds node:zlib’s zlib in this process',
    async () => {
      const { layerZlibProblem } = await import('./layer-zlib.js');
      const built = loadAddon();
      expect(built.binding && layerZlibProblem(built.binding)).toBeUndefined();
    },
  );
});
