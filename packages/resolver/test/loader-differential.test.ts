/**
 * The real loader is the judge: for every dynamically linked ELF file of this machine under
 * /usr/bin, /usr/sbin and /usr/lib/x86_64-linux-gnu, glibc's ld.so in trace mode (what ldd runs) and
 * our resolver must name the same files (compared by real path) and the same missing names.
 */
import { realpathSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { createResolver, type Resolution } from '@dit/resolver';
import { describe, expect, it } from 'vitest';
import { listElfCorpusStats } from '../../../test-support/corpus.mjs';
import { loaderDiagnostics, loaderTraceMany } from '../../../test-support/ld-trace.mjs';

interface Oracle {
  libraries: { name: string; path: string | null }[];
  error: string | null;
  status: number | null;
}

function realSet(paths: (string | null)[]): Set<string> {
  const set = new Set<string>();
  for (const path of paths) {
    if (path === null) continue;
    try {
      set.add(realpathSync(join('/', path)));
    } catch {
      set.add(`unresolvable:${path}`);
    }
  }
  return set;
}

function difference(a: Set<string>, b: Set<string>): string[] {
  return [...a].filter((item) => !b.has(item)).sort();
}

/** A mismatch in words, or null when both agree. */
function compare(file: string, oracle: Oracle, ours: Resolution | Error): string | null {
  if (ours instanceof Error) return `${file}: we failed (${ours.message}), ld.so status ${oracle.status}`;
  const oracleFatal = oracle.status === 127 && oracle.libraries.length === 0;
  if (oracleFatal !== (ours.failure !== null)) {
    return `${file}: ld.so ${oracleFatal ? `fails (${oracle.error})` : 'succeeds'}, we ${ours.failure ? `fail (${ours.failure.message})` : 'succeed'}`;
  }
  if (oracleFatal) return null;
  const theirs = realSet(oracle.libraries.map((library) => library.path));
  const mine = realSet(ours.libraries.map((library) => library.realPath?.toString() ?? null));
  const theirMissing = new Set(oracle.libraries.filter((l) => l.path === null).map((l) => l.name));
  const myMissing = new Set(ours.missing.map((m) => m.name.toString()));
  const problems = [
    ...difference(theirs, mine).map((path) => `only ld.so loads ${path}`),
    ...difference(mine, theirs).map((path) => `only we load ${path}`),
    ...difference(theirMissing, myMissing).map((name) => `only ld.so misses ${name}`),
    ...difference(myMissing, theirMissing).map((name) => `only we miss ${name}`),
  ];
  return problems.length === 0 ? null : `${file}: ${problems.join('; ')}`;
}

describe('differential against glibc ld.so on this machine', () => {
  it('agrees on every dynamically linked file under /usr/bin, /usr/sbin, /usr/lib/x86_64-linux-gnu', async () => {
    const { files, stats } = listElfCorpusStats();
    expect(files.length).toBeGreaterThan(100); // a corpus too small to mean anything is a broken sweep
    const oracles = (await loaderTraceMany(files, { concurrency: 2 })) as Oracle[];
    const resolver = createResolver();
    const mismatches: string[] = [];
    files.forEach((file, index) => {
      let ours: Resolution | Error;
      try {
        ours = resolver.resolve(file);
      } catch (error) {
        ours = error as Error;
      }
      const mismatch = compare(file, oracles[index]!, ours);
      if (mismatch !== null) mismatches.push(mismatch);
    });
    // Results depend on the CPU (hwcaps, $PLATFORM): keep the loader's view next to the outcome.
    writeFileSync(
      join(tmpdir(), 'dit-differential.txt'),
      `${JSON.stringify(stats, null, 1)}\n${loaderDiagnostics()}\n${mismatches.join('\n')}\n`,
    );
    expect(mismatches, `${mismatches.length} of ${files.length} files differ`).toEqual([]);
  }, 900_000);
});
