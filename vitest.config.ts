import { defineConfig } from 'vitest/config';

// Tests are grouped by what they need from the machine, not by folder. Every test file is named in
// exactly one of the three lists below, the one for the heaviest thing it needs:
//
//   pure       Node.js and the everyday tools of any Debian (sh, coreutils, openssl, ssh-keygen):
//              parsers, rules, the CLI on temporary files. Seconds. `pnpm test:unit` runs just these.
//   toolchain  gcc and musl-gcc to build fixtures, ldconfig, and glibc's ld.so or musl's loader run
//              as the oracle (docs/loader.md §12), over fixtures or over every ELF file of the machine.
//   system     strace, new namespaces or chroot (root), the debootstrap Debian root, dit.tar, exports
//              run and verified in isolation.
//
// `pnpm test` runs all three; `vitest run --project NAME` runs one. A new test file goes into one
// list: test-support/test-projects.test.ts fails while a test file is in none or in two.

export const PURE = [
  'apps/cli/src/checksum-list.test.ts',
  'apps/cli/test/hash-check.test.ts',
  'apps/cli/test/hash.test.ts',
  'packages/explain/test/record.test.ts',
  'packages/exporter/src/deny.test.ts',
  'packages/exporter/src/failure-report.test.ts',
  'packages/exporter/src/secrets.test.ts',
  'packages/exporter/test/root-glob.test.ts',
  'packages/image/test/layer-blob.test.ts',
  'packages/image/test/layer.test.ts',
  'packages/image/test/listened-ports.test.ts',
  'packages/image/test/unpack.test.ts',
  'packages/native/src/hash.test.ts',
  'packages/native/src/loader.test.ts',
  'packages/native/src/walk.test.ts',
  'packages/paths/src/byte-names.test.ts',
  'packages/paths/src/host-path.test.ts',
  'packages/paths/src/root-fs.test.ts',
  'packages/provenance/src/control.test.ts',
  'packages/resolver/src/resolve-many.test.ts',
  'packages/resolver/src/shared-root-fs.test.ts',
  'packages/sbom/test/spdx.test.ts',
  'packages/trace/src/inherited-fd.test.ts',
  'packages/trace/src/parse.test.ts',
  'packages/trace/src/strace-text.test.ts',
  'test-support/test-projects.test.ts',
];

export const TOOLCHAIN = [
  'apps/cli/test/deps-loader-cases.test.ts',
  'apps/cli/test/deps.test.ts',
  'apps/cli/test/fuzz-deps.test.ts',
  'packages/elf/src/header.test.ts',
  'packages/elf/src/read.test.ts',
  'packages/resolver/test/loader-differential.test.ts',
];

export const SYSTEM = [
  // The CLI end to end: exports traced with strace and verified in namespaces; hostile.test.ts also
  // runs dit.tar in throwaway roots.
  'apps/cli/test/explain.test.ts',
  'apps/cli/test/export-env.test.ts',
  'apps/cli/test/export-service.test.ts',
  'apps/cli/test/export.test.ts',
  'apps/cli/test/hostile.test.ts',
  // Images written by dit export --image and dit minify, read back by podman, skopeo and umoci.
  'apps/cli/test/image.test.ts',
  'apps/cli/test/minify.test.ts',
  'packages/exporter/test/confinement.test.ts',
  'packages/exporter/test/explain-record-order.test.ts',
  'packages/exporter/test/export.test.ts',
  'packages/exporter/test/faithful-proof.test.ts',
  'packages/exporter/test/missing-library.test.ts',
  'packages/exporter/test/package-metadata.test.ts',
  'packages/exporter/test/probe-root.test.ts',
  'packages/exporter/test/runtime-data.test.ts',
  'packages/exporter/test/readme-example.test.ts',
  'packages/exporter/test/sbom.test.ts',
  'packages/exporter/test/secrets.test.ts',
  'packages/exporter/test/service.test.ts',
  'packages/exporter/test/tmp-apps.test.ts',
  'packages/provenance/test/owners.test.ts',
  // The loader as oracle, but through a private mount namespace (a cache bound on /etc/ld.so.cache)
  // or chrooted into fixture roots.
  'packages/resolver/src/ld-cache.test.ts',
  'packages/resolver/test/fuzz-ld-cache.test.ts',
  'packages/resolver/test/loader-fixtures.test.ts',
  // Real strace (the fuzzer's seeds are real logs).
  'packages/trace/test/fuzz-strace-log.test.ts',
  'packages/trace/test/inherited-fd.test.ts',
  'packages/trace/test/processes.test.ts',
  'packages/trace/test/root.test.ts',
  'packages/trace/test/sigkill.test.ts',
  'packages/trace/test/trace.test.ts',
];

const shared = {
  resolve: { conditions: ['source'] },
  ssr: { resolve: { conditions: ['source'] } },
};

// The slow projects compile, sweep the machine and run whole exports: generous limits, since a
// timeout there says the machine is busy, not that the code is wrong.
const slow = { testTimeout: 120_000, hookTimeout: 300_000 };

export default defineConfig({
  test: {
    projects: [
      { ...shared, test: { name: 'pure', include: PURE } },
      { ...shared, test: { name: 'toolchain', include: TOOLCHAIN, ...slow } },
      { ...shared, test: { name: 'system', include: SYSTEM, ...slow } },
    ],
  },
});
