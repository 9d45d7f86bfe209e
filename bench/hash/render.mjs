// The hash section of the benchmarks page (docs/benchmarks.md) and its chart, from
// bench/results/hash.json.

import { COLORS, renderChart } from '../lib/chart.mjs';
import { int, machineLine, msText, pct, table, times, verdict, versionsLine } from '../lib/markdown.mjs';
import { HASH_GOALS } from './goal.mjs';

/** @typedef {import('../lib/markdown.mjs').Goal} Goal */

/**
 * @param {any} doc  bench/results/hash.json
 * @returns {{ md: string, svg: string | null, goals: Goal[] }}
 */
export function hashSection(doc) {
  const { limit } = hashContext(doc);
  const corpus = doc.corpus ?? {};
  const goals = hashGoals(doc);
  const rows = hashRows(doc);
  const lines = [
    '## hash: `dit hash` vs sha256sum',
    '',
    machineLine(doc),
    versionsLine({ ...(doc.versions ?? {}), openssl: limit?.version?.replace(/ \(Library:.*\)$/, '') }),
    '',
    `Input: ${int(corpus.files ?? 0)} regular files under ${(corpus.dirs ?? []).map((/** @type {string} */ d) => `\`${d}\``).join(' and ')},` +
      ` ${((corpus.bytes ?? 0) / 1e9).toFixed(2)} GB (${((corpus.distinctBytes ?? 0) / 1e9).toFixed(2)} GB in distinct files; GB/s counts` +
      ' hard links under every name, as sha256sum reads them). Every file is read once before measuring, then each tool runs once untimed;' +
      ` then ${doc.method?.rounds ?? '?'} rounds with the tools interleaved, the median round counts. sha256sum gets as many files per call as` +
      ' ARG_MAX allows. The limit is `openssl speed -evp sha256 -multi NPROC` (16 KiB blocks from memory), measured in every round.',
    '',
    table(['tool', 'median', 'best', 'GB/s', 'dit is', 'of limit'], rows),
    '',
    table(
      ['goal', 'measured', 'status'],
      goals.map((x) => [x.goal, x.measured, verdict(x.met)]),
      [2],
    ),
    '',
  ];
  const notes = hashNotes(doc);
  if (notes.length > 0) lines.push(notes.join(' '), '');
  lines.push('![hash: throughput in GB/s, dit hash vs sha256sum and the all-core limit](bench-hash.svg)', '');
  return { md: lines.join('\n'), svg: hashChart(doc), goals };
}

/** What the parts of the section share. @param {any} doc */
function hashContext(doc) {
  /** @type {any[]} */
  const tools = doc.tools ?? [];
  const byId = (/** @type {string} */ id) => tools.find((t) => t.id === id);
  const dit = byId('dit');
  const ratios = doc.ratios ?? {};
  const limit = doc.limit ?? null;
  const limitGb = limit?.allCoresGbPerSecond ?? null;
  // A result file's own goals win over today's.
  const g = doc.goals ?? {};
  const goalVsSha = g.vsSha256sum?.goal ?? HASH_GOALS.vsSha256sum;
  const goalVsTs = g.vsTypeScript?.goal ?? HASH_GOALS.vsTypeScript;
  const goalOfLimit = g.ofLimit?.goal ?? HASH_GOALS.ofLimit;
  return { tools, byId, dit, ratios, limit, limitGb, goalVsSha, goalVsTs, goalOfLimit };
}

/** @param {any} doc @returns {Goal[]} */
function hashGoals(doc) {
  const { ratios } = hashContext(doc);
  const { goalVsSha, goalVsTs, goalOfLimit } = hashContext(doc);
  const check = (/** @type {number | null | undefined} */ x, /** @type {number} */ goal) =>
    x === null || x === undefined ? null : x >= goal;
  return [
    {
      benchmark: 'hash',
      goal: `dit hash ≥ ${goalVsSha}x sha256sum`,
      measured: times(ratios.ditVsSha256sum),
      met: check(ratios.ditVsSha256sum, goalVsSha),
    },
    {
      benchmark: 'hash',
      goal: `dit hash ≥ ${goalVsTs}x \`DIT_NATIVE=0\``,
      measured: times(ratios.ditVsTypeScript),
      met: check(ratios.ditVsTypeScript, goalVsTs),
    },
    {
      benchmark: 'hash',
      goal: `dit hash within ${pct(1 - goalOfLimit)} of the all-core limit (≥ ${pct(goalOfLimit)})`,
      measured: ratios.ditOfLimit === null || ratios.ditOfLimit === undefined ? '-' : pct(ratios.ditOfLimit),
      met: check(ratios.ditOfLimit, goalOfLimit),
    },
  ];
}

