import { renameSync, rmSync, writeFileSync } from 'node:fs';
import { parseArgs } from 'node:util';
import {
  ExplainError,
  type ExportFacts,
  explainPaths,
  formatBytes,
  formatChain,
  packageSizes,
  readExportRecord,
  readReport,
  sizesSvg,
} from '@dit/explain';
import { EXIT, type Io, UsageError } from '../io.js';

export const explainHelp = `Usage: dit explain (--path DIR | --report FILE) [--json] PATH...
       dit explain (--path DIR | --report FILE) --sizes [--json] [--svg FILE]

Why each PATH is in an export, from the record the export keeps (/var/lib/dit/explain.json in
DIR) or the report \`dit export --report FILE\` wrote: one line per reason, followed up to its
cause, e.g.
  libnghttp2.so.14 ← needed by /usr/lib/x86_64-linux-gnu/libcurl.so.4 ← needed by /usr/bin/curl (the command)
A PATH may be a path in the export, a path through its links, or a file name (every file of that name).

Options:
  --path DIR      a finished export (or an image's unpacked root) made by dit export
  --report FILE   the report of the export: it also names the pid of a traced process, which
                  the record leaves out
  --json          one JSON document instead of text
  --sizes         what each Debian package weighs in the export: package, files, bytes, share
  --svg FILE      with --sizes: also draw the table as a bar chart (SVG) to FILE
  -h, --help      show this help

Exit status:
  0    every PATH explained (or the sizes printed)
  1    some PATH is not in the export (named on stderr)
  2    bad input: neither or both of --path and --report, a DIR that is not an export of dit
       (or was made with --no-explain-record), a report that cannot be read or is not dit's
  3    the --svg file could not be written
`;

export function explain(argv: string[], io: Io): number {
  const { values, positionals } = parseArgs({
    args: argv,
    allowPositionals: true,
    options: {
      report: { type: 'string' },
      path: { type: 'string' },
      json: { type: 'boolean' },
      sizes: { type: 'boolean' },
      svg: { type: 'string' },
      help: { type: 'boolean', short: 'h' },
    },
  });
  if (values.help) {
    io.stdout(explainHelp);
    return EXIT.ok;
  }
  if (values.report === undefined && values.path === undefined)
    throw new UsageError('explain: --path DIR (a finished export) or --report FILE is required');
  if (values.report !== undefined && values.path !== undefined)
    throw new UsageError('explain: --path and --report are two ways to name one export: give one');
  if (values.svg !== undefined && !values.sizes) throw new UsageError('explain: --svg goes with --sizes');
  if (!values.sizes && positionals.length === 0) {
    throw new UsageError('explain: name the PATHs to explain, or ask for --sizes');
  }

  let report: ExportFacts;
  let title: string;
  try {
    if (values.path !== undefined) {
      report = readExportRecord(values.path);
      title = values.path;
    } else {
      const full = readReport(values.report!);
      report = full;
      title = full.command?.join(' ') ?? full.output;
    }
  } catch (error) {
    if (error instanceof ExplainError) {
      io.stderr(`dit: explain: ${error.message}\n`);
      return EXIT.usage;
    }
    throw error;
  }

  if (values.sizes) {
    const rows = packageSizes(report);
    if (values.json) io.stdout(`${JSON.stringify(rows, null, 1)}\n`);
    else io.stdout(sizesTable(rows));
    if (values.svg !== undefined) {
      const bytes = rows.reduce((sum, row) => sum + row.bytes, 0);
      const heading = `${title}: ${formatBytes(bytes)} by package`;
      const partial = `${values.svg}.dit-partial-${process.pid}`;
      try {
        writeFileSync(partial, sizesSvg(rows, { title: heading }));
        renameSync(partial, values.svg);
      } catch (error) {
        rmSync(partial, { force: true });
        io.stderr(`dit: explain: --svg ${values.svg}: ${(error as Error).message}\n`);
        return EXIT.cannotWrite;
      }
    }
    if (positionals.length === 0) return EXIT.ok;
  }

  const explanations = explainPaths(report, positionals);
  if (values.json) io.stdout(`${JSON.stringify(explanations, null, 1)}\n`);
  let status: number = EXIT.ok;
  for (const explanation of explanations) {
    if (explanation.path === null) {
      const where = values.path === undefined ? 'the export' : `the export at ${values.path}`;
      io.stderr(`dit: explain: ${explanation.query}: not in ${where}\n`);
      status = EXIT.incomplete;
      continue;
    }
    if (values.json) continue;
    const packages = explanation.packages.length === 0 ? 'no package' : explanation.packages.join(', ');
    const name =
      explanation.query === explanation.path
        ? explanation.path
        : `${explanation.query} (${explanation.path})`;
    io.stdout(`${name} [${packages}]\n`);
    for (const chain of explanation.chains) io.stdout(`  ${formatChain(explanation.query, chain)}\n`);
  }
  return status;
}

function sizesTable(rows: ReturnType<typeof packageSizes>): string {
  const header = ['package', 'files', 'bytes', 'share'];
  const cells = rows.map((row) => [
    row.name,
    String(row.files),
    formatBytes(row.bytes),
    `${(row.share * 100).toFixed(1)}%`,
  ]);
  const widths = header.map((title, column) =>
    Math.max(title.length, ...cells.map((cell) => cell[column]!.length)),
  );
  const line = (cell: string[]) =>
    cell
      .map((text, column) => (column === 0 ? text.padEnd(widths[column]!) : text.padStart(widths[column]!)))
      .join('  ');
  return `${[line(header), ...cells.map(line)].join('\n')}\n`;
}
