/**
 * @dit/resolver: which shared libraries a program loads, decided the way glibc's ld.so or musl's
 * loader decides it, without running anything. See README.md for the rules it follows.
 */

export type { ByteString } from '@dit/elf';
export { type CpuProfile, hostCpuProfile, X86_64_HWCAPS, x86ProfileForLevel } from './cpu.js';
export { ResolveError, type ResolveErrorCode } from './errors.js';
export {
  abiCacheFlags,
  type LdCache,
  type LdCacheEntry,
  LdCacheError,
  libcmp,
  lookupLdCache,
  parseLdCache,
} from './ld-cache.js';
export { type GlibcFacts, type LoaderFacts, loaderFamily, type MuslFacts } from './loader-facts.js';
export { createResolver, type ResolveExtra, type Resolver, resolve, resolveMany } from './resolve.js';
export type {
  FoundBy,
  LoadFailure,
  MissingLibrary,
  Resolution,
  ResolvedLibrary,
  ResolveOptions,
} from './types.js';
