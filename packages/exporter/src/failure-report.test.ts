import { describe, expect, it } from 'vitest';
import { stderrExcerpt, unfixable } from './failure-report.js';

const lines = (count: number, from = 1) => Array.from({ length: count }, (_, i) => `line ${from + i}`);

describe('stderrExcerpt', () => {
  it('shows a short stderr whole (more than the five lines of old)', () => {
    const text = `${lines(12).join('\n')}\n`;
    expect(stderrExcerpt(text)).toBe(lines(12).join('\n'));
    expect(stderrExcerpt('')).toBe('');
  });

  it('keeps the first error line ahead of the last 50 lines of a long stderr', () => {
    const text = [...lines(3), 'AH00526: Syntax error on line 7', ...lines(200, 4)].join('\n');
    const shown = stderrExcerpt(text).split('\n');
    expect(shown.slice(0, 3)).toEqual([
      '[... 3 earlier lines]',
      'AH00526: Syntax error on line 7',
      '[... 150 lines]',
    ]);
    expect(shown.slice(3)).toEqual(lines(50, 154));
  });

  it('says how much it left out when no line looks like an error', () => {
    const shown = stderrExcerpt(lines(80).join('\n')).split('\n');
    expect(shown[0]).toBe('[... 30 earlier lines]');
    expect(shown).toHaveLength(51);
  });
});

describe('unfixable', () => {
  it('names what a runtime provides or the run makes, not what an --include could add', () => {
    expect(unfixable('/etc/resolv.conf')).toBe(true);
    expect(unfixable('/tmp/php-fpm.sock')).toBe(true);
    expect(unfixable('/var/tmp')).toBe(true);
    expect(unfixable('/usr/bin/mkdir')).toBe(false);
    expect(unfixable('/tmpfoo')).toBe(false);
  });
});
