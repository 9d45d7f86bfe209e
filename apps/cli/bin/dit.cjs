#!/usr/bin/env node
// The installed `dit` command. It runs the CommonJS bundles that `pnpm build` writes to dist/cli
// (scripts/build-cli.mjs): Node starts them faster than the ESM build of the same sources.
'use strict';

require('../dist/cli/main.cjs')
  .main(process.argv.slice(2))
  .then((status) => {
    process.exitCode = status;
  });
