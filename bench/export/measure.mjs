// Benchmark "export": `dit export` on a few everyday programs, against copying the same file list with
// GNU tar, with the tracing overhead and the size of the export beside the Debian packages its files
// came from. Registered in bench/run.mjs; `node bench/run.mjs export`.
//
// For each case (skipped, with the reason printed, when its program is missing):
//   1. `dit export --path OUT --no-verify --report R -- CMD` into a fresh folder, RUNS times (median
//      wall time), then VERIFY_RUNS times with verification on: its cost is the difference of medians.
//   2. The same entries (files, symlinks, directories of the report, relative to /) copied with
//      `tar -C / --no-recursion -cf - -T LIST | tar -C DEST -xpf -` into a fresh folder (median).
//   3. CMD plainly, under strace with exactly trace()'s arguments, and through trace() from
//      packages/trace/dist (medians).
//   4. The export's bytes beside the Installed-Size of the packages owning its files (dpkg).
//   5. Where dit's time goes: exportImage() from packages/exporter/dist in a child process, timed
//      through its onProgress events (see phaseBreakdown()).
// Every case gets an untimed warm-up of each command first, so the page cache is warm throughout.
//
// Environment knobs (run.mjs's command line is shared by all benchmarks):
//   BENCH_EXPORT_RUNS=N     timed runs per measurement (default 5; fewer makes the run partial)
//   BENCH_EXPORT_CASES=a,b  only these cases (makes the run partial)

import { spawn, spawnSync } from 'node:child_process';
import {
  chmodSync,
  existsSync,
  lstatSync,
  mkdirSync,
  mkdtempSync,
  readdirSync,
  readFileSync,
  realpathSync,
  rmSync,
  writeFileSync,
} from 'node:fs';
import os from 'node:os';
import { dirname, join, relative } from 'node:path';
import { performance } from 'node:perf_hooks';
import { fileURLToPath, pathToFileURL } from 'node:url';
import { DIT_BIN, DIT_BIN_SHOWN, gitRevision, median, printTable } from '../lib/shared.mjs';
import { EXPORT_GOALS } from './goal.mjs';

const REPO = fileURLToPath(new URL('../..', import.meta.url));
const THIS_FILE = fileURLToPath(import.meta.url);
const TRACE_DIST = join(REPO, 'packages', 'trace', 'dist', 'index.js');
const EXPORTER_DIST = join(REPO, 'packages', 'exporter', 'dist', 'index.js');
const DPKG_INFO = '/var/lib/dpkg/info';
const DEFAULT_RUNS = 5;
const MiB = 1024 * 1024;

/**
 * @typedef {object} BenchCase
 * @property {string} id
 * @property {string} label
 * @property {string[]} argv  Absolute program first.
 * @property {Record<string, string>} env  Added to the base environment.
 * @property {string[]} needs  Programs that must exist.
 * @property {boolean} [script]  argv[0] is the benchmark's own script, written before the run.
 */

/** The bash script case: coreutils through PATH, a pipe, a temporary folder (in the image's /tmp). */
const SCRIPT_TEXT = `#!/bin/bash
set -euo pipefail
work=$(mktemp -d)
printf 'pear\\napple\\nfig\\napple\\n' > "$work/fruit"
sort "$work/fruit" | uniq -c | sort -rn | head -n 2 > "$work/top"
count=$(wc -l < "$work/top")
first=$(cut -c9- "$work/top" | head -n 1 | tr a-z A-Z)
cp "$work/top" "$work/copy" && ls "$work" | tr '\\n' ' ' > /dev/null
echo "$count $first $(basename "$work" | cut -c1-3) $(date -u -d @0 +%Y) $(stat -c %s "$work/copy")"
rm -rf "$work"
`;
const SCRIPT_TOOLS = [
  'mktemp',
  'sort',
  'uniq',
  'head',
  'wc',
  'cut',
  'tr',
  'cp',
  'ls',
  'basename',
  'date',
  'stat',
  'rm',
];

/** @returns {BenchCase[]} */
function allCases() {
  return [
    {
      id: 'python',
      label: 'python3 (json, ssl, sqlite3, hashlib)',
      argv: [
        '/usr/bin/python3',
        '-c',
        "import json, ssl, sqlite3, hashlib; print(hashlib.sha256(b'x').hexdigest())",
      ],
      env: {},
      needs: ['/usr/bin/python3'],
    },
    {
      id: 'node',
      label: 'node (zlib)',
      argv: ['/usr/bin/node', '-e', "console.log(require('zlib').gzipSync('x').length)"],
      env: {},
      needs: ['/usr/bin/node'],
    },
    {
      id: 'curl',
      label: 'curl --version',
      argv: ['/usr/bin/curl', '--version'],
      env: {},
      needs: ['/usr/bin/curl'],
    },
    {
      id: 'bash-script',
      label: 'bash script (coreutils)',
      argv: ['SCRIPT'],
      env: {},
      needs: ['/bin/bash', ...SCRIPT_TOOLS.map((t) => `/usr/bin/${t}`)],
      script: true,
    },
    {
      id: 'getent',
      label: 'getent passwd root',
      argv: ['/usr/bin/getent', 'passwd', 'root'],
      env: {},
      needs: ['/usr/bin/getent'],
    },
    {
      id: 'date',
      label: 'date with TZ=Europe/Berlin',
      argv: ['/bin/date', '-d', '@0'],
      env: { TZ: 'Europe/Berlin' },
      needs: ['/bin/date', '/usr/share/zoneinfo/Europe/Berlin'],
    },
  ];
}

// ---------------------------------------------------------------------------------------------------
// Small helpers

/** @param {number} x */
function round1(x) {
  return Math.round(x * 10) / 10;
}

