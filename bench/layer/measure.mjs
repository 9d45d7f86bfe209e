// dit's image layer writer (writeLayer: tar, gzip, both SHA-256 sums) on the files of the node export,
// in the same run, against:
//   - `DIT_NATIVE=0`: the TypeScript writer (node:zlib on libuv's pool), which must write the same bytes;
//   - `tar -c --sort=name | tee FIFO | pigz -p NPROC -6 -n | tee BLOB | sha256sum`, with `sha256sum <FIFO`
//     hashing the uncompressed tar: what a shell script would do to get a blob, its digest and its
//     diff_id with the fastest gzip there is.
// The input: `dit export --path TMP --no-verify -- /usr/bin/node -e 1` (about 100 MB, most of it the
// node binary), made once. Each dit run is a fresh Node process (bench/layer/write.mjs), as a
// `dit export --image` would be; its wall time counts (start-up included, as pigz's start-up is). One
// untimed round first, then ROUNDS rounds with the tools interleaved; the median counts. Checks: the
// native and TypeScript blobs have the same digest, and every blob passes `gzip -t`. Every run is
// under GNU time for its CPU time (user + sys of the whole process tree), which a shared machine's
// other load disturbs less than the wall time.
//
//   node bench/layer/measure.mjs [--rounds N] [--tools dit,dit-ts,pigz] [--level N]
//   (or through bench/run.mjs, which calls benchLayer({ options, progress }) and writes the JSON itself)

import { spawnSync } from 'node:child_process';
import { existsSync, lstatSync, mkdtempSync, readdirSync, readFileSync, rmSync, statSync } from 'node:fs';
import os from 'node:os';
import { join } from 'node:path';
import { performance } from 'node:perf_hooks';
import { fileURLToPath } from 'node:url';
import { parseArgs } from 'node:util';
import { GNU_TIME } from '../lib/gnu-time.mjs';
import {
  BenchError,
  chosenRounds,
  chosenTools,
  DIT_BIN,
  dpkgVersion,
  gitRevision,
  median,
  printTable,
} from '../lib/shared.mjs';
import { LAYER_GOALS } from './goal.mjs';

const ALL_TOOLS = ['dit', 'dit-ts', 'pigz'];
const DEFAULT_ROUNDS = 5;
const WRITE = fileURLToPath(new URL('./write.mjs', import.meta.url));
const BUILT = ['../../packages/image/dist/layer.js', '../../packages/native/dist/layer.js'].map((p) =>
  fileURLToPath(new URL(p, import.meta.url)),
);

/**
 * @param {{ options?: Record<string, string | boolean | undefined>, progress?: (line?: string) => void }} [o]
 * @returns {Promise<{ result: object, partial: boolean }>}
 */
