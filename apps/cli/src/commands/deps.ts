import { resolve as resolvePath } from 'node:path';
import { parseArgs } from 'node:util';
import {
  createResolver,
  type Resolution,
  ResolveError,
  type ResolveOptions,
  x86ProfileForLevel,
} from '@dit/resolver';
import { EXIT, type Io, UsageError } from '../io.js';

export const depsHelp = `Usage: dit deps [options] FILE...

List the shared libraries each FILE loads, decided exactly as its loader (glibc's ld.so or musl)
would, without running anything.

Options:
  --root DIR             resolve inside an unpacked image root; FILEs are paths inside it
  --library-path PATHS   as LD_LIBRARY_PATH (':'-separated)
  --preload LIBS         as LD_PRELOAD
  --cpu-level N          resolve for an x86-64 CPU of level 1-4 (v2..v4; 1 = baseline) instead of this one
  --no-cache             ignore /etc/ld.so.cache (like ld.so --inhibit-cache)
  --cwd DIR              the program's working directory (relative names, empty path elements); default /
  --json                 one JSON array, an object per FILE in input order
  -h, --help             show this help

Exit status: 0 all resolved, 1 something is missing (named on stderr), 2 bad input.
`;

interface JsonEntry {
  file: string;
  interpreter: string | null;
  libraries: { name: string; path: string | null }[];
  error?: string;
}

export function deps(argv: string[], io: Io): number {
  const { values, positionals } = parseArgs({
    args: argv,
    allowPositionals: true,
    options: {
      root: { type: 'string' },
      'library-path': { type: 'string' },
      preload: { type: 'string' },
      'cpu-level': { type: 'string' },
      'no-cache': { type: 'boolean' },
      cwd: { type: 'string' },
      json: { type: 'boolean' },
      help: { type: 'boolean', short: 'h' },
    },
  });
  if (values.help) {
    io.stdout(depsHelp);
    return EXIT.ok;
  }
  if (positionals.length === 0) throw new UsageError('deps: no FILE given (try `dit deps --help`)');

  const options: ResolveOptions = {
    root: values.root === undefined ? '/' : resolvePath(values.root),
    libraryPath: values['library-path'],
    preload: values.preload,
    cwd: values.cwd ?? '/',
    useCache: !values['no-cache'],
    cpu:
      values['cpu-level'] === undefined
        ? undefined
        : x86ProfileForLevel(parseCpuLevel(values['cpu-level']) - 1),
  };
  const resolver = createResolver(options);
  // Without --root, FILEs are host paths relative to where dit runs; with it, paths inside the root.
  const toRootPath = (file: string) =>
    values.root === undefined ? resolvePath(file) : resolvePath('/', file);

  let status: number = EXIT.ok;
  const json: JsonEntry[] = [];
  const tree: string[] = [];
  const problems: string[] = [];
  for (const file of positionals) {
    let resolution: Resolution;
    try {
      resolution = resolver.resolve(toRootPath(file));
    } catch (error) {
      if (!(error instanceof ResolveError)) throw error;
      problems.push(`dit: ${file}: ${error.problem}\n`);
      json.push({ file, interpreter: null, libraries: [], error: error.problem });
      status = EXIT.usage;
      continue;
    }
    for (const missing of resolution.missing) {
      problems.push(`dit: ${file}: ${missing.name} not found (needed by ${missing.neededBy})\n`);
    }
    if (resolution.failure) {
      const { path, message } = resolution.failure;
      problems.push(`dit: ${file}: the loader would stop: ${path}: ${message}\n`);
    }
    if ((resolution.missing.length > 0 || resolution.failure) && status === EXIT.ok) status = EXIT.incomplete;
    if (values.json) {
      const entry: JsonEntry = {
        file,
        interpreter: resolution.interpreter,
        libraries: resolution.libraries.map(({ name, path }) => ({ name, path })),
      };
      if (resolution.failure) entry.error = `${resolution.failure.path}: ${resolution.failure.message}`;
      json.push(entry);
    } else {
      tree.push(renderTree(file, resolution));
    }
  }
  io.stdout(values.json ? `${JSON.stringify(json, null, 1)}\n` : tree.join(''));
  if (problems.length > 0) io.stderr(problems.join(''));
  return status;
}

function parseCpuLevel(text: string): number {
  const level = Number(text.replace(/^(x86-64-)?v/, ''));
  if (!Number.isInteger(level) || level < 1 || level > 4) {
    throw new UsageError(`deps: --cpu-level must be 1, 2, 3 or 4 (got "${text}")`);
  }
  return level;
}

/** lddtree-style: each library under the object that first needed it. */
function renderTree(file: string, resolution: Resolution): string {
  const lines: string[] = [];
  const head =
    resolution.loader === 'static'
      ? `${file} (statically linked)`
      : `${file}${resolution.interpreter ? ` (interpreter => ${resolution.interpreter})` : ''}`;
  lines.push(head);
  const children = new Map<string, Resolution['libraries'][number][]>();
  for (const library of resolution.libraries) {
    const list = children.get(library.neededBy) ?? [];
    list.push(library);
    children.set(library.neededBy, list);
  }
  const walk = (parent: string, depth: number) => {
    for (const library of children.get(parent) ?? []) {
      lines.push(`${'    '.repeat(depth)}${library.name} => ${library.path ?? 'not found'}`);
      if (library.path !== null && library.path !== parent) walk(library.path, depth + 1);
    }
  };
  walk(resolution.file, 1);
  if (resolution.failure) lines.push(`    error: ${resolution.failure.path}: ${resolution.failure.message}`);
  return `${lines.join('\n')}\n`;
}
