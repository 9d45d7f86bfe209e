import { describe, expect, test } from 'vitest';
import { field, parseStanzas, withStatus } from './control.js';
import { parseDiversions } from './diversions.js';

const STATUS = `Package: libfoo1
Status: install ok installed
Priority: optional
Architecture: amd64
Multi-Arch: same
Version: 1.2-3
Description: a library
 with a long description
 .
 over several lines
Conffiles:
 /etc/foo.conf 0123456789abcdef0123456789abcdef

Package: bar
Status: deinstall ok config-files
Version: 2
`;

describe('parseStanzas', () => {
  test('stanzas, fields and continuation lines, each stanza kept byte for byte', () => {
    const [foo, bar] = parseStanzas(STATUS);
    expect(field(foo!, 'package')).toBe('libfoo1');
    expect(field(foo!, 'MULTI-ARCH')).toBe('same');
    expect(field(foo!, 'Description')).toBe('a library\n with a long description\n .\n over several lines');
    expect(field(foo!, 'Conffiles')).toBe('\n /etc/foo.conf 0123456789abcdef0123456789abcdef');
    expect(foo!.text).toBe(`${STATUS.split('\n\n')[0]}\n`);
    expect(field(bar!, 'Status')).toBe('deinstall ok config-files');
  });

  test('withStatus replaces the Status line, or adds one after Package, and keeps every other line', () => {
    const [foo, bar] = parseStanzas(STATUS);
    expect(withStatus(foo!, 'install ok installed')).toBe(foo!.text);
    expect(withStatus(bar!, 'install ok installed')).toBe(
      'Package: bar\nStatus: install ok installed\nVersion: 2\n',
    );
    const [bare] = parseStanzas('Package: baz\nVersion: 1\n');
    expect(withStatus(bare!, 'install ok installed')).toBe(
      'Package: baz\nStatus: install ok installed\nVersion: 1\n',
    );
  });
});

test('parseDiversions: three lines per diversion, ":" for a local one', () => {
  expect(parseDiversions('/bin/sh\n/bin/sh.distrib\ndash\n/usr/bin/x\n/usr/bin/x.orig\n:\n')).toEqual([
    { from: '/bin/sh', to: '/bin/sh.distrib', by: 'dash' },
    { from: '/usr/bin/x', to: '/usr/bin/x.orig', by: null },
  ]);
});
