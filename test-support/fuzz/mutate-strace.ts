/**
 * Mutations of strace logs (`strace -f -y -o FILE` text), line- and token-aware: calls split into
 * `<unfinished ...>` / `<... resumed>` pairs with other lines between them, orphaned halves, lines
 * dropped, repeated, swapped or moved to another pid, quotes and escapes broken, annotations cut,
 * numbers far past 2^63, fields missing, exit and execve-takeover lines, long chains of clones and
 * long runs of one character. Logs are handled as latin1, one char per byte, as the parser reads them.
 */
import { mutateBytes } from './mutate-bytes.js';
import type { Random } from './random.js';

const CALL = /^(\d+ +)([a-z_][a-z0-9_]*)\((.*)$/;
const HUGE = [
  '99999999999999999999999999',
  '18446744073709551615',
  '9223372036854775808',
  '-9223372036854775809',
  '0x7fffffffffffffff',
  '0xffffffffffffffffffff',
  '1e400',
  '-0',
  '',
];
const ESCAPES = [
  '\\',
  '\\x',
  '\\x4',
  '\\xZZ',
  '\\777',
  '\\0',
  '\\000',
  '"',
  '\\"',
  '\\\\',
  '\\n',
  '\\74',
  '\\76',
];
const INSERTS = [
  '<',
  '>',
  '<unfinished ...>',
  '<... openat resumed>',
  ' (deleted)',
  '/*',
  '*/',
  '...',
  '[',
  ']',
  '{',
  '}',
  '(',
  ')',
  ',',
  '=',
  ' = ?',
  'AT_FDCWD</',
  '3</',
  '\x00',
  '\r',
  '\xff',
];
const PATHS = [
  '"/"',
  '"."',
  '".."',
  '"../../../../.."',
  '"//a/./b/../c/"',
  '""',
  '"a\\0b"',
  `"/${'d/'.repeat(500)}"`,
];
const EXITS = [
  '+++ exited with 0 +++',
  '+++ exited with 99999999999999999999 +++',
  '+++ killed by SIGKILL +++',
  '+++ killed by SIGSEGV (core dumped) +++',
  '+++ killed by +++',
  '+++ superseded by execve in pid 1 +++',
  '+++ exited with',
  '--- SIGCHLD {si_signo=SIGCHLD} ---',
];

type LogMutation = (lines: string[], rng: Random) => void;

function pickCall(lines: readonly string[], rng: Random): number {
  for (let tries = 0; tries < 8; tries++) {
    const index = rng.below(lines.length);
    if (CALL.test(lines[index] ?? '')) return index;
  }
  return -1;
}

function pidOf(line: string | undefined): string {
  return /^(\d+)/.exec(line ?? '')?.[1] ?? '1';
}

/** A complete call cut in two, the resumed half moved a few lines later (or dropped). */
const splitUnfinished: LogMutation = (lines, rng) => {
  const index = pickCall(lines, rng);
  if (index < 0) return;
  const match = CALL.exec(lines[index]!)!;
  const [, prefix, name, rest] = match;
  const cut = rng.below(rest!.length + 1);
  const head = `${prefix}${name}(${rest!.slice(0, cut)} <unfinished ...>`;
  const tail = `${prefix}<... ${rng.chance(0.9) ? name : 'openat'} resumed>${rest!.slice(cut)}`;
  lines[index] = head;
  if (rng.chance(0.1)) return; // never resumed
  const later = Math.min(lines.length, index + 1 + rng.below(6));
  lines.splice(later, 0, tail);
};

const orphanHalf: LogMutation = (lines, rng) => {
  const pid = pidOf(lines[rng.below(lines.length)]);
  const text = rng.pick([
    `${pid} <... openat resumed>) = 3</etc/passwd>`,
    `${pid} <... execve resumed>) = 0`,
    `${pid} <... clone resumed>, child_tidptr=0x7f) = ${rng.between(1, 99999)}`,
    `${pid} openat(AT_FDCWD</>, "/etc/hosts", O_RDONLY <unfinished ...>`,
    `${pid} execve("/bin/sh", ["sh"], 0x0 /* 0 vars */ <pid changed to ${rng.between(1, 9)} ...>`,
    `${pid} <... resumed>`,
    `${pid} openat(AT_FDCWD, "/x", O_RDONLY <detached ...>`,
  ]);
  lines.splice(rng.below(lines.length + 1), 0, text);
};

const dropLine: LogMutation = (lines, rng) => {
  if (lines.length > 0) lines.splice(rng.below(lines.length), 1 + (rng.chance(0.2) ? rng.below(8) : 0));
};

const repeatLine: LogMutation = (lines, rng) => {
  if (lines.length === 0) return;
  const index = rng.below(lines.length);
  const times = rng.chance(0.05) ? rng.between(100, 3000) : rng.between(1, 3);
  lines.splice(index, 0, ...new Array<string>(times).fill(lines[index]!));
};

const swapLines: LogMutation = (lines, rng) => {
  if (lines.length < 2) return;
  const a = rng.below(lines.length);
  const b = rng.below(lines.length);
  [lines[a], lines[b]] = [lines[b]!, lines[a]!];
};

const reorder: LogMutation = (lines, rng) => {
  if (lines.length < 2) return;
  const from = rng.below(lines.length);
  const part = lines.splice(from, rng.between(1, lines.length - from));
  lines.push(...(rng.chance(0.5) ? part.reverse() : part));
};

const changePid: LogMutation = (lines, rng) => {
  if (lines.length === 0) return;
  const index = rng.below(lines.length);
  const pid = rng.pick([
    pidOf(lines[rng.below(lines.length)]),
    '0',
    String(rng.between(1, 5)),
    '99999999999999999999',
    `[pid ${rng.between(1, 99999)}]`,
    '',
  ]);
  lines[index] = lines[index]!.replace(/^\d+/, pid);
};

/** Something inserted at a random place of a line: an escape, a quote, an annotation bracket. */
const insertToken: LogMutation = (lines, rng) => {
  if (lines.length === 0) return;
  const index = rng.below(lines.length);
  const line = lines[index]!;
  // Inside a quoted string more often than not, where escapes matter.
  const quote = line.indexOf('"');
  const at =
    quote >= 0 && rng.chance(0.6) ? quote + 1 + rng.below(line.length - quote) : rng.below(line.length + 1);
  const token = rng.chance(0.5) ? rng.pick(ESCAPES) : rng.pick(INSERTS);
  lines[index] = line.slice(0, at) + token + line.slice(at);
};

const replacePath: LogMutation = (lines, rng) => {
  const index = pickCall(lines, rng);
  if (index < 0) return;
  lines[index] = lines[index]!.replace(/"(?:[^"\\]|\\.)*"/, rng.pick(PATHS));
};

