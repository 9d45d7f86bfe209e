/**
 * The ELF reader and the resolvers under mutation. Each case is a mutant of a seed program or
 * library, written where `$ORIGIN/lib` still reaches the seed libraries, then:
 * - @dit/resolver (TypeScript) must return a resolution or throw its typed `ResolveError`;
 * - `dit deps --json` in-process must exit 0, 1 or 2 and print exactly the same with and without
 *   `DIT_NATIVE=0` (the addon has no part in deps: the setting must change nothing), every stderr
 *   line a `dit: ` line (no stack trace);
 * - optionally (the long run), glibc's ld.so is the judge wherever it can trace the mutant; where we
 *   say it reads memory the file does not map (UNMAPPED_READ), its outcome is counted apart.
 */
import { chmodSync, mkdirSync, rmSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { main } from '../../apps/cli/src/main.js';
import { createResolver, hostCpuProfile, ResolveError } from '../../packages/resolver/src/index.js';
import { judgeWithLoader } from './loader-judge.js';
import { mutateElf } from './mutate-elf.js';
import { Random } from './random.js';
import { buildElfSeeds } from './seeds.js';
import { Counters, describeError, type Finding, type FuzzTarget } from './target.js';

export interface ElfTargetOptions {
  /** Run the CLI comparison on every Nth batch (1: all; 0: never). */
  readonly cliEvery?: number;
  /** Ask ld.so about at most this many cases per batch (0: never; it costs a process per case). */
  readonly loaderPerBatch?: number;
}

export function elfTarget(dir: string, options: ElfTargetOptions = {}): FuzzTarget {
  const { seeds, programs, libraries, mutantDir } = buildElfSeeds(dir);
  // The loader judge runs as nobody: it must be able to reach the mutants.
  for (const path of [dir, join(dir, 'corpus'), join(dir, 'corpus/lib'), mutantDir]) chmodSync(path, 0o755);
  const seedBytes = seeds.map((s) => s.data);
  const counters = new Counters();
  const cpu = hostCpuProfile();
  const cliEvery = options.cliEvery ?? 1;
  const loaderPerBatch = options.loaderPerBatch ?? 0;
  let batches = 0;

  /**
   * A case: a mutant program (its libraries intact), or an intact program whose `$ORIGIN/lib` holds
   * a mutant library, so that what the loaders do with a damaged candidate (skip it, or stop) is
   * tried too.
   */
  const makeCase = (seed: number): ElfCase => {
    const rng = new Random(seed);
    if (rng.chance(0.35)) {
      const library = rng.pick(libraries);
      const program = rng.pick(programs);
      return { bytes: mutateElf(library.data, rng, seedBytes), program: program.data, library: library.name };
    }
    return { bytes: mutateElf(rng.pick(seedBytes), rng, seedBytes), program: null, library: null };
  };

  /** Writes a case into its own folder; returns the program to resolve. */
  const writeCase = (caseDir: string, elfCase: ElfCase): string => {
    rmSync(caseDir, { recursive: true, force: true });
    mkdirSync(join(caseDir, 'lib'), { recursive: true, mode: 0o755 });
    for (const library of libraries) {
      const bytes = library.name === elfCase.library ? elfCase.bytes : library.data;
      writeFileSync(join(caseDir, library.name), bytes);
    }
    const program = join(caseDir, 'prog');
    writeFileSync(program, elfCase.program ?? elfCase.bytes);
    if (elfCase.program !== null) counters.add('cases with a mutant library');
    return program;
  };

  return {
    name: 'elf',
    counters,
    mutant: (seed) => makeCase(seed).bytes,
    writeCase: (seed, caseDir) => writeCase(caseDir, makeCase(seed)),
    close: () => rmSync(dir, { recursive: true, force: true }),
    async run(caseSeeds) {
      const findings: Finding[] = [];
      const report = (seed: number, problem: string) => findings.push({ target: 'elf', seed, problem });
      const files = caseSeeds.map((seed, slot) => writeCase(join(mutantDir, `case-${slot}`), makeCase(seed)));

      // 1. The TypeScript resolver, file by file.
      const resolver = createResolver({ cpu });
      const typescript = files.map((file, slot) =>
        counters.timed(caseSeeds[slot]!, () => {
          try {
            const resolution = resolver.resolve(file);
            counters.add(resolution.failure === null ? 'resolved' : 'loader-would-stop');
            if (resolution.missing.length > 0) counters.add('with-missing-libraries');
            return resolution;
          } catch (error) {
            if (error instanceof ResolveError) {
              counters.add('bad-input (typed ResolveError)');
              return error;
            }
            report(caseSeeds[slot]!, `the TypeScript resolver threw ${describeError(error)}`);
            return error as Error;
          }
        }),
      );

      // 2. The CLI, both ways.
      if (cliEvery > 0 && batches % cliEvery === 0)
        findings.push(...(await compareCli(caseSeeds, files, counters)));

      // 3. The loader, where it can judge.
      let judged = 0;
      for (let slot = 0; slot < files.length && judged < loaderPerBatch; slot++) {
        const ours = typescript[slot];
        if (ours === undefined || ours instanceof Error) continue;
        const verdict = judgeWithLoader(files[slot]!, ours);
        if (verdict === 'not-traceable') continue;
        judged++;
        counters.add('judged by ld.so');
        const unmapped = verdict?.match(/^unmapped-read: (.*)$/)?.[1];
        if (unmapped !== undefined) {
          counters.add(`we say ld.so reads unmapped memory; ld.so ${unmapped}`);
          continue;
        }
        if (verdict === 'program-filter') {
          counters.add('a DT_FILTER in the program (the trace mode skips it)');
          continue;
        }
        if (verdict === 'program-rejected') {
          counters.add('ld.so rejects the program itself');
          continue;
        }
        if (verdict !== null) {
          counters.add('ld.so disagrees');
          report(caseSeeds[slot]!, `ld.so disagrees: ${verdict}`);
        }
      }
      batches++;
      return findings;
    },
  };
}

interface ElfCase {
  /** The mutant. */
  readonly bytes: Uint8Array;
  /** The intact program that loads the mutant library, or null when the mutant is the program. */
  readonly program: Uint8Array | null;
  /** Which library (`lib/libfz1.so`...) the mutant replaces. */
  readonly library: string | null;
}

interface CliRun {
  status: number;
  stdout: string;
  stderr: string;
}

async function runDeps(files: readonly string[], native: boolean): Promise<CliRun> {
  const saved = process.env.DIT_NATIVE;
  if (native) delete process.env.DIT_NATIVE;
  else process.env.DIT_NATIVE = '0';
  const out: Buffer[] = [];
  const err: Buffer[] = [];
  const bytes = (text: string | Uint8Array) =>
    typeof text === 'string' ? Buffer.from(text) : Buffer.from(text);
  try {
    const status = await main(['deps', '--json', ...files], {
      stdout: (text) => out.push(bytes(text)),
      stderr: (text) => err.push(bytes(text)),
    });
    return {
      status,
      stdout: Buffer.concat(out).toString('latin1'),
      stderr: Buffer.concat(err).toString('latin1'),
    };
  } catch (error) {
    return { status: -1, stdout: '', stderr: `main threw ${describeError(error)}` };
  } finally {
    if (saved === undefined) delete process.env.DIT_NATIVE;
    else process.env.DIT_NATIVE = saved;
  }
}

/** What is wrong with one run on its own, or null. */
function badRun(run: CliRun, mode: string): string | null {
  if (![0, 1, 2].includes(run.status))
    return `${mode}: exit status ${run.status}: ${run.stderr.slice(0, 300)}`;
  const stray = run.stderr.split('\n').find((line) => line !== '' && !line.startsWith('dit: '));
  if (stray !== undefined) return `${mode}: a stderr line that is not a dit: line: ${stray.slice(0, 200)}`;
  return null;
}

async function compareCli(
  seeds: readonly number[],
  files: readonly string[],
  counters: Counters,
): Promise<Finding[]> {
  const native = await runDeps(files, true);
  const typescript = await runDeps(files, false);
  counters.add(`cli-status-${typescript.status}`);
  const batchProblem =
    badRun(native, 'native') ??
    badRun(typescript, 'DIT_NATIVE=0') ??
    (native.status !== typescript.status ||
    native.stdout !== typescript.stdout ||
    native.stderr !== typescript.stderr
      ? 'dit deps --json prints differently with DIT_NATIVE=0'
      : null);
  if (batchProblem === null) return [];
  // Pin the batch's problem on its files, one run each way per file.
  const findings: Finding[] = [];
  for (let slot = 0; slot < files.length; slot++) {
    const one = [files[slot]!];
    const [n, t] = [await runDeps(one, true), await runDeps(one, false)];
    const problem =
      badRun(n, 'native') ??
      badRun(t, 'DIT_NATIVE=0') ??
      (n.status !== t.status || n.stdout !== t.stdout || n.stderr !== t.stderr
        ? `dit deps --json differs: native (status ${n.status}) ${n.stdout}${n.stderr} | DIT_NATIVE=0 (status ${t.status}) ${t.stdout}${t.stderr}`
        : null);
    if (problem !== null)
      findings.push({ target: 'elf', seed: seeds[slot]!, problem: problem.slice(0, 2000) });
  }
  if (findings.length === 0) {
    findings.push({ target: 'elf', seed: seeds[0]!, problem: `batch only (no file alone): ${batchProblem}` });
  }
  return findings;
}
