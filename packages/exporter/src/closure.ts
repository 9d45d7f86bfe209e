import { printableBytes } from '@dit/paths';
import { type ByteString, type Resolution, ResolveError, type Resolver } from '@dit/resolver';
import { ExportError } from './errors.js';
import { fileKind, findOnPath } from './programs.js';
import type { Selection } from './selection.js';

/**
 * The static half of the file set: for every ELF file selected, its libraries and loader, as the
 * loader would find them; for every `#!` script, its interpreter (recursively: an interpreter is a
 * program too). Runs until nothing new is added.
 *
 * What the user named (the command's program, every --binary) and everything their closures bring
 * in must be able to start: a library missing there is an error (EXPORT_LIBRARY_MISSING), as
 * `dit deps` says. A library missing for an ELF file only the trace found (a plugin the check did
 * not load) is a warning: the application ran without it.
 */
export class Closure {
  private readonly done = new Set<string>();
  /** Canonical paths of the named programs and of what their closures brought in. */
  private readonly required = new Set<string>();
  readonly warnings: string[] = [];
  /**
   * File names of libraries the traced run loaded. A library the program loads by path first
   * (the JVM dlopens .../server/libjvm.so) satisfies, by name, what its other libraries need
   * (libjava.so needs libjvm.so but has no search path to it): the loader matches a needed name
   * against the objects already loaded. A library missing by such a name is no gap.
   */
  private readonly loadedNames = new Set<string>();

  constructor(
    private readonly selection: Selection,
    private readonly resolver: Resolver,
    private readonly searchPath: string,
  ) {}

  /** What the traced run loaded (canonical or as named): see `loadedNames`. */
  markLoaded(paths: Iterable<string>): void {
    for (const path of paths) this.loadedNames.add(path.slice(path.lastIndexOf('/') + 1));
  }

  /**
   * Extends the selection with the closure of every regular file in it not yet visited. Each round
   * resolves its ELF files in one `resolveMany` call, the entry point `dit deps` uses too, then
   * applies the answers in selection order, as visiting them one by one would.
   */
  complete(onProgress?: (files: number) => void): void {
    let changed = true;
    while (changed) {
      changed = false;
      const round = [...this.selection.values()].filter(
        (entry) => entry.type === 'file' && !this.done.has(entry.path),
      );
      const kinds = round.map((entry) => fileKind(this.selection.fs.hostPath(entry.path)));
      const elfPaths = round.filter((_, index) => kinds[index]!.kind === 'elf').map((entry) => entry.path);
      const resolutions = new Map(
        this.resolver.resolveMany(elfPaths).map((answer, index) => [elfPaths[index]!, answer]),
      );
      round.forEach((entry, index) => {
        this.done.add(entry.path);
        if (entry.reasons.some((reason) => reason.kind === 'binary' || reason.kind === 'command'))
          this.required.add(entry.path);
        const kind = kinds[index]!;
        if (kind.kind === 'elf') this.visitElf(entry.path, resolutions.get(entry.path)!);
        else if (kind.kind === 'script') this.visitScript(entry.path, kind.interpreter, kind.argument);
        changed = true;
      });
      onProgress?.(this.done.size);
    }
  }

  /** Adds what `dlopen` names would bring in, resolved from `program` (NSS modules, ...). */
  addDlopened(program: string, names: readonly string[], why: string): void {
    let resolution: ReturnType<Resolver['resolve']>;
    try {
      resolution = this.resolver.resolve(program, { dlopen: names });
    } catch (error) {
      if (error instanceof ResolveError) return;
      throw error;
    }
    for (const library of resolution.libraries) {
      if (library.path === null) continue;
      const reason =
        typeof library.name === 'string' && names.includes(library.name)
          ? ({ kind: 'runtime-data', why } as const)
          : ({ kind: 'needed-by', by: shown(library.neededBy) } as const);
      this.selection.add(exportablePath(library.path, library.name, library.neededBy), reason);
    }
  }

  private visitElf(realPath: string, resolution: Resolution | ResolveError): void {
    // Object files, core dumps, corrupt files: copied as data, nothing to resolve.
    if (resolution instanceof ResolveError) return;
    const required = this.required.has(realPath);
    if (required) this.refuseUnableToStart(realPath, resolution);
    if (resolution.interpreter !== null) {
      const added = this.selection.add(resolution.interpreter, { kind: 'interpreter-of', of: realPath });
      if (required && added?.realPath) this.required.add(added.realPath);
    }
    for (const library of resolution.libraries) {
      if (library.path === null) continue;
      const path = exportablePath(library.path, library.name, library.neededBy);
      const added = this.selection.add(path, { kind: 'needed-by', by: shown(library.neededBy) });
      if (required && added?.realPath) this.required.add(added.realPath);
    }
    for (const missing of resolution.missing) {
      if (!required && typeof missing.name === 'string' && this.loadedNames.has(missing.name)) continue;
      this.warnings.push(
        `${shown(missing.name)} (needed by ${shown(missing.neededBy)}) was not found: ${realPath} may not start`,
      );
    }
    if (resolution.failure) {
      this.warnings.push(
        `the loader would refuse ${realPath}: ${shown(resolution.failure.path)}: ${resolution.failure.message}`,
      );
    }
  }

  /** A named program (or a library of one) that the loader could not start stops the export. */
  private refuseUnableToStart(realPath: string, resolution: Resolution): void {
    const problems = resolution.missing.map(
      (missing) => `${shown(missing.name)} not found (needed by ${shown(missing.neededBy)})`,
    );
    if (resolution.failure) {
      const { path, message } = resolution.failure;
      problems.push(`the loader would stop: ${shown(path)}: ${message}`);
    }
    if (problems.length === 0) return;
    throw new ExportError(
      'EXPORT_LIBRARY_MISSING',
      `${problems.join('; ')}: ${realPath} would not start. Nothing was exported.`,
    );
  }

  private visitScript(realPath: string, interpreter: string, argument: string | null): void {
    const added = this.selection.add(interpreter, { kind: 'interpreter-of', of: realPath });
    if (added === null || added.realPath === null) {
      this.warnings.push(`${realPath}: its interpreter ${interpreter} does not exist`);
      return;
    }
    // `#!/usr/bin/env python3`: env runs a program found on PATH, which must come along too.
    if (/(^|\/)env$/.test(interpreter) && argument !== null) {
      const program = argument.split(/\s+/).find((word) => !word.startsWith('-') && !word.includes('='));
      if (program !== undefined) {
        const found = findOnPath(this.selection.fs, program, this.searchPath, '/');
        if (found === null) this.warnings.push(`${realPath}: \`env ${program}\` finds nothing on PATH`);
        else this.selection.add(found, { kind: 'interpreter-of', of: realPath });
      }
    }
  }
}

/** A name or path for a message: as it is, or its bytes with `\xNN` where it is not UTF-8. */
function shown(name: ByteString): string {
  return typeof name === 'string' ? name : printableBytes(name);
}

/** A library's path for the selection; one that is not UTF-8 is refused, as names.ts refuses others. */
function exportablePath(path: ByteString, name: ByteString, neededBy: ByteString): string {
  if (typeof path === 'string') return path;
  throw new ExportError(
    'EXPORT_NAME_NOT_UTF8',
    `${shown(path)} (the library ${shown(name)}, needed by ${shown(neededBy)}): the name is not UTF-8, ` +
      'which dit export does not handle yet; rename it. Nothing was exported.',
  );
}
