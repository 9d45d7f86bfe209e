// One measured call of dit's layer writer, in a fresh Node process as `dit export --image` runs it:
// `node bench/layer/write.mjs FOLDER BLOB LEVEL`. Prints a JSON line: the layer, the time writeLayer
// took inside the process, and which implementation @dit/native chose (DIT_NATIVE decides).
// Imports the built modules (packages/image/dist, packages/native/dist), the layer writer's alone: the
// rest of @dit/image (the exporter, the ELF reader) is no part of writing a layer.

import { performance } from 'node:perf_hooks';
import { writeLayer } from '../../packages/image/dist/layer.js';
import { nativeStatus } from '../../packages/native/dist/choice.js';

const [folder, blob, level] = process.argv.slice(2);
const t0 = performance.now();
const layer = await writeLayer(folder, blob, { compression: 'gzip', level: Number(level) });
const ms = performance.now() - t0;
const status = nativeStatus();
console.log(JSON.stringify({ ...layer, ms, native: status.native }));
