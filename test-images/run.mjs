#!/usr/bin/env node
// `pnpm test:images`: builds every scenario folder here with podman, exactly as a user would build
// its Dockerfile (a Debian build stage that ADDs dit.tar and runs `dit export`, then FROM scratch),
// runs the final image with no network, and compares what it prints with the scenario's
// expected.txt. Records each final image's size against its build stage in README.md and sizes.svg.
//
//   node test-images/run.mjs [SCENARIO...]
//
// A scenario is a folder with a Dockerfile and expected.txt, and optionally check.mjs exporting
// `check({ image, podman })` that returns the output to compare (for servers, which must be started
// and asked), and prepare.mjs exporting `prepare({ context })`, run on the build context first. There is no Docker engine and no registry here: the `debian:bookworm-slim` base is made
// once with debootstrap and `podman import`, and kept in podman's storage.

import { execFileSync, spawnSync } from 'node:child_process';
import {
  cpSync,
  existsSync,
  mkdtempSync,
  readdirSync,
  readFileSync,
  rmSync,
  statfsSync,
  writeFileSync,
} from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { performance } from 'node:perf_hooks';
import { fileURLToPath } from 'node:url';
import { ensureDebianRoot } from '../test-support/debian-root.mjs';
import { imageFlow } from './image-flow.mjs';
import { minifyFlows } from './minify-flow.mjs';
import { packagesCheck, packagesCheckSelfTest, SELF_TEST } from './packages-check.mjs';

const HERE = fileURLToPath(new URL('.', import.meta.url));
const REPO = join(HERE, '..');
const TARBALL = join(REPO, 'dist', 'dit.tar');
// dit on this machine, for dit minify: the same bundle as dit.tar, unpacked by `pnpm bundle`.
const DIT = join(REPO, 'dist', 'dit-bundle', 'dit');
const BASE = 'debian:bookworm-slim';
// Every image and intermediate layer these builds make carries this label, so that the runner can
// find and delete the ones a later run superseded without touching anyone else's images.
const LABEL = 'dit.test-images=1';
// With vfs storage every layer is a full copy of the root below it, so a scenario's build chain
// takes 1-3 GB. Below this much free space a run would fail part-way with podman's own
// "no space left on device"; better to say so up front.
const MIN_FREE_BYTES = 4 * 1024 ** 3;

process.env.CONTAINERS_CONF ??= join(HERE, 'podman', 'containers.conf');
process.env.CONTAINERS_STORAGE_CONF ??= join(HERE, 'podman', 'storage.conf');

function log(text) {
  process.stderr.write(`test-images: ${text}\n`);
}

/** Runs podman; returns stdout, throws with the command's output on failure. */
function podman(args, options = {}) {
  const result = spawnSync('podman', args, { encoding: 'utf8', maxBuffer: 64 * 1024 * 1024, ...options });
  if (result.error) throw result.error;
  if (result.status !== 0) {
    const output = `${result.stdout ?? ''}${result.stderr ?? ''}`.trim().split('\n').slice(-40).join('\n');
    throw new Error(`podman ${args.join(' ')} exited with ${result.status}:\n${output}`);
  }
  return result.stdout;
}

function ensureBaseImage() {
  if (spawnSync('podman', ['image', 'exists', BASE]).status === 0) return;
  log(`making ${BASE} with debootstrap (once)`);
  const root = ensureDebianRoot();
  execFileSync('sh', ['-c', `tar -C "${root}" -c . | podman import - ${BASE}`], {
    stdio: ['ignore', 'ignore', 'inherit'],
  });
}

/**
 * Deletes the images of earlier runs that this run's builds replaced: each build re-tags
 * `dit-test/NAME` and `dit-test/NAME-build`, leaving the old images and the layers only they used
 * (ADD dit.tar, RUN dit export: a full root copy each under vfs) untagged and childless. Left alone
 * they filled the disk after a few dozen runs. The cached layers the current images build on (apt's
 * install) have children and stay.
 */
function pruneSupersededImages() {
  podman(['image', 'prune', '--force', '--filter', `label=${LABEL}`]);
}

/** Fails up front, naming the folder and the figures, when podman's storage is nearly full. */
function ensureFreeSpace() {
  const graphRoot = podman(['info', '--format', '{{.Store.GraphRoot}}']).trim();
  const { bavail, bsize } = statfsSync(graphRoot);
  const free = bavail * bsize;
  if (free < MIN_FREE_BYTES) {
    throw new Error(
      `podman's storage ${graphRoot} has ${(free / 1024 ** 3).toFixed(1)} GiB free; the scenarios need at least ${MIN_FREE_BYTES / 1024 ** 3} GiB (vfs copies the whole root for every layer)`,
    );
  }
}

