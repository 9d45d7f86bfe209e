import type { DpkgDatabase, DpkgPackage } from './database.js';

/** Which package each of a set of files came from. */
export interface Attribution {
  /** Packages owning at least one of the files, by id, with those files (in the order given). */
  readonly packages: ReadonlyMap<string, { readonly pkg: DpkgPackage; readonly paths: readonly string[] }>;
  /** Files no package owns (or every file, without a database): the application's own. */
  readonly applicationFiles: readonly string[];
}

/** Groups `paths` (absolute, as the root really has them) by owning package. */
export function attribute(database: DpkgDatabase | null, paths: Iterable<string>): Attribution {
  const packages = new Map<string, { pkg: DpkgPackage; paths: string[] }>();
  const applicationFiles: string[] = [];
  for (const path of paths) {
    const owners = database?.ownersOf(path) ?? [];
    if (owners.length === 0) applicationFiles.push(path);
    for (const pkg of owners) {
      const known = packages.get(pkg.id);
      if (known === undefined) packages.set(pkg.id, { pkg, paths: [path] });
      else known.paths.push(path);
    }
  }
  return { packages, applicationFiles };
}
