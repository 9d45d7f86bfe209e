// A scenario's build stage made small by `dit minify` (issue 12), as a user with an existing image
// and no Dockerfile to change would: `podman save` the build stage (docker-archive, then
// oci-archive), `dit minify SAVED DEST` on this machine with no daemon and the scenario's own export
// options and check (its `RUN dit export` line, read by image-flow.mjs's exportSpec), `podman load`
// the result, and check it exactly as the scenario checks its FROM scratch image.
//
// The source is the build stage, whose config says nothing about the application (no Entrypoint,
// Cmd bash or none, root): the final stage's ENTRYPOINT, CMD, WORKDIR, USER and EXPOSE are given
// as --entrypoint, --cmd, ... as the --image flow gives them, and the minified image's config must
// then equal the FROM scratch image's in those fields.
//
// The docker-archive flow also rewrites the save as Docker 25+'s `docker save` lays it out
// (docker25-archive.mjs; no Docker here) and minifies that too: the result must be the very bytes
// minified from podman's layout (or, for a server that writes its data while checked, the same
// config and files; see sameImage). The oci-archive flow also writes an oci: layout in the same run,
// and skopeo must read both as the same manifest.
//
// Saves are 300-1000 MB each under vfs: each is deleted as soon as it is minified, and each minified
// image once it is checked.