/** @param {string} s */
function shellQuote(s) {
  return /^[\w@%+=:,./-]+$/.test(s) ? s : `'${s.replaceAll("'", "'\\''")}'`;
}

/** @param {string[]} argv */
function shellJoin(argv) {
  return argv.map(shellQuote).join(' ');
}

/** @param {Record<string, string>} env */
function envPrefix(env) {
  return Object.entries(env)
    .map(([k, v]) => `${k}=${shellQuote(v)} `)
    .join('');
}

const CLK_TCK = Number(spawnSync('getconf', ['CLK_TCK'], { encoding: 'utf8' }).stdout?.trim()) || 100;

/**
 * CPU time (user + system, ms) of this process's children that have been waited for, and theirs:
 * /proc/self/stat cutime + cstime, in clock ticks (10 ms). The delta around a run is what that run's
 * process tree used, whatever else loads the machine.
 */
function childrenCpuMs() {
  const stat = readFileSync('/proc/self/stat', 'utf8');
  const fields = stat.slice(stat.lastIndexOf(')') + 2).split(' ');
  // Fields from 3 (state) on: cutime is field 16, cstime field 17.
  return ((Number(fields[13]) + Number(fields[14])) * 1000) / CLK_TCK;
}

/**
 * Times each task `runs` times (or its own, smaller `runs`), interleaved: run i of every task before
 * run i+1 of any, so that load from elsewhere falls on all of them alike. `before` (untimed) prepares
 * each run. Wall time, the CPU time of the processes the run waited for, and what `fn` returned.
 *
 * @param {number} runs
 * @param {{ fn: () => unknown, before?: () => void, runs?: number }[]} tasks
 */
async function timeInterleaved(runs, tasks) {
  const out = tasks.map(() => ({
    /** @type {number[]} */ ms: [],
    /** @type {number[]} */ cpu: [],
    /** @type {any[]} */ values: [],
  }));
  for (let i = 0; i < runs; i++) {
    for (const [k, task] of tasks.entries()) {
      const slot = out[k];
      if (slot === undefined || i >= (task.runs ?? runs)) continue;
      task.before?.();
      const c0 = childrenCpuMs();
      const t0 = performance.now();
      const value = await task.fn();
      slot.ms.push(performance.now() - t0);
      slot.cpu.push(childrenCpuMs() - c0);
      slot.values.push(value);
    }
  }
  return out.map(({ ms, cpu, values }) => ({
    runsMs: ms.map(round1),
    medianMs: round1(median(ms)),
    cpuMs: cpu,
    cpuMedianMs: round1(median(cpu)),
    values,
  }));
}

/**
 * A timing without the values its runs returned.
 *
 * @param {{ runsMs: number[], medianMs: number, cpuMs: number[], cpuMedianMs: number, values: unknown[] }} t
 */
function timing(t) {
  const { values: _values, ...rest } = t;
  return rest;
}

/**
 * @param {string} what
 * @param {import('node:child_process').SpawnSyncReturns<string>} r
 */
function mustSucceed(what, r) {
  if (r.error) throw new Error(`${what}: ${r.error.message}`);
  if (r.status !== 0) {
    const err = (r.stderr ?? '').trim().split('\n').slice(-6).join('\n  ');
    throw new Error(`${what}: exit ${r.status ?? r.signal}${err ? `\n  ${err}` : ''}`);
  }
}

/** @param {string} dir */
function fresh(dir) {
  rmSync(dir, { recursive: true, force: true });
}

/** Whether a path exists on the host root, without following a final link. @param {string} path */
function existsInRoot(path) {
  try {
    lstatSync(path);
    return true;
  } catch {
    return false;
  }
}

/** @param {string} dir  Counts everything below dir (not dir itself). */
function countTree(dir) {
  let n = 0;
  for (const e of readdirSync(dir, { withFileTypes: true })) {
    n++;
    if (e.isDirectory()) n += countTree(join(dir, e.name));
  }
  return n;
}

// ---------------------------------------------------------------------------------------------------
// Packages (dpkg)

/** @type {{ owners: Map<string, string>, folders: Set<string> } | null} */
let ownerCache = null;

/**
 * path -> package, from every /var/lib/dpkg/info/*.list (read once; the first owner wins), and the
 * folders those lists name: a package lists every folder it puts files in (/lib, /usr/lib, ...), which
 * makes it no owner of a symlink such as merged-/usr's /lib -> usr/lib.
 */
function dpkgOwners() {
  if (ownerCache !== null) return ownerCache;
  /** @type {Map<string, string>} */
  const owners = new Map();
  /** @type {Set<string>} */
  const folders = new Set();
  for (const name of readdirSync(DPKG_INFO)) {
    if (!name.endsWith('.list')) continue;
    const pkg = name.slice(0, -'.list'.length);
    for (const line of readFileSync(join(DPKG_INFO, name), 'utf8').split('\n')) {
      if (line === '') continue;
      if (!owners.has(line)) owners.set(line, pkg);
      folders.add(dirname(line));
    }
  }
  ownerCache = { owners, folders };
  return ownerCache;
}

/**
 * The spellings a path may have in dpkg's lists: merged-/usr makes /bin, /sbin, /lib* and their /usr
 * twins the same folders, and dpkg knows each file under the name its package shipped.
 *
 * @param {string} path
 */
function usrSpellings(path) {
  const out = [path];
  const inUsr = /^\/usr(\/(?:bin|sbin|lib|lib32|lib64|libx32)(?:\/.*)?)$/.exec(path);
  if (inUsr?.[1]) out.push(inUsr[1]);
  else if (/^\/(?:bin|sbin|lib|lib32|lib64|libx32)(?:\/|$)/.test(path)) out.push(`/usr${path}`);
  return out;
}

