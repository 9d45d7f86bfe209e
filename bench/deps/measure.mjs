// Benchmark "deps": `dit deps --json` over every dynamically linked ELF file of the machine in one call,
// against the dynamic loader in trace mode once per file (what ldd does) and lddtree (pax-utils) once
// per file, all in the same run. dit's resolver is TypeScript only (@dit/resolver, issue 10): the
// figure is the whole command as a user runs it, Node's start-up and the JSON output included.
//
//   node bench/run.mjs deps [--tools dit,loader,lddtree] [--sample N|all] [--limit N]

import { spawnSync } from 'node:child_process';
import { existsSync, mkdtempSync, rmSync } from 'node:fs';
import os from 'node:os';
import { dirname, join, relative } from 'node:path';
import { performance } from 'node:perf_hooks';
import { fileURLToPath } from 'node:url';
import { listElfCorpusStats } from '../../test-support/corpus.mjs';
import {
  DEFAULT_LOADER,
  loaderDiagnostics,
  loaderTrace,
  loaderTraceCommand,
} from '../../test-support/ld-trace.mjs';
import { GNU_TIME, runUnderTime } from '../lib/gnu-time.mjs';
import {
  BenchError,
  chunkForArgMax,
  DIT_BIN,
  DIT_BIN_SHOWN,
  dpkgVersion,
  gitRevision,
  median,
  printTable,
} from '../lib/shared.mjs';
import { DEPS_GOALS } from './goal.mjs';

const REPO = fileURLToPath(new URL('../..', import.meta.url));
const PYTHON = '/usr/bin/python3';
const LDDTREE = '/usr/bin/lddtree';
const TOOLS = ['dit', 'loader', 'lddtree'];
const DEFAULT_LDDTREE_SAMPLE = 200;
const WARMUP_FILES = 5;
/** Timed passes of `dit deps` over the corpus; the median counts. */
const DIT_ROUNDS = 5;

/**
 * @typedef {object} ToolResult
 * @property {string} id  'dit' | 'loader' | 'lddtree'
 * @property {string} label
 * @property {string} command  The command, with FILE for the file argument(s).
 * @property {number} files  Files measured.
 * @property {number} corpusFiles  Files in the corpus.
 * @property {boolean} sampled  Measured on a deterministic sample; per-file time extrapolated.
 * @property {number} calls  Processes started per pass.
 * @property {number} totalSeconds  Wall time of the timed pass over `files` files.
 * @property {number} msPerFile
 * @property {number} corpusSeconds  Wall time for the whole corpus: measured, or msPerFile × corpusFiles
 *   when `sampled`.
 * @property {number} peakRssKiB  Max RSS over all calls of the RSS pass.
 * @property {number} medianRssKiB  Median over calls of the RSS pass (= peak for a single call).
 * @property {number} nonZeroExits  Calls (of the timed pass) that exited non-zero or died.
 * @property {number | null} ratioToDit  This tool's msPerFile / dit's; null without dit.
 * @property {Record<string, unknown>} [notes]
 */

/**
 * @typedef {object} DepsRun  What every measurement of one run shares.
 * @property {string[]} corpus
 * @property {string} timeFile  GNU time's output file.
 * @property {Record<string, string>} ditEnv
 * @property {Record<string, string>} plainEnv
 * @property {(line?: string) => void} progress
 */

