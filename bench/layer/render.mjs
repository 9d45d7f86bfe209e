// The layer section of the benchmarks page (docs/benchmarks.md), from bench/results/layer.json. No
// chart: three bars say less than the table.

import { machineLine, table, times, verdict, versionsLine } from '../lib/markdown.mjs';
import { LAYER_GOALS } from './goal.mjs';

/** @typedef {import('../lib/markdown.mjs').Goal} Goal */

/** @param {number | null | undefined} x  A size ratio as "+2.80%". */
function overPct(x) {
  if (x === null || x === undefined) return '-';
  const p = (x - 1) * 100;
  return `${p >= 0 ? '+' : ''}${p.toFixed(2)}%`;
}

/**
 * @param {any} doc  bench/results/layer.json
 * @returns {{ md: string, svg: string | null, goals: Goal[] }}
 */
export function layerSection(doc) {
  /** @type {any[]} */
  const tools = doc.tools ?? [];
  const ratios = doc.ratios ?? {};
  const corpus = doc.corpus ?? {};
  const method = doc.method ?? {};
  const pigz = tools.find((t) => t.id === 'pigz');
  // A result file's own goals win over today's.
  const goalTime = doc.goals?.timeVsPigz?.goal ?? LAYER_GOALS.timeVsPigz;
  const goalSize = doc.goals?.sizeVsPigz?.goal ?? LAYER_GOALS.sizeVsPigz;
  const check = (/** @type {number | null | undefined} */ x, /** @type {number} */ goal) =>
    x === null || x === undefined ? null : x <= goal;
  /** @type {Goal[]} */
  const goals = [
    {
      benchmark: 'layer',
      goal:
        goalTime === 1 ? 'layer writer no slower than tar + pigz' : `layer writer ≤ ${goalTime}x tar + pigz`,
      measured: `${times(ratios.ditTimeVsPigz)} pigz's time`,
      met: check(ratios.ditTimeVsPigz, goalTime),
    },
    {
      benchmark: 'layer',
      goal: `blob within ${((goalSize - 1) * 100).toFixed(0)}% of pigz's size`,
      measured: overPct(ratios.ditSizeVsPigz),
      met: check(ratios.ditSizeVsPigz, goalSize),
    },
  ];
  const rows = tools.map((t) => [
    String(t.label).replaceAll('|', '/'),
    `${t.medianSeconds.toFixed(3)} s`,
    `${t.bestSeconds.toFixed(3)} s`,
    pigz ? times(t.medianSeconds / pigz.medianSeconds) : '-',
    typeof t.cpuMedianSeconds === 'number' ? `${t.cpuMedianSeconds.toFixed(2)} s` : '-',
    pigz && typeof t.cpuMedianSeconds === 'number' ? times(t.cpuMedianSeconds / pigz.cpuMedianSeconds) : '-',
    typeof t.inProcessMedianMs === 'number' ? `${(t.inProcessMedianMs / 1000).toFixed(3)} s` : '-',
    `${(t.blobBytes / 1e6).toFixed(2)} MB`,
    pigz ? overPct(t.blobBytes / pigz.blobBytes) : '-',
  ]);
  const identical =
    doc.identical === true
      ? 'The addon and the TypeScript writer wrote the same blob (same digest and diff_id), as they must.'
      : doc.identical === false
        ? '**The addon and the TypeScript writer wrote different blobs**: a bug.'
        : '';
  const lines = [
    '## layer: the image layer writer vs tar + pigz',
    '',
    machineLine(doc),
    versionsLine(doc.versions ?? {}),
    '',
    `Input: the files of \`${corpus.command ?? 'dit export of node'}\`, ${corpus.files ?? '?'} entries,` +
      ` ${((corpus.bytes ?? 0) / 1e6).toFixed(1)} MB. Each tool writes the gzip blob and both SHA-256 sums (the blob's: the digest;` +
      " the tar's: the diff_id): dit's `writeLayer` in a fresh Node process (start-up included; its time inside the process" +
      ` in its own column), and \`tar -c --sort=name | tee FIFO | pigz -p ${method.nproc ?? 'NPROC'} -${method.level ?? 6} -n | tee BLOB | sha256sum\`` +
      ` with \`sha256sum < FIFO\`. One untimed round, then ${method.rounds ?? '?'} rounds with the tools interleaved; medians.` +
      ' CPU is user + system time of the whole process tree (GNU time): what the work costs, less disturbed than the wall time' +
      ' by other load on a shared machine.',
    '',
    table(
      ['writer', 'median', 'best', 'vs pigz', 'CPU', 'CPU vs pigz', 'in process', 'blob', 'size vs pigz'],
      rows,
    ),
    '',
    table(
      ['goal', 'measured', 'status'],
      goals.map((g) => [g.goal, g.measured, verdict(g.met)]),
      [2],
    ),
    '',
    [
      identical,
      `Both dit writers use pigz's format (blocks deflated in parallel, each with the 32 KiB before it as dictionary), so the` +
        " size difference is not the format: it is the zlib. dit deflates with the zlib inside Node (Chromium's zlib" +
        ` ${doc.versions?.zlib ?? ''} in Node's own build), which at level 6 writes a few per cent more than the system zlib pigz links;` +
        ' the same data through `node:zlib` and `gzip -6` differ by as much.',
    ]
      .filter((s) => s !== '')
      .join(' '),
    '',
  ];
  return { md: lines.join('\n'), svg: null, goals };
}
