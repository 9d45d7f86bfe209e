/**
 * The body of `pnpm fuzz` (scripts/fuzz.mjs starts it under vitest, so that it loads the sources
 * exactly as the tests do). Reads its job from DIT_FUZZ_JOB (JSON): one target, and either a
 * campaign (seed, cases, seconds) or one seed to replay. Prints `@@progress TARGET N` lines for the
 * script's watchdog, `@@batch SEED` before each batch (the seed a hang is blamed on), and writes the
 * summary as JSON to `job.out`.
 */
import { writeFileSync } from 'node:fs';
import { it } from 'vitest';
import { describeFindings, runCampaign } from './campaign.js';
import { hex } from './target.js';
import { makeTarget, type TargetName, type TargetSettings } from './targets.js';

interface Job {
  readonly target: TargetName;
  readonly seed: number;
  readonly cases: number;
  readonly seconds?: number;
  readonly batch?: number;
  readonly replay?: number;
  /** Replay: where to write the mutant (a file; for an ELF case, a folder with the program and lib/). */
  readonly write?: string;
  readonly out: string;
  readonly settings?: TargetSettings;
}

// biome-ignore lint/suspicious/noUndeclaredEnvVars: set by scripts/fuzz.mjs for this file only, never by a turbo task
const job = JSON.parse(process.env.DIT_FUZZ_JOB ?? 'null') as Job | null;

it.skipIf(job === null)('fuzz', async () => {
  if (job === null) return;
  const target = makeTarget(job.target, job.settings);
  try {
    if (job.replay !== undefined) {
      let written: string | undefined;
      if (job.write !== undefined) {
        written = target.writeCase?.(job.replay, job.write) ?? job.write;
        if (target.writeCase === undefined) writeFileSync(job.write, target.mutant(job.replay));
      }
      const findings = await target.run([job.replay]);
      const text =
        findings.length === 0 ? `${job.target} ${hex(job.replay)}: no problem` : describeFindings(findings);
      writeFileSync(job.out, JSON.stringify({ replay: hex(job.replay), findings, text, written }, null, 1));
      return;
    }
    const batchSize = job.batch ?? 32;
    const announced = {
      ...target,
      run: (seeds: readonly number[]) => {
        process.stdout.write(`@@batch ${hex(seeds[0] ?? 0)}\n`);
        return target.run(seeds);
      },
    };
    const summary = await runCampaign([announced], {
      seed: job.seed,
      cases: { [job.target]: job.cases },
      seconds: job.seconds,
      batch: { [job.target]: batchSize },
      onProgress: (name, done) => process.stdout.write(`@@progress ${name} ${done}\n`),
    });
    writeFileSync(job.out, JSON.stringify(summary, null, 1));
  } finally {
    target.close();
  }
});
