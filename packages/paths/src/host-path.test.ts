import { mkdirSync, symlinkSync } from 'node:fs';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { tempDir } from '../../../test-support/fixtures.js';
import { canonicalHostPath } from './host-path.js';

const temp = tempDir('dit-host-path-');
afterAll(() => temp.cleanup());

describe('canonicalHostPath', () => {
  it('resolves the links of the existing part and keeps the missing rest as written', () => {
    const real = join(temp.path, 'real');
    mkdirSync(real);
    symlinkSync(real, join(temp.path, 'link'));
    expect(canonicalHostPath(join(temp.path, 'link', 'not', 'yet'))).toBe(join(real, 'not', 'yet'));
    expect(canonicalHostPath(join(temp.path, 'link'))).toBe(real);
  });

  it('throws ELOOP for a loop on the way instead of taking it for a missing folder', () => {
    symlinkSync('loop-b', join(temp.path, 'loop-a'));
    symlinkSync('loop-a', join(temp.path, 'loop-b'));
    expect(() => canonicalHostPath(join(temp.path, 'loop-a', 'x'))).toThrow(
      expect.objectContaining({ code: 'ELOOP' }),
    );
  });
});