/** @param {{ options: Record<string, string | boolean | undefined>, progress: (line?: string) => void }} ctx */
export async function benchDeps({ options, progress }) {
  const settings = depsSettings(options);
  checkPrerequisites(settings.tools);
  progress('listing the ELF corpus ...');
  const listing = listElfCorpusStats();
  const corpus = Number.isFinite(settings.limit) ? evenSample(listing.files, settings.limit) : listing.files;
  if (corpus.length === 0) throw new BenchError('the corpus is empty');
  const lddtreeFiles = settings.sampleAll ? corpus : evenSample(corpus, Math.max(1, settings.lddtreeSample));

  const tmp = mkdtempSync(join(os.tmpdir(), 'dit-bench-'));
  /** @type {DepsRun} */
  const run = {
    corpus,
    timeFile: join(tmp, 'time.out'),
    // Node for the bin's `#!/usr/bin/env node`, found through PATH; nothing else leaks in from our environment.
    ditEnv: { PATH: `${dirname(process.execPath)}:/usr/local/bin:/usr/bin:/bin` },
    plainEnv: { PATH: '/usr/bin:/bin' },
    progress,
  };
  /** @type {ToolResult[]} */
  const results = [];
  try {
    warmUp(run, settings.tools, evenSample(corpus, WARMUP_FILES));
    if (settings.tools.includes('dit')) results.push(measureDit(run));
    if (settings.tools.includes('loader')) results.push(measureLoader(run));
    if (settings.tools.includes('lddtree')) results.push(measureLddtree(run, lddtreeFiles));
  } finally {
    rmSync(tmp, { recursive: true, force: true });
  }
  const dit = results.find((r) => r.id === 'dit');
  for (const r of results) r.ratioToDit = dit ? r.msPerFile / dit.msPerFile : null;
  printResults(results);
  return {
    partial: settings.partial,
    result: {
      corpus: {
        dirs: listing.stats.dirs,
        files: corpus.length,
        fullCorpusFiles: listing.files.length,
        limited: Number.isFinite(settings.limit),
        stats: listing.stats,
      },
      options: {
        tools: settings.tools,
        lddtreeSample: lddtreeFiles.length,
        limit: Number.isFinite(settings.limit) ? settings.limit : null,
      },
      goals: DEPS_GOALS,
      method: {
        wallTime: `one pass without /usr/bin/time, timed around the whole loop (or call) with performance.now(); dit: the median of ${DIT_ROUNDS} passes`,
        peakRss:
          "a second pass with each call under /usr/bin/time -f '%e %M'; max (and median) over the calls",
        warmup: `one untimed call of each tool over ${WARMUP_FILES} files; the corpus listing has read every file's header`,
        msPerFile: 'wall time / files; for a sample, extrapolated to the corpus as corpusSeconds',
      },
      tools: results,
      versions: versions(),
      loader: loaderFacts(),
    },
  };
}

/**
 * The options, checked: which tools, the lddtree sample, the corpus limit, and whether the run leaves
 * something out (then it must not replace the published results).
 *
 * @param {Record<string, string | boolean | undefined>} options
 */
function depsSettings(options) {
  const tools = String(options.tools ?? TOOLS.join(','))
    .split(',')
    .map((s) => s.trim())
    .filter(Boolean);
  for (const t of tools) {
    if (!TOOLS.includes(t)) throw new BenchError(`unknown tool "${t}" (${TOOLS.join(', ')})`);
  }
  const sample = options.sample === undefined ? String(DEFAULT_LDDTREE_SAMPLE) : String(options.sample);
  const limit = options.limit === undefined ? Number.POSITIVE_INFINITY : Number(options.limit);
  if (!(limit > 0)) throw new BenchError('--limit needs a positive number');
  return {
    tools,
    limit,
    sampleAll: sample === 'all' || sample === '0',
    lddtreeSample: Number(sample) || 0,
    partial:
      !TOOLS.every((t) => tools.includes(t)) || options.limit !== undefined || options.sample !== undefined,
  };
}

/** Fails in a second, not after minutes of measuring, when a tool is missing. @param {string[]} tools */
function checkPrerequisites(tools) {
  if (!existsSync(GNU_TIME)) {
    throw new BenchError(`${GNU_TIME} is missing: apt-get install -y time (GNU time measures peak RSS)`);
  }
  if (tools.includes('lddtree') && !existsSync(LDDTREE)) {
    throw new BenchError(
      `${LDDTREE} is missing: apt-get install -y pax-utils (or leave it out: --tools dit,loader)`,
    );
  }
  if (tools.includes('dit') && !existsSync(DIT_BIN)) {
    throw new BenchError(
      `${relative(REPO, DIT_BIN)} does not exist: build and link the CLI first (pnpm install && pnpm build),` +
        ' or measure the peers only with --tools loader,lddtree',
    );
  }
}

