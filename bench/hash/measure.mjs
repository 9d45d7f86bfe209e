// `dit hash` throughput, on the same files in the same run, against:
//   - GNU sha256sum (as few invocations as ARG_MAX allows, one after the other, as xargs runs them),
//   - `DIT_NATIVE=0 dit hash` (the TypeScript path),
//   - the machine's limit: SHA-256 throughput of all cores, `openssl speed -evp sha256 -multi NPROC`.
// The corpus: a JDK (the one `javac` on PATH belongs to, else the first in /usr/lib/jvm) and
// /usr/lib/x86_64-linux-gnu, regular files only (links not followed, as `dit hash` walks), listed once.
// The page cache is warmed first (every file read once, then one untimed call of each tool); then
// ROUNDS rounds, the tools interleaved within each round so that a noisy neighbour hits all of them
// alike; the median round counts. The outputs are compared: dit's two paths and sha256sum's must be
// byte-identical, which also proves they hashed the same files.
//
//   node bench/hash/measure.mjs [--out FILE] [--rounds N] [--tools dit,dit-ts,sha256sum,openssl,node] [--dit PATH]
//   (or through bench/run.mjs, which calls benchHash({ options, progress }) and writes the JSON itself)
//
// `node` is `node -e ''`: Node's own start-up, which every `dit` call pays before hashing a byte,
// reported so that `dit hash` can also be read net of it. --dit PATH measures another `dit`
// executable (default: apps/cli/bin/dit.cjs, the built CLI as installed; see bench/lib/shared.mjs). Tool names this benchmark does not know
// (run.mjs shares --tools between benchmarks) are ignored.

import { spawnSync } from 'node:child_process';
import {
  closeSync,
  existsSync,
  lstatSync,
  mkdirSync,
  openSync,
  readdirSync,
  readSync,
  realpathSync,
  rmSync,
  writeFileSync,
} from 'node:fs';
import os from 'node:os';
import { dirname, join } from 'node:path';
import { performance } from 'node:perf_hooks';
import { pathToFileURL } from 'node:url';
import { parseArgs } from 'node:util';
import {
  chosenRounds,
  chosenTools,
  chunkForArgMax,
  DIT_BIN,
  machine,
  median,
  printTable,
} from '../lib/shared.mjs';
import { HASH_GOALS } from './goal.mjs';

const LIB_DIR = '/usr/lib/x86_64-linux-gnu';
// The --check pair last: their list is sha256sum's (or dit's) output from the untimed calls.
const ALL_TOOLS = ['dit', 'dit-ts', 'sha256sum', 'openssl', 'node', 'dit-check', 'sha256sum-check'];
const CHECK_TOOLS = ['dit-check', 'sha256sum-check'];
const DEFAULT_ROUNDS = 5;

/**
 * @param {{ out?: string, options?: Record<string, string | boolean | undefined>, progress?: (line?: string) => void }} [o]
 *   `out`: write the JSON document there too (standalone use); bench/run.mjs writes it itself.
 *   `options.tools`: comma-separated subset of dit,dit-ts,sha256sum,openssl,node; `options.rounds`: rounds;
 *   `options.dit`: the `dit` executable to measure.
 * @returns {Promise<{ result: object, partial: boolean }>}
 */