/**
 * @param {string} path  An exported file or symlink (a path on the host: the root is /).
 * @param {'file' | 'symlink'} type
 */
function ownerOf(path, type) {
  const { owners, folders } = dpkgOwners();
  const candidates = [...usrSpellings(path)];
  try {
    // A file: its real path. A symlink: itself, in its parent's real folder (not its target).
    const real =
      type === 'file' ? realpathSync(path) : join(realpathSync(dirname(path)), path.split('/').pop() ?? '');
    candidates.push(...usrSpellings(real));
  } catch {
    // vanished: the spellings above are all there is
  }
  for (const c of candidates) {
    const pkg = folders.has(c) ? undefined : owners.get(c);
    if (pkg !== undefined) return pkg;
  }
  return null;
}

/** @type {Map<string, number | null>} */
const installedSizeCache = new Map();

/**
 * Installed-Size (KiB) of each package, one dpkg-query call for the ones not asked yet.
 *
 * @param {string[]} pkgs
 */
function installedSizesKiB(pkgs) {
  const missing = pkgs.filter((p) => !installedSizeCache.has(p));
  if (missing.length > 0) {
    const r = spawnSync(
      'dpkg-query',
      ['-W', '-f', `\${binary:Package}\t\${Package}\t\${Installed-Size}\n`, ...missing],
      {
        encoding: 'utf8',
      },
    );
    /** @type {Map<string, number | null>} */
    const found = new Map();
    for (const line of (r.stdout ?? '').split('\n')) {
      const [full, bare, size] = line.split('\t');
      if (!full || !bare) continue;
      const kib = size === undefined || size === '' ? null : Number(size);
      found.set(full, kib);
      if (!found.has(bare)) found.set(bare, kib);
    }
    for (const p of missing)
      installedSizeCache.set(p, found.get(p) ?? found.get(p.split(':')[0] ?? p) ?? null);
  }
  return new Map(pkgs.map((p) => [p, installedSizeCache.get(p) ?? null]));
}

/**
 * @param {{ path: string, type: string, size: number, hardLinkOf?: string }[]} entries
 * @param {number} exportBytes
 */
function packageSizes(entries, exportBytes) {
  /** @type {Map<string, { files: number, bytes: number }>} */
  const byPackage = new Map();
  /** @type {{ path: string, type: string, size: number }[]} */
  const unowned = [];
  for (const e of entries) {
    if (e.type !== 'file' && e.type !== 'symlink') continue;
    const pkg = ownerOf(e.path, e.type);
    if (pkg === null) {
      unowned.push({ path: e.path, type: e.type, size: e.size });
      continue;
    }
    const slot = byPackage.get(pkg) ?? { files: 0, bytes: 0 };
    if (e.type === 'file') {
      slot.files++;
      if (e.hardLinkOf === undefined) slot.bytes += e.size;
    }
    byPackage.set(pkg, slot);
  }
  const sizes = installedSizesKiB([...byPackage.keys()]);
  const packages = [...byPackage.entries()]
    .map(([name, s]) => ({
      name,
      installedSizeKiB: sizes.get(name) ?? null,
      exportedFiles: s.files,
      exportedBytes: s.bytes,
    }))
    .sort((a, b) => (b.installedSizeKiB ?? 0) - (a.installedSizeKiB ?? 0));
  const packagesKiB = packages.reduce((n, p) => n + (p.installedSizeKiB ?? 0), 0);
  const unownedFiles = unowned.filter((u) => u.type === 'file');
  return {
    exportBytes,
    packagesKiB,
    packagesBytes: packagesKiB * 1024,
    percentOfPackages: packagesKiB > 0 ? round1((exportBytes / (packagesKiB * 1024)) * 100) : null,
    packages,
    packagesWithoutSize: packages.filter((p) => p.installedSizeKiB === null).map((p) => p.name),
    unownedFiles: unownedFiles.map((u) => u.path),
    unownedFileBytes: unownedFiles.reduce((n, u) => n + u.size, 0),
    unownedSymlinks: unowned.filter((u) => u.type === 'symlink').map((u) => u.path),
  };
}

// ---------------------------------------------------------------------------------------------------
// Phase breakdown. What `dit export` runs is exportImage() in a fresh node process, JIT cold: so each
// measured run is a fresh child (`node bench/export/measure.mjs --phases SPEC.json`) that imports the built
// exporter and runs one exportImage() (verify off), timed through its onProgress events; its stdout is
// /dev/null (trace() passes the command's stdout through). trace() alone is timed the same way, in
// fresh children, to split "trace event -> first closure done" into trace() and select+resolve.

/**
 * @typedef {object} PhaseSpec
 * @property {'export' | 'trace'} mode
 * @property {string[]} argv
 * @property {Record<string, string>} env
 * @property {string} output  Where the export goes (mode 'export').
 * @property {string} resultFile
 */

/**
 * Runs in the child. Marks are performance.now(), milliseconds since this process started: imported
 * (modules loaded), start, 'trace' (before trace()), 'resolved' (last 'resolve' event: first closure
 * done), copy 1/N, copy N/N, 'hash' (files, symlinks and directory attributes written), end (hashes
 * done). In mode 'trace', trace() alone: start, end, and the strace run from its report.
 *
 * @param {PhaseSpec} spec
 */
