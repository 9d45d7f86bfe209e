import { parseArgs } from 'node:util';
import { type HashedFile, type HashResult, hashFiles, nativeStatus, walkFiles } from '@dit/native';
import type { FilePath } from '@dit/paths';
import { argumentBytes } from '../argument-bytes.js';
import { checksumLine, joinText } from '../checksum-text.js';
import { EXIT, type Io, UsageError } from '../io.js';

export const hashHelp = `Usage: dit hash [options] PATH...
       dit hash --check [options] LIST...

Print the SHA-256 of each file exactly as sha256sum does, so \`sha256sum -c\` checks the output.
Files are hashed in parallel on all cores; lines come out in the order of the PATHs given.

A folder is walked recursively: its regular files, in byte order of their paths (the order of
\`find DIR -type f | LC_ALL=C sort\`). Symbolic links inside folders are not followed, and they, FIFOs,
sockets and devices are left out. A PATH named on the command line is read as it is (through a link,
and a FIFO or device to its end), as sha256sum would.

File names are bytes, as for sha256sum: a name that is not UTF-8 (Latin-1, say) is read and printed
as it is. In --json, where text must be Unicode, such a path shows U+FFFD and pathBase64 has its bytes.

With --check, read LISTs of checksums (- for standard input) in any format sha256sum writes or
checks (\`HEX  NAME\`, \`HEX *NAME\`, escaped names, --tag's \`SHA256 (NAME) = HEX\`), hash the
files they name on all cores, and print \`NAME: OK\` or \`NAME: FAILED\` as \`sha256sum -c\` does.

Options:
  -z, --zero    end each line with NUL instead of a newline, and never escape names (sha256sum -z)
  --json        one JSON array: { path, sha256 } per file, { path, code, error } per failure
  -c, --check   check the files listed in each LIST
  -h, --help    show this help

With --check:
  --quiet           print nothing for a file that matches
  --status          print nothing; the exit status tells
  --strict          a malformed line makes the check fail
  -w, --warn        name each malformed line on stderr
  --ignore-missing  a listed file that does not exist is neither reported nor a failure

Environment:
  DIT_NATIVE=0        use the TypeScript implementation instead of the native addon (same output)
  DEBUG=dit:native    say on stderr which implementation runs, and why the addon did not load

Exit status: 0 all hashed (with --check: every listed file read and matched), 1 something could
not be read or did not match (each named, the rest still hashed), 2 bad usage.
`;

export async function hash(argv: string[], io: Io): Promise<number> {
  const { values, positionals, tokens } = parseArgs({
    args: argv,
    allowPositionals: true,
    tokens: true,
    options: {
      zero: { type: 'boolean', short: 'z' },
      json: { type: 'boolean' },
      check: { type: 'boolean', short: 'c' },
      quiet: { type: 'boolean' },
      status: { type: 'boolean' },
      strict: { type: 'boolean' },
      warn: { type: 'boolean', short: 'w' },
      'ignore-missing': { type: 'boolean' },
      help: { type: 'boolean', short: 'h' },
    },
  });
  if (values.help) {
    io.stdout(hashHelp);
    return EXIT.ok;
  }
  // The PATHs as typed, bytes and all: parseArgs tells where in argv each one was.
  const bytes = argumentBytes(argv);
  const paths = tokens.flatMap((token) => (token.kind === 'positional' ? [bytes[token.index]!] : []));
  const checkOnly = (['quiet', 'status', 'strict', 'warn', 'ignore-missing'] as const).filter(
    (name) => values[name],
  );
  if (values.check) {
    if (values.zero || values.json)
      throw new UsageError(`hash: --check does not take ${values.zero ? '-z' : '--json'}`);
    if (paths.length === 0) throw new UsageError('hash: --check wants a LIST (- for standard input)');
    if (debugEnabled('dit:native')) io.stderr(describeImplementation());
    const { checkLists } = await import('./hash-check.js');
    const ok = await checkLists(paths, { ...values, ignoreMissing: values['ignore-missing'] }, io);
    return ok ? EXIT.ok : EXIT.incomplete;
  }
  if (checkOnly.length > 0) throw new UsageError(`hash: --${checkOnly[0]} is only for --check`);
  if (positionals.length === 0) throw new UsageError('hash: no PATH given (try `dit hash --help`)');
  if (positionals.includes('-')) {
    throw new UsageError(
      'hash: reading standard input is not supported; name a file (./- for one called "-")',
    );
  }
  if (debugEnabled('dit:native')) io.stderr(describeImplementation());

  const walked = walkFiles(paths);
  const results = await hashFiles(walked.files);
  const failures = [...results.filter((result) => result.error !== undefined), ...walked.errors];

  if (values.json) {
    io.stdout(`${JSON.stringify([...results, ...walked.errors].map(jsonEntry), null, 1)}\n`);
  } else {
    const hashed = results.filter((result): result is HashedFile => result.sha256 !== undefined);
    io.stdout(joinText(hashed.map((result) => checksumLine(result, values.zero))));
  }
  if (failures.length > 0) {
    io.stderr(joinText(failures.map(({ path, error }) => joinText(['dit: ', path, `: ${error}\n`]))));
  }
  return failures.length > 0 ? EXIT.incomplete : EXIT.ok;
}

/** A result for --json: a path that is bytes shows as text (U+FFFD for what is not UTF-8) and as base64. */
function jsonEntry(entry: HashResult | { path: FilePath; code: string; error: string }) {
  if (typeof entry.path === 'string') return entry;
  return { ...entry, path: entry.path.toString(), pathBase64: entry.path.toString('base64') };
}

function describeImplementation(): string {
  const status = nativeStatus();
  if (status.native) return `dit:native hashing with the addon ${status.path}\n`;
  const cause = status.cause instanceof Error ? `\n${status.cause.stack ?? status.cause.message}` : '';
  return `dit:native hashing in TypeScript: ${status.reason}${cause}\n`;
}

/** The `debug` package's convention: DEBUG is a list of names, `*` a wildcard, `-name` an exclusion. */
function debugEnabled(name: string): boolean {
  const patterns = (process.env.DEBUG ?? '').split(/[\s,]+/).filter(Boolean);
  const matches = (pattern: string) =>
    new RegExp(`^${pattern.replace(/[.+?^${}()|[\]\\]/g, '\\$&').replace(/\*/g, '.*')}$`).test(name);
  if (patterns.some((pattern) => pattern.startsWith('-') && matches(pattern.slice(1)))) return false;
  return patterns.some((pattern) => !pattern.startsWith('-') && matches(pattern));
}