export async function benchLayer({
  options = {},
  progress = (line = '') => process.stderr.write(`${line}\n`),
} = {}) {
  const tools = chosenTools(options, ALL_TOOLS);
  const rounds = chosenRounds(options, DEFAULT_ROUNDS);
  const level = Number(options.level ?? 6) || 6;
  const partial = tools.length !== ALL_TOOLS.length || level !== 6;
  for (const file of [DIT_BIN, ...BUILT]) {
    if (!existsSync(file)) throw new BenchError(`${file} is missing: run \`pnpm build\` first`);
  }
  for (const tool of ['pigz', 'tar', 'sha256sum', 'gzip', GNU_TIME]) {
    if (spawnSync('sh', ['-c', `command -v ${tool}`]).status !== 0)
      throw new BenchError(`${tool} is not installed`);
  }
  const nproc = os.availableParallelism();
  const work = mkdtempSync(join(os.tmpdir(), 'dit-bench-layer-'));
  try {
    const input = join(work, 'node-export');
    const exported = spawnSync(
      process.execPath,
      [DIT_BIN, 'export', '--path', input, '--no-verify', '--', '/usr/bin/node', '-e', '1'],
      { encoding: 'utf8' },
    );
    if (exported.status !== 0) throw new BenchError(`dit export of node failed: ${exported.stderr}`);
    const corpus = describeTree(input);
    progress(
      `input: the node export, ${corpus.files} files, ${(corpus.bytes / 1e6).toFixed(1)} MB; level ${level}, ${nproc} cores`,
    );

    /** @type {Record<string, () => { seconds: number, blob: string, digest: string, diffId: string, inProcessMs?: number }>} */
    const runners = {
      dit: () => runDit(input, join(work, 'dit.tar.gz'), level, '1', join(work, 'time')),
      'dit-ts': () => runDit(input, join(work, 'dit-ts.tar.gz'), level, '0', join(work, 'time')),
      pigz: () => runPigz(input, work, level, nproc),
    };
    /** @type {Record<string, { seconds: number[], cpuSeconds: number[], inProcessMs: number[], last?: any }>} */
    const samples = Object.fromEntries(
      tools.map((t) => [t, { seconds: [], cpuSeconds: [], inProcessMs: [] }]),
    );
    for (let round = 0; round <= rounds; round++) {
      for (const tool of tools) {
        const run = /** @type {() => any} */ (runners[tool])();
        const sample =
          /** @type {{ seconds: number[], cpuSeconds: number[], inProcessMs: number[], last?: any }} */ (
            samples[tool]
          );
        sample.last = run;
        // Round 0 warms the page cache and the binaries: not counted.
        if (round === 0) continue;
        sample.seconds.push(run.seconds);
        sample.cpuSeconds.push(run.cpuSeconds);
        if (run.inProcessMs !== undefined) sample.inProcessMs.push(run.inProcessMs);
      }
      progress(
        `round ${round}${round === 0 ? ' (warm-up)' : ''}: ${tools
          .map((t) => `${t} ${(/** @type {any} */ (samples[t]).last.seconds).toFixed(2)} s`)
          .join(', ')}`,
      );
    }

    const results = tools.map((id) => {
      const s = /** @type {{ seconds: number[], cpuSeconds: number[], inProcessMs: number[], last: any }} */ (
        samples[id]
      );
      const blobBytes = statSync(s.last.blob).size;
      const gzipOk = spawnSync('gzip', ['-t', s.last.blob]).status === 0;
      return {
        id,
        label: LABELS[id]?.(nproc, level) ?? id,
        medianSeconds: median(s.seconds),
        bestSeconds: Math.min(...s.seconds),
        samplesSeconds: s.seconds,
        cpuMedianSeconds: median(s.cpuSeconds),
        inProcessMedianMs: s.inProcessMs.length > 0 ? median(s.inProcessMs) : null,
        blobBytes,
        digest: s.last.digest,
        diffId: s.last.diffId,
        gzipOk,
      };
    });
    const byId = (/** @type {string} */ id) => results.find((r) => r.id === id);
    const dit = byId('dit');
    const ts = byId('dit-ts');
    const pigz = byId('pigz');
    const ratio = (/** @type {number | undefined} */ a, /** @type {number | undefined} */ b) =>
      a === undefined || b === undefined || b === 0 ? null : a / b;
    const ratios = {
      ditTimeVsPigz: ratio(dit?.medianSeconds, pigz?.medianSeconds),
      tsTimeVsPigz: ratio(ts?.medianSeconds, pigz?.medianSeconds),
      tsTimeVsDit: ratio(ts?.medianSeconds, dit?.medianSeconds),
      ditCpuVsPigz: ratio(dit?.cpuMedianSeconds, pigz?.cpuMedianSeconds),
      tsCpuVsPigz: ratio(ts?.cpuMedianSeconds, pigz?.cpuMedianSeconds),
      ditSizeVsPigz: ratio(dit?.blobBytes, pigz?.blobBytes),
      tsSizeVsPigz: ratio(ts?.blobBytes, pigz?.blobBytes),
    };
    const identical = dit && ts ? dit.digest === ts.digest && dit.diffId === ts.diffId : null;
    if (identical === false) progress('WARNING: the native and TypeScript blobs differ');
    for (const r of results) if (!r.gzipOk) progress(`WARNING: gzip -t fails on ${r.id}'s blob`);

    printTable(
      ['tool', 'median', 'best', 'CPU', 'vs pigz', 'blob MB', 'size vs pigz'],
      results.map((r) => [
        r.label,
        `${r.medianSeconds.toFixed(3)} s`,
        `${r.bestSeconds.toFixed(3)} s`,
        `${r.cpuMedianSeconds.toFixed(3)} s`,
        pigz ? `${(r.medianSeconds / pigz.medianSeconds).toFixed(2)}x` : '-',
        (r.blobBytes / 1e6).toFixed(2),
        pigz ? `${((r.blobBytes / pigz.blobBytes - 1) * 100).toFixed(2)}%` : '-',
      ]),
    );
    const goals = {
      timeVsPigz: { goal: LAYER_GOALS.timeVsPigz, measured: ratios.ditTimeVsPigz },
      sizeVsPigz: { goal: LAYER_GOALS.sizeVsPigz, measured: ratios.ditSizeVsPigz },
    };
    return {
      partial,
      result: {
        corpus: { ...corpus, command: 'dit export --path DIR --no-verify -- /usr/bin/node -e 1' },
        method: { rounds, level, nproc, warmupRounds: 1 },
        versions: {
          pigz: dpkgVersion('pigz'),
          tar: dpkgVersion('tar'),
          zlib: process.versions.zlib,
          dit: gitRevision(),
        },
        tools: results,
        ratios,
        identical,
        goals,
      },
    };
  } finally {
    rmSync(work, { recursive: true, force: true });
  }
}

