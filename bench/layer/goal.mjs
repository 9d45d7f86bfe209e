// The goals of the layer benchmark (issue 12 item 6): dit's native layer writer against
// `tar | pigz -p NPROC -6 -n` with both SHA-256 sums, on the files of the node export. `time`: dit's
// median over pigz's, at most this; `size`: dit's blob over pigz's, at most this.

export const LAYER_GOALS = Object.freeze({ timeVsPigz: 1, sizeVsPigz: 1.03 });
