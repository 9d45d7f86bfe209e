/**
 * The fuzzer's only source of randomness: a small seeded generator (sfc32, seeded through
 * splitmix32), so that every case is a pure function of its seed. A failing case prints that seed;
 * `pnpm fuzz --target T --replay SEED` rebuilds exactly the same mutant on the same machine (the
 * seed corpora are compiled here, so another machine's compiler may give other bytes).
 */

/** splitmix32's finaliser: spreads every input bit over the output. */
export function mix32(value: number): number {
  let z = (value + 0x9e3779b9) | 0;
  z = Math.imul(z ^ (z >>> 16), 0x85ebca6b);
  z = Math.imul(z ^ (z >>> 13), 0xc2b2ae35);
  return (z ^ (z >>> 16)) >>> 0;
}

/**
 * The seed of case `index` of `target` in a campaign seeded `campaignSeed`: independent of how many
 * cases ran before, so one case can be replayed alone.
 */
export function caseSeed(campaignSeed: number, target: string, index: number): number {
  let h = mix32(campaignSeed >>> 0);
  for (let i = 0; i < target.length; i++) h = mix32(h ^ target.charCodeAt(i));
  return mix32(h ^ mix32(index >>> 0) ^ Math.floor(index / 0x1_0000_0000));
}

export class Random {
  private a: number;
  private b: number;
  private c: number;
  private d: number;

  constructor(readonly seed: number) {
    this.a = mix32(seed);
    this.b = mix32(this.a);
    this.c = mix32(this.b);
    this.d = 1;
    for (let i = 0; i < 12; i++) this.next();
  }

  /** A uniform 32-bit unsigned integer (sfc32). */
  next(): number {
    const t = (((this.a + this.b) | 0) + this.d) | 0;
    this.d = (this.d + 1) | 0;
    this.a = this.b ^ (this.b >>> 9);
    this.b = (this.c + (this.c << 3)) | 0;
    this.c = (this.c << 21) | (this.c >>> 11);
    this.c = (this.c + t) | 0;
    return t >>> 0;
  }

  /** An integer in [0, n); 0 when n <= 0. */
  below(n: number): number {
    if (n <= 0) return 0;
    if (n <= 0x1_0000_0000) return Math.floor((this.next() / 0x1_0000_0000) * n);
    return Math.floor(((this.next() * 0x1_0000_0000 + this.next()) / 2 ** 64) * n);
  }

  /** An integer in [low, high]. */
  between(low: number, high: number): number {
    return low + this.below(high - low + 1);
  }

  chance(probability: number): boolean {
    return this.next() / 0x1_0000_0000 < probability;
  }

  pick<T>(items: readonly T[]): T {
    if (items.length === 0) throw new RangeError('pick from an empty list');
    return items[this.below(items.length)]!;
  }

  /** Small numbers far more often than large ones: 1 + a geometric count, at most `max`. */
  count(max: number, continueProbability = 0.5): number {
    let n = 1;
    while (n < max && this.chance(continueProbability)) n++;
    return n;
  }

  /** A 64-bit unsigned value as a bigint. */
  u64(): bigint {
    return (BigInt(this.next()) << 32n) | BigInt(this.next());
  }
}
