// The README's benchmark figures, written from the same results as docs/benchmarks.md: the sentence at
// the top (between `<!-- bench:summary -->` and `<!-- /bench:summary -->`) and the table of the
// Benchmarks section (between `<!-- bench:table -->` and `<!-- /bench:table -->`). Text outside the
// markers is left as it is; a README without them is not touched.

import { depsFigures } from './deps/render.mjs';
import { int, pct, range, sig, table, when } from './lib/markdown.mjs';

/**
 * @param {string} text  The README.
 * @param {Record<string, any>} results  The result documents by benchmark name (deps, export, hash, layer).
 * @returns {string}  The README with the figures between its markers replaced.
 */
export function readmeFigures(text, results) {
  let out = text;
  if (results.deps) out = between(out, 'bench:summary', summary(results.deps));
  const rows = [
    ...(results.deps ? depsRows(results.deps) : []),
    ...(results.hash ? hashRows(results.hash) : []),
    ...(results.export ? exportRows(results.export) : []),
    ...(results.layer ? layerRows(results.layer) : []),
  ];
  if (rows.length > 0) {
    const newest = Object.values(results)
      .map((doc) => doc.date)
      .sort()
      .pop();
    const m = Object.values(results)[0]?.machine ?? {};
    const lead =
      `Last run ${when(newest)}, ${m.nproc ?? '?'}-core ${m.cpu ?? 'unknown CPU'} VM, Node ${String(m.node ?? '?').replace(/^v(\d+).*/, '$1')},` +
      ' page cache warm, the installed `dit` (apps/cli/bin/dit.cjs):';
    out = between(
      out,
      'bench:table',
      `${lead}\n\n${table(['benchmark', 'dit', 'peers', 'ratio'], rows, [1, 2, 3])}`,
    );
  }
  return out;
}

/** Replaces what lies between `<!-- NAME -->` and `<!-- /NAME -->`. */
function between(/** @type {string} */ text, /** @type {string} */ name, /** @type {string} */ content) {
  const open = `<!-- ${name} -->`;
  const close = `<!-- /${name} -->`;
  const start = text.indexOf(open);
  const end = text.indexOf(close);
  if (start < 0 || end < start) return text;
  // A block (a table) gets its own lines; a phrase stays inside its sentence.
  const block = content.includes('\n');
  const inner = block ? `\n${content}\n` : content;
  return text.slice(0, start + open.length) + inner + text.slice(end);
}

/** @param {any} deps */
function summary(deps) {
  const f = depsFigures(deps);
  return (
    `\`ld.so\` on every one of the ${int(f.files ?? 0)} dynamically linked files of a Debian 12 machine, and resolving` +
    ` all of them in one call is ${sig(f.vsLoader ?? 0)}x faster than asking the loader once per file and` +
    ` ${int(f.vsLddtree ?? 0)}x faster than \`lddtree\``
  );
}

/** @param {any} deps */
function depsRows(deps) {
  const f = depsFigures(deps);
  return [
    [
      `\`dit deps --json\`, ${int(f.files ?? 0)} ELF files in one call`,
      `${sig(f.ditSeconds ?? 0)} s (${sig(f.ditMsPerFile ?? 0)} ms/file)`,
      `the loader once per file ${sig(f.loaderSeconds ?? 0)} s; lddtree ${int(f.lddtreeMsPerFile ?? 0)} ms/file (sample of ${int(f.lddtreeFiles ?? 0)})`,
      `**${sig(f.vsLoader ?? 0)}x** and **${int(f.vsLddtree ?? 0)}x** faster`,
    ],
  ];
}

/** @param {any} hash */
function hashRows(hash) {
  /** @type {Record<string, any>} */
  const tool = Object.fromEntries((hash.tools ?? []).map((/** @type {any} */ t) => [t.id, t]));
  const r = hash.ratios ?? {};
  const rows = [];
  if (tool.dit && tool.sha256sum) {
    rows.push([
      `\`dit hash\`, ${int(hash.corpus?.files ?? 0)} files, ${sig((hash.corpus?.bytes ?? 0) / 1e9)} GB`,
      `${sig(tool.dit.medianSeconds)} s, ${sig(tool.dit.gbPerSecond)} GB/s`,
      `sha256sum ${sig(tool.sha256sum.medianSeconds)} s` +
        (tool['dit-ts'] ? `; \`DIT_NATIVE=0\` ${sig(tool['dit-ts'].medianSeconds)} s` : '') +
        (hash.limit ? `; openssl on all cores ${sig(hash.limit.allCoresGbPerSecond)} GB/s` : ''),
      `**${sig(r.ditVsSha256sum)}x** sha256sum` +
        (r.ditVsTypeScript ? `; **${sig(r.ditVsTypeScript)}x** TypeScript` : '') +
        (r.ditOfLimit ? `; **${pct(r.ditOfLimit)}** of the all-core limit` : ''),
    ]);
  }
  if (tool['dit-check'] && tool['sha256sum-check']) {
    rows.push([
      '`dit hash --check`, the same files from a list',
      `${sig(tool['dit-check'].medianSeconds)} s`,
      `\`sha256sum --check\` ${sig(tool['sha256sum-check'].medianSeconds)} s`,
      `**${sig(r.ditCheckVsSha256sumCheck)}x**`,
    ]);
  }
  return rows;
}

/** @param {any} layer */
function layerRows(layer) {
  /** @type {Record<string, any>} */
  const tool = Object.fromEntries((layer.tools ?? []).map((/** @type {any} */ t) => [t.id, t]));
  const r = layer.ratios ?? {};
  if (!tool.dit || !tool.pigz) return [];
  return [
    [
      `image layer (tar, gzip -${layer.method?.level ?? 6}, both digests), the node export, ${int((layer.corpus?.bytes ?? 0) / 1e6)} MB`,
      `${sig(tool.dit.medianSeconds)} s` +
        (tool['dit-ts'] ? `; \`DIT_NATIVE=0\` ${sig(tool['dit-ts'].medianSeconds)} s` : ''),
      `tar \\| pigz -p ${layer.method?.nproc ?? '?'} + 2 sha256sum ${sig(tool.pigz.medianSeconds)} s`,
      `**${sig(r.ditTimeVsPigz)}x** pigz's time; blob ${r.ditSizeVsPigz >= 1 ? '+' : ''}${((r.ditSizeVsPigz - 1) * 100).toFixed(1)}%`,
    ],
  ];
}

/** @param {any} exp */
function exportRows(exp) {
  /** @type {any[]} */
  const cases = exp.cases ?? [];
  if (cases.length === 0) return [];
  const s = (/** @type {number} */ ms) => sig(ms / 1000);
  return [
    [
      `\`dit export\` (trace, resolve, copy, hash), ${int(cases.length)} programs`,
      `${range(
        cases.map((c) => c.dit.medianMs),
        s,
        ' s',
      )}`,
      `\`tar -c \\| tar -x\` of the same files ${range(
        cases.map((c) => c.tar.medianMs),
        s,
        ' s',
      )}`,
      `${range(
        cases.map((c) => c.ratioExportToTar),
        sig,
        'x',
      )} tar for the whole run`,
    ],
  ];
}
