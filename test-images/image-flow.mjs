// A scenario built the second way: no FROM scratch stage, no COPY --from. The build stage's own
// `dit export` line runs again in one more stage with `--image docker-archive:...` instead of
// `--path /export` (and the final stage's ENTRYPOINT, CMD, USER, WORKDIR and EXPOSE as image
// options), the archive comes out with `podman build --output`, `podman load` loads it, and the
// scenario's own check runs it. The output must be the same as the Dockerfile flow's.

import { existsSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';

/** The Dockerfile's logical lines (continuations joined), as [instruction, rest]. */
function instructions(text) {
  return text
    .replace(/\\\n/g, ' ')
    .split('\n')
    .map((line) => line.trim())
    .filter((line) => line !== '' && !line.startsWith('#'))
    .map((line) => {
      const space = line.search(/\s/);
      return [line.slice(0, space).toUpperCase(), line.slice(space + 1).trim()];
    });
}

/** What the FROM scratch stage says about running the image, as `dit export` image options. */
function imageOptions(lines, exportLine) {
  const last = lines.findLastIndex(([op]) => op === 'FROM');
  const options = [];
  for (const [op, rest] of lines.slice(last + 1)) {
    if (op === 'ENTRYPOINT') options.push(`--entrypoint '${rest}'`);
    else if (op === 'CMD') options.push(`--cmd '${rest}'`);
    else if (op === 'WORKDIR') options.push(`--workdir ${rest}`);
    // The export line's own --user (the check runs as that user) is the image's User already.
    else if (op === 'USER') {
      if (!/--user\s/.test(exportLine)) options.push(`--user ${rest}`);
    } else if (op === 'EXPOSE') options.push(...rest.split(/\s+/).map((port) => `--expose ${port}`));
    else if (op !== 'COPY')
      throw new Error(`image flow: the final stage's ${op} has no dit export option here`);
  }
  return options.join(' ');
}

/**
 * The scenario's `RUN dit export --path /export ...` line (a shell command line, as RUN runs it) and
 * its final stage as image options: what the --image and minify flows (minify-flow.mjs) run instead
 * of the FROM scratch stage. One reading of the Dockerfile for both.
 */
export function exportSpec(dir, name) {
  const dockerfile = readFileSync(join(dir, 'Dockerfile'), 'utf8');
  const lines = instructions(dockerfile);
  const run = lines.find(([op, rest]) => op === 'RUN' && /^dit export .*--path \/export\b/.test(rest));
  if (run === undefined) throw new Error(`no "RUN dit export --path /export" in ${name}/Dockerfile`);
  return { dockerfile, exportLine: run[1], imageOptions: imageOptions(lines, run[1]) };
}

/**
 * Builds `dit-test/NAME-image` from the scenario's build stage with `dit export --image`, loads it,
 * and checks it as the scenario checks its final image. Returns a result row like runScenario's.
 */
export async function imageFlow({ name, dir, context, podman, build, expected, imageSize }) {
  const { dockerfile, exportLine: line, imageOptions: options } = exportSpec(dir, name);
  const tag = `localhost/dit-test/${name}-image:latest`;
  const exportLine = line.replace(
    /--path \/export\b/,
    `--image docker-archive:/dit-image.tar:${tag} ${options}`,
  );
  writeFileSync(
    join(context, 'Dockerfile.image'),
    `${dockerfile}\nFROM build AS dit-image\nRUN ${exportLine}\nFROM scratch AS dit-image-out\nCOPY --from=dit-image /dit-image.tar /\n`,
  );
  const out = mkdtempSync(join(tmpdir(), `dit-image-out-${name}-`));
  try {
    podman([
      ...build,
      '-f',
      join(context, 'Dockerfile.image'),
      '--target',
      'dit-image-out',
      '-o',
      `type=local,dest=${out}`,
      context,
    ]);
    podman(['load', '-i', join(out, 'dit-image.tar')]);
    const checkFile = join(dir, 'check.mjs');
    const output = existsSync(checkFile)
      ? await (await import(checkFile)).check({ image: tag, podman })
      : podman(['run', '--rm', '--network', 'none', tag]);
    const finalBytes = imageSize(tag);
    podman(['rmi', tag]);
    return { name: `${name} (--image)`, passed: output === expected, output, expected, finalBytes };
  } finally {
    rmSync(out, { recursive: true, force: true });
  }
}