/** The table: each tool's times, throughput and ratios; dit net of start-up; the limit. @param {any} doc */
function hashRows(doc) {
  const { tools, dit, ratios, limit, limitGb } = hashContext(doc);
  /** dit's throughput over t's, as the result file computed it where it did. @param {any} t */
  const hashRatio = (t) => {
    if (!dit || !t.gbPerSecond) return '-';
    if (t === dit) return '1x';
    // The --check pair: dit's check against sha256sum's, the other rows against dit hash.
    const ditCheck = tools.find((/** @type {any} */ x) => x.id === 'dit-check');
    if (t.id === 'dit-check') return '-';
    if (t.id === 'sha256sum-check' && ditCheck?.gbPerSecond) {
      return `**${times(ratios.ditCheckVsSha256sumCheck ?? ditCheck.gbPerSecond / t.gbPerSecond)}** (vs --check)`;
    }
    const x =
      t.id === 'sha256sum'
        ? ratios.ditVsSha256sum
        : t.id === 'dit-ts'
          ? ratios.ditVsTypeScript
          : dit.gbPerSecond / t.gbPerSecond;
    return `**${times(x ?? dit.gbPerSecond / t.gbPerSecond)}**`;
  };
  const rows = tools.map((t) => [
    t.label.replaceAll('|', '/'),
    `${t.medianSeconds.toFixed(3)} s`,
    `${t.bestSeconds.toFixed(3)} s`,
    t.gbPerSecond === null ? '-' : t.gbPerSecond.toFixed(2),
    hashRatio(t),
    limitGb && t.gbPerSecond !== null ? pct(t.gbPerSecond / limitGb) : '-',
  ]);
  if (typeof doc.ditNetOfStartupGbPerSecond === 'number') {
    rows.push([
      'dit hash, net of Node start-up',
      '-',
      '-',
      doc.ditNetOfStartupGbPerSecond.toFixed(2),
      '-',
      limitGb ? pct(doc.ditNetOfStartupGbPerSecond / limitGb) : '-',
    ]);
  }
  if (limit) {
    rows.push([
      `limit: openssl speed, ${limit.cores} cores`,
      '-',
      '-',
      limit.allCoresGbPerSecond.toFixed(2),
      '-',
      '100%',
    ]);
    rows.push([
      'openssl speed, one core',
      '-',
      '-',
      limit.oneCoreGbPerSecond.toFixed(2),
      '-',
      pct(limit.oneCoreGbPerSecond / limit.allCoresGbPerSecond),
    ]);
  }
  return rows;
}