async function phasesChild(spec) {
  /** @type {Record<string, number>} */
  const m = {};
  if (spec.mode === 'trace') {
    const { trace } = await import(pathToFileURL(TRACE_DIST).href);
    m.imported = performance.now();
    m.start = performance.now();
    const r = await trace(spec.argv, { env: spec.env, cwd: '/', stdio: 'inherit' });
    m.end = performance.now();
    m.straceMs = r.durationMs;
  } else {
    const { exportImage } = await import(pathToFileURL(EXPORTER_DIST).href);
    m.imported = performance.now();
    m.start = performance.now();
    const report = await exportImage({
      path: spec.output,
      command: spec.argv,
      env: spec.env,
      cwd: '/',
      verify: false,
      onProgress: (/** @type {any} */ e) => {
        const t = performance.now();
        if (e.stage === 'trace') m.trace = t;
        else if (e.stage === 'resolve') m.resolved = t;
        else if (e.stage === 'copy') {
          if (e.done === 1) m.copyFirst = t;
          if (e.done === e.total) m.copyLast = t;
          m.copyFiles = e.total;
        } else if (e.stage === 'hash') m.hash = t;
      },
    });
    m.end = performance.now();
    m.straceMs = report.trace?.durationMs ?? 0;
  }
  writeFileSync(spec.resultFile, JSON.stringify(m));
}

/**
 * One fresh child; returns its marks and its wall time as seen from here.
 *
 * @param {PhaseSpec} spec
 * @param {string} specFile
 * @returns {Promise<Record<string, number>>}
 */
async function runPhasesChild(spec, specFile) {
  writeFileSync(specFile, JSON.stringify(spec));
  const t0 = performance.now();
  const child = spawn(process.execPath, [THIS_FILE, '--phases', specFile], {
    cwd: '/',
    env: spec.env,
    stdio: ['ignore', 'ignore', 'pipe'],
  });
  let stderr = '';
  child.stderr.setEncoding('utf8');
  child.stderr.on('data', (d) => {
    stderr += d;
  });
  const code = await new Promise((resolve, reject) => {
    child.once('error', reject);
    child.once('close', (c) => resolve(c));
  });
  const wallMs = performance.now() - t0;
  if (code !== 0)
    throw new Error(`phase breakdown child (${spec.mode}) failed (exit ${code}):\n${stderr.trim()}`);
  return { ...JSON.parse(readFileSync(spec.resultFile, 'utf8')), wallMs };
}

/**
 * Medians per phase (ms), each over the fresh children:
 * node start+imports (process start -> exporter loaded), setup (exportImage() -> trace event), strace
 * run (the trace report's durationMs), trace parse+walk (trace() alone minus its strace run),
 * select+resolve ("trace event -> first closure done" minus trace() alone), runtime data+mkdir (first
 * closure done -> first file copied: runtime data, second closure, folders, the first file), copy
 * (first file copied -> 'hash': the other files, symlinks, directory attributes), hash (the SHA-256
 * of every file, read back from the export), exit (end -> the child is gone, as seen by the parent).
 *
 * @param {Record<string, number>[]} exports
 * @param {Record<string, number>[]} traces
 */
function phaseBreakdown(exports, traces) {
  const med = (
    /** @type {Record<string, number>[]} */ rs,
    /** @type {(m: Record<string, number>) => number} */ f,
  ) => round1(median(rs.map((m) => f(m))));
  const traceAlone = med(traces, (m) => (m.end ?? 0) - (m.start ?? 0));
  const traceStrace = med(traces, (m) => m.straceMs ?? 0);
  const traceToResolved = med(exports, (m) => (m.resolved ?? 0) - (m.trace ?? 0));
  return {
    childWallMs: med(exports, (m) => m.wallMs ?? 0),
    nodeStartImportMs: med(exports, (m) => m.imported ?? 0),
    exportImageMs: med(exports, (m) => (m.end ?? 0) - (m.start ?? 0)),
    setupMs: med(exports, (m) => (m.trace ?? 0) - (m.start ?? 0)),
    straceRunMs: med(exports, (m) => m.straceMs ?? 0),
    traceAloneMs: traceAlone,
    traceAloneStraceRunMs: traceStrace,
    traceParseWalkMs: round1(traceAlone - traceStrace),
    traceToClosureDoneMs: traceToResolved,
    selectResolveMs: round1(Math.max(0, traceToResolved - traceAlone)),
    runtimeDataMkdirMs: med(exports, (m) => (m.copyFirst ?? m.hash ?? 0) - (m.resolved ?? 0)),
    copyMs: med(exports, (m) => (m.hash ?? 0) - (m.copyFirst ?? m.hash ?? 0)),
    materializeMs: med(exports, (m) => (m.hash ?? 0) - (m.resolved ?? 0)),
    hashMs: med(exports, (m) => (m.end ?? 0) - (m.hash ?? 0)),
    exitMs: med(exports, (m) => (m.wallMs ?? 0) - (m.end ?? 0)),
    copiedFiles: exports[0]?.copyFiles ?? 0,
    runs: exports.length,
  };
}

// ---------------------------------------------------------------------------------------------------
// The benchmark

/**
 * @param {{ options: Record<string, string | boolean | undefined>, progress: (line?: string) => void }} ctx
 * @returns {Promise<{ result: object, partial: boolean }>}
 */
