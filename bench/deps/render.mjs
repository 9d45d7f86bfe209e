// The deps section of the benchmarks page (docs/benchmarks.md) and its chart, from
// bench/results/deps.json.

import { COLORS, renderChart } from '../lib/chart.mjs';
import { int, machineLine, plural, sig, table, times, verdict, versionsLine } from '../lib/markdown.mjs';
import { DEPS_GOALS } from './goal.mjs';

/** @typedef {import('../lib/markdown.mjs').Goal} Goal */

/**
 * @param {any} doc  bench/results/deps.json
 * @returns {{ md: string, svg: string | null, goals: Goal[] }}
 */
export function depsSection(doc) {
  /** @type {any[]} */
  const tools = doc.tools ?? [];
  const dit = tools.find((t) => t.id === 'dit');
  const corpus = doc.corpus ?? {};
  const goals = depsGoals(doc);
  const lines = [
    '## deps: `dit deps` vs the loader and lddtree',
    '',
    machineLine(doc),
    versionsLine(doc.versions ?? {}),
    '',
    `Input: every dynamically linked ELF file under ${(corpus.dirs ?? []).map((/** @type {string} */ d) => `\`${d}\``).join(', ')}` +
      ` (${int(corpus.files ?? 0)} files${corpus.limited ? `, limited to ${int(corpus.files ?? 0)} of ${int(corpus.fullCorpusFiles ?? 0)}` : ''}).` +
      ' dit resolves all of them in one call (`dit deps --json FILE...`, the TypeScript resolver: the loader rules' +
      ' exist once, in @dit/resolver); the loader loop runs the dynamic loader' +
      ' in trace mode once per file (what `ldd` does); lddtree (pax-utils, Python) runs once per file.' +
      ' Wall time from one pass (dit: the median of several), peak memory from a second pass under GNU time.',
    '',
    table(
      ['tool', 'files', 'calls', 'total', 'per file', 'peak RSS', 'median RSS', 'vs dit'],
      tools.map((t) => toolRow(t, dit)),
    ),
    '',
  ];
  if (tools.some((t) => t.sampled)) {
    lines.push(
      'lddtree ran on a fixed, evenly spaced sample; its per-file time is the sample’s, and its total for the whole corpus is extrapolated, not measured.',
      '',
    );
  }
  const notes = exitNotes(tools);
  if (notes.length > 0) lines.push(`Exit status: ${notes.join('; ')}.`, '');
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
  return { md: lines.join('\n'), svg: depsChart(tools, dit, corpus), goals };
}

/** The figures the README quotes, from the same results (see report.mjs). @param {any} doc */
export function depsFigures(doc) {
  /** @type {any[]} */
  const tools = doc.tools ?? [];
  const dit = tools.find((t) => t.id === 'dit');
  const loader = tools.find((t) => t.id === 'loader');
  const lddtree = tools.find((t) => t.id === 'lddtree');
  return {
    files: doc.corpus?.files ?? null,
    ditSeconds: dit?.totalSeconds ?? null,
    ditMsPerFile: dit?.msPerFile ?? null,
    loaderSeconds: loader?.totalSeconds ?? null,
    lddtreeMsPerFile: lddtree?.msPerFile ?? null,
    lddtreeFiles: lddtree?.files ?? null,
    vsLoader: dit && loader ? loader.msPerFile / dit.msPerFile : null,
    vsLddtree: dit && lddtree ? lddtree.msPerFile / dit.msPerFile : null,
  };
}

/** @param {any} doc @returns {Goal[]} */
function depsGoals(doc) {
  const goal = { ...DEPS_GOALS, ...(doc.goals ?? {}) };
  const { vsLoader, vsLddtree } = depsFigures(doc);
  return [
    {
      benchmark: 'deps',
      goal: `dit deps ≥ ${goal.vsLoader}x faster than the loader loop`,
      measured: times(vsLoader),
      met: vsLoader === null ? null : vsLoader >= goal.vsLoader,
    },
    {
      benchmark: 'deps',
      goal: `dit deps ≥ ${goal.vsLddtree}x faster than lddtree`,
      measured: times(vsLddtree),
      met: vsLddtree === null ? null : vsLddtree >= goal.vsLddtree,
    },
  ];
}

/** @param {any} t @param {any} dit */
function toolRow(t, dit) {
  return [
    t.label,
    t.sampled ? `${int(t.files)} of ${int(t.corpusFiles)}` : int(t.files),
    int(t.calls),
    t.sampled
      ? `${t.totalSeconds.toFixed(1)} s (≈${sig(t.corpusSeconds)} s for all, extrapolated)`
      : `${sig(t.totalSeconds)} s`,
    `${sig(t.msPerFile)} ms`,
    `${(t.peakRssKiB / 1024).toFixed(1)} MiB`,
    `${(t.medianRssKiB / 1024).toFixed(1)} MiB`,
    t === dit ? '1x' : dit ? `**${times(t.msPerFile / dit.msPerFile)} slower**` : '-',
  ];
}

/** @param {any[]} tools */
function exitNotes(tools) {
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
  const loader = tools.find((t) => t.id === 'loader');
  if (loader?.notes?.filesWithNotFound > 0) {
    notes.push(
      `the loader reported a library “not found” for ${plural(loader.notes.filesWithNotFound, 'file')}`,
    );
  }
  return notes;
}

/** @param {any[]} tools @param {any} dit @param {any} corpus */
function depsChart(tools, dit, corpus) {
  if (tools.length === 0) return null;
  return renderChart({
    title: 'deps: time per file, ms',
    subtitle: `${int(corpus.files ?? 0)} ELF files; shorter is faster`,
    groups: tools.map((t) => ({
      label: t.id === 'dit' ? 'dit deps (one call)' : t.id === 'loader' ? 'loader once per file' : t.label,
      bars: [
        {
          value: t.msPerFile,
          text: `${sig(t.msPerFile)} ms${t === dit || !dit ? '' : ` (${times(t.msPerFile / dit.msPerFile)} slower)`}`,
          color: t.id === 'dit' ? COLORS.dit : COLORS.peer,
        },
      ],
    })),
    legend: [],
  });
}
