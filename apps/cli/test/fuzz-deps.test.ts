/**
 * The ELF reader, the resolver and `dit deps --json` under a seeded mutation fuzzer
 * (test-support/fuzz/): programs and libraries from gcc and musl-gcc, and synthetic foreign layouts,
 * mutated where loaders look (e_phoff, e_phnum, p_offset, p_filesz, d_tag, d_val, the strings). The
 * resolver returns data or its typed ResolveError; the CLI exits 0, 1 or 2 and prints the same with
 * and without DIT_NATIVE=0 (the addon has no part in it), no stack trace.
 * ld.so does not judge here (a process per case); `pnpm fuzz` asks it. A failure names each case's
 * seed; `pnpm fuzz --target elf --replay SEED` runs it again.
 */
import { afterAll, describe, expect, it } from 'vitest';
import { describeFindings, runCampaign } from '../../../test-support/fuzz/campaign.js';
import { makeTarget } from '../../../test-support/fuzz/targets.js';

const FIXED_SEED = 0x7e57;

describe('dit deps on mutated ELF files', () => {
  const target = makeTarget('elf', { cliEvery: 1, loaderPerBatch: 0 });
  afterAll(() => target.close());

  it('gives data or a typed error, statuses 0/1/2, the same whatever DIT_NATIVE says, over 1,000 mutants', async () => {
    const summary = await runCampaign([target], {
      seed: FIXED_SEED,
      cases: { elf: 1000 },
      batch: { elf: 50 },
    });
    expect(summary.totalCases).toBe(1000);
    // The mutants must reach the resolvers' insides: many still resolve, many are bad input.
    expect(target.counters.get('resolved')).toBeGreaterThan(100);
    expect(target.counters.get('bad-input (typed ResolveError)')).toBeGreaterThan(100);
    expect(describeFindings(summary.findings)).toBe('');
  });
});