export async function benchExport({ progress }) {
  const settings = exportSettings();
  const tarVersion = checkExportPrerequisites();
  const { trace, straceArguments } = await import(pathToFileURL(TRACE_DIST).href);
  const loadAtStart = os.loadavg().map(round1);
  const tmp = mkdtempSync(join(os.tmpdir(), 'dit-bench-export-'));
  // The script lives outside /tmp (dit leaves /tmp out of exports: it is scratch).
  const scriptDir = mkdtempSync('/var/tmp/dit-bench-script-');
  const scriptPath = join(scriptDir, 'fruit.sh');
  writeFileSync(scriptPath, SCRIPT_TEXT);
  chmodSync(scriptPath, 0o755);
  chmodSync(scriptDir, 0o755);
  const baseEnv = { PATH: `${dirname(process.execPath)}:/usr/local/bin:/usr/bin:/bin` };
  /** @type {CaseContext} */
  const context = { ...settings, progress, tmp, scriptPath, baseEnv, trace, straceArguments };

  /** @type {any[]} */
  const results = [];
  /** @type {{ id: string, reason: string }[]} */
  const skipped = [];
  /** @type {string[][]} */
  const rows = [];
  /** @type {string[][]} */
  const phaseRows = [];
  try {
    for (const c of settings.cases) {
      const measured = await measureCase(c, context);
      if ('skipped' in measured) {
        progress(`${c.id}: skipped (${measured.skipped})`);
        skipped.push({ id: c.id, reason: measured.skipped });
        continue;
      }
      results.push(measured.result);
      rows.push(measured.row);
      phaseRows.push(measured.phaseRow);
    }
  } finally {
    rmSync(tmp, { recursive: true, force: true });
    rmSync(scriptDir, { recursive: true, force: true });
  }

  printTables(rows, phaseRows);
  printSummary(results, skipped);
  const partial = skipped.length > 0 || settings.only !== undefined || settings.runs < DEFAULT_RUNS;
  return {
    partial,
    result: {
      method: exportMethod(settings, baseEnv),
      cases: results,
      skipped,
      loadAverage: { atStart: loadAtStart, atEnd: os.loadavg().map(round1) },
      versions: {
        dit: gitRevision(),
        strace: spawnSync('strace', ['-V'], { encoding: 'utf8' }).stdout?.split('\n')[0] ?? null,
        tar: tarVersion,
      },
    },
  };
}

/**
 * @typedef {object} CaseContext  What every case of a run shares.
 * @property {number} runs
 * @property {number} verifyRuns
 * @property {number} traceRuns
 * @property {(line?: string) => void} progress
 * @property {string} tmp
 * @property {string} scriptPath
 * @property {Record<string, string>} baseEnv
 * @property {(argv: string[], o: object) => Promise<any>} trace
 * @property {(log: string) => string[]} straceArguments
 */

/** Runs, and which cases (BENCH_EXPORT_RUNS, BENCH_EXPORT_CASES). */
function exportSettings() {
  // biome-ignore lint/suspicious/noUndeclaredEnvVars: a knob of this script, not an input of a turbo task
  const runs = Math.max(1, Number(process.env.BENCH_EXPORT_RUNS) || DEFAULT_RUNS);
  // biome-ignore lint/suspicious/noUndeclaredEnvVars: a knob of this script, not an input of a turbo task
  const only = process.env.BENCH_EXPORT_CASES?.split(',')
    .map((s) => s.trim())
    .filter(Boolean);
  if (only) {
    const unknown = only.filter((id) => !allCases().some((c) => c.id === id));
    if (unknown.length > 0)
      throw new Error(
        `BENCH_EXPORT_CASES: unknown case(s) ${unknown.join(', ')} (${allCases()
          .map((c) => c.id)
          .join(', ')})`,
      );
  }
  return {
    runs,
    verifyRuns: Math.min(3, runs),
    traceRuns: runs * 2, // a plain run is a few ms: twice as many costs nothing
    only,
    cases: allCases().filter((c) => !only || only.includes(c.id)),
  };
}

/** Fails at once when something the benchmark runs is missing; returns GNU tar's version line. */
function checkExportPrerequisites() {
  for (const [path, fix] of [
    [DIT_BIN, 'build and link the CLI first (pnpm install && pnpm build)'],
    [TRACE_DIST, 'build it first (pnpm build)'],
    [EXPORTER_DIST, 'build it first (pnpm build)'],
    ['/usr/bin/strace', 'apt-get install -y strace'],
    ['/usr/bin/tar', 'apt-get install -y tar'],
    ['/usr/bin/dpkg-query', 'this benchmark needs a Debian-based system'],
  ]) {
    if (!existsSync(path)) throw new Error(`${relative(REPO, path) || path} is missing: ${fix}`);
  }
  const tarVersion = spawnSync('tar', ['--version'], { encoding: 'utf8' }).stdout?.split('\n')[0] ?? '';
  if (!tarVersion.includes('GNU tar')) throw new Error(`tar is not GNU tar (${tarVersion})`);
  return tarVersion;
}

/**
 * One case: warm-up, then dit export, tar of the same entries, dit export with verification and the
 * phase children interleaved; the tracing overhead; the sizes against the packages.
 *
 * @param {BenchCase} c @param {CaseContext} ctx
 * @returns {Promise<{ skipped: string } | { result: any, row: string[], phaseRow: string[] }>}
 */
