/**
 * The strace log parser under a seeded mutation fuzzer (test-support/fuzz/): real logs of real
 * commands, traced with dit's own strace arguments, mutated a few thousand ways. The parser must
 * never throw and must return well-formed data (see target-strace.ts). A failure names each case's
 * seed; `pnpm fuzz --target strace --replay SEED` runs it again. The long run is `pnpm fuzz`.
 */
import { afterAll, describe, expect, it } from 'vitest';
import { describeFindings, runCampaign } from '../../../test-support/fuzz/campaign.js';
import { wellFormed } from '../../../test-support/fuzz/target-strace.js';
import { makeTarget } from '../../../test-support/fuzz/targets.js';
import { parseStraceLog } from '../src/parse.js';

const FIXED_SEED = 0x7e57;

describe('strace log parser under mutation', () => {
  const target = makeTarget('strace');
  afterAll(() => target.close());

  it('never throws and always returns well-formed data, over 1,500 mutants of real logs', async () => {
    const summary = await runCampaign([target], { seed: FIXED_SEED, cases: { strace: 1500 } });
    expect(summary.totalCases).toBe(1500);
    // The mutants must reach the parser's insides, not just be rejected line by line.
    expect(target.counters.get('accesses')).toBeGreaterThan(10_000);
    expect(describeFindings(summary.findings)).toBe('');
  });
});

describe('what the fuzzer found', () => {
  it('parses a chain of 20,000 processes logged child first (it overflowed the stack)', () => {
    const n = 20_000;
    const lines: string[] = [];
    for (let k = n; k >= 1; k--) lines.push(`${100 + k} chdir("/tmp") = 0`);
    for (let k = 0; k < n; k++) lines.push(`${100 + k} clone(child_stack=NULL, flags=SIGCHLD) = ${101 + k}`);
    const parsed = parseStraceLog(lines.join('\n'), { cwd: '/' });
    expect(parsed.processes).toHaveLength(n + 1);
    // The last child's parent is known although its clone line came after its own calls.
    expect(parsed.processes.find((p) => p.pid === 100 + n)?.parent).toBe(99 + n);
    expect(parsed.accesses.filter((a) => a.kind === 'chdir')).toHaveLength(n);
    expect(wellFormed(parsed)).toBeNull();
  });

  it('ends a path at an escaped NUL, as the kernel reads it (paths held a NUL)', () => {
    const parsed = parseStraceLog(
      '7 openat(AT_FDCWD</>, "/etc/a\\0b", O_RDONLY) = -1 ENOENT (No such file)\n',
    );
    expect(parsed.accesses.map((a) => a.path)).toEqual(['/etc/a']);
  });

  it('canonicalises a damaged fd annotation (a realPath kept its trailing slash)', () => {
    const parsed = parseStraceLog('7 openat(AT_FDCWD</>, "/etc/hosts", O_RDONLY) = 3</etc/./hosts//>\n');
    expect(parsed.accesses.map((a) => [a.path, a.realPath])).toEqual([['/etc/hosts', '/etc/hosts']]);
  });

  it('leaves a line whose pid has hundreds of digits unparsed (its pid was Infinity)', () => {
    const parsed = parseStraceLog(`${'9'.repeat(400)} chdir("/tmp") = 0\n7 chdir("/") = 0\n`);
    expect(parsed.unparsed).toHaveLength(1);
    expect(parsed.processes.map((p) => p.pid)).toEqual([7]);
    expect(wellFormed(parsed)).toBeNull();
  });

  it('takes no pid from a clone that returned hundreds of digits (a process was Infinity)', () => {
    const parsed = parseStraceLog(
      `7 clone(child_stack=NULL, flags=SIGCHLD) = ${'9'.repeat(400)}\n7 chdir("/") = 0\n`,
    );
    expect(parsed.processes.map((p) => p.pid)).toEqual([7]);
    expect(wellFormed(parsed)).toBeNull();
  });

  it('reads a line with 200,000 spaces in one pass (the unfinished/detached checks were quadratic)', () => {
    // Quadratic, this line costs 2 * 10^10 regex steps: the test would time out rather than fail.
    const spaces = ' '.repeat(200_000);
    const log = `7 execve("/bin/echo", ["echo", "${spaces}"], 0x0 /* 0 vars */) = 0\n7 openat(AT_FDCWD</>, "/x"${spaces}, O_RDONLY <unfinished ...>\n7 +++ exited with 0 +++\n`;
    const parsed = parseStraceLog(log, { cwd: '/' });
    expect(parsed.processes[0]?.argv).toEqual(['echo', spaces]);
    expect(parsed.accesses.map((a) => [a.path, a.ok])).toEqual([
      ['/bin/echo', true],
      ['/x', false],
    ]);
  }, 60_000);
});
