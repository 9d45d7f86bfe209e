import { ElfError, type ElfFile } from '@dit/elf';
import { describeLookupError } from './describe.js';
import { ResolveError } from './errors.js';
import { type MainProgram, resolveGlibc } from './glibc.js';
import { defaultGlibcInterpreter, loaderFacts, loaderFamily } from './loader-facts.js';
import { resolveMusl } from './musl.js';
import { Session } from './session.js';
import type { Resolution, ResolveOptions } from './types.js';

export interface Resolver {
  /**
   * Which files the loader would load for `file` (a path inside the root, or relative to `cwd`).
   * Throws {@link ResolveError} when `file` itself is unusable; what the loader would not find is data.
   */
  resolve(file: string, extra?: ResolveExtra): Resolution;
  /**
   * `resolve` for many files, in order, with the caches of this resolver: one answer per file, the
   * {@link ResolveError} of a file that is itself unusable given as data in its place. The one entry
   * point of `dit deps` (tree and JSON) and of the exporter's closure.
   */
  resolveMany(files: readonly string[]): (Resolution | ResolveError)[];
}

export interface ResolveExtra {
  /** Names the program dlopen()s after start-up (NSS modules, plugins): resolved as the loader would, after its own needs. */
  readonly dlopen?: readonly string[];
}

/**
 * A resolver whose caches (parsed ELF files, ld.so.cache, directory lookups) are shared by every
 * call: resolving thousands of programs reads each library once.
 */
export function createResolver(options: ResolveOptions = {}): Resolver {
  const session = new Session(options);
  const resolveOne = (file: string, extra?: ResolveExtra) => resolveWith(session, file, extra?.dlopen ?? []);
  return {
    resolve: resolveOne,
    resolveMany: (files) =>
      files.map((file) => {
        try {
          return resolveOne(file);
        } catch (error) {
          if (error instanceof ResolveError) return error;
          throw error;
        }
      }),
  };
}

/** Resolves many files with one resolver: see {@link Resolver.resolveMany}. */
export function resolveMany(
  files: readonly string[],
  options: ResolveOptions = {},
): (Resolution | ResolveError)[] {
  return createResolver(options).resolveMany(files);
}

/** Resolves one file. For many files, {@link createResolver} shares the work between them. */
export function resolve(file: string, options: ResolveOptions = {}): Resolution {
  return createResolver(options).resolve(file);
}

function resolveWith(session: Session, file: string, dlopen: readonly string[]): Resolution {
  const lookup = session.fs.lookup(file, session.cwd);
  if (lookup.error !== null)
    throw new ResolveError('RESOLVE_BAD_INPUT', file, describeLookupError(lookup.error));
  if (lookup.type !== 'file') {
    throw new ResolveError(
      'RESOLVE_BAD_INPUT',
      file,
      lookup.type === 'directory' ? 'is a directory' : 'is not a regular file',
    );
  }
  let elf: ElfFile<string>;
  try {
    elf = session.elf(lookup.realPath!);
  } catch (error) {
    if (error instanceof ElfError)
      throw new ResolveError('RESOLVE_BAD_INPUT', file, error.problem, { cause: error });
    throw error;
  }
  // The kernel reads PT_INTERP to start a program; ld.so ignores a library's.
  if (elf.interpreterProblem !== null) {
    throw new ResolveError('RESOLVE_BAD_INPUT', file, elf.interpreterProblem);
  }
  const base = { file, fileLinks: lookup.links, missing: [], failure: null };
  if (elf.kind === 'relocatable' || elf.kind === 'other') {
    throw new ResolveError(
      'RESOLVE_BAD_INPUT',
      file,
      `not a program or shared library (ELF type ${elf.header.type})`,
    );
  }
  if (elf.kind === 'static' || elf.kind === 'static-pie') {
    return {
      ...base,
      loader: 'static',
      interpreter: null,
      interpreterLinks: [],
      interpreterRealPath: null,
      libraries: [],
    };
  }

  const interpreter = elf.interpreter ?? defaultGlibcInterpreter(elf.header.class, elf.header.machine);
  const interpreterLookup = session.fs.lookup(interpreter, session.cwd);
  const facts = loaderFacts(session.fs, interpreter, elf.header.class, elf.header.machine);
  const main: MainProgram = { path: file, lookup, elf };
  const result =
    facts.family === 'musl'
      ? resolveMusl(session, facts, main, dlopen)
      : resolveGlibc(session, facts, main, dlopen);
  const missing = [...result.missing];
  // The kernel opens PT_INTERP itself; without it the program cannot start at all.
  if (elf.interpreter !== null && interpreterLookup.error !== null) {
    missing.unshift({ name: elf.interpreter, neededBy: file });
  }
  return {
    ...base,
    loader: loaderFamily(interpreter) === 'unknown' ? 'unknown' : facts.family,
    interpreter: elf.interpreter,
    interpreterLinks: interpreterLookup.links,
    interpreterRealPath: interpreterLookup.realPath,
    libraries: result.libraries,
    missing,
    failure: result.failure,
  };
}