async function measureCase(c, ctx) {
  const { progress, runs, verifyRuns } = ctx;
  const argv = c.script ? [ctx.scriptPath] : c.argv;
  const env = { ...ctx.baseEnv, ...c.env };
  const missing = c.needs.filter((p) => !existsSync(p));
  if (missing.length > 0) return { skipped: `missing ${missing.join(', ')}` };
  const dir = join(ctx.tmp, c.id);
  mkdirSync(dir);
  const reportFile = join(dir, 'report.json');
  const verifiedReportFile = join(dir, 'report-verified.json');
  const out = join(dir, 'out');
  const tarOut = join(dir, 'tar-out');

  // --- Warm-up (untimed): the command, then dit export, which also gives the file list.
  progress(`${c.id}: warming up ...`);
  const plain = spawnSync(argv[0] ?? '', argv.slice(1), { env, cwd: '/', encoding: 'utf8' });
  if (plain.error || plain.status !== 0) {
    return {
      skipped: `the command fails here (${plain.error?.message ?? `exit ${plain.status ?? plain.signal}`}): ${(plain.stderr ?? '').trim().slice(0, 200)}`,
    };
  }
  progress(`${c.id}: ${shellJoin(argv)} -> ${plain.stdout.trim().split('\n')[0]}`);
  const ditArgs = (/** @type {boolean} */ verify) => [
    'export',
    '--path',
    out,
    ...(verify ? [] : ['--no-verify']),
    '--report',
    verify ? verifiedReportFile : reportFile,
    '--',
    ...argv,
  ];
  const runDit = (/** @type {boolean} */ verify) => {
    const r = spawnSync(DIT_BIN, ditArgs(verify), {
      env,
      cwd: '/',
      encoding: 'utf8',
      stdio: ['ignore', 'ignore', 'pipe'],
    });
    mustSucceed(`${c.id}: dit export${verify ? '' : ' --no-verify'}`, r);
  };
  fresh(out);
  runDit(false);
  const report = JSON.parse(readFileSync(reportFile, 'utf8'));
  const tarPeer = tarOfReport(c, report, join(dir, 'list'), tarOut, progress);
  fresh(out);
  runDit(false);

  // --- 1+2+5. Interleaved, run i of each before run i+1 of any: dit export --no-verify, tar, dit
  // export with verification (its first verifyRuns rounds), and the phase breakdown children.
  const phaseOut = join(dir, 'phase-out');
  const phaseCommon = { argv, env, output: phaseOut, resultFile: join(dir, 'phase-result.json') };
  const phaseSpec = join(dir, 'phase-spec.json');
  progress(
    `${c.id}: dit export --no-verify, tar, phase children x${runs}, dit export (verifying) x${verifyRuns} ...`,
  );
  const [dit, tar, verified, phaseExport, phaseTrace] = await timeInterleaved(runs, [
    { fn: () => runDit(false), before: () => fresh(out) },
    { fn: tarPeer.run, before: tarPeer.prepare },
    { fn: () => runDit(true), before: () => fresh(out), runs: verifyRuns },
    {
      fn: () => runPhasesChild({ mode: 'export', ...phaseCommon }, phaseSpec),
      before: () => fresh(phaseOut),
    },
    { fn: () => runPhasesChild({ mode: 'trace', ...phaseCommon }, phaseSpec) },
  ]);
  fresh(phaseOut);
  if (!dit || !tar || !verified || !phaseExport || !phaseTrace) throw new Error('unreachable');
  const verification = JSON.parse(readFileSync(verifiedReportFile, 'utf8')).verification;
  if (!verification?.ok) progress(`${c.id}: note: verification did not pass: ${verification?.note}`);

  // --- 3. Tracing overhead. 4. Sizes against the packages. 5. Where dit's time goes.
  const tracing = await tracingOverhead(c.id, argv, env, join(dir, 'strace.log'), ctx);
  const size = packageSizes(report.entries, report.totals.bytes);
  const phases = phaseBreakdown(phaseExport.values, phaseTrace.values);
  const measured = {
    argv,
    dir,
    ditArgs,
    report,
    verification,
    tarPeer,
    dit,
    tar,
    verified,
    tracing,
    size,
    phases,
  };
  const result = caseResult(c, measured, ctx);
  progress(
    `${c.id}: export ${dit.medianMs.toFixed(0)} ms, tar ${tar.medianMs.toFixed(0)} ms (${result.ratioExportToTar}x), ` +
      `verify +${result.verify.costMs.toFixed(0)} ms, plain ${tracing.plain.medianMs.toFixed(1)} ms, trace() ${tracing.trace.medianMs.toFixed(1)} ms`,
  );
  fresh(out);
  fresh(tarOut);
  return { result, ...caseRows(result, measured) };
}

/**
 * The tar peer: exactly the report's entries that exist in the source (dit's file list is the same on
 * every run), copied with `tar -c | tar -x`; run once here to check it extracts them all.
 *
 * @param {BenchCase} c @param {any} report @param {string} listFile @param {string} tarOut
 * @param {(line?: string) => void} progress
 */
function tarOfReport(c, report, listFile, tarOut, progress) {
  /** @type {{ path: string, type: string, size: number, hardLinkOf?: string }[]} */
  const entries = report.entries;
  // Only what exists in the source: the dpkg records dit writes into status.d are not there to copy.
  const listed = entries.filter(
    (e) => ['file', 'symlink', 'directory'].includes(e.type) && existsInRoot(e.path),
  );
  // Relative to /; `/` itself (the working directory, when the report has it) is `.`.
  writeFileSync(listFile, listed.map((e) => `${e.path.replace(/^\/+/, '') || '.'}\0`).join(''));
  const tarScript = `set -o pipefail; tar -C / --no-recursion --numeric-owner -cf - --null -T "$1" | tar -C "$2" --numeric-owner -xpf -`;
  const run = () => {
    const r = spawnSync('/bin/bash', ['-c', tarScript, 'bash', listFile, tarOut], {
      cwd: '/',
      encoding: 'utf8',
      stdio: ['ignore', 'ignore', 'pipe'],
    });
    mustSucceed(`${c.id}: tar`, r);
  };
  const prepare = () => {
    fresh(tarOut);
    mkdirSync(tarOut);
  };
  prepare();
  run();
  const extracted = countTree(tarOut);
  const expected = listed.filter((e) => e.path !== '/').length;
  if (extracted !== expected)
    progress(`${c.id}: note: tar extracted ${extracted} entries, ${expected} expected`);
  return { listed: listed.length, extracted, run, prepare };
}

/**
 * The command plain, under strace with trace()'s arguments, and through trace() (interleaved).
 *
 * @param {string} id @param {string[]} argv @param {Record<string, string>} env @param {string} straceLog
 * @param {CaseContext} ctx
 */
