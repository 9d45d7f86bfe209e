import { posix } from 'node:path';
import type { ExportedEntry, RecordEntry } from '@dit/exporter';
import { type ExportFacts, ReportTree } from './report.js';

/** One step up a chain: the path that pulled the previous one in, and how. */
export interface Hop {
  /** `needed by`, `interpreter of` or `link on the way to`. */
  readonly relation: string;
  /** The path as the reason names it, its folders resolved through the export's links. */
  readonly path: string;
}

/** Why a path is in: the hops from it to a cause that is not another path (the command, the trace, ...). */
export interface Chain {
  readonly hops: readonly Hop[];
  /** The cause at the end: `the command`, `opened by python3 (pid 12)`, `--include '/app/**'`. */
  readonly cause: string;
}

export interface Explanation {
  /** What was asked, as typed. */
  readonly query: string;
  /** The entry it names in the export (through links), or null when the export does not have it. */
  readonly path: string | null;
  readonly type: ExportedEntry['type'] | null;
  /** The Debian packages owning it, as dpkg names them. */
  readonly packages: readonly string[];
  /** One chain per distinct direct reason, each followed up the shortest way to its cause. */
  readonly chains: readonly Chain[];
}

/** Why each of `queries` (paths, paths through links, or file names) is in the export. */
export function explainPaths(report: ExportFacts, queries: readonly string[]): Explanation[] {
  const tree = new ReportTree(report);
  const explainer = new Explainer(tree);
  return queries.flatMap((query): Explanation[] => {
    const found = tree.find(query);
    if (found.length === 0) return [{ query, path: null, type: null, packages: [], chains: [] }];
    return found.map((entry) => {
      // A link to a file is in for what it leads to: explain the file behind it. A link to a folder
      // (`/lib -> usr/lib`) is in for the paths reached through it, not for the folder's reasons.
      const behind = entry.type === 'symlink' ? tree.resolve(entry.path) : null;
      const target = behind === null || behind.type === 'directory' ? entry : behind;
      return {
        query,
        path: target.path,
        type: target.type,
        packages: target.packages ?? [],
        chains: explainer.chains(target),
      };
    });
  });
}

/** `libnghttp2.so.14 ← needed by /usr/lib/x86_64-linux-gnu/libcurl.so.4 ← needed by /usr/bin/curl (the command)`. */
export function formatChain(query: string, chain: Chain): string {
  if (chain.hops.length === 0) return `${query} ← ${chain.cause}`;
  const hops = chain.hops.map((hop) => ` ← ${hop.relation} ${hop.path}`).join('');
  return `${query}${hops} (${chain.cause})`;
}

const FOLLOWED = /^(needed by|interpreter of|symlink on the way to) (\/.*)$/;

class Explainer {
  private readonly best = new Map<string, Chain | null>();
  private readonly visiting = new Set<string>();

  constructor(private readonly tree: ReportTree) {}

  /** A chain per distinct direct reason of `entry` (the same file named two ways counts once). */
  chains(entry: RecordEntry): Chain[] {
    const chains: Chain[] = [];
    const seen = new Set<string>();
    for (const reason of mergeTraced(entry.reasons)) {
      const chain = this.follow(entry, reason);
      if (chain === null) continue;
      const key =
        chain.hops.length === 0
          ? chain.cause
          : (this.tree.resolve(chain.hops[0]!.path)?.path ?? chain.hops[0]!.path);
      if (seen.has(key)) continue;
      seen.add(key);
      chains.push(chain);
    }
    return chains;
  }

