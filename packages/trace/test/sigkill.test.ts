/**
 * Nothing survives a SIGKILL of dit: a Node process runs trace() (or exportImage's verification)
 * on a command that starts children, one of them a daemon (setsid), and is killed with SIGKILL,
 * so no handler of its own runs. Within a bounded time no process of the traced tree, no strace
 * and no launcher may remain, and no strace log in the temp folder.
 */
import { type ChildProcess, spawn } from 'node:child_process';
import { mkdtempSync, readdirSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { setTimeout as delay } from 'node:timers/promises';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { type NodeScript, nodeScript } from '../../../test-support/node-script.js';

/** Numbers no other run uses, one per case, so that its processes can be told apart on this busy machine. */
const BASE = 70_000 + Math.floor(Math.random() * 20_000) * 2;
const TRACE_MARK = String(BASE);
const VERIFY_MARK = String(BASE + 1);
const tree = (mark: string) => `sleep ${mark} & (setsid sleep ${mark} &); sleep ${mark}`;

let tmp: string;
let traceScript: NodeScript;
let verifyScript: NodeScript;

beforeAll(async () => {
  tmp = mkdtempSync(join(tmpdir(), 'dit-sigkill-'));
  traceScript = await nodeScript(`
import { trace } from '@dit/trace';
await trace(['sh', '-c', ${JSON.stringify(tree(TRACE_MARK))}], { stdio: 'pipe', cwd: '/' });
`);
  // The check only hangs where it runs as pid 1: inside the verification, not under the trace.
  verifyScript = await nodeScript(`
import { exportImage } from '@dit/exporter';
await exportImage({
  path: process.argv[2],
  command: ['/bin/sh', '-c', ${JSON.stringify(`if [ $$ = 1 ]; then ${tree(VERIFY_MARK)}; fi`)}],
  // The traced run never reaches them: named, so that the verification can run them.
  binaries: ['/usr/bin/sleep', '/usr/bin/setsid'],
  cwd: '/',
  env: { PATH: '/usr/bin:/bin' },
});
`);
}, 60_000);

afterAll(() => {
  // Whatever a failing case left running (by pid: only the processes carrying this run's marks).
  for (const line of [...marked(TRACE_MARK), ...marked(VERIFY_MARK)]) {
    try {
      process.kill(Number(line.split(':')[0]), 'SIGKILL');
    } catch {
      // gone
    }
  }
  traceScript?.cleanup();
  verifyScript?.cleanup();
  rmSync(tmp, { recursive: true, force: true });
});

/** Live processes (not zombies) whose command line mentions `mark`: the tree, strace, the launchers. */
function marked(mark: string): string[] {
  const found: string[] = [];
  for (const name of readdirSync('/proc')) {
    if (!/^\d+$/.test(name) || Number(name) === process.pid) continue;
    try {
      const cmdline = readFileSync(`/proc/${name}/cmdline`, 'latin1');
      const stat = readFileSync(`/proc/${name}/stat`, 'latin1');
      if (/^[ZX]/.test(stat.slice(stat.lastIndexOf(')') + 2))) continue;
      if (cmdline.includes(mark)) found.push(`${name}: ${cmdline.replaceAll('\0', ' ').slice(0, 120)}`);
    } catch {
      // exited meanwhile
    }
  }
  return found;
}

async function until(condition: () => boolean, ms: number): Promise<boolean> {
  const end = Date.now() + ms;
  while (Date.now() < end) {
    if (condition()) return true;
    await delay(50);
  }
  return condition();
}

function start(script: NodeScript, args: string[], tmpDir: string): ChildProcess {
  return spawn(process.execPath, [script.path, ...args], {
    // The trace log goes to TMPDIR: a private one shows exactly what this run left.
    env: { ...process.env, TMPDIR: tmpDir, DIT_NATIVE: '0' },
    stdio: ['ignore', 'ignore', 'pipe'],
  });
}

async function killWhenRunning(child: ChildProcess, mark: string): Promise<void> {
  const exited = new Promise((resolve) => child.once('exit', resolve));
  let stderr = '';
  child.stderr?.on('data', (chunk: Buffer) => {
    stderr += chunk.toString('utf8');
  });
  // The three sleeps are up: the tree is complete.
  const running = await until(
    () => marked(mark).filter((p) => / sleep /.test(` ${p.split(': ')[1]}`)).length >= 3,
    30_000,
  );
  expect(running, `the traced tree started (stderr: ${stderr})`).toBe(true);
  child.kill('SIGKILL');
  await exited;
}

describe('SIGKILL of dit', () => {
  it('during the trace: strace, the tree and the log go with it', async () => {
    const logs = mkdtempSync(join(tmp, 'trace-'));
    const child = start(traceScript, [], logs);
    await killWhenRunning(child, TRACE_MARK);
    const gone = await until(() => marked(TRACE_MARK).length === 0, 10_000);
    expect(gone ? [] : marked(TRACE_MARK)).toEqual([]);
    expect(readdirSync(logs).filter((name) => name.startsWith('dit-trace-'))).toEqual([]);
  });

  it('during the verification: the run and everything it started go with it', async () => {
    const logs = mkdtempSync(join(tmp, 'verify-'));
    const output = join(tmp, 'export');
    const child = start(verifyScript, [output], logs);
    await killWhenRunning(child, VERIFY_MARK);
    const gone = await until(() => marked(VERIFY_MARK).length === 0, 10_000);
    expect(gone ? [] : marked(VERIFY_MARK)).toEqual([]);
    expect(readdirSync(logs).filter((name) => name.startsWith('dit-trace-'))).toEqual([]);
  });
});