async function tracingOverhead(id, argv, env, straceLog, ctx) {
  ctx.progress(`${id}: plain / strace / trace() x${ctx.traceRuns} each ...`);
  const quiet = /** @type {const} */ ({
    env,
    cwd: '/',
    encoding: 'utf8',
    stdio: ['ignore', 'ignore', 'pipe'],
  });
  const runPlain = () => mustSucceed(`${id}: plain run`, spawnSync(argv[0] ?? '', argv.slice(1), quiet));
  const straceArgv = [...ctx.straceArguments(straceLog), '--', ...argv];
  const runStrace = () => mustSucceed(`${id}: strace`, spawnSync('strace', straceArgv, quiet));
  /** @type {number[]} */
  const straceRunMs = [];
  let paths = 0;
  const runTrace = async () => {
    const r = await ctx.trace(argv, { env, cwd: '/', stdio: 'pipe' });
    if (r.exitCode !== 0) throw new Error(`${id}: trace(): exit ${r.exitCode ?? r.signal}`);
    straceRunMs.push(r.durationMs);
    paths = r.paths.length;
  };
  runPlain();
  runStrace();
  await runTrace();
  straceRunMs.length = 0;
  const [plain, strace, trace] = await timeInterleaved(ctx.traceRuns, [
    { fn: runPlain },
    { fn: runStrace },
    { fn: runTrace },
  ]);
  if (!plain || !strace || !trace) throw new Error('unreachable');
  return { plain, strace, trace, straceRunMs, paths };
}

/**
 * One case's result document.
 *
 * @param {BenchCase} c @param {any} m  What measureCase measured. @param {CaseContext} ctx
 */
function caseResult(c, m, ctx) {
  const { argv, dir, ditArgs, report, verification, tarPeer, dit, tar, verified, tracing, size, phases } = m;
  const { straceArguments } = ctx;
  const { plain: plainT, strace: straceT, trace: traceT, straceRunMs, paths: tracedPaths } = tracing;
  // The CLI beyond the child: its own start-up (the CLI's CommonJS bundles, against the child's ESM imports), argument parsing, writing the report.
  const cliOverheadMs = round1(dit.medianMs - phases.childWallMs);
  const ratio = dit.medianMs / tar.medianMs;
  const verifyCostMs = round1(verified.medianMs - dit.medianMs);
  const envShown = envPrefix(c.env);
  return {
    id: c.id,
    loadAverage1m: round1(os.loadavg()[0] ?? 0),
    label: c.label,
    argv,
    env: c.env,
    command: `${envShown}${shellJoin(argv)}`,
    ...(c.script ? { script: SCRIPT_TEXT } : {}),
    totals: report.totals,
    warnings: report.warnings,
    dit: {
      command: `${envShown}${DIT_BIN_SHOWN} ${shellJoin(ditArgs(false))}`.replaceAll(dir, 'DIR'),
      ...timing(dit),
      traceDurationMs: report.trace?.durationMs ?? null,
      tracedPaths: report.trace?.paths ?? null,
    },
    verify: {
      command: `${envShown}${DIT_BIN_SHOWN} ${shellJoin(ditArgs(true))}`.replaceAll(dir, 'DIR'),
      ...timing(verified),
      costMs: verifyCostMs,
      cpuCostMs: round1(verified.cpuMedianMs - dit.cpuMedianMs),
      ok: verification?.ok ?? false,
      isolation: verification?.isolation ?? null,
      note: verification?.note ?? null,
    },
    tar: {
      command: `set -o pipefail; tar -C / --no-recursion --numeric-owner -cf - --null -T LIST | tar -C DEST --numeric-owner -xpf -`,
      listed: tarPeer.listed,
      extractedEntries: tarPeer.extracted,
      ...timing(tar),
    },
    ratioExportToTar: Math.round(ratio * 100) / 100,
    ratioExportToTarCpu:
      tar.cpuMedianMs > 0 ? Math.round((dit.cpuMedianMs / tar.cpuMedianMs) * 100) / 100 : null,
    goalRatio: EXPORT_GOALS.vsTar,
    goalMet: ratio <= EXPORT_GOALS.vsTar,
    tracing: {
      plain: { command: `${envShown}${shellJoin(argv)}`, ...timing(plainT) },
      strace: {
        command: `${envShown}strace ${shellJoin(straceArguments('LOG'))} -- ${shellJoin(argv)}`,
        ...timing(straceT),
      },
      traceApi: {
        command: `trace(${JSON.stringify(argv)}, { env, cwd: '/', stdio: 'pipe' }) from packages/trace/dist`,
        ...timing(traceT),
        straceRunMedianMs: round1(median(straceRunMs)),
        paths: tracedPaths,
      },
      straceOverhead: Math.round((straceT.medianMs / plainT.medianMs) * 100) / 100,
      traceOverhead: Math.round((traceT.medianMs / plainT.medianMs) * 100) / 100,
    },
    size,
    phases: { ...phases, cliOverheadMs },
  };
}

/**
 * The case's rows of the printed tables.
 *
 * @param {any} result @param {any} m  What measureCase measured.
 * @returns {{ row: string[], phaseRow: string[] }}
 */
