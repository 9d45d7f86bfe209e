// The export section of the benchmarks page (docs/benchmarks.md) and its chart, from
// bench/results/export.json.

import { COLORS, renderChart } from '../lib/chart.mjs';
import {
  int,
  machineLine,
  mib,
  msNum,
  msText,
  plural,
  range,
  sig,
  table,
  times,
  verdict,
  versionsLine,
  when,
} from '../lib/markdown.mjs';
import { EXPORT_GOALS } from './goal.mjs';

/** @typedef {import('../lib/markdown.mjs').Goal} Goal */

/**
 * @param {any} doc  bench/results/export.json
 * @returns {{ md: string, svg: string | null, goals: Goal[] }}
 */
export function exportSection(doc) {
  /** @type {any[]} */
  const cases = doc.cases ?? [];
  const goalRatio = cases[0]?.goalRatio ?? EXPORT_GOALS.vsTar;
  const goals = exportGoals(cases, goalRatio);
  const lines = [
    ...introLines(doc, cases),
    ...timeLines(cases, goalRatio, goals),
    ...phaseLines(cases, goalRatio),
    ...tracingLines(cases),
    ...sizeLines(cases),
  ];
  if ((doc.skipped ?? []).length > 0) {
    lines.push(
      `Skipped: ${doc.skipped.map((/** @type {any} */ s) => `${s.id} (${s.reason})`).join('; ')}.`,
      '',
    );
  }
  const md = lines.filter((l, i, a) => !(l === '' && a[i - 1] === '')).join('\n');
  return { md, svg: exportChart(cases, goalRatio), goals };
}

/** @param {any[]} cases @param {number} goalRatio @returns {Goal[]} */
function exportGoals(cases, goalRatio) {
  const met = cases.filter((c) => c.ratioExportToTar <= goalRatio);
  const ratios = cases.map((c) => c.ratioExportToTar);
  return [
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
}

/** The heading, the machine, the method and the cases. @param {any} doc @param {any[]} cases */
function introLines(doc, cases) {
  const method = doc.method ?? {};
  const load = doc.loadAverage;
  return [
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
  ];
}

/** @param {any[]} cases @param {number} goalRatio @param {Goal[]} goals */
function timeLines(cases, goalRatio, goals) {
  const met = cases.filter((c) => c.ratioExportToTar <= goalRatio);
  const ratios = cases.map((c) => c.ratioExportToTar);
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
  return [
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
}

/** Where dit's time goes, from the phase children. @param {any[]} cases @param {number} goalRatio */
function phaseLines(cases, goalRatio) {
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
  if (phaseRows.length === 0) return [];
  return [
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
  ];
}

/** @param {any[]} cases */
function tracingLines(cases) {
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
  return [
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
  ];
}

/** @param {any[]} cases */
function sizeLines(cases) {
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
  return [
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
  ];
}

/** @param {any[]} cases @param {number} goalRatio */
function exportChart(cases, goalRatio) {
  return cases.length === 0
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
}

/**
 * The closure phase ("select+resolve": from the trace's end to the first closure done, and the
 * runtime data with the second closure) against a baseline run of an earlier revision, case by case:
 * issue 10 moved the closure onto the resolver's resolveMany and asked that it not get slower.
 *
 * @param {any} doc  bench/results/export.json
 * @param {any} baseline  bench/results/export.baseline.json, or null
 * @returns {string}  Markdown, empty without a baseline.
 */
export function closureComparison(doc, baseline) {
  if (!baseline) return '';
  /** @type {any[]} */
  const cases = doc.cases ?? [];
  const before = new Map((baseline.cases ?? []).map((/** @type {any} */ c) => [c.id, c.phases]));
  const rows = cases
    .filter((c) => c.phases && before.get(c.id))
    .map((c) => {
      const was = before.get(c.id);
      return [
        c.id,
        msNum(was.selectResolveMs),
        msNum(c.phases.selectResolveMs),
        times(c.phases.selectResolveMs / was.selectResolveMs),
        msNum(was.runtimeDataMkdirMs),
        msNum(c.phases.runtimeDataMkdirMs),
        times(c.phases.runtimeDataMkdirMs / was.runtimeDataMkdirMs),
      ];
    });
  if (rows.length === 0) return '';
  return [
    `**The closure phase, before and after.** The baseline is ${baseline.versions?.dit ? `revision \`${baseline.versions.dit}\`` : 'an earlier run'}` +
      `, run ${when(baseline.date)} at a load average of ${range(
        (baseline.cases ?? []).map((/** @type {any} */ c) => c.loadAverage1m),
        sig,
      )} (this run: ${range(
        cases.map((c) => c.loadAverage1m),
        sig,
      )})${baseline.baselineNote ? `: ${baseline.baselineNote}` : ''}. Medians in ms; after / before below 1x is faster.`,
    '',
    table(
      [
        'case',
        'select+resolve before',
        'after',
        'after / before',
        'runtime data+mkdir before',
        'after',
        'after / before',
      ],
      rows,
    ),
    '',
  ].join('\n');
}
