#!/usr/bin/env node
// The benchmarks page: reads whatever of bench/results/{deps,export,hash}.json exist and writes
// docs/benchmarks.md with one chart per benchmark (docs/bench-deps.svg, bench-export.svg,
// bench-hash.svg: horizontal bars drawn by hand). bench/run.mjs calls writeReport() at the end of a
// run; `node bench/report.mjs` regenerates the page from the results as they are.
//
// Deterministic: the same results give the same bytes (no clock, no locale; the only dates are the
// ones in the JSON). Partial runs (*.partial.tmp) are never read.

import { existsSync, mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import { join, relative } from 'node:path';
import { fileURLToPath } from 'node:url';

const REPO = fileURLToPath(new URL('..', import.meta.url));
const RESULTS_DIR = join(REPO, 'bench', 'results');
const DOCS_DIR = join(REPO, 'docs');
const MiB = 1024 * 1024;

/** Goals from the issues; a result file's own goal fields win where it has them. */
const GOALS = {
  depsVsLoader: 5,
  depsVsLddtree: 50,
  depsNativeVsTypeScript: 3,
  exportVsTar: 1.5,
  hashVsSha256sum: 8,
  hashVsTypeScript: 2,
  hashOfLimit: 0.7,
};

const COLORS = {
  dit: '#2b7bb9',
  ditLight: '#8dbde3',
  ditPale: '#c6dbef',
  peer: '#c8c8c8',
  limit: '#7a7a7a',
  grid: '#e4e4e4',
  axis: '#555555',
  marker: '#d0312d',
};

// ---------------------------------------------------------------------------------------------------
// Formatting (no toLocaleString: its output depends on the machine's locale)

/** @param {number} n  An integer, with thousands separated by commas. */
function int(n) {
  return String(Math.round(n)).replace(/\B(?=(\d{3})+(?!\d))/g, ',');
}

/** @param {number} x  About three significant digits. */
function sig(x) {
  const a = Math.abs(x);
  if (a >= 100) return int(x);
  if (a >= 10) return x.toFixed(1);
  if (a >= 0.1 || a === 0) return x.toFixed(2);
  return x.toFixed(3);
}

/** @param {number | null | undefined} x  A ratio: "19.9x". */
function times(x) {
  return x === null || x === undefined || !Number.isFinite(x) ? '-' : `${sig(x)}x`;
}

/** @param {number} x  A fraction as a percentage: "61%". */
function pct(x) {
  return `${Math.round(x * 100)}%`;
}

/** @param {number} bytes */
function mib(bytes) {
  return (bytes / MiB).toFixed(1);
}

/** @param {number} ms  Milliseconds as a number: whole from 10 on, one decimal below. */
function msNum(ms) {
  return Math.abs(ms) >= 10 ? int(ms) : ms.toFixed(1);
}

/** @param {number} ms */
function msText(ms) {
  return `${msNum(ms)} ms`;
}

/** @param {number} n @param {string} one @param {string} [many] */
function plural(n, one, many = `${one}s`) {
  return `${int(n)} ${n === 1 ? one : many}`;
}

/** @param {number} seconds */
function duration(seconds) {
  if (seconds < 90) return `${seconds.toFixed(0)} s`;
  const m = Math.floor(seconds / 60);
  return `${m} min ${Math.round(seconds - m * 60)} s`;
}

/** @param {string | undefined} iso  "2026-11-27T23:05:23.592Z" -> "2026-11-27 23:05 UTC". */
function when(iso) {
  if (typeof iso !== 'string' || !/^\d{4}-\d\d-\d\dT\d\d:\d\d/.test(iso)) return 'an unknown date';
  return `${iso.slice(0, 10)} ${iso.slice(11, 16)} UTC`;
}

/** @param {boolean | null | undefined} met */
function verdict(met) {
  return met === null || met === undefined ? 'not measured' : met ? '**met**' : '**not met**';
}

/**
 * "3.92–12.4x": the smallest and the largest of xs, the unit once.
 *
 * @param {number[]} xs
 * @param {(x: number) => string} f
 * @param {string} [unit]
 */
function range(xs, f, unit = '') {
  if (xs.length === 0) return '-';
  const lo = f(Math.min(...xs));
  const hi = f(Math.max(...xs));
  return lo === hi ? `${lo}${unit}` : `${lo}–${hi}${unit}`;
}

/**
 * A GitHub-flavoured Markdown table; columns after the first are right-aligned unless `left` says
 * otherwise. Cells must not contain `|`.
 *
 * @param {string[]} head
 * @param {string[][]} rows
 * @param {number[]} [left]  Indexes of further left-aligned columns.
 */
function table(head, rows, left = []) {
  const align = head.map((_, i) => (i === 0 || left.includes(i) ? '---' : '---:'));
  return [head, align, ...rows].map((r) => `| ${r.join(' | ')} |`).join('\n');
}

// ---------------------------------------------------------------------------------------------------
// Charts: horizontal bars, SVG by hand

/**
 * @typedef {object} Bar
 * @property {number} value
 * @property {string} text  Printed at the bar's end.
 * @property {string} color
 * @property {number} [marker]  A value to mark across this bar's row (a goal).
 */

/**
 * @typedef {object} BarGroup
 * @property {string} label  Left of the group's bars.
 * @property {Bar[]} bars
 */

/**
 * @typedef {object} Chart
 * @property {string} title  " (log scale)" is appended when the scale is logarithmic.
 * @property {string} subtitle  What the axis measures and which way is better.
 * @property {BarGroup[]} groups
 * @property {{ name: string, color: string, kind?: 'bar' | 'marker' }[]} legend
 */

/** @param {string} s */
function xml(s) {
  return s.replaceAll('&', '&amp;').replaceAll('<', '&lt;').replaceAll('>', '&gt;').replaceAll('"', '&quot;');
}

/** @param {number} x  A coordinate, rounded so that the output does not depend on float noise. */
function px(x) {
  return String(Math.round(x * 10) / 10);
}

/** @param {number} x  A tick value: 0.1, 2, 500, 2000. */
function tickText(x) {
  return x >= 1000 ? int(x) : String(Number(x.toPrecision(3)));
}

/** 1, 2, 5 times powers of ten from below `lo` to above `hi`. */
function niceSteps(/** @type {number} */ lo, /** @type {number} */ hi) {
  /** @type {number[]} */
  const out = [];
  for (let k = Math.floor(Math.log10(lo)) - 1; k <= Math.ceil(Math.log10(hi)) + 1; k++) {
    for (const m of [1, 2, 5]) out.push(Number((m * 10 ** k).toPrecision(1)));
  }
  return out;
}

/**
 * The axis: a log scale when the values span more than 20x, else linear from 0.
 *
 * @param {number[]} values  Positive.
 */
function scaleFor(values) {
  const min = Math.min(...values);
  const max = Math.max(...values);
  if (min > 0 && max / min > 20) {
    const steps = niceSteps(min, max);
    let lo = steps.filter((s) => s <= min).pop() ?? min;
    let hi = steps.find((s) => s >= max) ?? max;
    let ticks = steps.filter((s) => s >= lo && s <= hi);
    if (ticks.length > 9) {
      // Many decades: whole decades only, the axis widened to them.
      lo = 10 ** Math.floor(Math.log10(lo) + 1e-9);
      hi = 10 ** Math.ceil(Math.log10(hi) - 1e-9);
      ticks = steps.filter(
        (s) => s >= lo && s <= hi && Number.isInteger(Math.round(Math.log10(s) * 1e6) / 1e6),
      );
    }
    const span = Math.log10(hi) - Math.log10(lo);
    return { log: true, ticks, at: (/** @type {number} */ v) => (Math.log10(v) - Math.log10(lo)) / span };
  }
  const step = niceSteps(max / 6, max).find((s) => max / s <= 6) ?? max;
  const hi = Math.ceil(max / step - 1e-9) * step;
  const ticks = Array.from({ length: Math.round(hi / step) + 1 }, (_, i) =>
    Number((i * step).toPrecision(6)),
  );
  return { log: false, ticks, at: (/** @type {number} */ v) => v / hi };
}

/** @param {Chart} chart */
function renderChart(chart) {
  const width = 760;
  const barH = 16;
  const barGap = 4;
  const groupGap = 14;
  const values = chart.groups.flatMap((g) => g.bars.flatMap((b) => [b.value, b.marker ?? b.value]));
  const scale = scaleFor(values);
  const longest = Math.max(...chart.groups.map((g) => g.label.length));
  const labelW = Math.min(300, Math.max(80, Math.ceil(longest * 6.6) + 12));
  const x0 = labelW + 8;
  const plotW = width - x0 - 150;
  const top = 62;
  const X = (/** @type {number} */ v) => x0 + scale.at(v) * plotW;

  /** @type {string[]} */
  const body = [];
  let y = top;
  for (const g of chart.groups) {
    const h = g.bars.length * barH + (g.bars.length - 1) * barGap;
    body.push(`<text x="${px(labelW)}" y="${px(y + h / 2 + 4)}" text-anchor="end">${xml(g.label)}</text>`);
    for (const b of g.bars) {
      const end = X(b.value);
      body.push(
        `<rect x="${px(x0)}" y="${px(y)}" width="${px(Math.max(1, end - x0))}" height="${barH}" fill="${b.color}"/>`,
      );
      body.push(`<text x="${px(end + 4)}" y="${px(y + barH - 4)}">${xml(b.text)}</text>`);
      if (b.marker !== undefined) {
        const m = X(b.marker);
        body.push(
          `<line x1="${px(m)}" y1="${px(y - 2)}" x2="${px(m)}" y2="${px(y + barH + 2)}" stroke="${COLORS.marker}" stroke-width="2"/>`,
        );
      }
      y += barH + barGap;
    }
    y += groupGap - barGap;
  }
  const bottom = y - groupGap + 6;

  /** @type {string[]} */
  const grid = [];
  for (const t of scale.ticks) {
    const x = X(t);
    grid.push(
      `<line x1="${px(x)}" y1="${top - 6}" x2="${px(x)}" y2="${px(bottom)}" stroke="${COLORS.grid}"/>`,
      `<text x="${px(x)}" y="${px(bottom + 14)}" text-anchor="middle" fill="${COLORS.axis}" font-size="11">${tickText(t)}</text>`,
    );
  }
  grid.push(
    `<line x1="${px(x0)}" y1="${top - 6}" x2="${px(x0)}" y2="${px(bottom)}" stroke="${COLORS.axis}"/>`,
  );

  /** @type {string[]} */
  const legend = [];
  let lx = x0;
  const ly = bottom + 34;
  for (const item of chart.legend) {
    if (item.kind === 'marker') {
      legend.push(
        `<line x1="${px(lx + 6)}" y1="${ly}" x2="${px(lx + 6)}" y2="${ly + 12}" stroke="${item.color}" stroke-width="2"/>`,
      );
    } else {
      legend.push(`<rect x="${px(lx)}" y="${ly}" width="12" height="12" fill="${item.color}"/>`);
    }
    legend.push(`<text x="${px(lx + 16)}" y="${ly + 10}">${xml(item.name)}</text>`);
    lx += 16 + Math.ceil(item.name.length * 6.6) + 20;
  }
  const height = chart.legend.length > 0 ? ly + 24 : bottom + 28;
  const title = `${chart.title}${scale.log ? ' (log scale)' : ''}`;
  return [
    `<svg xmlns="http://www.w3.org/2000/svg" width="${width}" height="${px(height)}" viewBox="0 0 ${width} ${px(height)}" font-family="sans-serif" font-size="12">`,
    `<title>${xml(title)}</title>`,
    '<rect width="100%" height="100%" fill="white"/>',
    `<text x="10" y="22" font-size="14" font-weight="bold">${xml(title)}</text>`,
    `<text x="10" y="40" fill="${COLORS.axis}">${xml(chart.subtitle)}</text>`,
    ...grid,
    ...body,
    ...legend,
    '</svg>',
    '',
  ].join('\n');
}

// ---------------------------------------------------------------------------------------------------
// Shared page parts

/**
 * @typedef {object} Goal
 * @property {string} benchmark
 * @property {string} goal
 * @property {string} measured
 * @property {boolean | null} met
 */

/**
 * "Ran ... on ...": the machine and date from a result document.
 *
 * @param {any} doc
 */
function machineLine(doc) {
  const m = doc.machine ?? {};
  const parts = [
    `**Ran** ${when(doc.date)} on ${m.cpu ?? 'an unknown CPU'}`,
    `${m.nproc ?? '?'} cores (nproc)`,
    `${m.memoryGiB ?? '?'} GiB memory`,
    `Node ${m.node ?? '?'}`,
    `Linux ${m.kernel ?? '?'}${m.platform ? ` (${m.platform})` : ''}`,
  ];
  const took =
    typeof doc.durationSeconds === 'number' ? ` The run took ${duration(doc.durationSeconds)}.` : '';
  const partial = doc.partial
    ? '\n\n> This is a **partial** run (some tool, case or round left out): its figures are not comparable with a full run.'
    : '';
  return `${parts.join(', ')}.${took}${partial}`;
}

/** @type {Record<string, string>} */
const VERSION_NAMES = {
  paxUtils: 'pax-utils',
  python: 'Python',
  coreutils: 'coreutils',
  dit: 'dit revision',
};

/** @param {Record<string, string | null | undefined>} versions */
function versionsLine(versions) {
  const items = Object.entries(versions)
    .filter(([, v]) => typeof v === 'string' && v !== '')
    .map(([k, v]) => {
      const name = VERSION_NAMES[k] ?? k;
      return String(v).toLowerCase().includes(name.toLowerCase()) ? `\`${v}\`` : `${name} \`${v}\``;
    });
  return items.length > 0 ? `Versions: ${items.join(', ')}.` : '';
}

// ---------------------------------------------------------------------------------------------------
// deps

/**
 * @param {any} doc  bench/results/deps.json
 * @returns {{ md: string, svg: string | null, goals: Goal[] }}
 */
function depsSection(doc) {
  /** @type {any[]} */
  const tools = doc.tools ?? [];
  const dit = tools.find((t) => t.id === 'dit');
  const loader = tools.find((t) => t.id === 'loader');
  const lddtree = tools.find((t) => t.id === 'lddtree');
  const ditTs = tools.find((t) => t.id === 'dit-ts');
  const ratio = (/** @type {any} */ t) => (dit && t ? t.msPerFile / dit.msPerFile : null);
  const vsLoader = ratio(loader);
  const vsLddtree = ratio(lddtree);
  const vsTypeScript = ratio(ditTs);
  /** @type {{ files: number, medianNativeMs: number, medianTypeScriptMs: number, ratio: number } | null} */
  const walkOnly = doc.walkOnly ?? null;
  const corpus = doc.corpus ?? {};

  /** @type {Goal[]} */
  const goals = [
    {
      benchmark: 'deps',
      goal: `dit deps ≥ ${GOALS.depsVsLoader}x faster than the loader loop`,
      measured: times(vsLoader),
      met: vsLoader === null ? null : vsLoader >= GOALS.depsVsLoader,
    },
    {
      benchmark: 'deps',
      goal: `dit deps ≥ ${GOALS.depsVsLddtree}x faster than lddtree`,
      measured: times(vsLddtree),
      met: vsLddtree === null ? null : vsLddtree >= GOALS.depsVsLddtree,
    },
    {
      benchmark: 'deps',
      goal: `native walk ≥ ${GOALS.depsNativeVsTypeScript}x the TypeScript walk`,
      measured: times(walkOnly?.ratio ?? null),
      met: walkOnly ? walkOnly.ratio >= GOALS.depsNativeVsTypeScript : null,
    },
  ];

  const rows = tools.map((t) => [
    t.label,
    t.sampled ? `${int(t.files)} of ${int(t.corpusFiles)}` : int(t.files),
    int(t.calls),
    t.sampled
      ? `${t.totalSeconds.toFixed(1)} s (≈${sig(t.corpusSeconds)} s for all, extrapolated)`
      : `${sig(t.totalSeconds)} s`,
    `${sig(t.msPerFile)} ms`,
    `${(t.peakRssKiB / 1024).toFixed(1)} MiB`,
    `${(t.medianRssKiB / 1024).toFixed(1)} MiB`,
    t === dit ? '1x' : dit ? `**${times(ratio(t))} slower**` : '-',
  ]);

  const lines = [
    '## deps: `dit deps` vs the loader and lddtree',
    '',
    machineLine(doc),
    versionsLine(doc.versions ?? {}),
    '',
    `Input: every dynamically linked ELF file under ${(corpus.dirs ?? []).map((/** @type {string} */ d) => `\`${d}\``).join(', ')}` +
      ` (${int(corpus.files ?? 0)} files${corpus.limited ? `, limited to ${int(corpus.files ?? 0)} of ${int(corpus.fullCorpusFiles ?? 0)}` : ''}).` +
      ' dit resolves all of them in one call (`dit deps --json FILE...`); the loader loop runs the dynamic loader' +
      ' in trace mode once per file (what `ldd` does); lddtree (pax-utils, Python) runs once per file.' +
      ' Wall time from one pass, peak memory from a second pass under GNU time.',
    '',
    table(['tool', 'files', 'calls', 'total', 'per file', 'peak RSS', 'median RSS', 'vs dit'], rows),
    '',
  ];
  if (tools.some((t) => t.sampled)) {
    lines.push(
      'lddtree ran on a fixed, evenly spaced sample; its per-file time is the sample’s, and its total for the whole corpus is extrapolated, not measured.',
      '',
    );
  }
  /** @type {string[]} */
  const notes = [];
  for (const t of tools) {
    if (t.nonZeroExits > 0)
      notes.push(
        t.calls === 1
          ? `${t.id}’s one call exited non-zero`
          : `${t.id} exited non-zero in ${int(t.nonZeroExits)} of ${int(t.calls)} calls`,
      );
  }
  if (loader?.notes?.filesWithNotFound > 0) {
    notes.push(
      `the loader reported a library “not found” for ${plural(loader.notes.filesWithNotFound, 'file')}`,
    );
  }
  if (notes.length > 0) lines.push(`Exit status: ${notes.join('; ')}.`, '');
  if (walkOnly) {
    lines.push(
      `**Native against TypeScript.** The walk alone (one fresh Node process per run, timing only the walk, median of ${walkOnly.nativeMs?.length ?? '?'} interleaved runs each):` +
        ` the native walk takes ${sig(walkOnly.medianNativeMs)} ms, the TypeScript resolver ${sig(walkOnly.medianTypeScriptMs)} ms, **${times(walkOnly.ratio)}**.` +
        (vsTypeScript === null
          ? ''
          : ` The whole command is ${times(vsTypeScript)} faster with the native walk: both ways it also pays Node's start-up, loading the CLI and printing the JSON, which the native walk does not touch.`),
      '',
    );
  }

  lines.push(
    table(
      ['goal', 'measured', 'status'],
      goals.map((g) => [g.goal, g.measured, verdict(g.met)]),
      [2],
    ),
    '',
    'dit pays its memory once (Node.js and the parsed libraries, shared by every file); the peers pay their start-up once per file.',
    '',
    '![deps: milliseconds per file, dit deps vs the loader loop vs lddtree](bench-deps.svg)',
    '',
  );

  const svg =
    tools.length === 0
      ? null
      : renderChart({
          title: 'deps: time per file, ms',
          subtitle: `${int(corpus.files ?? 0)} ELF files; shorter is faster`,
          groups: tools.map((t) => ({
            label:
              t.id === 'dit' ? 'dit deps (one call)' : t.id === 'loader' ? 'loader once per file' : t.label,
            bars: [
              {
                value: t.msPerFile,
                text: `${sig(t.msPerFile)} ms${t === dit || !dit ? '' : ` (${times(ratio(t))} slower)`}`,
                color: t.id === 'dit' ? COLORS.dit : COLORS.peer,
              },
            ],
          })),
          legend: [],
        });
  return { md: lines.join('\n'), svg, goals };
}

