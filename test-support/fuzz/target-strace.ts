/**
 * The strace log parser under mutation: `parseStraceLog` must never throw, and what it returns must
 * be well-formed whatever the log says: every recorded path absolute and normalised (no `.`, `..`,
 * empty or NUL-holding segment), inside the root it was given; kinds, pids, errnos of the documented
 * shapes; every access made by a process of the table; at most 100 unparsed lines kept.
 */
import { mkdirSync, rmSync } from 'node:fs';
import { parseStraceLog } from '../../packages/trace/src/parse.js';
import type { AccessKind } from '../../packages/trace/src/types.js';
import { mutateStraceLog } from './mutate-strace.js';
import { Random } from './random.js';
import { buildStraceSeeds } from './seeds.js';
import { Counters, describeError, type Finding, type FuzzTarget } from './target.js';

const KINDS = new Set<AccessKind>([
  'exec',
  'open',
  'stat',
  'access',
  'readlink',
  'list',
  'chdir',
  'connect',
  'statfs',
]);
const ROOTS = ['/', '/tmp', '/usr'];

export function straceTarget(dir: string): FuzzTarget {
  mkdirSync(dir, { recursive: true });
  const seeds = buildStraceSeeds(dir);
  const texts = seeds.map((s) => s.data);
  const counters = new Counters();

  const mutantText = (seed: number): { text: string; root: string; cwd: string | undefined } => {
    const rng = new Random(seed);
    const text = mutateStraceLog(rng.pick(texts), rng, texts);
    return { text, root: rng.pick(ROOTS), cwd: rng.chance(0.5) ? '/' : undefined };
  };

  const check = (seed: number): string | null => {
    const { text, root, cwd } = mutantText(seed);
    let parsed: ReturnType<typeof parseStraceLog>;
    try {
      parsed = parseStraceLog(text, { root, cwd });
    } catch (error) {
      return `parseStraceLog threw ${describeError(error)}`;
    }
    counters.add('parsed');
    counters.add('accesses', parsed.accesses.length);
    if (parsed.unparsed.length > 0) counters.add('with unparsed lines');
    return wellFormed(parsed);
  };

  return {
    name: 'strace',
    counters,
    mutant: (seed) => Buffer.from(mutantText(seed).text, 'latin1'),
    close: () => rmSync(dir, { recursive: true, force: true }),
    async run(caseSeeds) {
      const findings: Finding[] = [];
      for (const seed of caseSeeds) {
        const problem = counters.timed(seed, () => check(seed));
        if (problem !== null) findings.push({ target: 'strace', seed, problem: problem.slice(0, 2000) });
      }
      return findings;
    },
  };
}

/** What is malformed in a parse, or null. */
export function wellFormed(parsed: ReturnType<typeof parseStraceLog>): string | null {
  const pids = new Set(parsed.processes.map((p) => p.pid));
  for (const access of parsed.accesses) {
    const problem =
      badPath(access.path) ??
      (access.realPath === null ? null : badPath(access.realPath)) ??
      (!KINDS.has(access.kind) ? 'an unknown kind' : null) ??
      (!Number.isInteger(access.pid) || access.pid < 0 ? 'a pid that is not a count' : null) ??
      (!pids.has(access.pid) ? 'a pid of no process' : null) ??
      (access.errno !== null && (access.ok || !/^E[A-Z0-9]+$/.test(access.errno))
        ? 'a malformed errno'
        : null) ??
      (typeof access.syscall !== 'string' || !/^[a-z_][a-z0-9_]*$/.test(access.syscall)
        ? 'a malformed syscall name'
        : null);
    if (problem !== null) return `${problem} in access ${JSON.stringify(access).slice(0, 300)}`;
  }
  for (const process of parsed.processes) {
    if (!Number.isInteger(process.pid) || process.pid < 0)
      return `a process pid that is not a count (${process.pid})`;
    if (process.exitCode !== null && !Number.isInteger(process.exitCode)) {
      return `an exit code that is not an integer (${process.exitCode})`;
    }
    for (const exec of process.execs) {
      const problem = badPath(exec.path);
      if (problem !== null) return `${problem} in an exec record`;
    }
  }
  if (parsed.unparsed.length > 100) return `more than 100 unparsed lines kept (${parsed.unparsed.length})`;
  if (!Number.isInteger(parsed.unresolved) || parsed.unresolved < 0)
    return `a bad unresolved count (${parsed.unresolved})`;
  return null;
}

function badPath(path: string): string | null {
  if (typeof path !== 'string' || !path.startsWith('/'))
    return `a path that is not absolute (${JSON.stringify(path)})`;
  if (path.includes('\0')) return `a path holding a NUL (${JSON.stringify(path)})`;
  if (path === '/') return null;
  const parts = path.slice(1).split('/');
  if (parts.some((part) => part === '' || part === '.' || part === '..')) {
    return `a path that is not normalised (${JSON.stringify(path)})`;
  }
  return null;
}
