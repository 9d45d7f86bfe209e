import { readFileSync } from 'node:fs';
import { EXIT, exitQuietlyWhenTheReaderGoes, type Io, processIo, UsageError } from './io.js';

const help = `dit, the Docker Image Toolkit: turn a fat container image into a minimal one.

Usage: dit COMMAND [options]

Commands:
  deps FILE...     the shared libraries each FILE loads, as its loader would decide
  export           copy exactly what a program needs into a folder, and prove it runs there
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
};

/** Runs the CLI with `argv` (without node and script) and returns the exit status. Only this layer prints. */
export async function main(argv: string[], io: Io = processIo): Promise<number> {
  if (io === processIo) exitQuietlyWhenTheReaderGoes();
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
    throw error;
  }
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
