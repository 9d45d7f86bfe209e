// Text helpers of the benchmarks page: numbers, ratios and tables in Markdown, and the lines that name
// the machine and the versions a result was measured with. No toLocaleString: the page must not depend
// on the machine's locale.

export const MiB = 1024 * 1024;

// ---------------------------------------------------------------------------------------------------
// Formatting (no toLocaleString: its output depends on the machine's locale)

/** @param {number} n  An integer, with thousands separated by commas. */
export function int(n) {
  return String(Math.round(n)).replace(/\B(?=(\d{3})+(?!\d))/g, ',');
}

/** @param {number} x  About three significant digits. */
export function sig(x) {
  const a = Math.abs(x);
  if (a >= 100) return int(x);
  if (a >= 10) return x.toFixed(1);
  if (a >= 0.1 || a === 0) return x.toFixed(2);
  return x.toFixed(3);
}

/** @param {number | null | undefined} x  A ratio: "19.9x". */
export function times(x) {
  return x === null || x === undefined || !Number.isFinite(x) ? '-' : `${sig(x)}x`;
}

/** @param {number} x  A fraction as a percentage: "61%". */
export function pct(x) {
  return `${Math.round(x * 100)}%`;
}

/** @param {number} bytes */
export function mib(bytes) {
  return (bytes / MiB).toFixed(1);
}

/** @param {number} ms  Milliseconds as a number: whole from 10 on, one decimal below. */
export function msNum(ms) {
  return Math.abs(ms) >= 10 ? int(ms) : ms.toFixed(1);
}

/** @param {number} ms */
export function msText(ms) {
  return `${msNum(ms)} ms`;
}

/** @param {number} n @param {string} one @param {string} [many] */
export function plural(n, one, many = `${one}s`) {
  return `${int(n)} ${n === 1 ? one : many}`;
}

/** @param {number} seconds */
export function duration(seconds) {
  if (seconds < 90) return `${seconds.toFixed(0)} s`;
  const m = Math.floor(seconds / 60);
  return `${m} min ${Math.round(seconds - m * 60)} s`;
}

/** @param {string | undefined} iso  "2026-11-27T23:05:23.592Z" -> "2026-11-27 23:05 UTC". */
export function when(iso) {
  if (typeof iso !== 'string' || !/^\d{4}-\d\d-\d\dT\d\d:\d\d/.test(iso)) return 'an unknown date';
  return `${iso.slice(0, 10)} ${iso.slice(11, 16)} UTC`;
}

/** @param {boolean | null | undefined} met */
export function verdict(met) {
  return met === null || met === undefined ? 'not measured' : met ? '**met**' : '**not met**';
}

/**
 * "3.92–12.4x": the smallest and the largest of xs, the unit once.
 *
 * @param {number[]} xs
 * @param {(x: number) => string} f
 * @param {string} [unit]
 */
export function range(xs, f, unit = '') {
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
export function table(head, rows, left = []) {
  const align = head.map((_, i) => (i === 0 || left.includes(i) ? '---' : '---:'));
  return [head, align, ...rows].map((r) => `| ${r.join(' | ')} |`).join('\n');
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
export function machineLine(doc) {
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
export function versionsLine(versions) {
  const items = Object.entries(versions)
    .filter(([, v]) => typeof v === 'string' && v !== '')
    .map(([k, v]) => {
      const name = VERSION_NAMES[k] ?? k;
      return String(v).toLowerCase().includes(name.toLowerCase()) ? `\`${v}\`` : `${name} \`${v}\``;
    });
  return items.length > 0 ? `Versions: ${items.join(', ')}.` : '';
}
