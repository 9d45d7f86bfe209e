// The goals of the deps benchmark (issue 10): `dit deps --json` over every dynamically linked ELF
// file of the machine in one call, against the loader run once per file and against lddtree, both
// measured in the same run.

export const DEPS_GOALS = Object.freeze({
  /** At least this many times faster than the loader once per file (what ldd does). */
  vsLoader: 20,
  /** At least this many times faster than one `lddtree -l` per file. */
  vsLddtree: 100,
});