/**
 * One untimed pass of each tool over a few files (page cache, dentries, python's .pyc); dit must
 * print JSON there, or nothing else is worth measuring.
 *
 * @param {DepsRun} run @param {string[]} tools @param {string[]} files
 */
function warmUp(run, tools, files) {
  run.progress(`warming up on ${files.length} files ...`);
  if (tools.includes('dit')) {
    const probe = spawnSync(DIT_BIN, ['deps', '--json', ...files], {
      env: run.ditEnv,
      cwd: REPO,
      encoding: 'utf8',
      maxBuffer: 1 << 30,
    });
    if (probe.error || probe.signal !== null || !looksLikeJson(probe.stdout ?? '')) {
      const why = probe.error
        ? probe.error.message
        : `exit ${probe.status ?? probe.signal}; stderr: ${(probe.stderr ?? '').trim().split('\n').slice(0, 8).join('\n  ')}`;
      throw new BenchError(
        `\`${relative(REPO, DIT_BIN)} deps --json FILE...\` does not work yet (no JSON on stdout):\n  ${why}\n` +
          'Build the CLI (pnpm build), or measure the peers only with --tools loader,lddtree.',
      );
    }
    if (probe.status !== 0)
      run.progress(`note: dit exited ${probe.status} on the warm-up files (output is JSON)`);
  }
  if (tools.includes('loader')) for (const f of files) loaderTrace(f);
  if (tools.includes('lddtree')) {
    for (const f of files) spawnSync(PYTHON, [LDDTREE, f], { env: run.plainEnv, cwd: '/', stdio: 'ignore' });
  }
  runUnderTime(['/bin/true'], { env: run.plainEnv, timeFile: run.timeFile });
}

/**
 * dit: all files in as few calls as ARG_MAX allows (one, normally), DIT_ROUNDS timed passes (the
 * median counts), then one pass under GNU time for peak memory.
 *
 * @param {DepsRun} run @returns {ToolResult}
 */
function measureDit(run) {
  const fixed = [GNU_TIME, '-f', '%e %M', '-o', run.timeFile, DIT_BIN, 'deps', '--json'];
  const { chunks, argMax } = chunkForArgMax(fixed, run.corpus, run.ditEnv);
  if (chunks.length > 1) {
    run.progress(
      `note: ${run.corpus.length} paths exceed ARG_MAX (${argMax} bytes): dit runs ${chunks.length} times`,
    );
  }
  const passes = [];
  for (let round = 1; round <= DIT_ROUNDS; round++) {
    const pass = ditPass(run, chunks);
    passes.push(pass);
    run.progress(
      `dit: ${run.corpus.length} files in ${chunks.length} call(s), round ${round}/${DIT_ROUNDS}: ${pass.seconds.toFixed(3)} s`,
    );
  }
  const seconds = median(passes.map((pass) => pass.seconds));
  const rss = chunks.map(
    (chunk) =>
      runUnderTime([DIT_BIN, 'deps', '--json', ...chunk], {
        env: run.ditEnv,
        cwd: REPO,
        timeFile: run.timeFile,
      }).maxRssKiB,
  );
  return {
    id: 'dit',
    label: 'dit deps --json (one call)',
    command: `${DIT_BIN_SHOWN} deps --json FILE...`,
    files: run.corpus.length,
    corpusFiles: run.corpus.length,
    sampled: false,
    calls: chunks.length,
    totalSeconds: seconds,
    msPerFile: (seconds * 1000) / run.corpus.length,
    corpusSeconds: seconds,
    peakRssKiB: Math.max(...rss),
    medianRssKiB: median(rss),
    nonZeroExits: Math.max(...passes.map((pass) => pass.nonZero)),
    ratioToDit: 1,
    notes: { argMax, outputBytes: passes[0]?.outputBytes ?? 0, rounds: passes.map((pass) => pass.seconds) },
  };
}