/** What the table's figures mean, where the result has what it takes. @param {any} doc */
function hashNotes(doc) {
  const { byId, dit, ratios, limit, goalVsSha } = hashContext(doc);
  /** @type {string[]} */
  const notes = [];
  const sha = byId('sha256sum');
  if (limit && sha?.gbPerSecond) {
    const ceiling = limit.allCoresGbPerSecond / sha.gbPerSecond;
    if (ceiling < goalVsSha) {
      notes.push(
        `On this machine even the all-core limit is only ${times(ceiling)} sha256sum, so ${goalVsSha}x sha256sum is out of reach with ${limit.cores} cores.`,
      );
    } else if ((ratios.ditVsSha256sum ?? 0) < goalVsSha) {
      // How hard the goal is on this machine: it depends on how fast sha256sum happens to be.
      notes.push(
        `${goalVsSha}x sha256sum (${sha.gbPerSecond.toFixed(2)} GB/s here) is ${(goalVsSha * sha.gbPerSecond).toFixed(2)} GB/s: ${pct((goalVsSha * sha.gbPerSecond) / limit.allCoresGbPerSecond)} of the all-core limit.`,
      );
    }
  }
  if (limit && limit.cores > 1) {
    const scaling = limit.allCoresGbPerSecond / limit.oneCoreGbPerSecond;
    if (scaling < 0.75 * limit.cores) {
      notes.push(
        `The ${limit.cores} cores together hashed only ${times(scaling)} as fast as one (samples: ${(
          limit.allCoresSamples ?? []
        )
          .map((/** @type {number} */ b) => (b / 1e9).toFixed(2))
          .join(', ')} GB/s): the cores were not fully available to the run (a shared VM or other load).`,
      );
    }
  }
  if (typeof ratios.ditNetOfStartupOfLimit === 'number') {
    notes.push(
      `Net of Node.js start-up (\`node -e ''\`, ${msText((byId('node')?.medianSeconds ?? 0) * 1000)}), dit hashes at ${pct(ratios.ditNetOfStartupOfLimit)} of the limit.`,
    );
  }
  const startup = byId('node')?.medianSeconds;
  const ts = byId('dit-ts')?.medianSeconds;
  if (dit && startup && ts && dit.medianSeconds > startup) {
    // Both pay the same Node start-up; the 2x goal is judged with it, this says what is left without.
    notes.push(
      `Net of that start-up in both, dit hash is ${times((ts - startup) / (dit.medianSeconds - startup))} the TypeScript path, which hashes on one core (its reads run on libuv's pool) where the addon uses all ${limit?.cores ?? 'the'} cores.`,
    );
  }
  const ditCheck = byId('dit-check');
  const shaCheck = byId('sha256sum-check');
  if (ditCheck && shaCheck) {
    notes.push(
      `Checking the same files against a list of their checksums, \`dit hash --check --quiet\` takes ${msText(ditCheck.medianSeconds * 1000)} and \`sha256sum --check --quiet\` ${msText(shaCheck.medianSeconds * 1000)}: ${times(shaCheck.medianSeconds / ditCheck.medianSeconds)} (both exit 0: every file matches).`,
    );
  }
  const identical = Object.entries(doc.outputsIdentical ?? {});
  if (identical.length > 0) {
    const differ = identical.filter(([, same]) => !same).map(([t]) => t);
    notes.push(
      differ.length === 0
        ? `The outputs of ${identical.map(([t]) => t).join(', ')} are byte-identical (same files, same digests).`
        : `**Outputs differ** from the reference: ${differ.join(', ')}.`,
    );
  }
  return notes;
}

/** @param {any} doc */
function hashChart(doc) {
  const { tools, limit, limitGb } = hashContext(doc);
  const corpus = doc.corpus ?? {};
  /** @type {BarGroup[]} */
  const groups = [];
  if (limit) {
    groups.push({
      label: `openssl, ${limit.cores} cores (limit)`,
      bars: [{ value: limitGb, text: `${limitGb.toFixed(2)} GB/s`, color: COLORS.limit }],
    });
  }
  const ofLimit = (/** @type {number} */ x) => (limitGb ? ` (${pct(x / limitGb)} of limit)` : '');
  for (const t of tools) {
    if (t.gbPerSecond === null) continue;
    groups.push({
      label: t.label,
      bars: [
        {
          value: t.gbPerSecond,
          text: `${t.gbPerSecond.toFixed(2)} GB/s${ofLimit(t.gbPerSecond)}`,
          color: t.id === 'dit' ? COLORS.dit : t.id === 'dit-ts' ? COLORS.ditPale : COLORS.peer,
        },
      ],
    });
    if (t.id === 'dit' && typeof doc.ditNetOfStartupGbPerSecond === 'number') {
      const net = doc.ditNetOfStartupGbPerSecond;
      groups.push({
        label: 'dit hash, net of start-up',
        bars: [{ value: net, text: `${net.toFixed(2)} GB/s${ofLimit(net)}`, color: COLORS.ditLight }],
      });
    }
  }
  if (limit) {
    groups.push({
      label: 'openssl, one core',
      bars: [
        {
          value: limit.oneCoreGbPerSecond,
          text: `${limit.oneCoreGbPerSecond.toFixed(2)} GB/s`,
          color: COLORS.limit,
        },
      ],
    });
  }
  return groups.length === 0
    ? null
    : renderChart({
        title: 'hash: SHA-256 throughput, GB/s',
        subtitle: `${int(corpus.files ?? 0)} files, ${((corpus.bytes ?? 0) / 1e9).toFixed(2)} GB, page cache warm; longer is faster`,
        groups,
        legend: [],
      });
}
