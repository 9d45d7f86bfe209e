import { randomBytes } from 'node:crypto';
import {
  chmodSync,
  mkdirSync,
  readdirSync,
  readFileSync,
  renameSync,
  rmdirSync,
  rmSync,
  statSync,
} from 'node:fs';
import { posix } from 'node:path';
import { ExportError } from './errors.js';
import { exists, isDitLeftover, moveEntries } from './leftovers.js';
import type { OutputTarget } from './output.js';
import { describeWriteError } from './write-errors.js';

/**
 * Where a new export is built, and how it takes the place of the old content.
 *
 * The promise: dit never removes what was at --path unless the new export is complete, and the last
 * step is renames on one filesystem. The tree is built in a staging folder on the target's own
 * filesystem — beside the target when renames reach it, inside it when the target is a mount point
 * (a volume, `-v out:/export`) — and only once it is complete is the old content moved aside and the
 * new moved in. The names carry dit's pid, so the next run to the same --path can tell a killed run's
 * leftovers from a live run's and finish or undo what the killed one was doing.
 */
export interface StagedOutput {
  /** The folder the new tree is written into: the future root of the export. */
  readonly staging: string;
  /** Host paths that exist only for this run (never to be selected, traced into, or reported). */
  readonly scratch: readonly string[];
  /** Puts the staging tree in place of the target's content; the old content is removed last. */
  commit(): void;
  /** Removes the staging tree and any folder created for it; the target is left as it was. */
  discard(): void;
}

/**
 * Makes the staging folder for `target` (creating its missing parents, which `discard` removes
 * again), after cleaning up what killed runs left there. Fails with EXPORT_WRITE_FAILED, naming the
 * folder and the cause, when nothing can be written there: the check that the trace is worth
 * running.
 */
export function stageOutput(target: OutputTarget): StagedOutput {
  const { canonical } = target;
  const parent = posix.dirname(canonical);
  const created = makeParents(parent, target.path);
  const tag = `${process.pid}-${randomBytes(4).toString('hex')}`;
  try {
    const beside = posix.join(parent, `.${posix.basename(canonical)}.dit-staging-${tag}`);
    let besideError: unknown = null;
    try {
      mkdirSync(beside, { mode: 0o700 });
    } catch (error) {
      besideError = error;
    }
    if (besideError === null && (!target.exists || renamesReach(canonical))) {
      return besideTarget(target, beside, tag, created);
    }
    if (besideError === null) rmdirSync(beside);
    if (!target.exists) throw besideError;
    // The target is a mount point, or its parent cannot be written: stage inside the target itself.
    const inside = posix.join(canonical, `.dit-staging-${tag}`);
    mkdirSync(inside, { mode: 0o700 });
    return insideTarget(target, inside, tag);
  } catch (error) {
    removeCreated(created);
    if (error instanceof ExportError) throw error;
    throw writeFailed(target.path, error);
  }
}

/**
 * Whether renames reach from beside the target into it: not when the target is a mount point (a
 * volume, or a bind mount, which the kernel also treats as a boundary even on the same filesystem).
 * Found without touching the target: its device against its parent's, then the mount table.
 */
function renamesReach(canonical: string): boolean {
  if (statSync(canonical).dev !== statSync(posix.dirname(canonical)).dev) return false;
  return !mountPoints().has(canonical);
}

/** The mount points this process sees (none when /proc is not mounted, as in a bare chroot). */
function mountPoints(): Set<string> {
  let table: string;
  try {
    table = readFileSync('/proc/self/mountinfo', 'utf8');
  } catch {
    return new Set();
  }
  const points = new Set<string>();
  for (const line of table.split('\n')) {
    const field = line.split(' ')[4];
    // The kernel escapes blanks, tabs, newlines and backslashes in octal.
    if (field)
      points.add(
        field.replace(/\\([0-7]{3})/g, (_, octal) => String.fromCharCode(Number.parseInt(octal, 8))),
      );
  }
  return points;
}

function besideTarget(target: OutputTarget, staging: string, tag: string, created: string[]): StagedOutput {
  const { canonical } = target;
  const aside = posix.join(posix.dirname(canonical), `.${posix.basename(canonical)}.dit-old-${tag}`);
  return {
    staging,
    scratch: [staging, aside],
    commit() {
      guardWrite(target.path, () => {
        // A target that appeared since the check (another process) is replaced like an existing one.
        let moved = false;
        try {
          renameSync(canonical, aside);
          moved = true;
        } catch (error) {
          if ((error as NodeJS.ErrnoException).code !== 'ENOENT') throw error;
        }
        try {
          renameSync(staging, canonical);
        } catch (error) {
          if (moved) renameSync(aside, canonical); // put the old content back; the error stands
          throw error;
        }
        if (moved) rmSync(aside, { recursive: true, force: true });
      });
    },
    discard() {
      rmSync(staging, { recursive: true, force: true });
      removeCreated(created);
    },
  };
}

function insideTarget(target: OutputTarget, staging: string, tag: string): StagedOutput {
  const { canonical } = target;
  const aside = posix.join(canonical, `.dit-old-${tag}`);
  const replaced = posix.join(canonical, `.dit-replaced-${tag}`);
  return {
    staging,
    scratch: [staging, aside, replaced],
    commit() {
      guardWrite(target.path, () => {
        // Phase 1: the old content moves aside (undone by the next run if this one is killed).
        const old = readdirSync(canonical).filter((name) => !isDitLeftover(name));
        if (old.length > 0) {
          mkdirSync(aside, { mode: 0o700 });
          for (const name of old) renameSync(posix.join(canonical, name), posix.join(aside, name));
          // The marker that phase 1 is complete: from here on, a killed run is finished, not undone.
          renameSync(aside, replaced);
        }
        // Phase 2: the new content moves in.
        moveEntries(staging, canonical);
        rmdirSync(staging);
        chmodSync(canonical, 0o755);
        rmSync(replaced, { recursive: true, force: true });
      });
    },
    discard() {
      rmSync(staging, { recursive: true, force: true });
    },
  };
}

/** Creates the missing folders above the target; returns those it made, deepest last. */
function makeParents(parent: string, asked: string): string[] {
  const missing: string[] = [];
  for (let dir = parent; !exists(dir); dir = posix.dirname(dir)) missing.unshift(dir);
  try {
    for (const dir of missing) mkdirSync(dir);
  } catch (error) {
    removeCreated(missing);
    throw writeFailed(asked, error);
  }
  return missing;
}

function removeCreated(created: readonly string[]): void {
  for (const dir of [...created].reverse()) {
    try {
      rmdirSync(dir);
    } catch {
      // Not ours any more (something was put there) or already gone: leave it.
    }
  }
}

function guardWrite(path: string, step: () => void): void {
  try {
    step();
  } catch (error) {
    throw writeFailed(path, error);
  }
}

function writeFailed(path: string, error: unknown): ExportError {
  // dit's own staging names mean nothing to the user: the folder they asked for is what matters.
  const where = (error as NodeJS.ErrnoException).path;
  const named = where !== undefined && !where.includes('.dit-') ? ` ${where}` : '';
  return new ExportError(
    'EXPORT_WRITE_FAILED',
    `--path ${path}: cannot write${named}: ${describeWriteError(error)}`,
    { cause: error },
  );
}
