#!/usr/bin/env node
// `pnpm bundle`: writes dist/dit.tar, dit that runs in any x86-64 Linux image. Unpacked into a folder
// (`ADD dit.tar /usr/local/bin/`) it gives:
//
//   dit                    a static launcher (apps/cli/bundle/launcher.c, musl-gcc -static)
//   dit.d/dit.cjs          the entry: runs cli/main.cjs
//   dit.d/cli/             the CLI's CommonJS bundles, exactly as `pnpm build` writes them for the
//                          installed command (scripts/build-cli.mjs), and the native addon
//   dit.d/bin/node         this machine's Node.js runtime
//   dit.d/bin/strace       strace, for tracing
//   dit.d/strace           the launcher again: run as "strace" it starts bin/strace
//   dit.d/lib/             every library both need, and the loader, as dit deps resolves them
//   dit.d/*.node           the native addon, when built
//
// Nothing depends on where it is unpacked: the launcher finds its folder from /proc/self/exe (or
// argv[0]) and starts Node through the bundled loader with --library-path and --inhibit-cache, so
// the image's own libraries are never seen.

import { execFileSync } from 'node:child_process';
import {
  chmodSync,
  copyFileSync,
  existsSync,
  mkdirSync,
  readdirSync,
  rmSync,
  statSync,
  writeFileSync,
} from 'node:fs';
import { basename, join } from 'node:path';
import { fileURLToPath } from 'node:url';

const REPO = fileURLToPath(new URL('..', import.meta.url));
// `--out DIR`: where the stage and dit.tar go (default dist/). With --quick, the CLI's bundles are
// built into DIR too, so a test's bundle never rewrites the installed command under other tests.
const outFlag = process.argv.indexOf('--out');
const OUT = outFlag > 0 ? process.argv[outFlag + 1] : join(REPO, 'dist');
const QUICK = process.argv.includes('--quick');
const CLI_BUILD = QUICK ? join(OUT, 'cli-build') : join(REPO, 'apps/cli/dist/cli');
const STAGE = join(OUT, 'dit-bundle');
const HOME = join(STAGE, 'dit.d');

function which(name) {
  return execFileSync('sh', ['-c', `command -v ${name}`], { encoding: 'utf8' }).trim();
}

function step(text) {
  process.stderr.write(`bundle: ${text}\n`);
}

rmSync(STAGE, { recursive: true, force: true });
mkdirSync(join(HOME, 'bin'), { recursive: true });
mkdirSync(join(HOME, 'lib'), { recursive: true });

// --quick: only the CLI's bundles are rebuilt from the sources (esbuild, a second or two), not the
// whole workspace with its type check; the hostile-input tests use it to carry the sources they test.
if (QUICK) {
  step('bundling the CLI from the sources');
  execFileSync(process.execPath, [join(REPO, 'scripts/build-cli.mjs'), '--out', CLI_BUILD], {
    cwd: REPO,
    stdio: 'inherit',
  });
} else {
  step('building the packages');
  execFileSync('pnpm', ['build', '--output-logs=errors-only'], { cwd: REPO, stdio: 'inherit' });
}

step('copying the CLI bundles');
// The same files the installed `dit` runs (apps/cli/dist/cli, from scripts/build-cli.mjs), with an
// entry of their own: apps/cli/bin/dit.cjs expects them one folder further away.
const CLI_DIR = join(HOME, 'cli');
mkdirSync(CLI_DIR);
for (const name of readdirSync(CLI_BUILD).filter((n) => n.endsWith('.cjs'))) {
  copyFileSync(join(CLI_BUILD, name), join(CLI_DIR, name));
}
writeFileSync(
  join(HOME, 'dit.cjs'),
  "'use strict';\n// dit.tar's entry (see scripts/bundle.mjs).\nrequire('./cli/main.cjs').main(process.argv.slice(2)).then((status) => {\n  process.exitCode = status;\n});\n",
);

step('compiling the launcher');
const launcher = join(STAGE, 'dit');
execFileSync('musl-gcc', ['-static', '-Os', '-s', '-o', launcher, join(REPO, 'apps/cli/bundle/launcher.c')], {
  stdio: 'inherit',
});
copyFileSync(launcher, join(HOME, 'strace'));
chmodSync(join(HOME, 'strace'), 0o755);

step('collecting the runtime with dit deps');
const programs = { node: process.execPath, strace: which('strace') };
const { createResolver } = await import(join(REPO, 'packages/resolver/dist/index.js'));
const resolver = createResolver();
/** Copies every library `path` loads into lib/, and returns its resolution; a missing one is an error. */
function bundleLibrariesOf(path) {
  const resolution = resolver.resolve(path);
  if (resolution.missing.length > 0)
    throw new Error(`${path}: missing ${resolution.missing.map((m) => m.name).join(', ')}`);
  for (const library of resolution.libraries) {
    // Saved under the name it is asked for, which is what the loader searches --library-path for.
    copyFileSync(library.realPath, join(HOME, 'lib', library.name));
  }
  return resolution;
}
for (const [name, path] of Object.entries(programs)) {
  copyFileSync(path, join(HOME, 'bin', name));
  chmodSync(join(HOME, 'bin', name), 0o755);
  const resolution = bundleLibrariesOf(path);
  copyFileSync(resolution.interpreterRealPath, join(HOME, 'lib', basename(resolution.interpreter)));
}

// The addon goes beside the bundles, where @dit/native's loader looks first; the libraries it needs
// (libgcc_s, libc) join Node's in lib/, so that it loads through the bundled loader like Node does.
const addon = readdirSync(join(REPO, 'packages/native')).find((name) => name.endsWith('.node'));
if (addon !== undefined) {
  step(`adding the native addon ${addon}`);
  const addonPath = join(REPO, 'packages/native', addon);
  copyFileSync(addonPath, join(CLI_DIR, addon));
  bundleLibrariesOf(addonPath);
}

step('writing dist/dit.tar');
const tarball = join(OUT, 'dit.tar');
execFileSync('tar', [
  '-C',
  STAGE,
  '--owner=0',
  '--group=0',
  '--numeric-owner',
  '--sort=name',
  '-cf',
  tarball,
  'dit',
  'dit.d',
]);
const size = statSync(tarball).size;
step(`dist/dit.tar: ${(size / 1024 / 1024).toFixed(1)} MiB`);
if (!existsSync(join(HOME, 'lib/ld-linux-x86-64.so.2'))) throw new Error('the loader was not bundled');