/**
 * One timed pass of dit over the corpus: seconds, calls that exited non-zero, bytes of output.
 *
 * @param {DepsRun} run @param {string[][]} chunks
 */
function ditPass(run, chunks) {
  let seconds = 0;
  let nonZero = 0;
  let outputBytes = 0;
  for (const chunk of chunks) {
    const t0 = performance.now();
    const r = spawnSync(DIT_BIN, ['deps', '--json', ...chunk], {
      env: run.ditEnv,
      cwd: REPO,
      encoding: 'utf8',
      maxBuffer: 1 << 30,
    });
    seconds += (performance.now() - t0) / 1000;
    if (r.error) throw new BenchError(`dit: ${r.error.message}`);
    if (r.status !== 0) nonZero++;
    outputBytes += Buffer.byteLength(r.stdout ?? '');
    if (!looksLikeJson(r.stdout ?? '')) {
      throw new BenchError('dit deps --json printed something that is not JSON on the full corpus');
    }
  }
  return { seconds, nonZero, outputBytes };
}

/**
 * The loader in trace mode, once per file, sequentially (what ldd does); then an RSS pass.
 *
 * @param {DepsRun} run @returns {ToolResult}
 */
function measureLoader(run) {
  run.progress(`loader: ${run.corpus.length} files, one call each ...`);
  let nonZero = 0;
  let notFound = 0;
  const t0 = performance.now();
  for (const f of run.corpus) {
    const r = loaderTrace(f);
    if (r.status !== 0) nonZero++;
    if (r.libraries.some((l) => l.path === null)) notFound++;
  }
  const seconds = (performance.now() - t0) / 1000;
  run.progress('loader: RSS pass under /usr/bin/time ...');
  const rss = run.corpus.map(
    (f) => runUnderTime(loaderTraceCommand(f).argv, { env: run.plainEnv, timeFile: run.timeFile }).maxRssKiB,
  );
  return {
    id: 'loader',
    label: 'loader loop (ld.so trace per file)',
    command: `cd / && env -i LD_TRACE_LOADED_OBJECTS=1 ${DEFAULT_LOADER} FILE`,
    files: run.corpus.length,
    corpusFiles: run.corpus.length,
    sampled: false,
    calls: run.corpus.length,
    totalSeconds: seconds,
    msPerFile: (seconds * 1000) / run.corpus.length,
    corpusSeconds: seconds,
    peakRssKiB: Math.max(...rss),
    medianRssKiB: median(rss),
    nonZeroExits: nonZero,
    ratioToDit: null,
    notes: { filesWithNotFound: notFound },
  };
}

/**
 * lddtree (pax-utils, Python) once per file, on a deterministic sample; then an RSS pass.
 *
 * @param {DepsRun} run @param {string[]} files @returns {ToolResult}
 */
function measureLddtree(run, files) {
  const sampled = files.length < run.corpus.length;
  run.progress(
    `lddtree: ${files.length}${sampled ? ` of ${run.corpus.length} (sample)` : ''} files, one call each ...`,
  );
  let nonZero = 0;
  const t0 = performance.now();
  for (const f of files) {
    const r = spawnSync(PYTHON, [LDDTREE, f], {
      env: run.plainEnv,
      cwd: '/',
      encoding: 'utf8',
      maxBuffer: 1 << 26,
    });
    if (r.status !== 0) nonZero++;
  }
  const seconds = (performance.now() - t0) / 1000;
  run.progress('lddtree: RSS pass under /usr/bin/time ...');
  const rss = files.map(
    (f) => runUnderTime([PYTHON, LDDTREE, f], { env: run.plainEnv, timeFile: run.timeFile }).maxRssKiB,
  );
  const msPerFile = (seconds * 1000) / files.length;
  return {
    id: 'lddtree',
    label: sampled ? `lddtree per file (sample of ${files.length})` : 'lddtree per file',
    command: `${PYTHON} ${LDDTREE} FILE`,
    files: files.length,
    corpusFiles: run.corpus.length,
    sampled,
    calls: files.length,
    totalSeconds: seconds,
    msPerFile,
    corpusSeconds: sampled ? (msPerFile * run.corpus.length) / 1000 : seconds,
    peakRssKiB: Math.max(...rss),
    medianRssKiB: median(rss),
    nonZeroExits: nonZero,
    ratioToDit: null,
  };
}

