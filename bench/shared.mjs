// What every benchmark shares: the `dit` it measures, medians, how a table is printed, and how the
// machine is described.

import os from 'node:os';
import { fileURLToPath } from 'node:url';

/**
 * The `dit` every benchmark runs: the CLI's bin file, which is what an installed `dit` is (npm links
 * the command to it; dit.tar's launcher starts the same code). Not pnpm's node_modules/.bin/dit: that
 * is a shell script which resolves its own links with readlink and sed before it starts Node, 20-50 ms
 * per call on the benchmark machine that no installed copy pays.
 */
export const DIT_BIN = fileURLToPath(new URL('../apps/cli/bin/dit.cjs', import.meta.url));

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