  /** The chain starting with `reason` of `entry`, or null when it only loops back. */
  private follow(entry: RecordEntry, reason: string): Chain | null {
    const match = FOLLOWED.exec(reason);
    if (match === null) return { hops: [], cause: describeCause(reason) };
    const relation = match[1] === 'symlink on the way to' ? 'link on the way to' : match[1]!;
    const next = this.tree.resolve(match[2]!);
    // A path reached through a link is shown as written: the link is what the hop explains.
    const shown = relation === 'link on the way to' ? match[2]! : this.displayPath(match[2]!);
    if (next === null || next.path === entry.path)
      return { hops: [{ relation, path: shown }], cause: 'not in the export' };
    const rest = this.bestChain(next);
    if (rest === null) return null;
    return { hops: [{ relation, path: shown }, ...rest.hops], cause: rest.cause };
  }

  /** The best way up from `entry`: to the command or a --binary if any, else the shortest. */
  private bestChain(entry: RecordEntry): Chain | null {
    const known = this.best.get(entry.path);
    if (known !== undefined) return known;
    if (this.visiting.has(entry.path)) return null;
    this.visiting.add(entry.path);
    let best: Chain | null = null;
    for (const reason of mergeTraced(entry.reasons)) {
      const chain = this.follow(entry, reason);
      if (chain !== null && (best === null || rank(chain) < rank(best))) best = chain;
    }
    this.visiting.delete(entry.path);
    this.best.set(entry.path, best);
    return best;
  }

  /** A path with its folders resolved through the export's links, its own name kept (a soname link stays). */
  private displayPath(path: string): string {
    const folder = this.tree.resolve(posix.dirname(path));
    return folder === null ? path : posix.join(folder.path, posix.basename(path));
  }
}

/** Chains to what the user asked for (the command, a --binary) first, then the shorter. */
function rank(chain: Chain): number {
  const named = chain.cause === 'the command' || chain.cause === 'named by --binary';
  return (named ? 0 : 1000) + chain.hops.length;
}

/** `traced (open)` and `traced (stat)` of one file are one reason: the trace used it. */
function mergeTraced(reasons: readonly string[]): string[] {
  const merged: string[] = [];
  let traced: { kinds: string[]; by: string | undefined } | null = null;
  for (const reason of reasons) {
    const match = /^traced \(([^)]*)\)(?: by (.*))?$/.exec(reason);
    if (match === null) {
      merged.push(reason);
      continue;
    }
    if (traced === null) {
      traced = { kinds: [], by: match[2] };
      merged.push('');
    }
    for (const kind of match[1]!.split(', ')) if (!traced.kinds.includes(kind)) traced.kinds.push(kind);
    traced.by ??= match[2];
  }
  if (traced === null) return merged;
  const text = `traced (${traced.kinds.join(', ')})${traced.by === undefined ? '' : ` by ${traced.by}`}`;
  return merged.map((reason) => (reason === '' ? text : reason));
}

const VERBS: Record<string, string> = {
  exec: 'executed',
  open: 'opened',
  stat: "stat'ed",
  access: 'checked',
  readlink: 'read as a link',
  list: 'listed',
  chdir: 'entered',
  connect: 'connected to',
  statfs: 'statfs',
};

/** A cause that is not another path, in words. */
function describeCause(reason: string): string {
  if (reason === 'the check command') return 'the command';
  if (reason === 'named by --binary') return 'named by --binary';
  const traced = /^traced \(([^)]*)\)(?: by (.*))?$/.exec(reason);
  if (traced !== null) {
    const verbs = traced[1]!.split(', ').map((kind) => VERBS[kind] ?? kind);
    return `${verbs.join(', ')} by ${traced[2] ?? 'the traced command'}`;
  }
  const included = /^included by (.*)$/.exec(reason);
  if (included !== null) return `--include '${included[1]}'`;
  const runtime = /^runtime data: (.*)$/.exec(reason);
  if (runtime !== null) return runtime[1]!;
  const metadata = /^package metadata: (.*)$/.exec(reason);
  if (metadata !== null) return `for scanners: ${metadata[1]}`;
  const record = /^explain record: (.*)$/.exec(reason);
  if (record !== null) return record[1]!;
  if (reason === 'parent directory') return 'a folder on the way to exported files';
  if (reason === 'image skeleton') return 'part of every image';
  return reason;
}
