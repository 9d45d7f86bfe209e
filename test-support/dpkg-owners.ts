// dpkg itself as the judge of file ownership: `dpkg-query -S` over a root's database, turned into
// "who owns the file at this canonical path" with the two rules dpkg-query leaves to its reader:
//   - merged /usr: dpkg records the path a package shipped (`/lib/x86_64-linux-gnu/libc.so.6`), so
//     every alias spelling of a canonical path (`/usr/lib/...` -> `/lib/...`) is asked as well;
//   - diversions: dpkg-query prints "diversion by D from: F" / "to: T" and, for F, every package
//     listing F; the file at F is D's, the displaced copy at T belongs to the others (dpkg-divert(1)).

import { spawnSync } from 'node:child_process';

/** The spellings dpkg may have recorded for a canonical merged-/usr path. */
export function mergedUsrAliases(path: string): string[] {
  const aliases = [path];
  for (const folder of ['/usr/bin/', '/usr/sbin/', '/usr/lib/', '/usr/lib64/']) {
    if (path.startsWith(folder)) aliases.push(path.slice('/usr'.length));
  }
  return aliases;
}

interface QueryResult {
  /** Packages (as dpkg-query names them) listing each asked path. */
  readonly listedBy: Map<string, Set<string>>;
  /** Diversions dpkg-query reported, by `from` and by `to`. */
  readonly diversions: { from: string; to: string; by: string | null }[];
}

function query(admindir: string, paths: readonly string[]): QueryResult {
  const listedBy = new Map<string, Set<string>>();
  const diversions: QueryResult['diversions'] = [];
  for (let i = 0; i < paths.length; i += 1000) {
    const chunk = paths.slice(i, i + 1000);
    const run = spawnSync('dpkg-query', [`--admindir=${admindir}`, '-S', ...chunk], {
      encoding: 'utf8',
      maxBuffer: 256 * 1024 * 1024,
    });
    // Status 1 only says some path matched nothing (an application file): that is an answer too.
    if (run.status !== 0 && run.status !== 1) throw new Error(`dpkg-query -S failed: ${run.stderr}`);
    for (const line of run.stdout.split('\n')) {
      const divert = /^(?:diversion by (\S+)|local diversion) (from|to): (.*)$/.exec(line);
      if (divert !== null) {
        const by = divert[1] ?? null;
        // dpkg-query prints the `from` line, then the `to` line, of one diversion.
        if (divert[2] === 'from') diversions.push({ from: divert[3]!, to: '', by });
        else {
          const last = diversions.at(-1);
          if (last !== undefined && last.to === '') last.to = divert[3]!;
        }
        continue;
      }
      const owned = /^(.+?): (\/.*)$/.exec(line);
      if (owned === null) continue;
      const set = listedBy.get(owned[2]!) ?? new Set<string>();
      for (const pkg of owned[1]!.split(', ')) set.add(pkg);
      listedBy.set(owned[2]!, set);
    }
  }
  return { listedBy, diversions };
}

/**
 * The owners of each canonical path according to `dpkg-query --admindir=ADMINDIR -S`, as sets of
 * package names the way dpkg prints them (`libc6:amd64`, `bash`); an empty set for a file no
 * package owns. `aliases` gives the spellings to ask for each path.
 */
export function dpkgOwners(
  admindir: string,
  paths: readonly string[],
  aliases: (path: string) => string[] = mergedUsrAliases,
): Map<string, Set<string>> {
  const spellings = new Map(paths.map((path) => [path, aliases(path)]));
  const first = query(admindir, [...new Set([...spellings.values()].flat())]);
  // A displaced copy's owners are those listing the diverted path, which needs a second question.
  const divertedFrom = [...new Set(first.diversions.map((d) => d.from))];
  const second = divertedFrom.length > 0 ? query(admindir, divertedFrom) : first;
  const owners = new Map<string, Set<string>>();
  for (const [path, names] of spellings) {
    const result = new Set<string>();
    for (const name of names) {
      const diversionFrom = first.diversions.find((d) => d.from === name);
      for (const pkg of first.listedBy.get(name) ?? []) {
        if (diversionFrom === undefined || bareName(pkg) === diversionFrom.by) result.add(pkg);
      }
      const diversionTo = first.diversions.find((d) => d.to === name);
      if (diversionTo !== undefined) {
        for (const pkg of second.listedBy.get(diversionTo.from) ?? []) {
          if (bareName(pkg) !== diversionTo.by) result.add(pkg);
        }
      }
    }
    owners.set(path, result);
  }
  return owners;
}

function bareName(pkg: string): string {
  return pkg.split(':')[0]!;
}
