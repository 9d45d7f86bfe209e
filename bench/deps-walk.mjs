// The dependency walk alone, in one fresh Node process: the native walk (@dit/native depsWalkNative)
// or the TypeScript resolver (@dit/resolver, one resolver for all files, as `DIT_NATIVE=0 dit deps`
// uses it), over the files listed in FILE_LIST (one path per line). Prints one JSON line:
// { impl, files, ms } where ms times only the walk: not Node's start-up, not the imports, not the
// output that `dit deps --json` writes. bench/run.mjs spawns it once per round and implementation.
//
//   node bench/deps-walk.mjs native|ts FILE_LIST

import { readFileSync } from 'node:fs';
import { performance } from 'node:perf_hooks';

const [impl, listFile] = process.argv.slice(2);
if ((impl !== 'native' && impl !== 'ts') || listFile === undefined) {
  process.stderr.write('usage: node bench/deps-walk.mjs native|ts FILE_LIST\n');
  process.exit(2);
}
const files = readFileSync(listFile, 'utf8').split('\n').filter(Boolean);
// The built packages, as the CLI loads them.
const { hostCpuProfile, createResolver } = await import('../packages/resolver/dist/index.js');
const { depsWalkNative } = await import('../packages/native/dist/index.js');
const cpu = hostCpuProfile();

let resolved = 0;
const t0 = performance.now();
if (impl === 'native') {
  const results = depsWalkNative(files, { root: '/', cwd: '/', libraryPath: null, useCache: true, cpu });
  if (results === undefined) throw new Error('the native walk is not available (build @dit/native)');
  resolved = results.filter((r) => !('unsupported' in r)).length;
} else {
  const resolver = createResolver({ root: '/', cwd: '/', useCache: true, cpu });
  for (const file of files) {
    try {
      resolver.resolve(file);
      resolved++;
    } catch {
      // A bad file is part of the corpus' answer, as for the CLI.
    }
  }
}
const ms = performance.now() - t0;
process.stdout.write(`${JSON.stringify({ impl, files: files.length, resolved, ms })}\n`);
