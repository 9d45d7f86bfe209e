// The benchmarks page's charts: horizontal bars drawn by hand as SVG, deterministic (the same data
// give the same bytes).

import { int } from './markdown.mjs';

export const COLORS = {
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
export function xml(s) {
  return s.replaceAll('&', '&amp;').replaceAll('<', '&lt;').replaceAll('>', '&gt;').replaceAll('"', '&quot;');
}

/** @param {number} x  A coordinate, rounded so that the output does not depend on float noise. */
export function px(x) {
  return String(Math.round(x * 10) / 10);
}

/** @param {number} x  A tick value: 0.1, 2, 500, 2000. */
export function tickText(x) {
  return x >= 1000 ? int(x) : String(Number(x.toPrecision(3)));
}

/** 1, 2, 5 times powers of ten from below `lo` to above `hi`. */
export function niceSteps(/** @type {number} */ lo, /** @type {number} */ hi) {
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
export function scaleFor(values) {
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
export function renderChart(chart) {
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