function caseRows(result, m) {
  const { report, size, dit, tar, phases, tracing } = m;
  const { plain, trace } = tracing;
  return {
    row: [
      result.id,
      String(report.totals.files),
      (report.totals.bytes / MiB).toFixed(1),
      (size.packagesBytes / MiB).toFixed(1),
      (dit.medianMs / 1000).toFixed(2),
      (tar.medianMs / 1000).toFixed(3),
      `${(dit.medianMs / tar.medianMs).toFixed(1)}x`,
      (result.verify.costMs / 1000).toFixed(2),
      plain.medianMs.toFixed(1),
      trace.medianMs.toFixed(1),
      `${(trace.medianMs / plain.medianMs).toFixed(2)}x`,
    ],
    phaseRow: [
      result.id,
      dit.medianMs.toFixed(0),
      result.phases.cliOverheadMs.toFixed(0),
      phases.nodeStartImportMs.toFixed(0),
      phases.setupMs.toFixed(0),
      phases.straceRunMs.toFixed(0),
      phases.traceParseWalkMs.toFixed(0),
      phases.selectResolveMs.toFixed(0),
      phases.runtimeDataMkdirMs.toFixed(0),
      phases.copyMs.toFixed(0),
      phases.hashMs.toFixed(0),
      phases.exitMs.toFixed(0),
      tar.medianMs.toFixed(0),
      dit.cpuMedianMs.toFixed(0),
      tar.cpuMedianMs.toFixed(0),
    ],
  };
}

/** @param {any[]} results @param {{ id: string, reason: string }[]} skipped */
function printSummary(results, skipped) {
  console.log('');
  for (const x of results) {
    console.log(
      `${x.id}: export ${(x.size.exportBytes / MiB).toFixed(1)} MiB vs packages ${(x.size.packagesBytes / MiB).toFixed(1)} MiB` +
        ` (${x.size.percentOfPackages ?? '-'}%) from ${x.size.packages.length} packages` +
        (x.size.unownedFiles.length > 0
          ? `; not from any package: ${x.size.unownedFiles.length} files, ${(x.size.unownedFileBytes / 1024).toFixed(1)} KiB (${x.size.unownedFiles.slice(0, 4).join(', ')}${x.size.unownedFiles.length > 4 ? ', ...' : ''})`
          : ''),
    );
  }
  console.log('');
  for (const x of results) {
    console.log(
      `${x.id}: export/tar ${x.ratioExportToTar}x (CPU time ${x.ratioExportToTarCpu ?? '-'}x):` +
        ` goal <= ${EXPORT_GOALS.vsTar}x ${x.goalMet ? 'met' : 'NOT met'}` +
        `; dit's copy alone (materialize after the first file) ${x.phases.copyMs} ms, with hashing` +
        ` ${round1(x.phases.copyMs + x.phases.hashMs)} ms, vs tar ${x.tar.medianMs} ms` +
        ` (${(x.phases.copyMs / x.tar.medianMs).toFixed(2)}x, ${((x.phases.copyMs + x.phases.hashMs) / x.tar.medianMs).toFixed(2)}x)`,
    );
    if (!x.verify.ok) console.log(`${x.id}: verification did not pass: ${x.verify.note}`);
  }
  for (const s of skipped) console.log(`${s.id}: skipped: ${s.reason}`);
}

/**
 * How the figures were measured, stored with them.
 *
 * @param {{ runs: number, verifyRuns: number, traceRuns: number }} settings @param {Record<string, string>} baseEnv
 */
function exportMethod({ runs, verifyRuns, traceRuns }, baseEnv) {
  return {
    runs,
    verifyRuns,
    traceRuns,
    statistic:
      'median wall time (performance.now() around spawnSync / await) of the timed runs; cpuMs: user+system time of the waited-for process tree (/proc/self/stat cutime+cstime delta, 10 ms ticks)',
    warmup:
      'per case, untimed: the command once, dit export twice, tar once, strace and trace() once, exportImage once in the phase child',
    freshOutput: 'every run writes into a folder that does not exist yet (removed, untimed, before the run)',
    environment: `${JSON.stringify(baseEnv)} plus each case's env; cwd /`,
    verifyCost: 'median(dit export with verification) - median(dit export --no-verify)',
    tar: 'the report entries of type file, symlink or directory, paths relative to /, NUL-separated',
    packages:
      'each exported file and symlink mapped to its package through /var/lib/dpkg/info/*.list (merged-/usr spellings and realpath tried); Installed-Size (KiB) of the distinct packages summed',
    phases:
      'per run, a fresh node process (JIT cold, like the CLI) imports packages/exporter/dist and runs one exportImage() (verify off), timed through onProgress: node+imports (process start -> exporter loaded), setup (-> trace event), strace run (the trace report durationMs), trace parse+walk (trace() alone, in its own fresh processes, minus its strace run), select+resolve (trace event -> first closure done, minus trace() alone), runtime data+mkdir (-> first file copied), copy (-> hash event: the other files, symlinks, directory attributes), hash (-> end), exit (-> child gone); cli+report = dit export median - child wall median (negative where the CLI bundles start faster than the ESM imports of the child)',
  };
}

/**
 * @param {string[][]} rows
 * @param {string[][]} phaseRows
 */
function printTables(rows, phaseRows) {
  printTable(
    [
      'case',
      'files',
      'export MiB',
      'packages MiB',
      'export s',
      'tar s',
      'ratio',
      'verify s',
      'plain ms',
      'traced ms',
      'trace overhead',
    ],
    rows,
  );
  console.log('');
  console.log(
    'where dit export --no-verify spends its time (medians, ms; phases from exportImage() in fresh node processes):',
  );
  printTable(
    [
      'case',
      'dit export',
      'cli+report',
      'node+imports',
      'setup',
      'strace run',
      'trace parse+walk',
      'select+resolve',
      'runtime data+mkdir',
      'copy',
      'hash',
      'exit',
      'tar',
      'dit cpu',
      'tar cpu',
    ],
    phaseRows,
  );
}

// The phase child: `node bench/export/measure.mjs --phases SPEC.json` (started by runPhasesChild()).
if (process.argv[1] === THIS_FILE && process.argv[2] === '--phases') {
  const spec = JSON.parse(readFileSync(process.argv[3] ?? '', 'utf8'));
  phasesChild(spec).catch((e) => {
    console.error(e);
    process.exit(1);
  });
}
