// Peak memory from GNU time (`/usr/bin/time -f '%e %M'`, Debian package `time`): max RSS in KiB of the
// process tree it waits for. Wrapping a command in /usr/bin/time costs a fork and two execs (~8 ms per
// call here, more than the loader's own run), so wall times come from a pass *without* it, and peak
// RSS from a second, identical pass under it.

import { spawnSync } from 'node:child_process';
import { readFileSync } from 'node:fs';
import { BenchError } from './shared.mjs';

export const GNU_TIME = '/usr/bin/time';

/**
 * Runs one command under GNU time and returns its wall time and max RSS.
 *
 * @param {string[]} argv  Command and arguments. It runs with `env` as its whole environment: never
 *   put LD_TRACE_LOADED_OBJECTS there (time itself is dynamically linked and would be traced); use
 *   `env -i VAR=… cmd` inside argv instead.
 *   Its stdout is discarded (/dev/null); stderr is returned.
 * @param {{ env: Record<string, string>, cwd?: string, timeFile: string }} o
 * @returns {{ seconds: number, maxRssKiB: number, status: number | null, signal: string | null, stderr: string }}
 */
export function runUnderTime(argv, { env, cwd = '/', timeFile }) {
  const r = spawnSync(GNU_TIME, ['-f', '%e %M', '-o', timeFile, ...argv], {
    env,
    cwd,
    encoding: 'utf8',
    maxBuffer: 1 << 30,
    stdio: ['ignore', 'ignore', 'pipe'],
  });
  if (r.error) throw new BenchError(`cannot run ${GNU_TIME}: ${r.error.message}`);
  // GNU time writes "Command exited with non-zero status N" / "Command terminated by signal N" before
  // the formatted line when applicable: take the last line that has the format.
  const lines = readFileSync(timeFile, 'utf8').trim().split('\n');
  const m = lines
    .map((l) => /^(\d+(?:\.\d+)?) (\d+)$/.exec(l.trim()))
    .filter(Boolean)
    .pop();
  if (!m) throw new BenchError(`unexpected ${GNU_TIME} output: ${lines.join(' | ')}`);
  return {
    seconds: Number(m[1]),
    maxRssKiB: Number(m[2]),
    status: r.status,
    signal: r.signal,
    stderr: r.stderr ?? '',
  };
}