export async function benchHash({
  out,
  options = {},
  progress = (line = '') => process.stderr.write(`${line}\n`),
} = {}) {
  const tools = chosenTools(options, ALL_TOOLS);
  const rounds = chosenRounds(options, DEFAULT_ROUNDS);
  const partial = tools.length !== ALL_TOOLS.length;
  const dit = typeof options.dit === 'string' ? options.dit : DIT_BIN;
  if ((tools.includes('dit') || tools.includes('dit-ts')) && !existsSync(dit)) {
    throw new Error(`${dit} is missing: run \`pnpm build\` first`);
  }

  // The corpus, listed once.
  const jdk = findJdk();
  const dirs = [...(jdk ? [jdk] : []), LIB_DIR];
  const { files, bytes, distinctBytes } = listRegularFiles(dirs);
  progress(
    `corpus: ${dirs.join(' + ')}: ${files.length} files, ${gb(bytes)} GB ` +
      `(${gb(distinctBytes)} GB in distinct files: the rest are hard links, which dit reads once)`,
  );
  const { chunks, argMax } = chunkForArgMax(['sha256sum', '--'], files);
  // The checksum list the --check tools read: written from the untimed calls' output.
  const listFile = join(os.tmpdir(), `dit-bench-hash-${process.pid}.sums`);

  warmPageCache(files, progress);

  const runners = hashRunners({ dit, dirs, files, chunks, argMax, listFile });
  const measured = tools.filter((tool) => tool in runners);

  const outputs = untimedCalls(measured, runners, listFile, progress);

  // The limit: every core hashing SHA-256 from memory, measured in every round too, so that it meets
  // the same neighbours as the tools.
  const cores = os.availableParallelism();
  const withOpenssl = tools.includes('openssl');
  const { seconds, limitSamples } = timedRounds({ measured, runners, rounds, withOpenssl, cores, progress });

  let limit = null;
  if (withOpenssl) {
    progress('openssl speed -evp sha256, one core ...');
    limit = {
      command: `openssl speed -evp sha256 -multi ${cores} -bytes 16384 -seconds 3`,
      cores,
      allCoresSamples: limitSamples.map((x) => Math.round(x)),
      allCoresBytesPerSecond: median(limitSamples),
      oneCoreBytesPerSecond: opensslSpeed([]),
      version: spawnSync('openssl', ['version'], { encoding: 'utf8' }).stdout.trim(),
    };
  }

  const { results, ratios, goals, outputsIdentical, ditNetOfStartupGbPerSecond, limitGbPerSecond } =
    summarize({ measured, runners, seconds, bytes, limit, outputs });
  printResults(results, limit, ratios, goals, outputsIdentical, ditNetOfStartupGbPerSecond, progress);

  const result = {
    corpus: { dirs, jdk, files: files.length, bytes, distinctBytes },
    method: {
      rounds,
      wallTime: 'performance.now() around each whole command (spawnSync); the median of the rounds counts',
      order: 'tools interleaved within each round',
      warmup: 'every corpus file read once, then one untimed call of each tool',
      sha256sum: 'sequential calls with as many files as fit into ARG_MAX, like xargs',
      gbPerSecond: 'bytes of all files listed (hard links counted under every name) / median seconds',
      limit:
        'openssl speed -evp sha256, 16 KiB blocks, 3 s: all cores (-multi) once per round, the median counts; one core once',
    },
    tools: results,
    ditNetOfStartupGbPerSecond,
    limit: limit && {
      ...limit,
      allCoresGbPerSecond: limitGbPerSecond,
      oneCoreGbPerSecond: round3(limit.oneCoreBytesPerSecond / 1e9),
    },
    ratios,
    goals,
    outputsIdentical,
    versions: {
      coreutils: spawnSync('sha256sum', ['--version'], { encoding: 'utf8' }).stdout.split('\n')[0] ?? null,
      node: process.version,
    },
  };
  if (out) {
    mkdirSync(dirname(out), { recursive: true });
    const doc = { benchmark: 'hash', date: new Date().toISOString(), partial, machine: machine(), ...result };
    writeFileSync(out, `${JSON.stringify(doc, null, 2)}\n`);
    progress(`wrote ${out}`);
  }
  rmSync(listFile, { force: true });
  return { result, partial };
}

/** Warms the page cache: every byte read once. @param {string[]} files @param {(line?: string) => void} progress */
function warmPageCache(files, progress) {
  progress('warming the page cache ...');
  const buffer = Buffer.allocUnsafe(1 << 20);
  for (const file of files) {
    const fd = openSync(file, 'r');
    while (readSync(fd, buffer, 0, buffer.length, null) > 0);
    closeSync(fd);
  }
}

/**
 * The commands measured, by tool name.
 *
 * @param {{ dit: string, dirs: string[], files: string[], chunks: string[][], argMax: number, listFile: string }} o
 * @returns {Record<string, { label: string, command: string, run: () => { status: number | null, stdout: string, stderr: string } }>}
 */
