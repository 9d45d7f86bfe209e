import { readFileSync } from 'node:fs';
import { EXIT, exitQuietlyWhenTheReaderGoes, type Io, processIo, UsageError } from './io.js';

const help = `dit, the Docker Image Toolkit: turn a fat container image into a minimal one.

Usage: dit COMMAND [options]

Commands:
  deps FILE...     the shared libraries each FILE loads, as its loader would decide
  export           copy exactly what a program needs into a folder or an image, and prove it runs there
  minify SRC DEST  make an existing image (oci:, oci-archive:, docker-archive:) small, verified, no daemon
  explain PATH...  why each path is in an export, and what each package weighs (--path DIR or --report)
  hash PATH...     SHA-256 of files and folders, printed as sha256sum does
  help [COMMAND]   this help, or a command's

Run \`dit COMMAND --help\` for a command's options.
`;

interface Command {
  run: (argv: string[], io: Io) => number | Promise<number>;
  help: string;
}

// Each command loads its own libraries only when it runs: `dit deps` never loads the tracer.
const commands: Record<string, () => Promise<Command>> = {
  deps: async () => {
    const { deps, depsHelp } = await import('./commands/deps.js');
    return { run: deps, help: depsHelp };
  },
  hash: async () => {
    const { hash, hashHelp } = await import('./commands/hash.js');
    return { run: hash, help: hashHelp };
  },
  export: async () => {
    const { exportCommand, exportHelp } = await import('./commands/export.js');
    return { run: exportCommand, help: exportHelp };
  },
  minify: async () => {
    const { minifyCommand, minifyHelp } = await import('./commands/minify.js');
    return { run: minifyCommand, help: minifyHelp };
  },
  explain: async () => {
    const { explain, explainHelp } = await import('./commands/explain.js');
    return { run: explain, help: explainHelp };
  },
};

/** Runs the CLI with `argv` (without node and script) and returns the exit status. Only this layer prints. */
export async function main(argv: string[], io: Io = processIo): Promise<number> {
  if (io === processIo) {
    exitQuietlyWhenTheReaderGoes();
    exitOnUncaughtErrors();
  }
  const [name, ...rest] = argv;
  if (name === undefined || name === 'help' || name === '--help' || name === '-h') {
    const topic = name === 'help' && rest[0] !== undefined ? await commands[rest[0]]?.() : undefined;
    io.stdout(topic?.help ?? help);
    return EXIT.ok;
  }
  if (name === '--version' || name === '-V') {
    io.stdout(`dit ${version()}\n`);
    return EXIT.ok;
  }
  const command = await commands[name]?.();
  if (command === undefined) {
    io.stderr(`dit: unknown command "${name}"\n\n${help}`);
    return EXIT.usage;
  }
  try {
    return await command.run(rest, io);
  } catch (error) {
    if (error instanceof UsageError || isParseArgsError(error)) {
      io.stderr(`dit: ${(error as Error).message}\n`);
      return EXIT.usage;
    }
    reportInternalError(name, error, io);
    return EXIT.internal;
  }
}

/**
 * What no command anticipated still ends in one `dit:` line and a documented status, never in a
 * stack trace on a user's terminal; `DEBUG=dit` (or `dit:*`) adds the stack for a bug report.
 */
export function reportInternalError(command: string | null, error: unknown, io: Io = processIo): void {
  const message = error instanceof Error ? error.message : String(error);
  const where = command === null ? '' : `${command}: `;
  io.stderr(`dit: ${where}internal error: ${message.split('\n')[0]} (a bug in dit; DEBUG=dit shows more)\n`);
  if (/(^|,)dit(:|,|$)/.test(process.env.DEBUG ?? '') && error instanceof Error && error.stack) {
    io.stderr(`${error.stack}\n`);
  }
}

/**
 * The last line of defence, for the installed command and dit.tar: an error thrown outside `main`'s
 * promise (an 'error' event, a callback) ends like any other internal error, with status 70.
 */
export function exitOnUncaughtErrors(): void {
  const handler = (error: unknown) => {
    reportInternalError(null, error);
    process.exit(EXIT.internal);
  };
  process.on('uncaughtException', handler).on('unhandledRejection', handler);
}

function isParseArgsError(error: unknown): boolean {
  const code = (error as { code?: string } | null)?.code;
  return typeof code === 'string' && code.startsWith('ERR_PARSE_ARGS');
}

/**
 * The CLI package's version; src/ and dist/ are both one level below the package root. The bundle in
 * dit.tar has no package.json beside it: the bundler writes the version in as DIT_BUNDLED_VERSION.
 */
function version(): string {
  if (process.env.DIT_BUNDLED_VERSION) return process.env.DIT_BUNDLED_VERSION;
  const manifest = JSON.parse(readFileSync(new URL('../package.json', import.meta.url), 'utf8')) as {
    version: string;
  };
  return manifest.version;
}