function imageSize(image) {
  return Number(podman(['image', 'inspect', '--format', '{{.Size}}', image]).trim());
}

/** Every path in an image's file system, as its tar listing names it (no leading slash). */
function filesOf(image) {
  const id = podman(['create', image]).trim();
  try {
    const listing = execFileSync('sh', ['-c', `podman export ${id} | tar -t`], {
      encoding: 'utf8',
      maxBuffer: 256 * 1024 * 1024,
    });
    return new Set(listing.split('\n').map((line) => line.replace(/^\.\//, '').replace(/\/$/, '')));
  } finally {
    podman(['rm', '-f', id]);
  }
}

async function runScenario(name) {
  const dir = join(HERE, name);
  const context = mkdtempSync(join(tmpdir(), `dit-image-${name}-`));
  const started = performance.now();
  try {
    cpSync(dir, context, { recursive: true });
    cpSync(TARBALL, join(context, 'dit.tar'));
    const prepareFile = join(dir, 'prepare.mjs');
    if (existsSync(prepareFile)) await (await import(prepareFile)).prepare({ context });
    const image = `localhost/dit-test/${name}`;
    // The build stage alone first (to weigh it), then the whole file, which reuses its layers.
    const build = ['build', '--network', 'host', '--label', LABEL];
    podman([...build, '--target', 'build', '-t', `${image}-build`, context]);
    podman([...build, '-t', image, context]);
    const checkFile = join(dir, 'check.mjs');
    const checkImage = async (tag) =>
      existsSync(checkFile)
        ? await (await import(checkFile)).check({ image: tag, podman })
        : podman(['run', '--rm', '--network', 'none', tag]);
    const output = await checkImage(image);
    const expected = readFileSync(join(dir, 'expected.txt'), 'utf8');
    // absent.txt: what must not be in the final image (a shell, the clients the probes used).
    const absentFile = join(dir, 'absent.txt');
    const absent = existsSync(absentFile) ? readFileSync(absentFile, 'utf8').split('\n').filter(Boolean) : [];
    const absentFrom = (tag) => {
      const files = absent.length > 0 ? filesOf(tag) : new Set();
      return absent.filter((path) => files.has(path.replace(/^\/+/, '')));
    };
    const present = absentFrom(image);
    // The export's status.d against the build stage's dpkg (packages-check.mjs).
    const packages = packagesCheck({ buildImage: `${image}-build`, podman });
    const passed = output === expected && present.length === 0 && packages.passed;
    const problems = [
      ...(present.length > 0 ? [`the final image holds what it must not: ${present.join(', ')}`] : []),
      ...packages.problems.map((problem) => `status.d: ${problem}`),
    ];
    // The same scenario without a FROM scratch stage: dit export --image, podman load (image-flow.mjs).
    const viaImage = await imageFlow({ name, dir, context, podman, build, expected, imageSize }).catch(
      (error) => ({ name: `${name} (--image)`, passed: false, error: error.message }),
    );
    // The build stage as an existing image, made small by dit minify (minify-flow.mjs).
    const viaMinify = await minifyFlows({
      name,
      dir,
      podman,
      dit: DIT,
      buildImage: `${image}-build`,
      finalImage: image,
      expected,
      checkImage,
      absentFrom,
      imageSize,
      ensureFreeSpace,
    });
    return {
      viaImage: { ...viaImage, buildBytes: imageSize(`${image}-build`) },
      viaMinify,
      name,
      passed,
      ...(problems.length > 0 ? { error: problems.join('\n') } : {}),
      packages: packages.packages,
      output,
      expected,
      finalBytes: imageSize(image),
      buildBytes: imageSize(`${image}-build`),
      seconds: (performance.now() - started) / 1000,
    };
  } catch (error) {
    return { name, passed: false, error: error.message, seconds: (performance.now() - started) / 1000 };
  } finally {
    rmSync(context, { recursive: true, force: true });
  }
}

/**
 * dit.tar on its own, before any engine is involved: unpacked into an otherwise empty root it must
 * run (no libc, no shell, no /proc there), resolve a program inside that root, and hash with its
 * native addon.
 */
function bundleInEmptyRoot() {
  const root = mkdtempSync(join(tmpdir(), 'dit-empty-root-'));
  const started = performance.now();
  try {
    execFileSync('mkdir', ['-p', join(root, 'usr/local/bin')]);
    execFileSync('tar', ['-C', join(root, 'usr/local/bin'), '-xf', TARBALL]);
    const chroot = (args, env = {}) =>
      spawnSync('/usr/sbin/chroot', [root, '/usr/local/bin/dit', ...args], {
        encoding: 'utf8',
        env: { PATH: '/usr/local/bin', ...env },
      });
    const version = chroot(['--version']);
    // The bundled strace inside the empty root: its loader and libraries are all in dit.d.
    const deps = chroot(['deps', '--json', '/usr/local/bin/dit.d/bin/strace']);
    // The native addon loads there too (dit would quietly fall back to TypeScript if it did not).
    const hashed = chroot(['hash', '/usr/local/bin/dit'], { DEBUG: 'dit:native' });
    const native = /^dit:native hashing with the addon /.test(hashed.stderr) && hashed.status === 0;
    const output =
      `${version.stdout}${deps.status === 1 ? 'deps: the bundled strace needs libraries this empty root lacks\n' : `deps exited ${deps.status}: ${deps.stderr}`}` +
      (native ? 'hash: with the native addon\n' : `hash exited ${hashed.status}: ${hashed.stderr}`);
    const expected =
      `dit ${JSON.parse(readFileSync(join(REPO, 'apps/cli/package.json'), 'utf8')).version}\n` +
      'deps: the bundled strace needs libraries this empty root lacks\n' +
      'hash: with the native addon\n';
    return {
      name: 'bundle-in-empty-root',
      passed: output === expected,
      output,
      expected,
      seconds: (performance.now() - started) / 1000,
    };
  } catch (error) {
    return {
      name: 'bundle-in-empty-root',
      passed: false,
      error: error.message,
      seconds: (performance.now() - started) / 1000,
    };
  } finally {
    rmSync(root, { recursive: true, force: true });
  }
}

function mib(bytes) {
  return bytes / 1024 / 1024;
}

/** A horizontal bar chart, final image against build stage, on one logarithmic scale. */
function sizesSvg(results) {
  // The FROM scratch and --image rows, as before the minify flows: their rows are in the table.
  const rows = results.filter((r) => r.finalBytes !== undefined && !r.name.includes('(minify'));
  const width = 760;
  const left = 150;
  const barArea = width - left - 90;
  const max = Math.log10(Math.max(...rows.map((r) => mib(r.buildBytes)), 10));
  const min = Math.log10(0.5);
  const scale = (bytes) =>
    Math.max(2, ((Math.log10(Math.max(mib(bytes), 0.5)) - min) / (max - min)) * barArea);
  const rowHeight = 44;
  const height = 40 + rows.length * rowHeight + 30;
  const parts = [
    `<svg xmlns="http://www.w3.org/2000/svg" width="${width}" height="${height}" font-family="sans-serif" font-size="12" role="img">`,
    '<title>Image size of each scenario: build stage against the FROM scratch image</title>',
    `<rect width="100%" height="100%" fill="white"/>`,
    `<text x="${left}" y="20" font-size="14" font-weight="bold">Image size: build stage vs FROM scratch export (log scale)</text>`,
  ];
  rows.forEach((row, i) => {
    const y = 40 + i * rowHeight;
    parts.push(`<text x="${left - 8}" y="${y + 20}" text-anchor="end">${row.name}</text>`);
    parts.push(
      `<rect x="${left}" y="${y + 2}" width="${scale(row.buildBytes)}" height="16" fill="#c8c8c8"/>`,
    );
    parts.push(
      `<text x="${left + scale(row.buildBytes) + 4}" y="${y + 14}">${mib(row.buildBytes).toFixed(0)} MiB</text>`,
    );
    parts.push(
      `<rect x="${left}" y="${y + 20}" width="${scale(row.finalBytes)}" height="16" fill="#2b7bb9"/>`,
    );
    parts.push(
      `<text x="${left + scale(row.finalBytes) + 4}" y="${y + 32}">${mib(row.finalBytes).toFixed(1)} MiB</text>`,
    );
  });
  const legendY = height - 12;
  parts.push(
    `<rect x="${left}" y="${legendY - 10}" width="12" height="12" fill="#c8c8c8"/><text x="${left + 16}" y="${legendY}">build stage</text>`,
  );
  parts.push(
    `<rect x="${left + 110}" y="${legendY - 10}" width="12" height="12" fill="#2b7bb9"/><text x="${left + 126}" y="${legendY}">final image (FROM scratch)</text>`,
  );
  parts.push('</svg>');
  return `${parts.join('\n')}\n`;
}

function writeReadme(results, totalSeconds) {
  const readme = join(HERE, 'README.md');
  const text = readFileSync(readme, 'utf8');
  const rows = results
    .filter((r) => r.finalBytes !== undefined || !r.passed)
    .map((r) =>
      r.finalBytes === undefined
        ? `| ${r.name} | | | | | FAIL |`
        : `| ${r.name} | ${mib(r.buildBytes).toFixed(0)} MiB | ${mib(r.finalBytes).toFixed(1)} MiB | ${((1 - r.finalBytes / r.buildBytes) * 100).toFixed(1)}% | ${r.packages?.length ?? ''} | ${r.passed ? 'pass' : 'FAIL'} |`,
    );
  const table = [
    `Last run: ${new Date().toISOString().slice(0, 10)}, ${results.length} results (every scenario in each flow) in ${(totalSeconds / 60).toFixed(1)} minutes (podman ${podman(
      ['--version'],
    )
      .trim()
      .replace(/^podman version /, '')}, vfs storage).`,
    '',
    '![Image sizes](sizes.svg)',
    '',
    '| scenario | build stage | final image | saved | status.d packages | result |',
    '|---|---|---|---|---|---|',
    ...rows,
  ].join('\n');
  const start = '<!-- sizes:start -->';
  const end = '<!-- sizes:end -->';
  const updated = text.includes(start)
    ? text.replace(new RegExp(`${start}[\\s\\S]*${end}`), `${start}\n${table}\n${end}`)
    : `${text.trimEnd()}\n\n## Sizes\n\n${start}\n${table}\n${end}\n`;
  writeFileSync(readme, updated);
  writeFileSync(join(HERE, 'sizes.svg'), sizesSvg(results));
}

async function main() {
  const all = readdirSync(HERE, { withFileTypes: true })
    .filter((entry) => entry.isDirectory() && existsSync(join(HERE, entry.name, 'Dockerfile')))
    .map((entry) => entry.name)
    .sort();
  const wanted = process.argv.slice(2);
  const unknown = wanted.filter((name) => !all.includes(name));
  if (unknown.length > 0)
    throw new Error(`no such scenario: ${unknown.join(', ')} (have: ${all.join(', ')})`);
  const names = wanted.length > 0 ? wanted : all;
  const started = performance.now();

  if (spawnSync('podman', ['--version']).status !== 0) {
    throw new Error('podman is not installed: apt-get install podman buildah runc (scripts/setup.sh does)');
  }
  log('bundling dit.tar');
  execFileSync('pnpm', ['bundle'], { cwd: REPO, stdio: ['ignore', 'ignore', 'inherit'] });
  ensureBaseImage();
  pruneSupersededImages();
  ensureFreeSpace();

  const results = [];
  if (wanted.length === 0) {
    const result = bundleInEmptyRoot();
    log(
      `${result.name}: ${result.passed ? 'pass' : `FAIL\n${result.error ?? `${result.output} != ${result.expected}`}`}`,
    );
    results.push(result);
  }
  for (const name of names) {
    log(`${name}: building and running`);
    const result = await runScenario(name);
    results.push(result);
    for (const via of [result.viaImage, ...(result.viaMinify ?? [])].filter(Boolean)) {
      results.push(via);
      log(
        `${via.name}: ${via.passed ? `pass (${mib(via.finalBytes).toFixed(1)} MiB${via.seconds === undefined ? '' : `, ${via.seconds.toFixed(0)} s`})` : `FAIL\n${via.error ?? `${via.output} != ${via.expected}`}`}`,
      );
    }
    // Once per run, on the first build stage made: the status.d check must fail a tampered export.
    if (!results.some((r) => r.name === SELF_TEST) && result.buildBytes !== undefined) {
      const selfTest = packagesCheckSelfTest({ buildImage: `localhost/dit-test/${name}-build`, podman });
      results.push(selfTest);
      log(`${selfTest.name}: ${selfTest.passed ? 'pass' : `FAIL\n${selfTest.error}`}`);
    }
    // Now, not at the end: the peak stays at one scenario's new layers, not all seven's.
    pruneSupersededImages();
    if (result.passed) {
      log(
        `${name}: pass (${mib(result.finalBytes).toFixed(1)} MiB, build stage ${mib(result.buildBytes).toFixed(0)} MiB, status.d ${result.packages.length} packages = dpkg -S, ${result.seconds.toFixed(0)} s)`,
      );
    } else if (result.error) {
      log(`${name}: FAIL\n${result.error}`);
    } else {
      log(`${name}: FAIL: printed\n${result.output}\nexpected\n${result.expected}`);
    }
  }
  const seconds = (performance.now() - started) / 1000;
  if (wanted.length === 0) writeReadme(results, seconds);
  const passed = results.filter((r) => r.passed).length;
  console.log(`${passed} passed, ${results.length - passed} failed`);
  process.exitCode = passed === results.length ? 0 : 1;
}

await main();