function hashRunners({ dit, dirs, files, chunks, argMax, listFile }) {
  const runners = {
    dit: {
      label: 'dit hash',
      command: `${dit} hash ${dirs.join(' ')}`,
      run: () => spawn(dit, ['hash', ...dirs], { ...process.env, DIT_NATIVE: '' }),
    },
    'dit-ts': {
      label: 'DIT_NATIVE=0 dit hash',
      command: `DIT_NATIVE=0 ${dit} hash ${dirs.join(' ')}`,
      run: () => spawn(dit, ['hash', ...dirs], { ...process.env, DIT_NATIVE: '0' }),
    },
    node: {
      label: "node -e '' (start-up only)",
      command: `${process.execPath} -e ''`,
      run: () => spawn(process.execPath, ['-e', ''], process.env),
    },
    sha256sum: {
      label: 'sha256sum',
      command: `sha256sum -- FILE... (${chunks.length} call${chunks.length === 1 ? '' : 's'}, ARG_MAX ${argMax})`,
      run: () => {
        const parts = chunks.map((chunk) => spawn('sha256sum', ['--', ...chunk], process.env));
        return {
          status: parts.find((p) => p.status !== 0)?.status ?? 0,
          stdout: parts.map((p) => p.stdout).join(''),
          stderr: parts.map((p) => p.stderr).join(''),
        };
      },
    },
  };
  runners['dit-check'] = {
    label: 'dit hash --check --quiet',
    command: `${dit} hash --check --quiet LIST (the ${files.length} files' checksums)`,
    run: () => spawn(dit, ['hash', '--check', '--quiet', listFile], { ...process.env, DIT_NATIVE: '' }),
  };
  runners['sha256sum-check'] = {
    label: 'sha256sum --check --quiet',
    command: `sha256sum --check --quiet LIST (the ${files.length} files' checksums)`,
    run: () => spawn('sha256sum', ['--check', '--quiet', listFile], process.env),
  };
  return runners;
}

/**
 * One untimed call of each tool; their outputs, to compare (and the checksum list the --check tools read).
 *
 * @param {string[]} measured @param {ReturnType<typeof hashRunners>} runners @param {string} listFile
 * @param {(line?: string) => void} progress
 */
function untimedCalls(measured, runners, listFile, progress) {
  progress('one untimed call of each tool ...');
  /** @type {Record<string, string>} */
  const outputs = {};
  for (const tool of measured) {
    if (CHECK_TOOLS.includes(tool) && !existsSync(listFile)) {
      writeFileSync(listFile, outputs.sha256sum ?? outputs.dit ?? runners.dit.run().stdout);
    }
    const r = runners[tool].run();
    if (r.status !== 0)
      progress(`warning: ${runners[tool].label} exited ${r.status}: ${r.stderr.slice(0, 500)}`);
    if (tool !== 'node' && !CHECK_TOOLS.includes(tool)) outputs[tool] = r.stdout;
  }
  return outputs;
}

/**
 * The timed rounds: each tool once per round, interleaved, and openssl's all-core speed each round.
 *
 * @param {{ measured: string[], runners: ReturnType<typeof hashRunners>, rounds: number, withOpenssl: boolean, cores: number, progress: (line?: string) => void }} o
 */
function timedRounds({ measured, runners, rounds, withOpenssl, cores, progress }) {
  /** @type {number[]} */
  const limitSamples = [];
  /** @type {Record<string, number[]>} */
  const seconds = Object.fromEntries(measured.map((tool) => [tool, []]));
  for (let round = 1; round <= rounds; round++) {
    if (withOpenssl) {
      limitSamples.push(opensslSpeed(['-multi', String(cores)]));
      progress(`round ${round}/${rounds}: openssl, ${cores} cores: ${gb(limitSamples.at(-1) ?? 0)} GB/s`);
    }
    for (const tool of measured) {
      const t0 = performance.now();
      const r = runners[tool].run();
      const s = (performance.now() - t0) / 1000;
      seconds[tool].push(s);
      if (r.status !== 0) progress(`warning: ${runners[tool].label} exited ${r.status}`);
      progress(`round ${round}/${rounds}: ${runners[tool].label}: ${s.toFixed(3)} s`);
    }
  }
  return { seconds, limitSamples };
}

/**
 * Medians, throughputs, the ratios the goals are judged on, and whether every tool printed the same.
 *
 * @param {{ measured: string[], runners: ReturnType<typeof hashRunners>, seconds: Record<string, number[]>, bytes: number, limit: any, outputs: Record<string, string> }} o
 */
