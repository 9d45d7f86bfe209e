/**
 * The explain record ships in the image, so the same export must write the same bytes. A path's
 * reasons are found in the trace's process order, which varies when the check runs programs in
 * parallel (here a pipeline: `tr` and `paste` each need libc and the loader): the report and the
 * record list them sorted.
 */
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { EXPLAIN_RECORD, exportImage } from '@dit/exporter';
import { afterAll, describe, expect, it } from 'vitest';
import { tempDir } from '../../../test-support/fixtures.js';

const temp = tempDir('dit-explain-record-order-');
afterAll(() => temp.cleanup());

describe('reasons', () => {
  it('are sorted in the report and in the explain record, whatever order the trace found them in', async () => {
    const output = join(temp.path, 'out');
    const report = await exportImage({
      path: output,
      command: ['/bin/sh', '-c', 'echo a | tr a b | paste - -'],
      env: { PATH: '/usr/bin:/bin' },
      cwd: '/',
    });
    const libc = report.entries.find((entry) => entry.path.endsWith('/libc.so.6'));
    expect(libc?.reasons.length).toBeGreaterThan(1);
    for (const entry of report.entries) expect(entry.reasons).toEqual([...entry.reasons].sort());
    const record = JSON.parse(readFileSync(join(output, EXPLAIN_RECORD), 'utf8'));
    for (const entry of record.entries) expect(entry.reasons).toEqual([...entry.reasons].sort());
  });
});
