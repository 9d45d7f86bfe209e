#!/usr/bin/env node
// Benchmarks. `pnpm bench` runs all of them; `node bench/run.mjs NAME...` runs some.
//
//   node bench/run.mjs [deps] [--tools dit,loader,lddtree] [--sample N|all] [--limit N] [--out FILE]
//   node bench/run.mjs --list
//
// Each benchmark is an async function in BENCHMARKS below that prints a table and returns a
// JSON-serialisable result, written to bench/results/NAME.json (machine description included) for a
// later benchmarks page. Runs that leave something out (--tools with fewer than all tools, --limit,
// --sample other than the default) are written to bench/results/NAME.partial.tmp instead (git-ignored), so they never
// replace published numbers; --out overrides either.
//
// Peak memory comes from GNU time (`/usr/bin/time -f '%e %M'`, Debian package `time`): max RSS in KiB
// of the process tree it waits for. Wrapping a command in /usr/bin/time costs a fork and two execs
// (~8 ms per call here, more than the loader's own run), so wall times come from a pass *without* it,
// and peak RSS from a second, identical pass under it.

import { spawnSync } from 'node:child_process';
import { existsSync, mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import os from 'node:os';
import { dirname, join, relative } from 'node:path';
import { performance } from 'node:perf_hooks';
import { fileURLToPath } from 'node:url';
import { parseArgs } from 'node:util';
import { listElfCorpusStats } from '../test-support/corpus.mjs';
import {
  DEFAULT_LOADER,
  loaderDiagnostics,
  loaderTrace,
  loaderTraceCommand,
} from '../test-support/ld-trace.mjs';
import { benchExport } from './export.mjs';
import { benchHash } from './hash.mjs';
import { writeReport } from './report.mjs';
import { DIT_BIN, DIT_BIN_SHOWN, machine, median, printTable } from './shared.mjs';

const REPO = fileURLToPath(new URL('..', import.meta.url));
const RESULTS_DIR = join(REPO, 'bench', 'results');
const GNU_TIME = '/usr/bin/time';
const PYTHON = '/usr/bin/python3';
const LDDTREE = '/usr/bin/lddtree';
const DEFAULT_LDDTREE_SAMPLE = 200;
const WARMUP_FILES = 5;
/** Timed passes of `dit deps` over the corpus, each way (native and DIT_NATIVE=0); the median counts. */
const DIT_ROUNDS = 5;

/** Thrown for conditions the user must fix (missing tool, dit not built); printed without a stack. */
class BenchError extends Error {
  /** @param {string} message */
  constructor(message) {
    super(message);
    this.name = 'BenchError';
  }
}

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
};

// ---------------------------------------------------------------------------------------------------
// Measuring

/**
 * Runs one command under GNU time and returns its wall time and max RSS.
 *
 * @param {string[]} argv  Command and arguments. It runs with `env` as its whole environment: never
 *   put LD_TRACE_LOADED_OBJECTS there (time itself is dynamically linked and would be traced); use
 *   `env -i VAR=… cmd` inside argv instead.
 *   Its stdout is discarded (/dev/null); stderr is returned.
 * @param {{ env: Record<string, string>, cwd?: string, timeFile: string }} o
 * @returns {{ seconds: number, maxRssKiB: number, status: number | null, signal: string | null, stderr: string }}
 */
