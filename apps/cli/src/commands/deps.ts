import { resolve as resolvePath } from 'node:path';
import { parseArgs } from 'node:util';
import { type ByteString, createResolver, type Resolution, type ResolveOptions } from '@dit/resolver';
import { x86ProfileForLevel } from '@dit/resolver/cpu';
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

A library name that is not UTF-8 is printed as its bytes; in --json, where text must be Unicode,
it shows U+FFFD and nameBase64 (pathBase64 for its path) has its bytes. In the tree and on stderr,
control characters and backslashes in names are escaped (\\n, \\t, \\x1b, \\\\), so that every
line stays one line; --json keeps them.

Exit status: 0 all resolved, 1 something is missing (named on stderr), 2 bad input.
`;

interface JsonLibrary {
  name: string;
  nameBase64?: string;
  path: string | null;
  pathBase64?: string;
}

interface JsonEntry {
  file: string;
  interpreter: string | null;
  libraries: JsonLibrary[];
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
  // One resolver, one session for every FILE: each library is read and searched for once.
  const results = createResolver(options).resolveMany(rootPaths);

  let status: number = EXIT.ok;
  const json: JsonEntry[] = [];
  const tree: Buffer[] = [];
  const problems: Buffer[] = [];
  results.forEach((result, index) => {
    const file = positionals[index]!;
    if (!('loader' in result)) {
      problems.push(line(`dit: `, file, `: ${result.problem}`));
      json.push({ file, interpreter: null, libraries: [], error: result.problem });
      status = EXIT.usage;
      return;
    }
    for (const missing of result.missing) {
      problems.push(line(`dit: ${file}: `, missing.name, ' not found (needed by ', missing.neededBy, ')'));
    }
    if (result.failure) {
      const { path, message } = result.failure;
      problems.push(line(`dit: ${file}: the loader would stop: `, path, `: ${message}`));
    }
    if ((result.missing.length > 0 || result.failure) && status === EXIT.ok) status = EXIT.incomplete;
    if (values.json) {
      const entry: JsonEntry = {
        file,
        interpreter: result.interpreter,
        libraries: result.libraries.map(jsonLibrary),
      };
      if (result.failure) entry.error = `${result.failure.path.toString()}: ${result.failure.message}`;
      json.push(entry);
    } else {
      tree.push(renderTree(file, result));
    }
  });
  io.stdout(values.json ? `${JSON.stringify(json, null, 1)}\n` : Buffer.concat(tree));
  if (problems.length > 0) io.stderr(Buffer.concat(problems));
  return status;
}

function bytesOf(text: ByteString): Buffer {
  return typeof text === 'string' ? Buffer.from(text, 'utf8') : text;
}

/** Escapes of the control bytes a name may hold; any other control byte shows as `\xNN`. */
const ESCAPES: Readonly<Record<number, string>> = { 9: '\\t', 10: '\\n', 13: '\\r', 92: '\\\\' };

/**
 * Text for one line of the tree or of stderr: control bytes (C0 and DEL) escaped, so that a name
 * holding a newline or a terminal escape cannot break a `dit:` line in two or drive the terminal;
 * the backslash too, so that an escape is never ambiguous. Other bytes stay as they are (a name that
 * is not UTF-8 is printed as its bytes, as ldd does).
 */
function printable(text: ByteString): Buffer {
  const bytes = bytesOf(text);
  if (!bytes.some((byte) => byte < 0x20 || byte === 0x7f || byte === 0x5c)) return bytes;
  const out: Buffer[] = [];
  let from = 0;
  bytes.forEach((byte, at) => {
    if (byte >= 0x20 && byte !== 0x7f && byte !== 0x5c) return;
    out.push(bytes.subarray(from, at));
    out.push(Buffer.from(ESCAPES[byte] ?? `\\x${byte.toString(16).padStart(2, '0')}`));
    from = at + 1;
  });
  out.push(bytes.subarray(from));
  return Buffer.concat(out);
}

/** One line of output from text and names, each name byte for byte but for control bytes (see printable). */
function line(...parts: ByteString[]): Buffer {
  return Buffer.concat([...parts.map(printable), Buffer.from('\n')]);
}

/** A library for --json: a name or path that is bytes shows as text (U+FFFD for what is not UTF-8) and as base64. */
function jsonLibrary({ name, path }: { name: ByteString; path: ByteString | null }): JsonLibrary {
  return {
    name: name.toString(),
    ...(typeof name === 'string' ? {} : { nameBase64: name.toString('base64') }),
    path: path === null ? null : path.toString(),
    ...(path === null || typeof path === 'string' ? {} : { pathBase64: path.toString('base64') }),
  };
}

function parseCpuLevel(text: string): number {
  const level = Number(text.replace(/^(x86-64-)?v/, ''));
  if (!Number.isInteger(level) || level < 1 || level > 4) {
    throw new UsageError(`deps: --cpu-level must be 1, 2, 3 or 4 (got "${text}")`);
  }
  return level;
}

/** lddtree-style: each library under the object that first needed it; names byte for byte. */
function renderTree(file: string, resolution: Resolution): Buffer {
  const lines: Buffer[] = [];
  const head =
    resolution.loader === 'static'
      ? `${file} (statically linked)`
      : `${file}${resolution.interpreter ? ` (interpreter => ${resolution.interpreter})` : ''}`;
  lines.push(line(head));
  // Keyed by the exact bytes: two names that differ only in bytes that are not UTF-8 stay apart.
  const key = (name: ByteString) => bytesOf(name).toString('latin1');
  const children = new Map<string, Resolution['libraries'][number][]>();
  for (const library of resolution.libraries) {
    const list = children.get(key(library.neededBy)) ?? [];
    list.push(library);
    children.set(key(library.neededBy), list);
  }
  const walk = (parent: ByteString, depth: number) => {
    for (const library of children.get(key(parent)) ?? []) {
      lines.push(line('    '.repeat(depth), library.name, ' => ', library.path ?? 'not found'));
      if (library.path !== null && key(library.path) !== key(parent)) walk(library.path, depth + 1);
    }
  };
  walk(resolution.file, 1);
  if (resolution.failure) {
    lines.push(line('    error: ', resolution.failure.path, `: ${resolution.failure.message}`));
  }
  return Buffer.concat(lines);
}
