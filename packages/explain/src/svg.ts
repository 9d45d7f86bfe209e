import { APPLICATION_FILES, type SizeRow } from './sizes.js';

/**
 * The sizes table as a horizontal bar chart (SVG): the biggest rows by name, each bar's length its
 * bytes, labelled with the size and share; the rest summed in one bar. Packages in one colour, the
 * application's own files in another, so what is yours and what came with the distribution shows.
 */
export function sizesSvg(rows: readonly SizeRow[], options: { title: string; limit?: number }): string {
  const limit = options.limit ?? 20;
  const shown = rows.slice(0, limit);
  const rest = rows.slice(limit);
  const bars = [...shown];
  if (rest.length > 0) {
    bars.push({
      name: `${rest.length} more`,
      version: null,
      files: rest.reduce((sum, row) => sum + row.files, 0),
      bytes: rest.reduce((sum, row) => sum + row.bytes, 0),
      share: rest.reduce((sum, row) => sum + row.share, 0),
    });
  }
  const labelWidth = 260;
  const barWidth = 420;
  const rowHeight = 22;
  const top = 44;
  const height = top + bars.length * rowHeight + 16;
  const width = labelWidth + barWidth + 170;
  const largest = Math.max(1, ...bars.map((bar) => bar.bytes));
  const lines = bars.map((bar, index) => {
    const y = top + index * rowHeight;
    const length = Math.max(1, Math.round((bar.bytes / largest) * barWidth));
    const colour =
      bar.name === APPLICATION_FILES ? '#d9822b' : bar.name.endsWith(' more') ? '#a0a0a0' : '#3b6ea8';
    return [
      `<text x="${labelWidth - 8}" y="${y + 15}" text-anchor="end">${escapeXml(bar.name)}</text>`,
      `<rect x="${labelWidth}" y="${y + 3}" width="${length}" height="${rowHeight - 6}" fill="${colour}"><title>${escapeXml(
        `${bar.name}: ${bar.files} files, ${bar.bytes} bytes`,
      )}</title></rect>`,
      `<text x="${labelWidth + length + 6}" y="${y + 15}">${formatBytes(bar.bytes)} (${(bar.share * 100).toFixed(1)}%)</text>`,
    ].join('');
  });
  return [
    `<svg xmlns="http://www.w3.org/2000/svg" width="${width}" height="${height}" viewBox="0 0 ${width} ${height}" font-family="sans-serif" font-size="12">`,
    `<rect width="${width}" height="${height}" fill="#ffffff"/>`,
    `<text x="12" y="24" font-size="15" font-weight="bold">${escapeXml(options.title)}</text>`,
    ...lines,
    '</svg>',
    '',
  ].join('\n');
}

export function formatBytes(bytes: number): string {
  if (bytes < 1024) return `${bytes} B`;
  const units = ['KiB', 'MiB', 'GiB'];
  let value = bytes / 1024;
  let unit = 0;
  while (value >= 1024 && unit < units.length - 1) {
    value /= 1024;
    unit++;
  }
  return `${value.toFixed(1)} ${units[unit]}`;
}

function escapeXml(text: string): string {
  return text.replace(/[<>&"']/g, (c) => `&#${c.charCodeAt(0)};`);
}
