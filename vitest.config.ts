import { defineConfig } from 'vitest/config';

// One config, two projects: `unit` is fast and needs nothing but the repo; `system` compiles fixtures
// with gcc/musl-gcc and compares against the real loader over the whole machine (slower).
const shared = {
  resolve: { conditions: ['source'] },
  ssr: { resolve: { conditions: ['source'] } },
};

export default defineConfig({
  test: {
    projects: [
      {
        ...shared,
        test: {
          name: 'unit',
          include: ['packages/*/src/**/*.test.ts', 'apps/*/src/**/*.test.ts'],
        },
      },
      {
        ...shared,
        test: {
          name: 'system',
          include: ['packages/*/test/**/*.test.ts', 'apps/*/test/**/*.test.ts'],
          testTimeout: 120_000,
          hookTimeout: 300_000,
        },
      },
    ],
  },
});
