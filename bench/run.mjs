#!/usr/bin/env node
// Benchmarks. `pnpm bench` runs all of them; `node bench/run.mjs NAME...` runs some.
//
//   node bench/run.mjs [deps] [--tools dit,loader,lddtree] [--sample N|all] [--limit N] [--out FILE]
//   node bench/run.mjs layer [--rounds N] [--tools dit,dit-ts,pigz]
//   node bench/run.mjs --list
//
// One folder per benchmark: measure.mjs (what it runs; exports the function registered below),
// render.mjs (its section of docs/benchmarks.md) and goal.mjs (what it must reach); bench/lib/ has what
// they share. Each benchmark prints a table and returns a JSON-serialisable result, written to
// bench/results/NAME.json (machine description included); report.mjs then writes docs/benchmarks.md and
// the README's figures from the results. Runs that leave something out (--tools with fewer than all
// tools, --limit, --sample other than the default) are written to bench/results/NAME.partial.tmp
// instead (git-ignored), so they never replace published numbers; --out overrides either.

import { mkdirSync, writeFileSync } from 'node:fs';
import { dirname, join, relative } from 'node:path';
import { performance } from 'node:perf_hooks';
import { fileURLToPath } from 'node:url';
import { parseArgs } from 'node:util';
import { benchDeps } from './deps/measure.mjs';
import { benchExport } from './export/measure.mjs';
import { benchHash } from './hash/measure.mjs';
import { benchLayer } from './layer/measure.mjs';
import { BenchError, machine } from './lib/shared.mjs';
import { writeReport } from './report.mjs';

const RESULTS_DIR = fileURLToPath(new URL('./results', import.meta.url));

/**
 * @typedef {object} BenchContext
 * @property {Record<string, string | boolean | undefined>} options  Parsed command-line options.
 * @property {(line?: string) => void} progress  Progress and warnings, to stderr.
 */

/** @type {Record<string, { description: string, run: (ctx: BenchContext) => Promise<{ result: object, partial: boolean }> }>} */
const BENCHMARKS = {
  hash: {
    description: 'dit hash vs sha256sum, DIT_NATIVE=0 and the all-core SHA-256 limit (openssl speed -multi)',
    run: benchHash,
  },
  deps: {
    description:
      'dit deps --json on the whole ELF corpus in one call, vs the loader once per file (what ldd does), vs lddtree once per file',
    run: benchDeps,
  },
  export: {
    description:
      'dit export on python, node, curl, a bash script, getent, date: vs tar of the same files, tracing overhead, size vs the Debian packages',
    run: benchExport,
  },
  layer: {
    description:
      'the image layer writer (tar, gzip, both SHA-256) on the node export: the addon and DIT_NATIVE=0 vs tar | pigz -p NPROC -6 -n',
    run: benchLayer,
  },
};

async function main() {
  const { values, positionals } = parseArgs({
    allowPositionals: true,
    options: {
      tools: { type: 'string' },
      sample: { type: 'string' },
      limit: { type: 'string' },
      out: { type: 'string' },
      list: { type: 'boolean' },
      rounds: { type: 'string' },
      help: { type: 'boolean', short: 'h' },
    },
  });
  if (values.help || values.list) {
    console.log(
      'usage: node bench/run.mjs [NAME...] [--tools dit,loader,lddtree] [--sample N|all] [--limit N] [--out FILE]',
    );
    for (const [name, b] of Object.entries(BENCHMARKS)) console.log(`  ${name}: ${b.description}`);
    return;
  }
  const names = positionals.length > 0 ? positionals : Object.keys(BENCHMARKS);
  for (const n of names) {
    if (!(n in BENCHMARKS))
      throw new BenchError(`unknown benchmark "${n}"; available: ${Object.keys(BENCHMARKS).join(', ')}`);
  }
  if (values.out && names.length > 1) throw new BenchError('--out needs exactly one benchmark name');
  const progress = (/** @type {string | undefined} */ line = '') => process.stderr.write(`${line}\n`);
  for (const name of names) {
    const bench = /** @type {(typeof BENCHMARKS)[string]} */ (BENCHMARKS[name]);
    progress(`== ${name}: ${bench.description}`);
    const started = new Date();
    const t0 = performance.now();
    const { result, partial } = await bench.run({ options: values, progress });
    const out = values.out ?? join(RESULTS_DIR, partial ? `${name}.partial.tmp` : `${name}.json`);
    mkdirSync(dirname(out), { recursive: true });
    const doc = {
      benchmark: name,
      date: started.toISOString(),
      durationSeconds: Math.round((performance.now() - t0) / 100) / 10,
      partial,
      machine: machine(),
      ...result,
    };
    writeFileSync(out, `${JSON.stringify(doc, null, 2)}\n`);
    progress(
      `wrote ${relative(process.cwd(), out) || out}${partial ? ' (partial run: not the published results file)' : ''}`,
    );
  }
  writeReport({ progress });
}

main().catch((e) => {
  if (e instanceof BenchError) {
    console.error(`bench: ${e.message}`);
  } else {
    console.error(e);
  }
  process.exit(1);
});
