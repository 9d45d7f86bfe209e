/**
 * The ld.so.cache readers under mutation. Every case: the TypeScript parser returns a cache or
 * throws its typed `LdCacheError` (nothing else), holds no more entries than the file has room for,
 * and its lookups return a path or null for names present, absent and equal-by-libcmp. One case in
 * `differentialEvery` also puts the mutant at `/etc/ld.so.cache` of a fixture root whose program
 * needs libraries only the cache finds: the resolver must then give a resolution or its typed
 * `ResolveError` (ld.so judges it where `loaderEvery` lets it run).
 */
import { rmSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import {
  type CpuProfile,
  createResolver,
  hostCpuProfile,
  LdCacheError,
  lookupLdCache,
  parseLdCache,
  ResolveError,
  x86ProfileForLevel,
} from '../../packages/resolver/src/index.js';
import { loaderCacheTrace } from './loader-judge.js';
import { mutateLdCache } from './mutate-ld-cache.js';
import { mix32, Random } from './random.js';
import { buildLdCacheSeeds } from './seeds.js';
import { Counters, describeError, type Finding, type FuzzTarget } from './target.js';

const NAMES = [
  'libfoo.so.1',
  'libfoo.so.01',
  'libbar.so.1',
  'libnum.so.10',
  'libé.so.1',
  'libc.so.6',
  'nope',
  '',
];
const LOOKUPS = [
  { acceptedFlags: [0x0303], activeHwcaps: ['x86-64-v3', 'x86-64-v2'], isaLevel: 2, legacyHwcap: 0n },
  { acceptedFlags: [0x0303], activeHwcaps: [], isaLevel: 0, legacyHwcap: null },
  {
    acceptedFlags: [0x0001, 0x0003],
    activeHwcaps: ['x86-64-v2', '', 'x86-64-v2'],
    isaLevel: 31,
    legacyHwcap: 1n << 63n,
  },
];

export interface LdCacheTargetOptions {
  /** Resolve the fixture program through the mutant on every Nth case (0: never). */
  readonly differentialEvery?: number;
  /** Ask ld.so itself (a mount namespace and a process per case) on every Nth case (0: never). */
  readonly loaderEvery?: number;
}

export function ldCacheTarget(dir: string, options: LdCacheTargetOptions = {}): FuzzTarget {
  const { seeds, root, program, needed } = buildLdCacheSeeds(dir);
  const seedBytes = seeds.map((s) => s.data);
  // This machine's cache names this machine's files: ld.so would load them, the fixture root has none.
  const judgeable = new Set(seeds.filter((s) => s.name.startsWith('ldconfig')).map((s) => s.data));
  const loaderEvery = options.loaderEvery ?? 0;
  const counters = new Counters();
  const differentialEvery = options.differentialEvery ?? 4;
  const cpus: CpuProfile[] = [
    hostCpuProfile(),
    x86ProfileForLevel(0),
    x86ProfileForLevel(1),
    x86ProfileForLevel(3),
  ];

  const mutantOf = (seed: number): { data: Uint8Array; fixture: boolean } => {
    const rng = new Random(seed);
    const from = rng.pick(seedBytes);
    return { data: mutateLdCache(from, rng, seedBytes), fixture: judgeable.has(from) };
  };
  const mutant = (seed: number) => mutantOf(seed).data;

  /** ld.so's verdict on the mutant, compared with the TypeScript resolver's for this CPU. */
  const judgeCase = (data: Uint8Array): string | null => {
    const cacheFile = join(root, 'etc/ld.so.cache');
    writeFileSync(cacheFile, data);
    const theirs = loaderCacheTrace(root, cacheFile, program);
    if (theirs === null) return null;
    counters.add('judged by ld.so');
    let ours: ReturnType<ReturnType<typeof createResolver>['resolve']>;
    try {
      ours = createResolver({ root, cpu: cpus[0]! }).resolve(program);
    } catch (error) {
      return `the TypeScript resolver threw ${describeError(error)}`;
    }
    if ((theirs.fatal !== null) !== (ours.failure !== null)) {
      return `ld.so disagrees: ${theirs.fatal === null ? 'ld.so loads' : `ld.so stops (${theirs.fatal.slice(0, 200)})`}, we ${ours.failure === null ? 'load' : `stop (${ours.failure.message})`}`;
    }
    if (theirs.fatal !== null) return null;
    const mine = new Map(
      ours.libraries.map((l) => [String(l.name), l.path === null ? null : String(l.path)]),
    );
    const problems = needed
      .filter((name) => (theirs.libraries.get(name) ?? null) !== (mine.get(name) ?? null))
      .map(
        (name) =>
          `${name}: ld.so ${theirs.libraries.get(name) ?? 'not found'}, we ${mine.get(name) ?? 'not found'}`,
      );
    return problems.length === 0 ? null : `ld.so disagrees: ${problems.join('; ')}`;
  };

  const parseCase = (seed: number, data: Uint8Array): string | null => {
    let cache: ReturnType<typeof parseLdCache>;
    try {
      cache = parseLdCache(data, 'mutant');
    } catch (error) {
      if (error instanceof LdCacheError && error.code === 'LDCACHE_INVALID') {
        counters.add('rejected (typed LdCacheError)');
        return null;
      }
      return `parseLdCache threw ${describeError(error)}`;
    }
    counters.add(`parsed ${cache.format}`);
    // Entries are at least 12 bytes each: more would mean the parser invented some.
    if (cache.entries.length > data.length / 12)
      return `${cache.entries.length} entries from ${data.length} bytes`;
    for (const options of LOOKUPS) {
      for (const name of NAMES) {
        try {
          const found = lookupLdCache(cache, name, options);
          if (found !== null && typeof found !== 'string') return `lookupLdCache returned ${typeof found}`;
          if (found !== null) counters.add('lookups that found a path');
        } catch (error) {
          return `lookupLdCache(${JSON.stringify(name)}) threw ${describeError(error)} (seed ${seed})`;
        }
      }
    }
    return null;
  };

  const differentialCase = (seed: number, data: Uint8Array): string | null => {
    writeFileSync(join(root, 'etc/ld.so.cache'), data);
    const cpu = cpus[new Random(seed ^ 0x5a5a).below(cpus.length)]!;
    try {
      createResolver({ root, cpu }).resolve(program);
    } catch (error) {
      if (!(error instanceof ResolveError)) return `the resolver threw ${describeError(error)}`;
    }
    counters.add('resolved through the mutant');
    return null;
  };

  return {
    name: 'ld-cache',
    counters,
    mutant,
    close: () => rmSync(dir, { recursive: true, force: true }),
    async run(caseSeeds) {
      const findings: Finding[] = [];
      for (const seed of caseSeeds) {
        const { data, fixture } = mutantOf(seed);
        const problem = counters.timed(seed, () => {
          const parsed = parseCase(seed, data);
          // Chosen by the seed, so that a replayed case makes the same comparison.
          if (parsed !== null || differentialEvery === 0 || mix32(seed ^ 0xd1ff) % differentialEvery !== 0) {
            return parsed;
          }
          return differentialCase(seed, data);
        });
        // Chosen by the seed too; after the timing: a process per case is not the parser's cost.
        if (problem === null && fixture && loaderEvery > 0 && mix32(seed ^ 0x1d50) % loaderEvery === 0) {
          const verdict = judgeCase(data);
          if (verdict !== null) {
            counters.add('ld.so disagrees');
            findings.push({ target: 'ld-cache', seed, problem: verdict.slice(0, 2000) });
          }
          continue;
        }
        if (problem !== null) findings.push({ target: 'ld-cache', seed, problem: problem.slice(0, 2000) });
      }
      return findings;
    },
  };
}
