/**
 * Runs fuzz targets in batches, round robin, until each has run its share of cases or the time is
 * up, and sums up: cases and rate per target, what the cases did, and the findings grouped by kind
 * with the seeds that replay them.
 */
import { caseSeed } from './random.js';
import { type Finding, type FuzzTarget, hex } from './target.js';

export interface CampaignPlan {
  readonly seed: number;
  /** Cases per target name; a target missing here runs none. */
  readonly cases: Readonly<Record<string, number>>;
  /** Stop starting batches after this many seconds (default: no limit). */
  readonly seconds?: number;
  /** Cases per batch, per target (default 32). */
  readonly batch?: Readonly<Record<string, number>>;
  /** Called after each batch. */
  readonly onProgress?: (target: string, done: number, findings: number) => void;
}

export interface TargetSummary {
  readonly cases: number;
  readonly seconds: number;
  readonly casesPerSecond: number;
  readonly counters: Record<string, unknown>;
  readonly findings: number;
  /** Distinct problems (numbers and paths blurred), each with a few seeds that show it. */
  readonly kinds: { problem: string; count: number; seeds: string[] }[];
}

export interface CampaignSummary {
  readonly seed: string;
  readonly seconds: number;
  readonly totalCases: number;
  readonly targets: Record<string, TargetSummary>;
  readonly findings: Finding[];
}

const MAX_FINDINGS_KEPT = 200;

export async function runCampaign(
  targets: readonly FuzzTarget[],
  plan: CampaignPlan,
): Promise<CampaignSummary> {
  const started = performance.now();
  const deadline = plan.seconds === undefined ? Number.POSITIVE_INFINITY : started + plan.seconds * 1000;
  const done = new Map<string, number>();
  const elapsed = new Map<string, number>();
  const findings: Finding[] = [];
  const kinds = new Map<string, Map<string, { count: number; seeds: string[] }>>();
  const active = () =>
    targets.filter(
      (t) => (done.get(t.name) ?? 0) < (plan.cases[t.name] ?? 0) && performance.now() < deadline,
    );

  for (let batchTargets = active(); batchTargets.length > 0; batchTargets = active()) {
    for (const target of batchTargets) {
      const from = done.get(target.name) ?? 0;
      const size = Math.min(plan.batch?.[target.name] ?? 32, (plan.cases[target.name] ?? 0) - from);
      const seeds = Array.from({ length: size }, (_, k) => caseSeed(plan.seed, target.name, from + k));
      const t0 = performance.now();
      const found = await target.run(seeds);
      elapsed.set(target.name, (elapsed.get(target.name) ?? 0) + performance.now() - t0);
      done.set(target.name, from + size);
      for (const finding of found) {
        if (findings.length < MAX_FINDINGS_KEPT) findings.push(finding);
        const byProblem = kinds.get(target.name) ?? new Map();
        kinds.set(target.name, byProblem);
        const key = blur(finding.problem);
        const entry = byProblem.get(key) ?? { count: 0, seeds: [] };
        entry.count++;
        if (entry.seeds.length < 5) entry.seeds.push(hex(finding.seed));
        byProblem.set(key, entry);
      }
      plan.onProgress?.(target.name, from + size, found.length);
    }
  }

  const summaries: Record<string, TargetSummary> = {};
  let totalCases = 0;
  for (const target of targets) {
    const cases = done.get(target.name) ?? 0;
    if (cases === 0) continue;
    totalCases += cases;
    const seconds = (elapsed.get(target.name) ?? 0) / 1000;
    const byProblem = kinds.get(target.name) ?? new Map<string, { count: number; seeds: string[] }>();
    summaries[target.name] = {
      cases,
      seconds: Math.round(seconds * 10) / 10,
      casesPerSecond: Math.round(cases / Math.max(seconds, 0.001)),
      counters: target.counters.toJSON(),
      findings: [...byProblem.values()].reduce((sum, k) => sum + k.count, 0),
      kinds: [...byProblem].map(([problem, k]) => ({ problem, ...k })).sort((a, b) => b.count - a.count),
    };
  }
  return {
    seed: hex(plan.seed),
    seconds: Math.round((performance.now() - started) / 100) / 10,
    totalCases,
    targets: summaries,
    findings,
  };
}

/**
 * A problem's kind: its words before the JSON or the two sides it quotes, with quoted text, numbers
 * and paths blurred, so that a thousand mutants with the same fault count as one kind.
 */
function blur(problem: string): string {
  const head = problem.split(/ in access |: \{| \| /)[0] ?? problem;
  return head
    .replace(/"(?:[^"\\]|\\.)*"/g, '"…"')
    .replace(/\/[^\s:;,)'"|]*/g, '/…')
    .replace(/\d+/g, 'N')
    .slice(0, 160);
}

/** Findings as test failure text: each with its seed and the command that replays it. */
export function describeFindings(findings: readonly Finding[]): string {
  return findings
    .slice(0, 20)
    .map(
      (f) =>
        `[${f.target} seed ${hex(f.seed)}] ${f.problem}\n  replay: pnpm fuzz --target ${f.target} --replay ${hex(f.seed)}`,
    )
    .join('\n');
}