// ---------------------------------------------------------------------------------------------------
// export

/**
 * @param {any} doc  bench/results/export.json
 * @returns {{ md: string, svg: string | null, goals: Goal[] }}
 */
function exportSection(doc) {
  /** @type {any[]} */
  const cases = doc.cases ?? [];
  const goalRatio = cases[0]?.goalRatio ?? GOALS.exportVsTar;
  const met = cases.filter((c) => c.ratioExportToTar <= goalRatio);
  const ratios = cases.map((c) => c.ratioExportToTar);
  /** @type {Goal[]} */
  const goals = [
    {
      benchmark: 'export',
      goal: `dit export ≤ ${goalRatio}x tar of the same file list`,
      measured:
        cases.length === 0
          ? '-'
          : `${range(ratios, sig, 'x')} (${met.length} of ${cases.length} cases within)`,
      met: cases.length === 0 ? null : met.length === cases.length,
    },
  ];
  const method = doc.method ?? {};

  const timeRows = cases.map((c) => [
    c.id,
    int(c.totals.files),
    mib(c.totals.bytes),
    msText(c.dit.medianMs),
    msText(c.tar.medianMs),
    `**${times(c.ratioExportToTar)}**`,
    times(c.ratioExportToTarCpu),
    `+${msText(c.verify.costMs)}${c.verify.ok ? '' : ' (failed)'}`,
    c.ratioExportToTar <= goalRatio ? 'met' : 'not met',
  ]);
  const floorCases = cases.filter(
    (c) => c.phases && c.phases.nodeStartImportMs + c.phases.straceRunMs > goalRatio * c.tar.medianMs,
  );
  const phaseRows = cases
    .filter((c) => c.phases)
    .map((c) => {
      const p = c.phases;
      return [
        c.id,
        msText(c.dit.medianMs),
        msNum(p.nodeStartImportMs),
        msNum(p.setupMs),
        msNum(p.straceRunMs),
        msNum(p.traceParseWalkMs),
        msNum(p.selectResolveMs),
        msNum(p.runtimeDataMkdirMs),
        msNum(p.copyMs),
        msNum(p.hashMs),
        msNum(p.exitMs),
        msNum(p.cliOverheadMs),
        times((p.copyMs + p.hashMs) / c.tar.medianMs),
      ];
    });
  const traceRows = cases.map((c) => [
    c.id,
    msText(c.tracing.plain.medianMs),
    msText(c.tracing.strace.medianMs),
    msText(c.tracing.traceApi.medianMs),
    times(c.tracing.straceOverhead),
    `**${times(c.tracing.traceOverhead)}**`,
    `+${msText(c.tracing.traceApi.medianMs - c.tracing.plain.medianMs)}`,
    int(c.tracing.traceApi.paths),
  ]);
  const sizeRows = cases.map((c) => [
    c.id,
    int(c.totals.files),
    mib(c.size.exportBytes),
    int(c.size.packages.length),
    mib(c.size.packagesBytes),
    `**${c.size.percentOfPackages === null ? '-' : `${c.size.percentOfPackages.toFixed(1)}%`}**`,
    c.size.unownedFiles.length === 0
      ? '-'
      : `${plural(c.size.unownedFiles.length, 'file')}, ${sig(c.size.unownedFileBytes / 1024)} KiB`,
  ]);

  const load = doc.loadAverage;
  const lines = [
    '## export: `dit export` vs tar',
    '',
    machineLine(doc),
    versionsLine(doc.versions ?? {}),
    load
      ? `Load average (1, 5, 15 min) at start ${load.atStart.join(', ')}, at end ${load.atEnd.join(', ')}` +
        ` (on ${plural(doc.machine?.nproc ?? 0, 'core')}).`
      : '',
    '',
    `Input: ${cases.length} everyday programs; each is exported with \`dit export --no-verify\` into a fresh folder,` +
      ' and the very same entries (files, symlinks, directories of dit’s report) are copied with' +
      ' `tar -C / --no-recursion -cf - -T LIST | tar -C DEST -xpf -` into another. Medians of' +
      ` ${method.runs ?? '?'} runs (verification: ${method.verifyRuns ?? '?'}, tracing: ${method.traceRuns ?? '?'}), all interleaved` +
      ' run by run, after an untimed warm-up of each command.',
    '',
    ...cases.map((c) =>
      c.script
        ? `- **${c.id}**: ${c.label}: a script of the benchmark’s own, run by path (below)`
        : `- **${c.id}**: ${c.label}: \`${c.command}\``,
    ),
    '',
    ...cases
      .filter((c) => c.script)
      .flatMap((c) => [
        `<details><summary>The ${c.id} case’s script</summary>`,
        '',
        '```bash',
        c.script.trimEnd(),
        '```',
        '',
        '</details>',
        '',
      ]),
    '### Time: dit export vs tar',
    '',
    table(
      [
        'case',
        'files',
        'MiB',
        'dit export',
        'tar',
        'dit / tar',
        'CPU dit / tar',
        'verification',
        `≤ ${goalRatio}x`,
      ],
      timeRows,
    ),
    '',
    `Goal: dit export at most ${goalRatio}x tar of the same file list. ${verdict(goals[0]?.met)}:` +
      ` ${met.length} of ${cases.length} cases within; dit export takes ${range(ratios, sig, 'x')} tar's time` +
      ` (CPU time ${range(
        cases.map((c) => c.ratioExportToTarCpu).filter((x) => typeof x === 'number'),
        sig,
        'x',
      )}). “verification” is what running the export in isolation adds (difference of medians).`,
    '',
  ];
  if (phaseRows.length > 0) {
    lines.push(
      'Where `dit export --no-verify` spends its time (medians in ms, from `exportImage()` timed through its progress events' +
        ' in fresh Node processes; “CLI” is the dit export median minus that process’s median; it comes out negative where the CLI’s CommonJS bundles start faster than that process’s ESM imports):',
      '',
      table(
        [
          'case',
          'dit export',
          'node + imports',
          'setup',
          'strace run',
          'trace parse',
          'select + resolve',
          'runtime data',
          'copy',
          'hash',
          'exit',
          'CLI',
          'copy + hash / tar',
        ],
        phaseRows,
      ),
      '',
      `In ${floorCases.length} of ${cases.length} cases, starting Node.js with dit’s modules plus running the program under strace` +
        ` already take longer than ${goalRatio}x tar's whole copy (node + imports ${range(
          cases.filter((c) => c.phases).map((c) => c.phases.nodeStartImportMs),
          msNum,
          ' ms',
        )}, tar ${range(
          cases.map((c) => c.tar.medianMs),
          msNum,
          ' ms',
        )}). Copying and hashing alone take ${range(
          cases.filter((c) => c.phases).map((c) => (c.phases.copyMs + c.phases.hashMs) / c.tar.medianMs),
          sig,
          'x',
        )} tar's time.`,
      '',
    );
  }
  lines.push(
    '### Tracing overhead',
    '',
    'The program alone, under strace with the arguments dit uses, and through `trace()` (strace plus parsing its log and walking the paths):',
    '',
    table(
      ['case', 'plain', 'strace', 'trace()', 'strace / plain', 'trace() / plain', 'added', 'paths'],
      traceRows,
    ),
    '',
    `Tracing makes a run ${range(
      cases.map((c) => c.tracing.traceOverhead),
      sig,
      'x',
    )} as long (${range(
      cases.map((c) => c.tracing.traceApi.medianMs - c.tracing.plain.medianMs),
      msNum,
      ' ms',
    )} more), most of it strace's own (${range(
      cases.map((c) => c.tracing.straceOverhead),
      sig,
      'x',
    )}).`,
    '',
    '### Size: the export vs the Debian packages its files come from',
    '',
    table(
      ['case', 'files', 'export MiB', 'packages', 'packages MiB', 'export / packages', 'not from a package'],
      sizeRows,
    ),
    '',
    'Packages: the owners of the exported files and symlinks (dpkg’s file lists), their Installed-Size summed — what an image' +
      ` built from packages would carry at least. The export is ${range(
        cases.map((c) => c.size.percentOfPackages).filter((x) => typeof x === 'number'),
        (x) => x.toFixed(1),
        '%',
      )} of that. Files not from any package are configuration and caches (\`/etc/ld.so.cache\`, \`/etc/passwd\`, \`.pyc\` files, ...).`,
    '',
    '![export: dit export vs tar of the same files, median milliseconds per case](bench-export.svg)',
    '',
  );
  if ((doc.skipped ?? []).length > 0) {
    lines.push(
      `Skipped: ${doc.skipped.map((/** @type {any} */ s) => `${s.id} (${s.reason})`).join('; ')}.`,
      '',
    );
  }

  const svg =
    cases.length === 0
      ? null
      : renderChart({
          title: 'export: dit export vs tar of the same files, ms',
          subtitle: `median wall time per case; shorter is faster; red mark: the goal, ${goalRatio} × tar`,
          groups: cases.map((c) => ({
            label: c.id,
            bars: [
              {
                value: c.dit.medianMs,
                text: `${msText(c.dit.medianMs)} (${times(c.ratioExportToTar)} tar)`,
                color: COLORS.dit,
                marker: goalRatio * c.tar.medianMs,
              },
              { value: c.tar.medianMs, text: msText(c.tar.medianMs), color: COLORS.peer },
            ],
          })),
          legend: [
            { name: 'dit export --no-verify', color: COLORS.dit },
            { name: 'tar | tar, same entries', color: COLORS.peer },
            { name: `goal: ${goalRatio} × tar`, color: COLORS.marker, kind: 'marker' },
          ],
        });
  return { md: lines.filter((l, i, a) => !(l === '' && a[i - 1] === '')).join('\n'), svg, goals };
}

