#!/usr/bin/env node
// `pnpm fuzz`: the long fuzzing campaign (test-support/fuzz/). Each target runs in its own process
// (vitest with test-support/fuzz/vitest.config.ts, so the sources load as in the tests), up to
// --jobs at a time, under a watchdog that calls a target hung when it reports no progress for
// --stall seconds and names the batch it was in. Prints a summary and writes it as JSON.
//
//   pnpm fuzz [--target elf|ld-cache|strace]... [--cases N | --cases TARGET=N,...] [--seconds S]
//             [--seed N] [--jobs N] [--loader N] [--cache-loader N] [--out FILE]
//   --loader N: ld.so judges up to N ELF cases per batch; --cache-loader N: every Nth cache case
//   pnpm fuzz --target TARGET --replay SEED [--write PATH]    one case again, its mutant to PATH
//                                                            (for elf a folder: prog and lib/)

import { spawn } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { dirname, join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import { parseArgs } from 'node:util';

const repo = resolve(dirname(fileURLToPath(import.meta.url)), '..');
const TARGETS = ['elf', 'ld-cache', 'strace'];

const { values } = parseArgs({
  options: {
    target: { type: 'string', multiple: true },
    cases: { type: 'string' },
    seconds: { type: 'string' },
    seed: { type: 'string' },
    jobs: { type: 'string', default: '2' },
    loader: { type: 'string', default: '4' },
    'cache-loader': { type: 'string', default: '20' },
    batch: { type: 'string' },
    stall: { type: 'string', default: '300' },
    replay: { type: 'string' },
    write: { type: 'string' },
    out: { type: 'string' },
    help: { type: 'boolean', short: 'h' },
  },
});

if (values.help) {
  console.log(
    readFileSync(fileURLToPath(import.meta.url), 'utf8')
      .split('\n')
      .slice(1, 10)
      .join('\n'),
  );
  process.exit(0);
}

const targets = values.target ?? TARGETS;
for (const target of targets) {
  if (!TARGETS.includes(target)) fail(`unknown target ${target} (one of ${TARGETS.join(', ')})`);
}
const number = (text, what) => {
  const value = Number(text);
  if (!Number.isFinite(value) || value < 0) fail(`${what} must be a number, got ${text}`);
  return value;
};
const seed = values.seed === undefined ? Date.now() % 0x1_0000_0000 : number(values.seed, '--seed');
const casesFor = parseCases(values.cases);
const work = mkdtempSync(join(tmpdir(), 'dit-fuzz-run-'));

if (values.replay !== undefined) {
  if (targets.length !== 1) fail('--replay needs exactly one --target');
  const out = join(work, 'replay.json');
  const job = {
    target: targets[0],
    seed,
    cases: 1,
    replay: number(values.replay, '--replay'),
    write: values.write === undefined ? undefined : resolve(values.write),
    out,
    settings: {
      loaderPerBatch: number(values.loader, '--loader'),
      cliEvery: 1,
      differentialEvery: 1,
      cacheLoaderEvery: 1,
    },
  };
  await runJob(job, () => {});
  const result = JSON.parse(readFileSync(out, 'utf8'));
  console.log(result.text);
  if (result.written) console.log(`the mutant: ${result.written}`);
  rmSync(work, { recursive: true, force: true });
  process.exit(result.findings.length === 0 ? 0 : 1);
}

const seconds = values.seconds === undefined ? undefined : number(values.seconds, '--seconds');
if (seconds === undefined && values.cases === undefined) fail('give a budget: --cases N and/or --seconds S');
const started = Date.now();
const results = {};
const queue = [...targets];
const jobs = Math.max(1, number(values.jobs, '--jobs'));
await Promise.all(
  Array.from({ length: Math.min(jobs, queue.length) }, async () => {
    for (let target = queue.shift(); target !== undefined; target = queue.shift()) {
      const out = join(work, `${target}.json`);
      const job = {
        target,
        seed,
        cases: casesFor(target),
        seconds,
        batch: values.batch === undefined ? undefined : number(values.batch, '--batch'),
        out,
        settings: {
          loaderPerBatch: number(values.loader, '--loader'),
          cliEvery: 2,
          differentialEvery: 4,
          cacheLoaderEvery: number(values['cache-loader'], '--cache-loader'),
        },
      };
      const outcome = await runJob(job, (line) => {
        if (line.startsWith('@@progress')) process.stderr.write(`\r${line.slice(11)}        `);
      });
      try {
        results[target] = JSON.parse(readFileSync(out, 'utf8'));
      } catch {
        results[target] = { error: outcome };
      }
    }
  }),
);
process.stderr.write('\n');

const summary = {
  seed: `0x${seed.toString(16).padStart(8, '0')}`,
  seconds: Math.round((Date.now() - started) / 1000),
  cpus: (await import('node:os')).cpus().length,
  totalCases: Object.values(results).reduce((sum, r) => sum + (r.totalCases ?? 0), 0),
  targets: Object.fromEntries(Object.entries(results).map(([t, r]) => [t, r.targets?.[t] ?? r])),
  findings: Object.values(results).flatMap((r) => r.findings ?? []),
};
const outFile = resolve(values.out ?? join(tmpdir(), `dit-fuzz-${summary.seed}.json`));
writeFileSync(outFile, `${JSON.stringify(summary, null, 1)}\n`);
for (const [target, r] of Object.entries(summary.targets)) {
  if (r.error) {
    console.log(`${target}: ${r.error}`);
    continue;
  }
  console.log(
    `${target}: ${r.cases} cases in ${r.seconds} s (${r.casesPerSecond}/s), ${r.findings} findings`,
  );
  for (const kind of r.kinds) console.log(`  ${kind.count}x ${kind.problem}  [${kind.seeds.join(' ')}]`);
}
console.log(`${summary.totalCases} cases in ${summary.seconds} s, seed ${summary.seed}; summary: ${outFile}`);
rmSync(work, { recursive: true, force: true });
process.exit(summary.findings.length === 0 && Object.values(results).every((r) => !r.error) ? 0 : 1);

/** Runs one job in its own vitest process; resolves with null, or why it ended badly. */
function runJob(job, onLine) {
  return new Promise((resolveJob) => {
    const child = spawn(
      join(repo, 'node_modules/.bin/vitest'),
      ['run', '--config', 'test-support/fuzz/vitest.config.ts'],
      {
        cwd: repo,
        env: { ...process.env, DIT_FUZZ_JOB: JSON.stringify(job) },
        stdio: ['ignore', 'pipe', 'pipe'],
      },
    );
    const stall = number(values.stall, '--stall') * 1000;
    let lastBatch = null;
    let hung = null;
    let timer = setTimeout(onStall, stall);
    let pending = '';
    let errors = '';
    function onStall() {
      hung = `no progress for ${stall / 1000} s in the batch starting at seed ${lastBatch}: a hang; replay the batch's seeds`;
      child.kill('SIGKILL');
    }
    child.stdout.on('data', (chunk) => {
      pending += chunk.toString();
      const lines = pending.split('\n');
      pending = lines.pop() ?? '';
      for (const line of lines) {
        if (line.startsWith('@@batch ')) lastBatch = line.slice(8);
        if (line.startsWith('@@progress ')) {
          clearTimeout(timer);
          timer = setTimeout(onStall, stall);
        }
        onLine(line);
      }
    });
    child.stderr.on('data', (chunk) => {
      errors = (errors + chunk.toString()).slice(-4000);
    });
    child.on('close', (status) => {
      clearTimeout(timer);
      resolveJob(hung ?? (status === 0 ? null : `vitest exited with ${status}: ${errors}`));
    });
  });
}

function parseCases(text) {
  if (text === undefined) return () => Number.MAX_SAFE_INTEGER;
  if (/^\d+$/.test(text)) return () => Number(text);
  const map = Object.fromEntries(
    text.split(',').map((part) => {
      const [name, count] = part.split('=');
      if (!TARGETS.includes(name) || !/^\d+$/.test(count ?? '')) fail(`--cases: bad part ${part}`);
      return [name, Number(count)];
    }),
  );
  return (target) => map[target] ?? 0;
}

function fail(message) {
  console.error(`fuzz: ${message}`);
  process.exit(2);
}
