// The goal of the export benchmark: `dit export --no-verify` within this many times the time of
// `tar -c | tar -x` of the same file list.

export const EXPORT_GOALS = Object.freeze({ vsTar: 1.5 });