import { execFileSync, spawnSync } from 'node:child_process';
import { createHash } from 'node:crypto';
import { mkdirSync, mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { performance } from 'node:perf_hooks';
import { docker25Archive } from './docker25-archive.mjs';
import { exportSpec } from './image-flow.mjs';

/** The config fields the application's run depends on, which must come out as the final stage says. */
const RUN_FIELDS = ['Entrypoint', 'Cmd', 'User', 'WorkingDir', 'ExposedPorts', 'StopSignal'];

function runConfig(podman, image) {
  const config = JSON.parse(podman(['image', 'inspect', '--format', '{{json .Config}}', image]));
  return Object.fromEntries(
    RUN_FIELDS.map((field) => {
      const value = config[field];
      // Unset, empty and "/" all mean the same to a runtime for these fields.
      const empty =
        value === undefined || value === null || value === '' || (field === 'WorkingDir' && value === '/');
      return [field, empty || (typeof value === 'object' && Object.keys(value).length === 0) ? null : value];
    }),
  );
}

const sha256 = (file) => createHash('sha256').update(readFileSync(file)).digest('hex');

/** A docker-archive's config (JSON) and its one layer's listing (`tar -tv`: mode, owner, size, time, name). */
function describeArchive(file) {
  const read = (member) =>
    execFileSync('tar', ['-xOf', file, member], { encoding: 'utf8', maxBuffer: 64 * 1024 * 1024 });
  const [entry] = JSON.parse(read('manifest.json'));
  const config = JSON.parse(read(entry.Config));
  const listing = execFileSync('sh', ['-c', 'tar -xOf "$1" "$2" | tar -tv', 'list', file, entry.Layers[0]], {
    encoding: 'utf8',
    maxBuffer: 64 * 1024 * 1024,
  });
  return { config, listing };
}

/**
 * null when two minified docker-archives are the same image, else how they differ. The same bytes,
 * or, for a server that writes its own data while it is checked (postgres-server's pg_control,
 * statistics and WAL in the data folder --include brings), the same config but for the layer's
 * digest and the same files with the same sizes, modes, owners and times.
 */
function sameImage(one, other) {
  if (sha256(one) === sha256(other)) return null;
  const [a, b] = [describeArchive(one), describeArchive(other)];
  for (const image of [a, b]) image.config.rootfs.diff_ids = [];
  if (JSON.stringify(a.config) !== JSON.stringify(b.config)) return 'the image config differs';
  if (a.listing !== b.listing) return 'the layer holds other files';
  return null;
}

/**
 * `dit minify SOURCE DESTINATION...` with the scenario's export line: `dit export --path /export`
 * becomes `dit minify SOURCE DESTINATION...` followed by the final stage's image options.
 */
function minify({ dit, exportLine, imageOptions, source, destinations }) {
  const line = exportLine.replace(
    /^dit export --path \/export\b/,
    `'${dit}' minify '${source}' ${destinations.join(' ')} ${imageOptions}`,
  );
  if (line === exportLine)
    throw new Error(`the export line does not start with dit export --path /export: ${exportLine}`);
  // The export line is a shell command line (RUN runs it with sh -c): run it the same way.
  const result = spawnSync('sh', ['-c', line], { encoding: 'utf8', maxBuffer: 64 * 1024 * 1024 });
  if (result.status !== 0) {
    const said = `${result.stdout}${result.stderr}`.trim().split('\n').slice(-30).join('\n');
    throw new Error(`dit minify exited with ${result.status}:\n${line}\n${said}`);
  }
}

/**
 * Both minify flows of one scenario. `buildImage` and `finalImage` are the Dockerfile flow's
 * images; `checkImage(tag)` runs the scenario's check (check.mjs or a plain run); `absentFrom(tag)`
 * lists what absent.txt names that the image holds. Returns two result rows.
 */
export async function minifyFlows({
  name,
  dir,
  podman,
  dit,
  buildImage,
  finalImage,
  expected,
  checkImage,
  absentFrom,
  imageSize,
  ensureFreeSpace,
}) {
  const { exportLine, imageOptions } = exportSpec(dir, name);
  const wanted = runConfig(podman, finalImage);
  const rows = [];
  for (const format of ['docker-archive', 'oci-archive']) {
    const started = performance.now();
    const row = { name: `${name} (minify ${format})`, expected };
    const work = mkdtempSync(join(tmpdir(), `dit-minify-${name}-`));
    const tag = `localhost/dit-test/${name}-minify-${format === 'docker-archive' ? 'docker' : 'oci'}:latest`;
    try {
      ensureFreeSpace();
      // The same file name for every source: dit's history entry names it, and the Docker 25
      // layout's result is compared byte for byte with podman's.
      mkdirSync(join(work, 'podman'));
      const saved = join(work, 'podman', 'build.tar');
      podman(['save', '--format', format, '-o', saved, buildImage]);
      const out = join(work, 'minified.tar');
      const layout = join(work, 'layout');
      // The oci-archive flow writes an oci: layout too (--image adds a DEST), for skopeo below.
      const destinations =
        format === 'docker-archive'
          ? [`docker-archive:${out}:${tag}`]
          : [`oci-archive:${out}:${tag}`, `--image oci:${layout}:${tag}`];
      minify({ dit, exportLine, imageOptions, source: `${format}:${saved}`, destinations });
      const problems = [];
      if (format === 'docker-archive') {
        mkdirSync(join(work, 'docker25'));
        const docker25 = join(work, 'docker25', 'build.tar');
        docker25Archive(saved, docker25, `${buildImage}:latest`);
        rmSync(saved);
        const again = join(work, 'minified-docker25.tar');
        minify({
          dit,
          exportLine,
          imageOptions,
          source: `docker-archive:${docker25}`,
          destinations: [`docker-archive:${again}:${tag}`],
        });
        rmSync(docker25);
        const differs = sameImage(out, again);
        if (differs !== null) problems.push(`minified from the Docker 25 layout, ${differs}`);
        rmSync(again);
      } else {
        rmSync(saved);
        const inspect = (reference) =>
          JSON.parse(execFileSync('skopeo', ['inspect', reference], { encoding: 'utf8' })).Digest;
        const fromArchive = inspect(`oci-archive:${out}`);
        const fromLayout = inspect(`oci:${layout}:${tag}`);
        if (!fromArchive || fromArchive !== fromLayout)
          problems.push(`skopeo reads oci-archive as ${fromArchive} and oci: as ${fromLayout}`);
      }
      podman(['load', '-i', out]);
      rmSync(work, { recursive: true, force: true });
      row.output = await checkImage(tag);
      const present = absentFrom(tag);
      if (present.length > 0) problems.push(`the image holds what it must not: ${present.join(', ')}`);
      const got = runConfig(podman, tag);
      for (const field of RUN_FIELDS) {
        if (JSON.stringify(got[field]) !== JSON.stringify(wanted[field]))
          problems.push(
            `its ${field} is ${JSON.stringify(got[field])}, the FROM scratch image's ${JSON.stringify(wanted[field])}`,
          );
      }
      row.finalBytes = imageSize(tag);
      row.buildBytes = imageSize(buildImage);
      row.passed = row.output === expected && problems.length === 0;
      if (problems.length > 0) row.error = problems.join('; ');
    } catch (error) {
      row.passed = false;
      row.error = error.message;
    } finally {
      rmSync(work, { recursive: true, force: true });
      if (spawnSync('podman', ['image', 'exists', tag]).status === 0) podman(['rmi', '-f', tag]);
      row.seconds = (performance.now() - started) / 1000;
    }
    rows.push(row);
  }
  return rows;
}