/** The versions of everything measured. */
function versions() {
  return {
    glibc: loaderFact('version.version'),
    paxUtils: dpkgVersion('pax-utils'),
    python: spawnSync(PYTHON, ['--version'], { encoding: 'utf8' }).stdout?.trim() ?? null,
    dit: gitRevision(),
  };
}

/** What the loader says of itself (`ld.so --list-diagnostics`). */
function loaderFacts() {
  return {
    path: DEFAULT_LOADER,
    platform: loaderFact('dl_platform'),
    hwcapsSubdirsActive: loaderFact('dl_hwcaps_subdirs_active'),
  };
}

/** @type {string | undefined} */
let diagnostics;

/** @param {string} key  One `key=value` line of the loader's diagnostics (asked once). */
function loaderFact(key) {
  diagnostics ??= loaderDiagnostics();
  return (
    diagnostics
      .split('\n')
      .find((l) => l.startsWith(`${key}=`))
      ?.slice(key.length + 1)
      .replace(/^"|"$/g, '') ?? null
  );
}

/** @param {ToolResult[]} results */
function printResults(results) {
  const rows = results.map((r) => [
    r.label,
    r.sampled ? `${r.files}/${r.corpusFiles}` : String(r.files),
    r.totalSeconds.toFixed(2) + (r.sampled ? ` (~${r.corpusSeconds.toFixed(1)} all*)` : ''),
    r.msPerFile.toFixed(r.msPerFile < 10 ? 2 : 1) + (r.sampled ? '*' : ''),
    (r.peakRssKiB / 1024).toFixed(1),
    r.ratioToDit === null ? '-' : `${r.ratioToDit.toFixed(r.ratioToDit < 10 ? 2 : 1)}x`,
  ]);
  printTable(['tool', 'files', 'total s', 'ms/file', 'peak RSS MiB', 'vs dit'], rows);
  for (const r of results) {
    if (r.sampled) {
      console.log(
        `* ${r.id}: measured on a fixed, evenly spaced sample of ${r.files} of ${r.corpusFiles} files;` +
          ` ms/file is the sample's, "all" is that times ${r.corpusFiles} (extrapolated, not measured).`,
      );
    }
  }
  const dit = results.find((r) => r.id === 'dit');
  for (const r of results) {
    if (!dit || r === dit || r.ratioToDit === null) continue;
    const goal = r.id === 'loader' ? DEPS_GOALS.vsLoader : DEPS_GOALS.vsLddtree;
    const name = r.id === 'loader' ? 'loader loop' : r.id;
    console.log(
      `${name} is ${r.ratioToDit.toFixed(1)}x slower than dit per file (goal ${goal}x: ${r.ratioToDit >= goal ? 'met' : 'NOT met'})`,
    );
  }
  if (!dit) console.log('(dit not measured: no ratios)');
  for (const r of results.filter((r) => r.nonZeroExits > 0)) {
    console.log(`note: ${r.id}: ${r.nonZeroExits} of ${r.calls} calls exited non-zero`);
  }
}

/**
 * n items spread evenly over a sorted list: deterministic, and covering every directory of the corpus
 * in proportion.
 *
 * @template T
 * @param {readonly T[]} items
 * @param {number} n
 * @returns {T[]}
 */
function evenSample(items, n) {
  if (n >= items.length) return [...items];
  return Array.from(
    { length: n },
    (_, i) => /** @type {T} */ (items[Math.floor(((i + 0.5) * items.length) / n)]),
  );
}

/** Is this dit's JSON output? One JSON document. @param {string} text */
function looksLikeJson(text) {
  try {
    JSON.parse(text);
    return text.trim() !== '';
  } catch {
    return false;
  }
}
