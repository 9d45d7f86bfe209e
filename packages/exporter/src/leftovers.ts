import { randomBytes } from 'node:crypto';
import { lstatSync, mkdirSync, readdirSync, renameSync, rmSync } from 'node:fs';
import { posix } from 'node:path';

/**
 * What killed runs of dit leave at an output, and how the next run finishes or undoes it. The
 * staging and aside folders (staging.ts) carry the pid of the run that made them; a folder whose
 * run is gone is a leftover, one whose run is alive belongs to that run and is never touched.
 */

const LEFTOVER_INSIDE = /^\.dit-(staging|old|replaced)-(\d+)-[0-9a-f]+$/;

/** A name dit itself puts inside a target that is a mount point (not the user's content). */
export function isDitLeftover(name: string): boolean {
  return LEFTOVER_INSIDE.test(name);
}

/**
 * Finishes or undoes what killed runs left at `canonical` (dead pids only; a live run's folders are
 * its own), so that the checks see what the user has there. Best effort: a folder that cannot be
 * written has no leftovers, and the staging step reports why it cannot be written.
 */
export function recoverKilledRuns(canonical: string): void {
  try {
    recoverSiblings(canonical);
    if (exists(canonical)) recoverInside(canonical);
  } catch {
    // See above: nothing to recover where nothing could be written.
  }
}

/** Cleans up after killed runs that staged beside `canonical`. */
function recoverSiblings(canonical: string): void {
  const parent = posix.dirname(canonical);
  const prefix = `.${posix.basename(canonical)}.dit-`;
  for (const name of readdirSync(parent)) {
    if (!name.startsWith(prefix)) continue;
    const match = /^(staging|old)-(\d+)-[0-9a-f]+$/.exec(name.slice(prefix.length));
    if (match === null || isAlive(Number(match[2]))) continue;
    const path = posix.join(parent, name);
    if (match[1] === 'old' && !exists(canonical)) {
      // Killed between its two renames: the old content was moved aside and nothing took its place.
      renameSync(path, canonical);
    } else {
      rmSync(path, { recursive: true, force: true });
    }
  }
}

/** Cleans up after killed runs that staged inside `canonical` (a mount point). */
function recoverInside(canonical: string): void {
  for (const name of readdirSync(canonical)) {
    const match = LEFTOVER_INSIDE.exec(name);
    if (match === null || isAlive(Number(match[2]))) continue;
    const tag = name.slice(`.dit-${match[1]}-`.length);
    const path = posix.join(canonical, name);
    const staging = posix.join(canonical, `.dit-staging-${tag}`);
    if (match[1] === 'old') {
      // Killed while moving the old content aside: move it back, drop the new.
      moveEntries(path, canonical);
      rmSync(path, { recursive: true, force: true });
      rmSync(staging, { recursive: true, force: true });
    } else if (match[1] === 'replaced') {
      // Killed while moving the complete new content in: finish that, then drop the old.
      if (exists(staging)) {
        moveEntries(staging, canonical);
        rmSync(staging, { recursive: true, force: true });
      }
      rmSync(path, { recursive: true, force: true });
    } else if (!exists(posix.join(canonical, `.dit-replaced-${tag}`))) {
      rmSync(path, { recursive: true, force: true });
    }
  }
}

/** Renames every entry of `from` into `to` that `to` does not already have. */
export function moveEntries(from: string, to: string): void {
  for (const name of readdirSync(from)) {
    const destination = posix.join(to, name);
    if (!exists(destination)) renameSync(posix.join(from, name), destination);
  }
}

/**
 * The name a file is written under before it is renamed into `file` (never half-written): the pid
 * says whose it is, so sweepKilledRuns can tell a killed run's partial file from a live run's.
 */
export function partialFile(file: string): string {
  return `${file}.dit-partial-${process.pid}`;
}

/** What dit may leave in a folder it writes files into when it is killed: see sweepKilledRuns. */
const PARTIAL_FILE = /\.dit-partial-(\d+)$/;
const WORK_FOLDER = /^\.dit-(image|minify)-(\d+)-[0-9a-f]+$/;

/**
 * A private work folder in `parent` for this run (`.dit-KIND-PID-HEX`): image writing stages its
 * layer there, minify its unpacked root. The run removes it when it ends; sweepKilledRuns removes it
 * when the run was killed first.
 */
export function makeWorkFolder(parent: string, kind: 'image' | 'minify'): string {
  const folder = posix.join(parent, `.dit-${kind}-${process.pid}-${randomBytes(4).toString('hex')}`);
  mkdirSync(folder, { mode: 0o700 });
  return folder;
}

/**
 * Removes from `folder` the partial files (partialFile) and work folders (makeWorkFolder) of dit
 * runs that are gone: killed before they could clean up, they would otherwise stay forever (a
 * minify's unpacked root is the size of the source image). A live run's are its own and stay. Best
 * effort: a folder that cannot be listed or written has nothing dit could have left there.
 */
export function sweepKilledRuns(folder: string): void {
  let names: string[];
  try {
    names = readdirSync(folder);
  } catch {
    return;
  }
  for (const name of names) {
    const pid = PARTIAL_FILE.exec(name)?.[1] ?? WORK_FOLDER.exec(name)?.[2];
    if (pid === undefined || isAlive(Number(pid))) continue;
    try {
      rmSync(posix.join(folder, name), { recursive: true, force: true });
    } catch {
      // Left for the next run: a leftover that cannot be removed harms nothing but space.
    }
  }
}

export function exists(path: string): boolean {
  try {
    return lstatSync(path, { throwIfNoEntry: false }) !== undefined;
  } catch {
    return false;
  }
}

function isAlive(pid: number): boolean {
  if (pid === process.pid) return true;
  try {
    process.kill(pid, 0);
    return true;
  } catch (error) {
    return (error as NodeJS.ErrnoException).code === 'EPERM';
  }
}
