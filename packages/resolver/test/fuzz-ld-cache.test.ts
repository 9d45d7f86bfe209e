/**
 * The ld.so.cache readers under a seeded mutation fuzzer (test-support/fuzz/): caches written by
 * `ldconfig -r` in the new, old and compat layouts and this machine's own, mutated a few thousand
 * ways. The TypeScript parser returns a cache or its typed LdCacheError, its lookups never throw;
 * on every fourth case the TypeScript resolver and the native walk (the Rust reader) must load the
 * same files through the mutant. A failure names each case's seed; `pnpm fuzz --target ld-cache
 * --replay SEED` runs it again. The long run is `pnpm fuzz`.
 */
import { afterAll, describe, expect, it } from 'vitest';
import { describeFindings, runCampaign } from '../../../test-support/fuzz/campaign.js';
import { makeTarget } from '../../../test-support/fuzz/targets.js';

const FIXED_SEED = 0x7e57;

describe('ld.so.cache readers under mutation', () => {
  const target = makeTarget('ld-cache', { differentialEvery: 4 });
  afterAll(() => target.close());

  it('parse to data or the typed error, and TypeScript and native agree, over 2,000 mutants', async () => {
    const summary = await runCampaign([target], { seed: FIXED_SEED, cases: { 'ld-cache': 2000 } });
    expect(summary.totalCases).toBe(2000);
    // Most mutants must get past the header checks, or the fuzzer tests nothing but them.
    const parsed = ['new', 'old', 'compat'].reduce((sum, f) => sum + target.counters.get(`parsed ${f}`), 0);
    expect(parsed).toBeGreaterThan(1000);
    expect(target.counters.get('lookups that found a path')).toBeGreaterThan(1000);
    expect(describeFindings(summary.findings)).toBe('');
  });
});
