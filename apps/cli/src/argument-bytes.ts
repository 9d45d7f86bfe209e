import { type Buffer, isUtf8 } from 'node:buffer';
import { readFileSync } from 'node:fs';
import { printableBytes } from '@dit/paths';
import { UsageError } from './io.js';

/**
 * The command-line arguments `args` (the last ones of this process) as the OS passed them: each as
 * given, except one that was not UTF-8, which comes back as a Buffer of its bytes.
 *
 * Node decodes its arguments as UTF-8, lossily: a file name in Latin-1 typed on the command line
 * arrives with U+FFFD in it, and then names no file. /proc/self/cmdline still holds the bytes. They
 * are used only when the tail of it decodes to exactly `args`, so arguments that did not come from
 * this process's command line (a test calling the command in-process) stay as they are, as does
 * everything when /proc is not mounted (dit.tar in an empty root).
 */
export function argumentBytes(args: readonly string[]): Array<string | Buffer> {
  if (!args.some((arg) => arg.includes('\uFFFD'))) return [...args];
  let cmdline: Buffer;
  try {
    cmdline = readFileSync('/proc/self/cmdline');
  } catch {
    return [...args];
  }
  const all = splitAtNul(cmdline);
  if (all.length < args.length) return [...args];
  const tail = all.slice(all.length - args.length);
  if (tail.some((raw, index) => raw.toString() !== args[index])) return [...args];
  return args.map((arg, index) => (isUtf8(tail[index]!) ? arg : tail[index]!));
}

/** The NUL-terminated strings of /proc/PID/cmdline. */
function splitAtNul(data: Buffer): Buffer[] {
  const parts: Buffer[] = [];
  let start = 0;
  for (let end = data.indexOf(0); end !== -1; end = data.indexOf(0, start)) {
    parts.push(data.subarray(start, end));
    start = end + 1;
  }
  return parts;
}

/**
 * Refuses arguments that are not UTF-8, for commands that hand them on to programs or paths through
 * Node.js, which would pass a different name (U+FFFD in place of the bytes). Names the first one.
 */
export function refuseArgumentsNotUtf8(args: readonly string[], command: string): void {
  const bytes = argumentBytes(args);
  const index = bytes.findIndex((arg) => typeof arg !== 'string');
  if (index === -1) return;
  const shown = printableBytes(bytes[index] as Buffer);
  throw new UsageError(
    `${command}: "${shown}" is not UTF-8; Node.js cannot pass it on as it is (it would name another file). ` +
      'Rename the file, or reach it from a script.',
  );
}
