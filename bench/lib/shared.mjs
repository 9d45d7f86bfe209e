// What every benchmark shares: the `dit` it measures, medians, how a table is printed, and how the
// machine is described.

import { spawnSync } from 'node:child_process';
import os from 'node:os';
import { fileURLToPath } from 'node:url';

/**
 * The `dit` every benchmark runs: the CLI's bin file, which is what an installed `dit` is (npm links
 * the command to it; dit.tar's launcher starts the same code). Not pnpm's node_modules/.bin/dit: that
 * is a shell script which resolves its own links with readlink and sed before it starts Node, 20-50 ms
 * per call on the benchmark machine that no installed copy pays.
 */
export const DIT_BIN = fileURLToPath(new URL('../../apps/cli/bin/dit.cjs', import.meta.url));

/** DIT_BIN as the tables show it: relative to the repository. */
export const DIT_BIN_SHOWN = 'apps/cli/bin/dit.cjs';

/**
 * The median of some samples (the mean of the middle two for an even count); 0 for none.
 *
 * @param {number[]} xs
 */
export function median(xs) {
  if (xs.length === 0) return 0;
  const s = [...xs].sort((a, b) => a - b);
  const mid = s.length >> 1;
  const hi = s[mid] ?? 0;
  return s.length % 2 ? hi : ((s[mid - 1] ?? 0) + hi) / 2;
}

/**
 * Prints a table to stdout: the first column left-aligned, the rest right-aligned.
 *
 * @param {string[]} head
 * @param {string[][]} rows
 */
export function printTable(head, rows) {
  const widths = head.map((h, i) => Math.max(h.length, ...rows.map((row) => String(row[i]).length)));
  const format = (/** @type {string[]} */ row) =>
    row.map((cell, i) => (i === 0 ? cell.padEnd(widths[i] ?? 0) : cell.padStart(widths[i] ?? 0))).join('  ');
  console.log('');
  console.log(format(head));
  console.log(widths.map((width) => '-'.repeat(width)).join('  '));
  for (const row of rows) console.log(format(row));
  console.log('');
}

/** The machine a result was measured on, stored with every result file. */
export function machine() {
  return {
    cpu: os.cpus()[0]?.model ?? 'unknown',
    nproc: os.availableParallelism(),
    memoryGiB: Math.round((os.totalmem() / 2 ** 30) * 10) / 10,
    node: process.version,
    kernel: os.release(),
    platform: `${process.platform}-${process.arch}`,
  };
}

const REPO = fileURLToPath(new URL('../..', import.meta.url));

/** Thrown for conditions the user must fix (missing tool, dit not built); printed without a stack. */
export class BenchError extends Error {
  /** @param {string} message */
  constructor(message) {
    super(message);
    this.name = 'BenchError';
  }
}

/** The revision measured (`git describe --always --dirty`), stored with every result; null outside git. */
export function gitRevision() {
  const r = spawnSync('git', ['-C', REPO, 'describe', '--always', '--dirty'], { encoding: 'utf8' });
  return r.status === 0 ? r.stdout.trim() : null;
}

/** The installed version of a Debian package, or null. @param {string} pkg */
export function dpkgVersion(pkg) {
  const r = spawnSync('dpkg-query', ['-W', `-f=\${Version}`, pkg], { encoding: 'utf8' });
  return r.status === 0 ? r.stdout.trim() : null;
}

/**
 * Splits args into as few chunks as fit into one execve: the kernel limits argv + envp (strings,
 * NULs and pointers) to ARG_MAX (a quarter of the stack limit; 2 MiB by default).
 *
 * @param {string[]} fixedArgv  The command and its leading arguments, repeated in every call.
 * @param {string[]} args
 * @param {NodeJS.ProcessEnv} [env]  The environment the calls get (default: this process's).
 * @returns {{ chunks: string[][], argMax: number }}
 */
export function chunkForArgMax(fixedArgv, args, env = process.env) {
  const argMax = Number(spawnSync('getconf', ['ARG_MAX'], { encoding: 'utf8' }).stdout?.trim()) || 131072;
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
  for (const arg of args) {
    if (current.length > 0 && used + cost(arg) > budget) {
      chunks.push(current);
      current = [];
      used = 0;
    }
    current.push(arg);
    used += cost(arg);
  }
  if (current.length > 0) chunks.push(current);
  return { chunks, argMax };
}

/**
 * `--tools a,b`: the named ones of `all`, in the order given; names a benchmark does not know are
 * left out, and nothing known (or no --tools) means all of them.
 *
 * @param {Record<string, string | boolean | undefined>} options
 * @param {string[]} all
 */
export function chosenTools(options, all) {
  const asked = typeof options.tools === 'string' ? options.tools.split(',').map((t) => t.trim()) : all;
  const known = asked.filter((tool) => all.includes(tool));
  return known.length > 0 ? known : all;
}

/**
 * `--rounds N`: at least 1; missing or not a number means `fallback`.
 *
 * @param {Record<string, string | boolean | undefined>} options
 * @param {number} fallback
 */
export function chosenRounds(options, fallback) {
  return Math.max(1, Number(options.rounds ?? fallback) || fallback);
}
