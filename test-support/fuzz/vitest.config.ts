import { defineConfig } from 'vitest/config';

// `pnpm fuzz` (scripts/fuzz.mjs) runs test-support/fuzz/run.fuzz.ts with this config: the same
// source-first module resolution as the tests, one target per process, no time limit of its own
// (the campaign's budget and the script's watchdog bound it).
export default defineConfig({
  resolve: { conditions: ['source'] },
  ssr: { resolve: { conditions: ['source'] } },
  test: {
    include: ['test-support/fuzz/run.fuzz.ts'],
    testTimeout: 0,
    hookTimeout: 0,
    reporters: ['dot'],
  },
});
