/** The fuzz targets by name, each set up in a fresh temporary folder. */
import { mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { FuzzTarget } from './target.js';
import { elfTarget } from './target-elf.js';
import { ldCacheTarget } from './target-ld-cache.js';
import { straceTarget } from './target-strace.js';

export const TARGET_NAMES = ['elf', 'ld-cache', 'strace'] as const;
export type TargetName = (typeof TARGET_NAMES)[number];

export interface TargetSettings {
  /** ELF: ask ld.so about at most this many cases per batch (the long run; 0 in `pnpm test`). */
  readonly loaderPerBatch?: number;
  /** ELF: compare `dit deps --json` both ways on every Nth batch. */
  readonly cliEvery?: number;
  /** ld.so.cache: on every Nth case, resolve a fixture program through the mutant cache. */
  readonly differentialEvery?: number;
  /** ld.so.cache: ask ld.so on every Nth case (the long run; 0 in `pnpm test`). */
  readonly cacheLoaderEvery?: number;
}

export function makeTarget(name: TargetName, settings: TargetSettings = {}): FuzzTarget {
  const dir = mkdtempSync(join(tmpdir(), `dit-fuzz-${name}-`));
  switch (name) {
    case 'elf':
      return elfTarget(dir, { loaderPerBatch: settings.loaderPerBatch, cliEvery: settings.cliEvery });
    case 'ld-cache':
      return ldCacheTarget(dir, {
        differentialEvery: settings.differentialEvery,
        loaderEvery: settings.cacheLoaderEvery,
      });
    case 'strace':
      return straceTarget(dir);
  }
}
