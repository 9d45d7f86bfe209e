/**
 * A Node.js program made from TypeScript source text that imports the workspace packages' sources
 * (bundled with esbuild, under the `source` condition), for tests that must run the libraries in a
 * process of their own: one they can SIGKILL, or whose stdout is a file.
 */
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { build, type Plugin } from 'esbuild';

const REPO = fileURLToPath(new URL('..', import.meta.url));

/**
 * A package's optional dependency that is not installed (a require() inside a try) stays a
 * require() in the bundle, as it is in Node, instead of failing the build.
 */
const missingStaysExternal: Plugin = {
  name: 'missing-stays-external',
  setup(on) {
    on.onResolve({ filter: /^[^./]/ }, async (args) => {
      if (args.pluginData?.retry === true) return undefined;
      const found = await on.resolve(args.path, {
        kind: args.kind,
        importer: args.importer,
        resolveDir: args.resolveDir,
        pluginData: { retry: true },
      });
      if (found.errors.length > 0) return { path: args.path, external: true };
      return {
        path: found.path,
        external: found.external,
        namespace: found.namespace,
        sideEffects: found.sideEffects,
      };
    });
  },
};

export interface NodeScript {
  /** The bundled program: run it with `process.execPath`. */
  readonly path: string;
  cleanup(): void;
}

export async function nodeScript(source: string): Promise<NodeScript> {
  const dir = mkdtempSync(join(tmpdir(), 'dit-script-'));
  const entry = join(REPO, `test-support/.script-${process.pid}-${Date.now()}.ts`);
  writeFileSync(entry, source);
  const path = join(dir, 'script.mjs');
  try {
    await build({
      entryPoints: [entry],
      outfile: path,
      bundle: true,
      platform: 'node',
      format: 'esm',
      target: 'node20',
      conditions: ['source'],
      alias: {
        '@dit/trace': join(REPO, 'packages/trace/src/index.ts'),
        '@dit/exporter': join(REPO, 'packages/exporter/src/index.ts'),
        '@dit/resolver': join(REPO, 'packages/resolver/src/index.ts'),
        '@dit/elf': join(REPO, 'packages/elf/src/index.ts'),
        '@dit/native': join(REPO, 'packages/native/src/index.ts'),
        '@dit/paths': join(REPO, 'packages/paths/src/index.ts'),
      },
      // Bundled CommonJS modules call require() for Node's built-ins.
      banner: {
        js: "import { createRequire as ditRequire } from 'node:module'; const require = ditRequire(import.meta.url);",
      },
      plugins: [missingStaysExternal],
      logLevel: 'silent',
    });
  } finally {
    rmSync(entry, { force: true });
  }
  return { path, cleanup: () => rmSync(dir, { recursive: true, force: true }) };
}