function summarize({ measured, runners, seconds, bytes, limit, outputs }) {
  const results = measured.map((tool) => {
    const medianSeconds = median(seconds[tool]);
    return {
      id: tool,
      label: runners[tool].label,
      command: runners[tool].command,
      seconds: seconds[tool].map((s) => round3(s)),
      medianSeconds: round3(medianSeconds),
      bestSeconds: round3(Math.min(...seconds[tool])),
      gbPerSecond: tool === 'node' ? null : round3(bytes / medianSeconds / 1e9),
    };
  });
  const startup = results.find((r) => r.id === 'node')?.medianSeconds ?? null;
  const ditSeconds = results.find((r) => r.id === 'dit')?.medianSeconds ?? null;
  const ditNetOfStartupGbPerSecond =
    startup === null || ditSeconds === null || ditSeconds <= startup
      ? null
      : round3(bytes / (ditSeconds - startup) / 1e9);
  const speed = (/** @type {string} */ id) => results.find((r) => r.id === id)?.gbPerSecond ?? null;
  const ratio = (/** @type {number | null} */ a, /** @type {number | null} */ b) =>
    a === null || b === null ? null : round3(a / b);
  const limitGbPerSecond = limit ? round3(limit.allCoresBytesPerSecond / 1e9) : null;
  const ratios = {
    ditVsSha256sum: ratio(speed('dit'), speed('sha256sum')),
    ditVsTypeScript: ratio(speed('dit'), speed('dit-ts')),
    ditOfLimit: ratio(speed('dit'), limitGbPerSecond),
    typeScriptVsSha256sum: ratio(speed('dit-ts'), speed('sha256sum')),
    ditNetOfStartupOfLimit: ratio(ditNetOfStartupGbPerSecond, limitGbPerSecond),
    ditCheckVsSha256sumCheck: ratio(speed('dit-check'), speed('sha256sum-check')),
  };
  const goals = {
    vsSha256sum: {
      goal: HASH_GOALS.vsSha256sum,
      met: ratios.ditVsSha256sum === null ? null : ratios.ditVsSha256sum >= HASH_GOALS.vsSha256sum,
    },
    vsTypeScript: {
      goal: HASH_GOALS.vsTypeScript,
      met: ratios.ditVsTypeScript === null ? null : ratios.ditVsTypeScript >= HASH_GOALS.vsTypeScript,
    },
    ofLimit: {
      goal: HASH_GOALS.ofLimit,
      met: ratios.ditOfLimit === null ? null : ratios.ditOfLimit >= HASH_GOALS.ofLimit,
    },
  };
  const reference = outputs.sha256sum ?? outputs.dit;
  const outputsIdentical = Object.fromEntries(
    Object.entries(outputs).map(([tool, text]) => [tool, text === reference]),
  );
  return { results, ratios, goals, outputsIdentical, ditNetOfStartupGbPerSecond, limitGbPerSecond };
}

/** The JDK `javac` on PATH belongs to, else the first JDK folder in /usr/lib/jvm; null without one. */
function findJdk() {
  const which = spawnSync('sh', ['-c', 'command -v javac'], { encoding: 'utf8' }).stdout.trim();
  if (which) {
    const home = dirname(dirname(realpathSync(which)));
    if (existsSync(join(home, 'bin', 'javac'))) return home;
  }
  const root = '/usr/lib/jvm';
  if (!existsSync(root)) return null;
  for (const name of readdirSync(root).sort()) {
    const home = join(root, name);
    if (!lstatSync(home).isSymbolicLink() && existsSync(join(home, 'bin', 'javac'))) return home;
  }
  return null;
}

/**
 * Regular files below `dirs`, links not followed, in byte order of their paths (as `dit hash` walks);
 * their total size, and the size of the distinct files among them (hard links counted once).
 */
function listRegularFiles(dirs) {
  /** @type {string[]} */
  const files = [];
  let bytes = 0;
  let distinctBytes = 0;
  const seen = new Set();
  const walk = (/** @type {string} */ dir) => {
    const entries = readdirSync(dir, { withFileTypes: true })
      .filter((e) => e.isFile() || e.isDirectory())
      .map((e) => ({ e, key: Buffer.from(e.isDirectory() ? `${e.name}/` : e.name) }))
      .sort((a, b) => Buffer.compare(a.key, b.key));
    for (const { e } of entries) {
      const path = `${dir}/${e.name}`;
      if (e.isDirectory()) walk(path);
      else {
        files.push(path);
        const stat = lstatSync(path);
        bytes += stat.size;
        const inode = `${stat.dev}:${stat.ino}`;
        if (!seen.has(inode)) distinctBytes += stat.size;
        seen.add(inode);
      }
    }
  };
  for (const dir of dirs) walk(dir);
  return { files, bytes, distinctBytes };
}

/** @param {string} command @param {string[]} args @param {NodeJS.ProcessEnv} env */
function spawn(command, args, env) {
  const r = spawnSync(command, args, { env, encoding: 'utf8', maxBuffer: 1 << 30 });
  if (r.error) throw r.error;
  return { status: r.status, stdout: r.stdout, stderr: r.stderr };
}

