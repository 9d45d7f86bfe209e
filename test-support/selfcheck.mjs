#!/usr/bin/env node
// Self-check of the test support code: lists the differential corpus, prints its counts, traces the
// first N files with the real loader (default 50) and summarises what came back.
//
//   node test-support/selfcheck.mjs [N | all] [--concurrency C]
//
// Exits 1 when a trace produced lines the parser does not know, timed out or was killed: that is a
// bug here (or a corpus file that should not be there), not in dit.

import { performance } from 'node:perf_hooks';
import { parseArgs } from 'node:util';
import { listElfCorpusStats } from './corpus.mjs';
import { loaderDiagnostics, loaderTraceMany } from './ld-trace.mjs';

const { values, positionals } = parseArgs({
  allowPositionals: true,
  options: { concurrency: { type: 'string', default: '2' } },
});
const wanted = positionals[0] ?? '50';

let t0 = performance.now();
const { files, stats } = listElfCorpusStats();
const listMs = performance.now() - t0;

console.log(`corpus: ${files.length} files from ${stats.dirs.join(' ')} (${listMs.toFixed(0)} ms)`);
console.log(
  `  seen: ${stats.entries} directory entries, ${stats.files} distinct regular files;` +
    ` ${stats.duplicates} duplicate links, ${stats.directorySymlinks} directory symlinks (not followed),` +
    ` ${stats.brokenSymlinks} broken symlinks, ${stats.nonRegular} non-regular, ${stats.skippedTrees} skipped trees`,
);
console.log(
  `  kept: ${stats.kept}; unreadable: ${stats.unreadableFiles} files, ${stats.unreadableDirs} dirs`,
);
for (const [reason, n] of Object.entries(stats.skipped).sort((a, b) => b[1] - a[1])) {
  console.log(`  skipped ${reason}: ${n}`);
}
for (const [interp, n] of Object.entries(stats.foreignInterps)) console.log(`    interp ${interp}: ${n}`);
const sum = stats.kept + stats.unreadableFiles + Object.values(stats.skipped).reduce((a, b) => a + b, 0);
if (sum !== stats.files) console.log(`  !! counts do not add up: ${sum} != ${stats.files}`);

const diag = loaderDiagnostics();
const interesting = diag
  .split('\n')
  .filter((l) => /^(dl_platform|dl_hwcaps_subdirs_active|version\.)/.test(l));
console.log(`loader diagnostics (${diag.split('\n').length} lines): ${interesting.join(' ')}`);

const sample = wanted === 'all' ? files : files.slice(0, Number(wanted));
const concurrency = Number(values.concurrency);
t0 = performance.now();
const results = await loaderTraceMany(sample, { concurrency });
const traceMs = performance.now() - t0;

let ok = 0;
let withNotFound = 0;
let statically = 0;
let withErrors = 0;
let libs = 0;
/** @type {string[]} */
const problems = [];
results.forEach((r, i) => {
  const file = sample[i];
  libs += r.libraries.length;
  if (r.staticallyLinked) statically++;
  if (r.libraries.some((l) => l.path === null)) withNotFound++;
  if (r.error) withErrors++;
  if (!r.error && r.status === 0) ok++;
  if (r.unparsed.length > 0) problems.push(`${file}: unparsed ${JSON.stringify(r.unparsed)}`);
  if (r.timedOut || r.signal) problems.push(`${file}: ${r.error}`);
  if (r.error) console.log(`  ${file}: status ${r.status}: ${r.error.split('\n')[0]}`);
});

console.log(
  `traced ${results.length} files in ${(traceMs / 1000).toFixed(2)} s` +
    ` (${(traceMs / Math.max(1, results.length)).toFixed(1)} ms/file at concurrency ${concurrency}):` +
    ` ${ok} clean, ${withNotFound} with "not found", ${statically} "statically linked",` +
    ` ${withErrors} with loader errors, ${libs} library lines`,
);
const first = results[0];
if (first) {
  console.log(`example: ${sample[0]} ->`);
  for (const l of first.libraries) console.log(`  ${l.name} => ${l.path ?? 'not found'}`);
}
for (const p of problems) console.log(`  !! ${p}`);
process.exitCode = problems.length > 0 ? 1 : 0;
