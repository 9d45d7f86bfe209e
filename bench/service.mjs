#!/usr/bin/env node
// Benchmark "service": what the trace costs a server's start. For nginx and a Flask app on gunicorn,
// the time from starting the server to its first successful HTTP probe, started plainly and started
// under trace() (strace -f --seccomp-bpf in its own pid namespace), both measured by the same
// supervisor (@dit/exporter's superviseService, polling every 5 ms) and stopped with SIGTERM.
//
//   node bench/service.mjs [RUNS]     (default 7 runs per case; needs `pnpm build`)
//
// Prints a table and writes bench/results/service.json. A case whose program is missing is skipped.

import { spawn } from 'node:child_process';
import { existsSync, mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { createServer } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { superviseService } from '../packages/exporter/dist/index.js';
import { MainProcess, trace } from '../packages/trace/dist/index.js';
import { machine, median, printTable } from './shared.mjs';

const REPO = fileURLToPath(new URL('..', import.meta.url));
const RUNS = Number(process.argv[2] ?? 7);
// No .pyc files written into the repository's test-images/flask-gunicorn.
const ENV = {
  PATH: '/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin',
  LANG: 'C.UTF-8',
  PYTHONDONTWRITEBYTECODE: '1',
};

function freePort() {
  return new Promise((resolve, reject) => {
    const server = createServer();
    server.once('error', reject);
    server.listen(0, '127.0.0.1', () => {
      const { port } = server.address();
      server.close(() => resolve(port));
    });
  });
}

/** nginx in the foreground with everything it writes in a temporary folder. */
function nginxCase(dir, port) {
  const conf = join(dir, 'nginx.conf');
  writeFileSync(
    conf,
    `daemon off; pid ${dir}/nginx.pid; error_log stderr warn; worker_processes 1;
events { worker_connections 64; }
http { access_log off; client_body_temp_path ${dir}/body; proxy_temp_path ${dir}/proxy;
  fastcgi_temp_path ${dir}/fastcgi; uwsgi_temp_path ${dir}/uwsgi; scgi_temp_path ${dir}/scgi;
  server { listen 127.0.0.1:${port}; root ${REPO}test-images/nginx-server; } }
`,
  );
  return ['/usr/sbin/nginx', '-c', conf, '-e', 'stderr'];
}

function flaskCase(_dir, port) {
  return [
    '/usr/bin/gunicorn',
    '--chdir',
    join(REPO, 'test-images/flask-gunicorn'),
    '--bind',
    `127.0.0.1:${port}`,
    '--workers',
    '2',
    'app:app',
  ];
}

const CASES = [
  { name: 'nginx', program: '/usr/sbin/nginx', argv: nginxCase, path: '/index.html' },
  { name: 'Flask on gunicorn (2 workers)', program: '/usr/bin/gunicorn', argv: flaskCase, path: '/' },
];

const spec = (port, path) => ({
  probes: [{ kind: 'http', url: `http://127.0.0.1:${port}${path}` }],
  readyTimeoutMs: 30_000,
  stopTimeoutMs: 10_000,
  retryMs: 5,
});

/** Started plainly: the supervisor watches the spawned process itself. */
async function plain(argv, port, path) {
  const child = spawn(argv[0], argv.slice(1), { env: ENV, stdio: 'ignore', detached: true });
  const exited = new Promise((resolve) => child.once('exit', resolve));
  const main = new MainProcess(() => child.pid ?? null);
  child.once('exit', () => main.end());
  const outcome = await superviseService(main, spec(port, path), { stopTimeoutFails: true });
  try {
    process.kill(-child.pid, 'SIGKILL');
  } catch {
    // gone
  }
  await exited;
  if (!outcome.ok) throw new Error(`${argv[0]}: ${outcome.failure}`);
  return outcome.readyMs;
}

async function traced(argv, port, path) {
  let outcome = null;
  await trace(argv, {
    env: ENV,
    stdio: 'pipe',
    service: async (main) => {
      outcome = await superviseService(main, spec(port, path), { stopTimeoutFails: true });
    },
  });
  if (!outcome?.ok) throw new Error(`${argv[0]} under trace: ${outcome?.failure ?? 'never started'}`);
  return outcome.readyMs;
}

const results = [];
for (const testCase of CASES) {
  if (!existsSync(testCase.program)) {
    console.log(`service: ${testCase.name}: skipped, ${testCase.program} is not installed`);
    continue;
  }
  const dir = mkdtempSync(join(tmpdir(), 'dit-bench-service-'));
  try {
    const times = { plain: [], traced: [] };
    // One untimed round of each first: the page cache is warm for both.
    for (let run = -1; run < RUNS; run++) {
      for (const how of ['plain', 'traced']) {
        const port = await freePort();
        const argv = testCase.argv(dir, port);
        const ms = await (how === 'plain' ? plain : traced)(argv, port, testCase.path);
        if (run >= 0) times[how].push(ms);
      }
    }
    results.push({
      name: testCase.name,
      plainMs: median(times.plain),
      tracedMs: median(times.traced),
      times,
    });
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
}

printTable(
  ['server', 'ready, plain (median)', 'ready, under trace (median)', 'overhead'],
  results.map((r) => [
    r.name,
    `${r.plainMs} ms`,
    `${r.tracedMs} ms`,
    `+${r.tracedMs - r.plainMs} ms (${(r.tracedMs / r.plainMs).toFixed(1)}x)`,
  ]),
);
mkdirSync(join(REPO, 'bench', 'results'), { recursive: true });
writeFileSync(
  join(REPO, 'bench', 'results', 'service.json'),
  `${JSON.stringify({ benchmark: 'service', date: new Date().toISOString().slice(0, 10), runs: RUNS, machine: machine(), results }, null, 1)}\n`,
);
