#!/usr/bin/env node
// The `dit` command as it is installed: apps/cli/bin/dit.cjs runs apps/cli/dist/cli/main.cjs, which
// this script writes with esbuild (run by `pnpm build`, after tsc has checked and emitted the
// library build in apps/cli/dist).
//
// Why bundles, and why CommonJS: Node takes about 115 ms to start on the benchmark machine, and the
// ESM build on top of it another 40-100 ms, for the ESM loader itself (about 12 ms more than a
// CommonJS entry) and for resolving and loading some 50 modules one by one. Each command is its own
// bundle, loaded only when it runs, so `dit hash` does not parse the exporter:
//
//   main.cjs                 argument dispatch (src/main.ts)
//   io.cjs                   output and UsageError, shared: main.cjs tests errors with instanceof
//   deps.cjs hash.cjs export.cjs explain.cjs minify.cjs   one per command (src/commands/*.ts) with every library it uses
//
// The bundles are built from the packages' TypeScript sources (the `source` export condition).
// import.meta.url, which CommonJS lacks, is each bundle's own file URL; @dit/native's loader finds
// its `.node` file through the installed @dit/native package from there. dit.tar's single ESM file
// is a different build (scripts/bundle.mjs), since it carries the addon beside itself.

import { readFileSync, rmSync } from 'node:fs';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { build } from 'esbuild';

const REPO = fileURLToPath(new URL('..', import.meta.url));
const CLI = join(REPO, 'apps', 'cli');
const SRC = join(CLI, 'src');
// `--out DIR` writes the bundles elsewhere (tests bundle the sources without touching the installed
// command, which other tests are running at the same time).
const outFlag = process.argv.indexOf('--out');
const OUT = outFlag > 0 ? process.argv[outFlag + 1] : join(CLI, 'dist', 'cli');

/** Packages the CycloneDX library loads only if they are installed (dit writes JSON without them). */
const OPTIONAL_PLUGINS = ['xmlbuilder2', 'libxmljs2', 'ajv', 'ajv-formats', 'ajv-formats-draft2019'];

/** The CLI's own modules that are bundles of their own, by the file name they are imported as. */
const SEPARATE = new Map([
  ['io.js', 'io.cjs'],
  ['deps.js', 'deps.cjs'],
  ['hash.js', 'hash.cjs'],
  ['export.js', 'export.cjs'],
  ['explain.js', 'explain.cjs'],
  ['minify.js', 'minify.cjs'],
]);

/** Imports of those modules from the CLI's sources stay imports, of the sibling bundle. */
const separateBundles = {
  name: 'dit-separate-bundles',
  setup(builder) {
    builder.onResolve({ filter: /^\.\.?\/(commands\/)?[a-z]+\.js$/ }, (args) => {
      if (!args.importer.startsWith(`${SRC}/`)) return undefined;
      const bundle = SEPARATE.get(args.path.split('/').pop() ?? '');
      return bundle === undefined ? undefined : { path: `./${bundle}`, external: true };
    });
  },
};

const version = JSON.parse(readFileSync(join(CLI, 'package.json'), 'utf8')).version;

rmSync(OUT, { recursive: true, force: true });
await build({
  entryPoints: {
    main: join(SRC, 'main.ts'),
    io: join(SRC, 'io.ts'),
    deps: join(SRC, 'commands', 'deps.ts'),
    hash: join(SRC, 'commands', 'hash.ts'),
    export: join(SRC, 'commands', 'export.ts'),
    explain: join(SRC, 'commands', 'explain.ts'),
    minify: join(SRC, 'commands', 'minify.ts'),
  },
  outdir: OUT,
  outExtension: { '.js': '.cjs' },
  bundle: true,
  platform: 'node',
  target: 'node20',
  format: 'cjs',
  conditions: ['source'],
  // import() of a sibling bundle becomes require(): Node would otherwise load it through its ESM
  // loader, which first scans the whole CommonJS file for its export names (40 ms for export.cjs).
  supported: { 'dynamic-import': false },
  minifySyntax: true,
  sourcemap: 'linked',
  define: {
    'import.meta.url': '__ditImportMetaUrl',
    'process.env.DIT_BUNDLED_VERSION': JSON.stringify(version),
  },
  banner: { js: "const __ditImportMetaUrl = require('node:url').pathToFileURL(__filename).href;" },
  plugins: [separateBundles],
  // @cyclonedx/cyclonedx-library's optional plugins (XML output, schema validation): it requires them
  // inside a try and goes on without them, so they stay requires that fail at run time, never bundled.
  external: OPTIONAL_PLUGINS,
  logLevel: 'warning',
});