/** @type {Record<string, (nproc: number, level: number) => string>} */
const LABELS = {
  dit: (nproc, level) => `dit writeLayer, addon (${nproc} cores), level ${level}`,
  'dit-ts': (_nproc, level) => `dit writeLayer, DIT_NATIVE=0 (node:zlib), level ${level}`,
  pigz: (nproc, level) => `tar + pigz -p ${nproc} -${level} -n + 2x sha256sum`,
};

/** Files and bytes below a folder (links not followed). @param {string} root */
function describeTree(root) {
  let files = 0;
  let bytes = 0;
  const walk = (/** @type {string} */ dir) => {
    for (const name of readdirSync(dir)) {
      const path = join(dir, name);
      const stat = lstatSync(path);
      if (stat.isDirectory()) walk(path);
      else {
        files += 1;
        if (stat.isFile()) bytes += stat.size;
      }
    }
  };
  walk(root);
  return { files, bytes };
}

/**
 * One dit run in a fresh process.
 * @param {string} input @param {string} blob @param {number} level @param {string} native @param {string} timeFile
 */
function runDit(input, blob, level, native, timeFile) {
  const t0 = performance.now();
  const r = spawnSync(
    GNU_TIME,
    ['-f', '%U %S', '-o', timeFile, process.execPath, WRITE, input, blob, String(level)],
    {
      encoding: 'utf8',
      env: { ...process.env, DIT_NATIVE: native },
    },
  );
  const seconds = (performance.now() - t0) / 1000;
  if (r.status !== 0) throw new BenchError(`DIT_NATIVE=${native} writeLayer failed: ${r.stderr}`);
  const out = JSON.parse(r.stdout.trim().split('\n').pop() ?? '{}');
  return {
    seconds,
    cpuSeconds: cpuOf(timeFile),
    blob,
    digest: out.digest.replace(/^sha256:/, ''),
    diffId: out.diffId.replace(/^sha256:/, ''),
    inProcessMs: out.ms,
  };
}

/**
 * tar, pigz and both digests in one pipeline: the tar's sha256sum reads a FIFO that tee feeds.
 * @param {string} input @param {string} work @param {number} level @param {number} nproc
 */
function runPigz(input, work, level, nproc) {
  const blob = join(work, 'pigz.tar.gz');
  const fifo = join(work, 'tar.fifo');
  const tarSum = join(work, 'tar.sha256');
  const blobSum = join(work, 'blob.sha256');
  const script = [
    'set -e',
    `rm -f "$FIFO"; mkfifo "$FIFO"`,
    'sha256sum < "$FIFO" > "$TARSUM" &',
    `tar -c --sort=name --numeric-owner -C "$IN" . | tee "$FIFO" | pigz -p ${nproc} -${level} -n | tee "$BLOB" | sha256sum > "$BLOBSUM"`,
    'wait',
  ].join('\n');
  const t0 = performance.now();
  const timeFile = join(work, 'time');
  const r = spawnSync(GNU_TIME, ['-f', '%U %S', '-o', timeFile, 'bash', '-c', script], {
    encoding: 'utf8',
    env: { ...process.env, FIFO: fifo, TARSUM: tarSum, BLOBSUM: blobSum, BLOB: blob, IN: input },
  });
  const seconds = (performance.now() - t0) / 1000;
  if (r.status !== 0) throw new BenchError(`the tar | pigz pipeline failed: ${r.stderr}`);
  const first = (/** @type {string} */ file) => readFileSync(file, 'utf8').split(' ')[0] ?? '';
  return { seconds, cpuSeconds: cpuOf(timeFile), blob, digest: first(blobSum), diffId: first(tarSum) };
}

/** User + system seconds from GNU time's `%U %S` line. @param {string} timeFile */
function cpuOf(timeFile) {
  const line = readFileSync(timeFile, 'utf8').trim().split('\n').pop() ?? '';
  const [user, sys] = line.split(' ').map(Number);
  return (user ?? 0) + (sys ?? 0);
}

if (process.argv[1] === fileURLToPath(import.meta.url)) {
  const { values } = parseArgs({
    options: { rounds: { type: 'string' }, tools: { type: 'string' }, level: { type: 'string' } },
  });
  benchLayer({ options: values }).catch((error) => {
    console.error(error instanceof BenchError ? `bench: ${error.message}` : error);
    process.exit(1);
  });
}