function runUnderTime(argv, { env, cwd = '/', timeFile }) {
  const r = spawnSync(GNU_TIME, ['-f', '%e %M', '-o', timeFile, ...argv], {
    env,
    cwd,
    encoding: 'utf8',
    maxBuffer: 1 << 30,
    stdio: ['ignore', 'ignore', 'pipe'],
  });
  if (r.error) throw new BenchError(`cannot run ${GNU_TIME}: ${r.error.message}`);
  // GNU time writes "Command exited with non-zero status N" / "Command terminated by signal N" before
  // the formatted line when applicable: take the last line that has the format.
  const lines = readFileSync(timeFile, 'utf8').trim().split('\n');
  const m = lines
    .map((l) => /^(\d+(?:\.\d+)?) (\d+)$/.exec(l.trim()))
    .filter(Boolean)
    .pop();
  if (!m) throw new BenchError(`unexpected ${GNU_TIME} output: ${lines.join(' | ')}`);
  return {
    seconds: Number(m[1]),
    maxRssKiB: Number(m[2]),
    status: r.status,
    signal: r.signal,
    stderr: r.stderr ?? '',
  };
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

/**
 * Splits args into as few chunks as fit into one execve: the kernel limits argv + envp (strings,
 * NULs and pointers) to ARG_MAX (a quarter of the stack limit; 2 MiB by default).
 *
 * @param {string[]} fixedArgv  The command and its leading arguments, repeated in every call.
 * @param {string[]} args
 * @param {Record<string, string>} env
 * @returns {{ chunks: string[][], argMax: number }}
 */
function chunkForArgMax(fixedArgv, args, env) {
  const g = spawnSync('getconf', ['ARG_MAX'], { encoding: 'utf8' });
  const argMax = Number(g.stdout?.trim()) || 131072;
  const cost = (/** @type {string} */ s) => Buffer.byteLength(s) + 1 + 8;
  const envCost = Object.entries(env).reduce((n, [k, v]) => n + cost(`${k}=${v}`), 8);
  // The wrapper (GNU time, and /usr/bin/env re-executing node with the script path) adds a few hundred
  // bytes; POSIX asks to leave 2048 bytes for the environment growing. Keep a generous margin.
  const budget = argMax - envCost - fixedArgv.reduce((n, a) => n + cost(a), 8) - 16384;
  /** @type {string[][]} */
  const chunks = [];
  /** @type {string[]} */
  let current = [];
  let used = 0;
  for (const a of args) {
    const c = cost(a);
    if (current.length > 0 && used + c > budget) {
      chunks.push(current);
      current = [];
      used = 0;
    }
    current.push(a);
    used += c;
  }
  if (current.length > 0) chunks.push(current);
  return { chunks, argMax };
}

/**
 * Is this dit's JSON output? Accepts one JSON document or JSON lines.
 *
 * @param {string} text
 */
function looksLikeJson(text) {
  const t = text.trim();
  if (t === '') return false;
  try {
    JSON.parse(t);
    return true;
  } catch {
    return t.split('\n').every((l) => {
      if (l.trim() === '') return true;
      try {
        JSON.parse(l);
        return true;
      } catch {
        return false;
      }
    });
  }
}

// ---------------------------------------------------------------------------------------------------
// Benchmark "deps"

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

/** @param {BenchContext} ctx */
async function benchDeps({ options, progress }) {
  const tools = String(options.tools ?? 'dit,dit-ts,loader,lddtree')
    .split(',')
    .map((s) => s.trim())
    .filter(Boolean);
  for (const t of tools) {
    if (!['dit', 'dit-ts', 'loader', 'lddtree'].includes(t))
      throw new BenchError(`unknown tool "${t}" (dit, dit-ts, loader, lddtree)`);
  }
  const sampleOpt = options.sample === undefined ? String(DEFAULT_LDDTREE_SAMPLE) : String(options.sample);
  const limit = options.limit === undefined ? Number.POSITIVE_INFINITY : Number(options.limit);
  if (!(limit > 0)) throw new BenchError('--limit needs a positive number');
  // Anything less than every tool on the whole corpus must not replace the published results.
  const allTools = ['dit', 'dit-ts', 'loader', 'lddtree'].every((t) => tools.includes(t));
  const partial = !allTools || options.limit !== undefined || options.sample !== undefined;

  // Prerequisites first, so a missing piece fails in a second, not after minutes of measuring.
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

  progress('listing the ELF corpus ...');
  const listing = listElfCorpusStats();
  const corpus = Number.isFinite(limit) ? evenSample(listing.files, limit) : listing.files;
  if (corpus.length === 0) throw new BenchError('the corpus is empty');
  const warm = evenSample(corpus, WARMUP_FILES);
  const lddtreeFiles =
    sampleOpt === 'all' || sampleOpt === '0'
      ? corpus
      : evenSample(corpus, Math.max(1, Number(sampleOpt) || 0));

  const tmp = mkdtempSync(join(os.tmpdir(), 'dit-bench-'));
  const timeFile = join(tmp, 'time.out');
  // Node for the bin's `#!/usr/bin/env node`, found through PATH; nothing else leaks in from our environment.
  const ditEnv = { PATH: `${dirname(process.execPath)}:/usr/local/bin:/usr/bin:/bin` };
  const plainEnv = { PATH: '/usr/bin:/bin' };

  /** @type {ToolResult[]} */
  const results = [];
  /** @type {object | null} */
  let walkOnly = null;
  try {
    // --- Warm-up: one untimed pass of each over a few files (page cache, dentries, python's .pyc).
    progress(`warming up on ${warm.length} files ...`);
    if (tools.includes('dit')) {
      const probe = spawnSync(DIT_BIN, ['deps', '--json', ...warm], {
        env: ditEnv,
        cwd: REPO,
        encoding: 'utf8',
        maxBuffer: 1 << 30,
      });
      const ok = !probe.error && probe.signal === null && looksLikeJson(probe.stdout ?? '');
      if (!ok) {
        const why = probe.error
          ? probe.error.message
          : `exit ${probe.status ?? probe.signal}; stderr: ${(probe.stderr ?? '').trim().split('\n').slice(0, 8).join('\n  ')}`;
        throw new BenchError(
          `\`${relative(REPO, DIT_BIN)} deps --json FILE...\` does not work yet (no JSON on stdout):\n  ${why}\n` +
            'Build the CLI (pnpm build), or measure the peers only with --tools loader,lddtree.',
        );
      }
      if (probe.status !== 0)
        progress(`note: dit exited ${probe.status} on the warm-up files (output is JSON)`);
    }
    if (tools.includes('loader')) for (const f of warm) loaderTrace(f);
    if (tools.includes('lddtree')) {
      for (const f of warm) spawnSync(PYTHON, [LDDTREE, f], { env: plainEnv, cwd: '/', stdio: 'ignore' });
    }
    runUnderTime(['/bin/true'], { env: plainEnv, timeFile });

    // --- (a) dit: all files in as few calls as ARG_MAX allows (one, normally), with the native walk
    // and with the TypeScript one (DIT_NATIVE=0) to weigh them against each other. DIT_ROUNDS timed
    // passes of each, interleaved so that a noisy neighbour hits both alike; the median counts. Then
    // one pass of each under GNU time for peak memory.
    /** @type {[string, string, NodeJS.ProcessEnv][]} */
    const ditVariants = /** @type {[string, string, NodeJS.ProcessEnv][]} */ ([
      ['dit', 'dit deps --json (one call)', ditEnv],
      ['dit-ts', 'dit deps --json, TypeScript walk (DIT_NATIVE=0)', { ...ditEnv, DIT_NATIVE: '0' }],
    ]).filter(([id]) => tools.includes(id));
    const fixed = [GNU_TIME, '-f', '%e %M', '-o', timeFile, DIT_BIN, 'deps', '--json'];
    const { chunks, argMax } = chunkForArgMax(fixed, corpus, ditEnv);
    if (chunks.length > 1) {
      progress(
        `note: ${corpus.length} paths exceed ARG_MAX (${argMax} bytes): dit runs ${chunks.length} times`,
      );
    }
    /** One timed pass over the corpus: seconds, calls that exited non-zero, bytes of output. */
    const ditPass = (/** @type {NodeJS.ProcessEnv} */ env) => {
      let seconds = 0;
      let nonZero = 0;
      let outputBytes = 0;
      for (const chunk of chunks) {
        const t0 = performance.now();
        const r = spawnSync(DIT_BIN, ['deps', '--json', ...chunk], {
          env,
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
    };
    /** @type {Record<string, { seconds: number, nonZero: number, outputBytes: number }[]>} */
    const passes = Object.fromEntries(ditVariants.map(([id]) => [id, []]));
    for (let round = 1; round <= DIT_ROUNDS; round++) {
      for (const [id, , env] of ditVariants) {
        const pass = ditPass(env);
        passes[id]?.push(pass);
        progress(
          `${id}: ${corpus.length} files in ${chunks.length} call(s), round ${round}/${DIT_ROUNDS}: ${pass.seconds.toFixed(3)} s`,
        );
      }
    }
    for (const [id, label, env] of ditVariants) {
      const runs = passes[id] ?? [];
      const seconds = median(runs.map((run) => run.seconds));
      /** @type {number[]} */
      const rss = [];
      for (const chunk of chunks) {
        rss.push(runUnderTime([DIT_BIN, 'deps', '--json', ...chunk], { env, cwd: REPO, timeFile }).maxRssKiB);
      }
      results.push({
        id,
        label,
        command: `${id === 'dit' ? '' : 'DIT_NATIVE=0 '}${DIT_BIN_SHOWN} deps --json FILE...`,
        files: corpus.length,
        corpusFiles: corpus.length,
        sampled: false,
        calls: chunks.length,
        totalSeconds: seconds,
        msPerFile: (seconds * 1000) / corpus.length,
        corpusSeconds: seconds,
        peakRssKiB: Math.max(...rss),
        medianRssKiB: median(rss),
        nonZeroExits: Math.max(...runs.map((run) => run.nonZero)),
        ratioToDit: 1,
        notes: { argMax, outputBytes: runs[0]?.outputBytes ?? 0, rounds: runs.map((run) => run.seconds) },
      });
    }

    // --- (a2) the walk alone, native against TypeScript: bench/deps-walk.mjs in a fresh Node process
    // per round and implementation, timing only the walk (not Node's start-up, imports or output,
    // which the whole command pays alike either way). Interleaved; the median counts.
    if (tools.includes('dit') && tools.includes('dit-ts')) {
      const listFile = join(tmp, 'corpus.txt');
      writeFileSync(listFile, `${corpus.join('\n')}\n`);
      /** @type {Record<'native' | 'ts', number[]>} */
      const walkMs = { native: [], ts: [] };
      for (let round = 1; round <= DIT_ROUNDS; round++) {
        for (const impl of /** @type {const} */ (['native', 'ts'])) {
          const r = spawnSync(process.execPath, [join(REPO, 'bench', 'deps-walk.mjs'), impl, listFile], {
            encoding: 'utf8',
            maxBuffer: 1 << 20,
          });
          if (r.status !== 0)
            throw new BenchError(`bench/deps-walk.mjs ${impl}: ${r.stderr || r.error?.message}`);
          const { ms } = JSON.parse(r.stdout);
          walkMs[impl].push(ms);
          progress(`walk only, ${impl}, round ${round}/${DIT_ROUNDS}: ${ms.toFixed(1)} ms`);
        }
      }
      walkOnly = {
        files: corpus.length,
        nativeMs: walkMs.native,
        typescriptMs: walkMs.ts,
        medianNativeMs: median(walkMs.native),
        medianTypeScriptMs: median(walkMs.ts),
        ratio: median(walkMs.ts) / median(walkMs.native),
      };
    }

    // --- (b) the loader in trace mode, once per file, sequentially (what ldd does).
    if (tools.includes('loader')) {
      progress(`loader: ${corpus.length} files, one call each ...`);
      let nonZero = 0;
      let notFound = 0;
      const t0 = performance.now();
      for (const f of corpus) {
        const r = loaderTrace(f);
        if (r.status !== 0) nonZero++;
        if (r.libraries.some((l) => l.path === null)) notFound++;
      }
      const seconds = (performance.now() - t0) / 1000;
      progress('loader: RSS pass under /usr/bin/time ...');
      const rss = corpus.map(
        (f) => runUnderTime(loaderTraceCommand(f).argv, { env: plainEnv, timeFile }).maxRssKiB,
      );
      results.push({
        id: 'loader',
        label: 'loader loop (ld.so trace per file)',
        command: `cd / && env -i LD_TRACE_LOADED_OBJECTS=1 ${DEFAULT_LOADER} FILE`,
        files: corpus.length,
        corpusFiles: corpus.length,
        sampled: false,
        calls: corpus.length,
        totalSeconds: seconds,
        msPerFile: (seconds * 1000) / corpus.length,
        corpusSeconds: seconds,
        peakRssKiB: Math.max(...rss),
        medianRssKiB: median(rss),
        nonZeroExits: nonZero,
        ratioToDit: null,
        notes: { filesWithNotFound: notFound },
      });
    }

    // --- (c) lddtree (pax-utils, python), once per file, on a deterministic sample.
    if (tools.includes('lddtree')) {
      const sampled = lddtreeFiles.length < corpus.length;
      progress(
        `lddtree: ${lddtreeFiles.length}${sampled ? ` of ${corpus.length} (sample)` : ''} files, one call each ...`,
      );
      let nonZero = 0;
      const t0 = performance.now();
      for (const f of lddtreeFiles) {
        const r = spawnSync(PYTHON, [LDDTREE, f], {
          env: plainEnv,
          cwd: '/',
          encoding: 'utf8',
          maxBuffer: 1 << 26,
        });
        if (r.status !== 0) nonZero++;
      }
      const seconds = (performance.now() - t0) / 1000;
      progress('lddtree: RSS pass under /usr/bin/time ...');
      const rss = lddtreeFiles.map(
        (f) => runUnderTime([PYTHON, LDDTREE, f], { env: plainEnv, timeFile }).maxRssKiB,
      );
      const msPerFile = (seconds * 1000) / lddtreeFiles.length;
      results.push({
        id: 'lddtree',
        label: sampled ? `lddtree per file (sample of ${lddtreeFiles.length})` : 'lddtree per file',
        command: `${PYTHON} ${LDDTREE} FILE`,
        files: lddtreeFiles.length,
        corpusFiles: corpus.length,
        sampled,
        calls: lddtreeFiles.length,
        totalSeconds: seconds,
        msPerFile,
        corpusSeconds: sampled ? (msPerFile * corpus.length) / 1000 : seconds,
        peakRssKiB: Math.max(...rss),
        medianRssKiB: median(rss),
        nonZeroExits: nonZero,
        ratioToDit: null,
      });
    }
  } finally {
    rmSync(tmp, { recursive: true, force: true });
  }

  const dit = results.find((r) => r.id === 'dit');
  for (const r of results) r.ratioToDit = dit ? r.msPerFile / dit.msPerFile : null;

  printResults(results);
  if (walkOnly) {
    const w = /** @type {{ medianNativeMs: number, medianTypeScriptMs: number, ratio: number }} */ (walkOnly);
    console.log(
      `walk alone (one process, median): native ${w.medianNativeMs.toFixed(1)} ms, TypeScript ${w.medianTypeScriptMs.toFixed(1)} ms: ${w.ratio.toFixed(2)}x\n`,
    );
  }

  const diagnostics = loaderDiagnostics();
  const pick = (/** @type {string} */ key) =>
    diagnostics
      .split('\n')
      .find((l) => l.startsWith(`${key}=`))
      ?.slice(key.length + 1)
      .replace(/^"|"$/g, '') ?? null;
  return {
    partial,
    result: {
      corpus: {
        dirs: listing.stats.dirs,
        files: corpus.length,
        fullCorpusFiles: listing.files.length,
        limited: Number.isFinite(limit),
        stats: listing.stats,
      },
      options: { tools, lddtreeSample: lddtreeFiles.length, limit: Number.isFinite(limit) ? limit : null },
      method: {
        wallTime: `one pass without /usr/bin/time, timed around the whole loop (or call) with performance.now(); dit: the median of ${DIT_ROUNDS} passes each way, native and DIT_NATIVE=0 interleaved`,
        peakRss:
          "a second pass with each call under /usr/bin/time -f '%e %M'; max (and median) over the calls",
        warmup: `one untimed call of each tool over ${warm.length} files; the corpus listing has read every file's header`,
        msPerFile: 'wall time / files; for a sample, extrapolated to the corpus as corpusSeconds',
      },
      tools: results,
      walkOnly,
      versions: {
        glibc: pick('version.version'),
        paxUtils: dpkgVersion('pax-utils'),
        python: spawnSync(PYTHON, ['--version'], { encoding: 'utf8' }).stdout?.trim() ?? null,
        dit: gitRevision(),
      },
      loader: {
        path: DEFAULT_LOADER,
        platform: pick('dl_platform'),
        hwcapsSubdirsActive: pick('dl_hwcaps_subdirs_active'),
      },
    },
  };
}

/** @param {string} pkg */
function dpkgVersion(pkg) {
  const r = spawnSync('dpkg-query', ['-W', `-f=\${Version}`, pkg], { encoding: 'utf8' });
  return r.status === 0 ? r.stdout.trim() : null;
}

function gitRevision() {
  const r = spawnSync('git', ['-C', REPO, 'describe', '--always', '--dirty'], { encoding: 'utf8' });
  return r.status === 0 ? r.stdout.trim() : null;
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
  const head = ['tool', 'files', 'total s', 'ms/file', 'peak RSS MiB', 'vs dit'];
  printTable(head, rows);
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
    const x = r.ratioToDit;
    const name = r.id === 'loader' ? 'loader loop' : r.id;
    console.log(
      x >= 1
        ? `${name} is ${x.toFixed(1)}x slower than dit per file`
        : `${name} is ${(1 / x).toFixed(1)}x faster than dit per file`,
    );
  }
  if (!dit) console.log('(dit not measured: no ratios)');
  const bad = results.filter((r) => r.nonZeroExits > 0);
  for (const r of bad) console.log(`note: ${r.id}: ${r.nonZeroExits} of ${r.calls} calls exited non-zero`);
}

// ---------------------------------------------------------------------------------------------------
// Driver

async function main() {
  const { values, positionals } = parseArgs({
    allowPositionals: true,
    options: {
      tools: { type: 'string' },
      sample: { type: 'string' },
      limit: { type: 'string' },
      out: { type: 'string' },
      list: { type: 'boolean' },
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
