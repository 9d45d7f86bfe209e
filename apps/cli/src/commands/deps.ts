import { resolve as resolvePath } from 'node:path';
import { parseArgs } from 'node:util';
import { depsWalkNative } from '@dit/native';
import type { Resolution, ResolveOptions, Resolver } from '@dit/resolver';
import { hostCpuProfile, x86ProfileForLevel } from '@dit/resolver/cpu';
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

export async function deps(argv: string[], io: Io): Promise<number> {
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
  // Without --root, FILEs are host paths relative to where dit runs; with it, paths inside the root.
  const toRootPath = (file: string) =>
    values.root === undefined ? resolvePath(file) : resolvePath('/', file);
  const rootPaths = positionals.map(toRootPath);
  const results = values.json
    ? await resolveForJson(positionals, rootPaths, options)
    : await resolveAllInTypeScript(positionals, rootPaths, options);

  let status: number = EXIT.ok;
  const json: JsonEntry[] = [];
  const tree: string[] = [];
  const problems: string[] = [];
  for (const result of results) {
    const { file } = result;
    if ('problem' in result) {
      problems.push(`dit: ${file}: ${result.problem}\n`);
      json.push({ file, interpreter: null, libraries: [], error: result.problem });
      status = EXIT.usage;
      continue;
    }
    for (const missing of result.missing) {
      problems.push(`dit: ${file}: ${missing.name} not found (needed by ${missing.neededBy})\n`);
    }
    if (result.failure) {
      problems.push(
        `dit: ${file}: the loader would stop: ${result.failure.path}: ${result.failure.message}\n`,
      );
    }
    if ((result.missing.length > 0 || result.failure) && status === EXIT.ok) status = EXIT.incomplete;
    if (values.json) {
      const entry: JsonEntry = {
        file,
        interpreter: result.interpreter,
        libraries: result.libraries.map(({ name, path }) => ({ name, path })),
      };
      if (result.failure) entry.error = `${result.failure.path}: ${result.failure.message}`;
      json.push(entry);
    } else {
      tree.push(renderTree(file, result.resolution!));
    }
  }
  io.stdout(values.json ? `${JSON.stringify(json, null, 1)}\n` : tree.join(''));
  if (problems.length > 0) io.stderr(problems.join(''));
  return status;
}

/** What one FILE resolved to: the loader's view, or why the FILE itself is unusable. */
type FileResult =
  | {
      file: string;
      interpreter: string | null;
      libraries: readonly { name: string; path: string | null }[];
      missing: readonly { name: string; neededBy: string }[];
      failure: { path: string; message: string } | null;
      /** The full resolution, for the tree view (the native walk returns only what --json prints). */
      resolution?: Resolution;
    }
  | { file: string; problem: string };

/**
 * The TypeScript resolver, loaded only when something needs it: the native walk answers most
 * `--json` calls alone, and loading @dit/resolver (and elfy under it) is a good share of a short
 * run's start-up.
 */
type ResolverModule = typeof import('@dit/resolver');
let resolverModule: Promise<ResolverModule> | undefined;
const loadResolver = () => {
  resolverModule ??= import('@dit/resolver');
  return resolverModule;
};

/**
 * Resolves `files` (those `only` picks: by default all) one by one with the TypeScript resolver,
 * sharing one resolver and so its caches. The result is indexed like `files`, with holes for the
 * files left out.
 */
async function resolveAllInTypeScript(
  files: readonly string[],
  rootPaths: readonly string[],
  options: ResolveOptions,
  only: (index: number) => boolean = () => true,
): Promise<FileResult[]> {
  const { createResolver, ResolveError } = await loadResolver();
  let resolver: Resolver | undefined;
  const results: FileResult[] = new Array(files.length);
  files.forEach((file, index) => {
    if (!only(index)) return;
    resolver ??= createResolver(options);
    try {
      const resolution = resolver.resolve(rootPaths[index]!);
      const { interpreter, libraries, missing, failure } = resolution;
      results[index] = { file, interpreter, libraries, missing, failure, resolution };
    } catch (error) {
      if (!(error instanceof ResolveError)) throw error;
      results[index] = { file, problem: error.problem };
    }
  });
  return results;
}

/**
 * --json: the native walk (@dit/native, all cores) where it is built and allowed, and the
 * TypeScript resolver for the files it leaves (and for everything with DIT_NATIVE=0, or --preload,
 * which the native walk does not model). Both give the same answers; tests hold them to it.
 */
async function resolveForJson(
  files: readonly string[],
  rootPaths: readonly string[],
  options: ResolveOptions,
): Promise<FileResult[]> {
  const native =
    options.preload === undefined
      ? depsWalkNative(rootPaths, {
          root: options.root,
          cwd: options.cwd,
          libraryPath: options.libraryPath ?? null,
          useCache: options.useCache,
          cpu: options.cpu ?? hostCpuProfile(),
        })
      : undefined;
  const leftToTypeScript = (index: number) => {
    const answer = native?.[index];
    return answer === undefined || 'unsupported' in answer;
  };
  // Only a file the native walk left over loads the TypeScript resolver.
  const fallback = files.some((_, index) => leftToTypeScript(index))
    ? await resolveAllInTypeScript(files, rootPaths, options, leftToTypeScript)
    : [];
  return files.map((file, index) => {
    const answer = native?.[index];
    if (answer === undefined || 'unsupported' in answer) return fallback[index]!;
    if ('error' in answer) return { file, problem: answer.error };
    return { ...answer, file };
  });
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
