/** What every fuzz target shares: how a case's failure is reported, and the counters of a run. */

export interface Finding {
  readonly target: string;
  /** The case's seed: `pnpm fuzz --target TARGET --replay SEED` rebuilds the same mutant. */
  readonly seed: number;
  readonly problem: string;
}

export interface FuzzTarget {
  readonly name: string;
  /** Runs one case per seed (in batches where the target is cheaper that way); returns the failures. */
  run(seeds: readonly number[]): Promise<Finding[]>;
  /** The mutant a seed makes, for a replay to write out. */
  mutant(seed: number): Uint8Array;
  /**
   * Where the mutant needs company (an ELF case: the program and its `lib/`), writes the whole case
   * into the folder `dir` for a replay and returns the file to look at; else undefined.
   */
  writeCase?(seed: number, dir: string): string;
  /** What the cases did (parsed, rejected with the typed error, judged by the loader, ...). */
  readonly counters: Counters;
  /** Called once at the end: temporary files go. */
  close(): void;
}

/** Named counts, plus the slowest case seen (reported, never asserted: no timings in pass/fail). */
export class Counters {
  readonly counts = new Map<string, number>();
  slowestMs = 0;
  slowestSeed: number | null = null;

  add(name: string, by = 1): void {
    this.counts.set(name, (this.counts.get(name) ?? 0) + by);
  }

  get(name: string): number {
    return this.counts.get(name) ?? 0;
  }

  timed<T>(seed: number, body: () => T): T {
    const start = performance.now();
    try {
      return body();
    } finally {
      const elapsed = performance.now() - start;
      if (elapsed > this.slowestMs) {
        this.slowestMs = elapsed;
        this.slowestSeed = seed;
      }
    }
  }

  toJSON(): Record<string, unknown> {
    return {
      ...Object.fromEntries([...this.counts].sort(([a], [b]) => a.localeCompare(b))),
      slowestCaseMs: Math.round(this.slowestMs * 10) / 10,
      slowestCaseSeed: this.slowestSeed,
    };
  }
}

export function describeError(error: unknown): string {
  if (error instanceof Error) {
    const frame = error.stack?.split('\n').find((line) => line.trim().startsWith('at ')) ?? '';
    return `${error.name}: ${error.message.split('\n')[0]} ${frame.trim()}`;
  }
  return String(error);
}

export const hex = (seed: number) => `0x${seed.toString(16).padStart(8, '0')}`;