// ---------------------------------------------------------------------------------------------------
// hash

/**
 * @param {any} doc  bench/results/hash.json
 * @returns {{ md: string, svg: string | null, goals: Goal[] }}
 */
function hashSection(doc) {
  /** @type {any[]} */
  const tools = doc.tools ?? [];
  const byId = (/** @type {string} */ id) => tools.find((t) => t.id === id);
  const dit = byId('dit');
  const ratios = doc.ratios ?? {};
  const limit = doc.limit ?? null;
  const limitGb = limit?.allCoresGbPerSecond ?? null;
  const g = doc.goals ?? {};
  const goalVsSha = g.vsSha256sum?.goal ?? GOALS.hashVsSha256sum;
  const goalVsTs = g.vsTypeScript?.goal ?? GOALS.hashVsTypeScript;
  const goalOfLimit = g.ofLimit?.goal ?? GOALS.hashOfLimit;
  const check = (/** @type {number | null | undefined} */ x, /** @type {number} */ goal) =>
    x === null || x === undefined ? null : x >= goal;
  /** @type {Goal[]} */
  const goals = [
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

  const corpus = doc.corpus ?? {};
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
  if (notes.length > 0) lines.push(notes.join(' '), '');
  lines.push('![hash: throughput in GB/s, dit hash vs sha256sum and the all-core limit](bench-hash.svg)', '');

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
  const svg =
    groups.length === 0
      ? null
      : renderChart({
          title: 'hash: SHA-256 throughput, GB/s',
          subtitle: `${int(corpus.files ?? 0)} files, ${((corpus.bytes ?? 0) / 1e9).toFixed(2)} GB, page cache warm; longer is faster`,
          groups,
          legend: [],
        });
  return { md: lines.join('\n'), svg, goals };
}

// ---------------------------------------------------------------------------------------------------
// The page

/** @type {{ name: string, title: string, section: (doc: any) => { md: string, svg: string | null, goals: Goal[] } }[]} */
const SECTIONS = [
  { name: 'deps', title: 'deps: `dit deps` vs the loader and lddtree', section: depsSection },
  { name: 'export', title: 'export: `dit export` vs tar', section: exportSection },
  { name: 'hash', title: 'hash: `dit hash` vs sha256sum', section: hashSection },
];

/** @param {string} title  GitHub's anchor for a heading. */
function anchor(title) {
  return title
    .toLowerCase()
    .replace(/[^\w\- ]/g, '')
    .replaceAll(' ', '-');
}

/**
 * Reads the results that exist and writes the page and its charts.
 *
 * @param {{ resultsDir?: string, docsDir?: string, progress?: (line?: string) => void }} [o]
 * @returns {string[]}  The files written.
 */
export function writeReport({
  resultsDir = RESULTS_DIR,
  docsDir = DOCS_DIR,
  progress = (line = '') => process.stderr.write(`${line}\n`),
} = {}) {
  /** @type {{ name: string, title: string, md: string, svg: string | null, goals: Goal[] }[]} */
  const done = [];
  /** @type {string[]} */
  const missing = [];
  for (const s of SECTIONS) {
    const file = join(resultsDir, `${s.name}.json`);
    if (!existsSync(file)) {
      missing.push(s.name);
      continue;
    }
    done.push({ name: s.name, title: s.title, ...s.section(JSON.parse(readFileSync(file, 'utf8'))) });
  }

  const goals = done.flatMap((d) => d.goals);
  const page = [
    '# Benchmarks',
    '',
    '<!-- Generated by bench/report.mjs from bench/results/*.json: `pnpm bench` measures and regenerates it,',
    '     `node bench/report.mjs` regenerates it from the results as they are. Do not edit by hand. -->',
    '',
    'What dit costs against the tools it replaces, on real input: resolving the libraries of every ELF file on the system' +
      ' (**deps**), exporting a program with everything it touches (**export**) and hashing a large tree of files (**hash**).' +
      ' In every benchmark dit and its peers run on the same input, in the same run, on the same machine, interleaved' +
      ' where the benchmark repeats, after a warm-up, so the page cache is warm for all of them: the figures are CPU and' +
      ' process start-up, not disk. Times are wall-clock (the median where a benchmark repeats); each ratio says which' +
      ' way it goes (“dit / tar” is dit’s time over tar’s, “19.9x slower” the peer’s over dit’s, GB/s dit’s over the' +
      ' peer’s). Each section names the machine and the date of its run;' +
      ' on a small shared VM expect some noise between runs, more when other work loads the machine.',
    '',
  ];
  if (goals.length > 0) {
    page.push(
      '## Goals at a glance',
      '',
      table(
        ['benchmark', 'goal', 'measured', 'status'],
        goals.map((g) => {
          const s = done.find((d) => d.name === g.benchmark);
          return [
            `[${g.benchmark}](#${anchor(s?.title ?? g.benchmark)})`,
            g.goal,
            g.measured,
            verdict(g.met),
          ];
        }),
        [1, 3],
      ),
      '',
    );
  }
  if (missing.length > 0) {
    page.push(`Not run yet: ${missing.map((n) => `**${n}** (\`node bench/run.mjs ${n}\`)`).join(', ')}.`, '');
  }
  for (const d of done) page.push(d.md);

  mkdirSync(docsDir, { recursive: true });
  /** @type {string[]} */
  const written = [];
  const write = (/** @type {string} */ name, /** @type {string} */ text) => {
    const file = join(docsDir, name);
    writeFileSync(file, text);
    written.push(file);
  };
  write(
    'benchmarks.md',
    `${page
      .join('\n')
      .replace(/\n{3,}/g, '\n\n')
      .trimEnd()}\n`,
  );
  for (const d of done) if (d.svg !== null) write(`bench-${d.name}.svg`, d.svg);
  progress(`wrote ${written.map((f) => relative(process.cwd(), f) || f).join(', ')}`);
  return written;
}

if (process.argv[1] === fileURLToPath(import.meta.url)) {
  writeReport();
}
