import { ResolveError, type Resolver } from '@dit/resolver';
import { fileKind, findOnPath } from './programs.js';
import type { Selection } from './selection.js';

/**
 * The static half of the file set: for every ELF file selected, its libraries and loader, as the
 * loader would find them; for every `#!` script, its interpreter (recursively: an interpreter is a
 * program too). Runs until nothing new is added.
 */
export class Closure {
  private readonly done = new Set<string>();
  readonly warnings: string[] = [];

  constructor(
    private readonly selection: Selection,
    private readonly resolver: Resolver,
    private readonly searchPath: string,
  ) {}

  /** Extends the selection with the closure of every regular file in it not yet visited. */
  complete(onProgress?: (files: number) => void): void {
    let changed = true;
    while (changed) {
      changed = false;
      for (const entry of [...this.selection.values()]) {
        if (entry.type !== 'file' || this.done.has(entry.path)) continue;
        this.done.add(entry.path);
        this.visit(entry.path);
        changed = true;
      }
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
      const reason = names.includes(library.name)
        ? ({ kind: 'runtime-data', why } as const)
        : ({ kind: 'needed-by', by: library.neededBy } as const);
      this.selection.add(library.path, reason);
    }
  }

  private visit(realPath: string): void {
    const kind = fileKind(this.selection.fs.hostPath(realPath));
    if (kind.kind === 'elf') this.visitElf(realPath);
    else if (kind.kind === 'script') this.visitScript(realPath, kind.interpreter, kind.argument);
  }

  private visitElf(realPath: string): void {
    let resolution: ReturnType<Resolver['resolve']>;
    try {
      resolution = this.resolver.resolve(realPath);
    } catch (error) {
      // Object files, core dumps, corrupt files: copied as data, nothing to resolve.
      if (error instanceof ResolveError) return;
      throw error;
    }
    if (resolution.interpreter !== null) {
      this.selection.add(resolution.interpreter, { kind: 'interpreter-of', of: realPath });
    }
    for (const library of resolution.libraries) {
      if (library.path !== null)
        this.selection.add(library.path, { kind: 'needed-by', by: library.neededBy });
    }
    for (const missing of resolution.missing) {
      this.warnings.push(
        `${missing.name} (needed by ${missing.neededBy}) was not found: ${realPath} may not start`,
      );
    }
    if (resolution.failure) {
      this.warnings.push(
        `the loader would refuse ${realPath}: ${resolution.failure.path}: ${resolution.failure.message}`,
      );
    }
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
