/**
 * The ld.so.cache readers under a seeded mutation fuzzer (test-support/fuzz/): caches written by
 * `ldconfig -r` in the new, old and compat layouts and this machine's own, mutated a few thousand
 * ways. The TypeScript parser returns a cache or its typed LdCacheError, its lookups never throw;
 * on every fourth case the resolver loads a program through the mutant, to a resolution or its
 * typed ResolveError. A failure names each case's seed; `pnpm fuzz --target ld-cache
 * --replay SEED` runs it again. The long run is `pnpm fuzz`.
 */
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { describeFindings, runCampaign } from '../../../test-support/fuzz/campaign.js';
import { loaderCacheTrace } from '../../../test-support/fuzz/loader-judge.js';
import { buildLdCacheSeeds } from '../../../test-support/fuzz/seeds.js';
import { makeTarget } from '../../../test-support/fuzz/targets.js';
import { createResolver, hostCpuProfile, lookupLdCache, parseLdCache } from '../src/index.js';

const FIXED_SEED = 0x7e57;

describe('ld.so.cache readers under mutation', () => {
  const target = makeTarget('ld-cache', { differentialEvery: 4 });
  afterAll(() => target.close());

  it('parse to data or the typed error, and resolve through the mutant, over 2,000 mutants', async () => {
    const summary = await runCampaign([target], { seed: FIXED_SEED, cases: { 'ld-cache': 2000 } });
    expect(summary.totalCases).toBe(2000);
    // Most mutants must get past the header checks, or the fuzzer tests nothing but them.
    const parsed = ['new', 'old', 'compat'].reduce((sum, f) => sum + target.counters.get(`parsed ${f}`), 0);
    expect(parsed).toBeGreaterThan(1000);
    expect(target.counters.get('lookups that found a path')).toBeGreaterThan(1000);
    expect(target.counters.get('resolved through the mutant')).toBeGreaterThan(0);
    expect(describeFindings(summary.findings)).toBe('');
  });
});

describe('what the fuzzer found', () => {
  const dir = mkdtempSync(join(tmpdir(), 'dit-fuzz-found-'));
  afterAll(() => rmSync(dir, { recursive: true, force: true }));

  it('takes an entry with an empty path for no entry, as ld.so does (it named the root directory)', () => {
    const { seeds, root, program } = buildLdCacheSeeds(dir);
    const data = Uint8Array.from(seeds.find((seed) => seed.name === 'ldconfig -c new')!.data);
    const index = parseLdCache(data, 'seed').entries.findIndex((entry) => entry.key === 'libzz.so.1');
    expect(index).toBeGreaterThanOrEqual(0);
    // Point the value at the NUL that ends the key: an empty path.
    const view = new DataView(data.buffer, data.byteOffset, data.byteLength);
    const keyAt = view.getUint32(48 + index * 24 + 4, true);
    view.setUint32(48 + index * 24 + 8, keyAt + 'libzz.so.1'.length, true);
    const cache = parseLdCache(data, 'mutant');
    expect(cache.entries[index]?.value).toBe('');
    const x86_64 = { acceptedFlags: [0x0303], activeHwcaps: [], isaLevel: 0, legacyHwcap: null };
    expect(lookupLdCache(cache, 'libzz.so.1', x86_64)).toBeNull();
    expect(lookupLdCache(cache, 'libnum.so.10', x86_64)).toBe('/mnt/dit-fuzz/l/libnum.so.10');

    const cacheFile = join(root, 'etc/ld.so.cache');
    writeFileSync(cacheFile, data);
    const cpu = hostCpuProfile();
    const ours = createResolver({ root, cpu }).resolve(program);
    expect(ours.failure).toBeNull();
    expect(ours.missing.map((m) => m.name)).toEqual(['libzz.so.1']);
    // ld.so itself, where this machine lets us bind the mutant over /etc/ld.so.cache.
    const theirs = loaderCacheTrace(root, cacheFile, program);
    if (theirs !== null) {
      expect(theirs.fatal).toBeNull();
      expect(theirs.libraries.get('libzz.so.1')).toBeNull();
      expect(theirs.libraries.get('libnum.so.10')).toBe('/mnt/dit-fuzz/l/libnum.so.10');
    }
  });

  it('reads a string just past the end of an old or compat cache as empty, as ld.so does', () => {
    const { seeds } = buildLdCacheSeeds(join(dir, 'past-end'));
    const data = Uint8Array.from(seeds.find((seed) => seed.name === 'ldconfig -c compat')!.data);
    const base = Buffer.from(data).indexOf('glibc-ld.so.cache1.1');
    const index = parseLdCache(data, 'seed').entries.findIndex((entry) => entry.key === 'libnum.so.9');
    // An offset below the file size (ld.so's check) that lands past the end: zeros, an empty key.
    const view = new DataView(data.buffer, data.byteOffset, data.byteLength);
    view.setUint32(base + 48 + index * 24 + 4, data.length - 1, true);
    const cache = parseLdCache(data, 'mutant');
    const x86_64 = { acceptedFlags: [0x0303], activeHwcaps: [], isaLevel: 0, legacyHwcap: 0n };
    // The binary search meets "" and goes on (it gave up on the first unusable key before).
    expect(cache.entries[index]?.key).toBe('');
    expect(lookupLdCache(cache, 'libzz.so.1', x86_64)).toBe('/mnt/dit-fuzz/l/libzz.so.1');
  });

  it("spares x86's platform hwcap bits in a legacy entry, as ld.so 2.36 does", () => {
    const { seeds } = buildLdCacheSeeds(join(dir, 'platform'));
    const data = Uint8Array.from(seeds.find((seed) => seed.name === 'ldconfig -c new')!.data);
    const entries = parseLdCache(data, 'seed').entries;
    const index = entries.findIndex((entry) => entry.key === 'libbar.so.1' && entry.hwcap === 0n);
    new DataView(data.buffer, data.byteOffset, data.byteLength).setBigUint64(
      48 + index * 24 + 16,
      1n << 50n,
      true,
    );
    const cache = parseLdCache(data, 'mutant');
    const lookup = (legacyHwcap: bigint | null, acceptedFlags = [0x0303]) =>
      lookupLdCache(cache, 'libbar.so.1', { acceptedFlags, activeHwcaps: [], isaLevel: 0, legacyHwcap });
    expect(lookup(0n)).toBe('/mnt/dit-fuzz/l/libbar.so.1');
    expect(lookup(null)).toBeNull(); // 2.37 and later skip every legacy entry
  });
});