/** Bytes per second of `openssl speed -evp sha256` on 16 KiB blocks (the `sha256 ...k` line, in 1000s). */
function opensslSpeed(/** @type {string[]} */ extra) {
  const r = spawnSync('openssl', ['speed', '-evp', 'sha256', ...extra, '-bytes', '16384', '-seconds', '3'], {
    encoding: 'utf8',
  });
  const match = /^(?:sha256|evp)\s+([\d.]+)k\s*$/m.exec(r.stdout ?? '');
  if (!match) throw new Error(`could not read openssl speed's output:\n${r.stdout}\n${r.stderr}`);
  return Number(match[1]) * 1000;
}

function printResults(results, limit, ratios, goals, outputsIdentical, ditNet, progress) {
  const limitGb = limit ? limit.allCoresBytesPerSecond / 1e9 : null;
  const dit = results.find((r) => r.id === 'dit');
  const rows = results.map((r) => [
    r.label,
    r.medianSeconds.toFixed(3),
    r.bestSeconds.toFixed(3),
    r.gbPerSecond === null ? '-' : r.gbPerSecond.toFixed(2),
    dit && r.gbPerSecond !== null ? `${(dit.gbPerSecond / r.gbPerSecond).toFixed(2)}x` : '-',
    limitGb && r.gbPerSecond !== null ? `${((100 * r.gbPerSecond) / limitGb).toFixed(0)}%` : '-',
  ]);
  if (ditNet !== null) {
    rows.push([
      'dit hash, net of start-up',
      '-',
      '-',
      ditNet.toFixed(2),
      '-',
      limitGb ? `${((100 * ditNet) / limitGb).toFixed(0)}%` : '-',
    ]);
  }
  if (limit) {
    rows.push([`limit: openssl, ${limit.cores} cores`, '-', '-', limitGb.toFixed(2), '-', '100%']);
    rows.push(['openssl, one core', '-', '-', (limit.oneCoreBytesPerSecond / 1e9).toFixed(2), '-', '-']);
  }
  const head = ['tool', 'median s', 'best s', 'GB/s', 'dit is', 'of limit'];
  printTable(head, rows);
  const verdict = (/** @type {{ goal: number, met: boolean | null }} */ g) =>
    g.met === null ? 'not measured' : g.met ? 'met' : 'NOT met';
  if (ratios.ditVsSha256sum !== null)
    console.log(
      `dit hash vs sha256sum:   ${ratios.ditVsSha256sum.toFixed(2)}x (goal ${goals.vsSha256sum.goal}x: ${verdict(goals.vsSha256sum)})`,
    );
  if (ratios.ditVsTypeScript !== null)
    console.log(
      `dit hash vs DIT_NATIVE=0: ${ratios.ditVsTypeScript.toFixed(2)}x (goal ${goals.vsTypeScript.goal}x: ${verdict(goals.vsTypeScript)})`,
    );
  if (ratios.ditOfLimit !== null)
    console.log(
      `dit hash of the limit:    ${(100 * ratios.ditOfLimit).toFixed(0)}% (goal ${100 * goals.ofLimit.goal}%: ${verdict(goals.ofLimit)})`,
    );
  if (ratios.ditCheckVsSha256sumCheck !== null)
    console.log(`dit hash --check vs sha256sum --check: ${ratios.ditCheckVsSha256sumCheck.toFixed(2)}x`);
  const different = Object.entries(outputsIdentical).filter(([, same]) => !same);
  if (different.length > 0)
    progress(`warning: output differs from the reference: ${different.map(([t]) => t).join(', ')}`);
  else console.log(`outputs identical: ${Object.keys(outputsIdentical).join(', ')}`);
}

const round3 = (/** @type {number} */ x) => Math.round(x * 1000) / 1000;
const gb = (/** @type {number} */ x) => (x / 1e9).toFixed(2);

// Standalone: node bench/hash/measure.mjs [--out FILE] [--rounds N] [--tools ...]
if (process.argv[1] && import.meta.url === pathToFileURL(process.argv[1]).href) {
  const { values } = parseArgs({
    options: {
      out: { type: 'string' },
      rounds: { type: 'string' },
      tools: { type: 'string' },
      dit: { type: 'string' },
    },
  });
  benchHash({ out: values.out, options: values }).catch((error) => {
    console.error(`bench: ${error instanceof Error ? error.message : error}`);
    process.exit(1);
  });
}