const replaceNumber: LogMutation = (lines, rng) => {
  if (lines.length === 0) return;
  const index = rng.below(lines.length);
  const numbers = [...lines[index]!.matchAll(/-?\d+/g)];
  if (numbers.length === 0) return;
  const number = rng.pick(numbers);
  const at = number.index ?? 0;
  lines[index] = lines[index]!.slice(0, at) + rng.pick(HUGE) + lines[index]!.slice(at + number[0].length);
};

const cutLine: LogMutation = (lines, rng) => {
  if (lines.length === 0) return;
  const index = rng.below(lines.length);
  const line = lines[index]!;
  const at = rng.below(line.length + 1);
  if (rng.chance(0.5)) lines[index] = line.slice(0, at);
  else lines.splice(index, 1, line.slice(0, at), line.slice(at));
};

const exitLine: LogMutation = (lines, rng) => {
  const pid = pidOf(lines[rng.below(Math.max(1, lines.length))]);
  lines.splice(rng.below(lines.length + 1), 0, `${pid} ${rng.pick(EXITS)}`);
};

/**
 * Many processes, each created by the one before, logged child first: a parser that meets a child
 * before its parent's clone returned has to work out the whole chain.
 */
const forkChain: LogMutation = (lines, rng) => {
  const length = rng.chance(0.3) ? rng.between(1000, 20000) : rng.between(2, 50);
  const first = rng.between(100, 1000);
  const chain: string[] = [];
  for (let k = length; k >= 1; k--) chain.push(`${first + k} chdir("/tmp") = 0`);
  for (let k = 0; k < length; k++) {
    const flags = rng.chance(0.5) ? 'CLONE_VM|CLONE_FS|CLONE_THREAD' : 'SIGCHLD';
    chain.push(`${first + k} clone(child_stack=NULL, flags=${flags}) = ${first + k + 1}`);
  }
  lines.splice(rng.below(lines.length + 1), 0, ...chain);
};

/** A long run of one character where the parser scans: inside a string, before a bracket, at the end. */
const longRun: LogMutation = (lines, rng) => {
  if (lines.length === 0) return;
  const index = rng.below(lines.length);
  const line = lines[index]!;
  const at = rng.below(line.length + 1);
  const run = rng
    .pick([' ', '\t', '\\', '"', '<', '(', '[', ',', 'a', '0', '/'])
    .repeat(rng.between(1000, 40000));
  lines[index] = line.slice(0, at) + run + line.slice(at);
};

const LOG_MUTATIONS: readonly LogMutation[] = [
  splitUnfinished,
  splitUnfinished,
  orphanHalf,
  dropLine,
  repeatLine,
  swapLines,
  reorder,
  changePid,
  changePid,
  insertToken,
  insertToken,
  insertToken,
  replacePath,
  replaceNumber,
  cutLine,
  exitLine,
  forkChain,
  longRun,
];

/** A mutant of a strace log seed (latin1 text). */
export function mutateStraceLog(seed: string, rng: Random, others: readonly string[]): string {
  if (rng.chance(0.1)) {
    const bytes = mutateBytes(
      Buffer.from(seed, 'latin1'),
      rng,
      others.map((other) => Buffer.from(other, 'latin1')),
    );
    return Buffer.from(bytes).toString('latin1');
  }
  const lines = seed.split('\n');
  const rounds = rng.count(6, 0.5);
  for (let i = 0; i < rounds; i++) rng.pick(LOG_MUTATIONS)(lines, rng);
  return lines.join('\n');
}
