/**
 * Names that are not UTF-8, carried as strings and given back as their exact bytes; and a RootFs
 * walk of such a name reaching the file on disk.
 */
import { mkdtempSync, realpathSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { fromByteString, fsPath, hasEscapedBytes, toByteString } from './byte-names.js';
import { printableBytes } from './file-path.js';
import { RootFs } from './root-fs.js';

/** `caf\xe9.so`: Latin-1, not UTF-8. */
const LATIN1 = Buffer.from([0x63, 0x61, 0x66, 0xe9, 0x2e, 0x73, 0x6f]);

describe('byte names', () => {
  it('carries bytes that are not UTF-8 as lone surrogates and gives them back exactly', () => {
    const carried = fromByteString(LATIN1);
    expect(carried).toBe('caf\udce9.so');
    expect(hasEscapedBytes(carried)).toBe(true);
    expect(Buffer.compare(toByteString(carried) as Buffer, LATIN1)).toBe(0);
    expect(
      Buffer.compare(fsPath(`/lib/${carried}`) as Buffer, Buffer.from([...Buffer.from('/lib/'), ...LATIN1])),
    ).toBe(0);
  });

  it('keeps UTF-8 names as plain strings, also when given as bytes', () => {
    expect(fromByteString(Buffer.from('libé.so', 'utf8'))).toBe('libé.so');
    expect(hasEscapedBytes('libé.so')).toBe(false);
    expect(toByteString('libé.so')).toBe('libé.so');
    expect(fsPath('/usr/lib')).toBe('/usr/lib');
  });

  it('keeps valid UTF-8 around an invalid byte, and escapes overlong forms', () => {
    const mixed = Buffer.concat([Buffer.from('é', 'utf8'), Buffer.of(0xff), Buffer.from('ü', 'utf8')]);
    expect(fromByteString(mixed)).toBe('é\udcffü');
    // 0xc0 0xaf is an overlong '/': two escaped bytes, never a separator.
    expect(fromByteString(Buffer.of(0xc0, 0xaf))).toBe('\udcc0\udcaf');
  });

  it('does not take a surrogate pair (an astral character) for escapes', () => {
    expect(hasEscapedBytes('lib😀.so')).toBe(false);
    expect(toByteString('lib😀.so')).toBe('lib😀.so');
  });
});

describe('a RootFs walk of a carried name', () => {
  const root = realpathSync(mkdtempSync(join(tmpdir(), 'dit-paths-bytes-')));
  afterAll(() => rmSync(root, { recursive: true, force: true }));
  writeFileSync(Buffer.from([...Buffer.from(`${root}/`), ...LATIN1]), 'x');

  it('finds the file whose name is those bytes', () => {
    const found = new RootFs(root).lookup(`/${fromByteString(LATIN1)}`);
    expect(found).toMatchObject({ error: null, type: 'file', realPath: '/caf\udce9.so' });
  });
});

describe('printableBytes', () => {
  it('shows printable ASCII as it is and every other byte as \\xNN', () => {
    expect(printableBytes(LATIN1)).toBe('caf\\xe9.so');
    expect(printableBytes(Buffer.from('a b\n\x7f~', 'latin1'))).toBe('a b\\x0a\\x7f~');
    expect(printableBytes(Buffer.from('é', 'utf8'))).toBe('\\xc3\\xa9');
  });
});
