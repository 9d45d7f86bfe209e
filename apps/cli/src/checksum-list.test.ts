import { Buffer } from 'node:buffer';
import { describe, expect, it } from 'vitest';
import { parseChecksumList } from './checksum-list.js';

const HEX = 'ab'.repeat(32);
const parse = (text: string | Buffer, fromStdin = false) =>
  parseChecksumList(typeof text === 'string' ? Buffer.from(text) : text, { fromStdin });
const entry = (line: number, path: string | Buffer, sha256 = HEX) => ({ kind: 'entry', line, sha256, path });
const malformed = (line: number) => ({ kind: 'malformed', line });

describe('parseChecksumList, as sha256sum --check reads a list', () => {
  it('reads text and binary markers, leading blanks, upper-case hex, CRLF, a last line without newline', () => {
    expect(parse(`${HEX}  a\n  ${HEX} *b\n\t${HEX.toUpperCase()}  c d \r\n${HEX}  last`)).toEqual([
      entry(1, 'a'),
      entry(2, 'b'),
      entry(3, 'c d '),
      entry(4, 'last'),
    ]);
  });

  it('skips comments and empty lines, and counts lines as the file numbers them', () => {
    expect(parse(`# made by hand\n\n\r\n${HEX}  a\nnot a checksum\n`)).toEqual([entry(4, 'a'), malformed(5)]);
  });

  it('unescapes names on lines that start with a backslash; any other escape is malformed', () => {
    expect(
      parse(`\\${HEX}  new\\nline\\\\back\\rcr\n\\${HEX}  bad\\t\n\\${HEX}  end\\\n${HEX}  raw\\n\n`),
    ).toEqual([entry(1, 'new\nline\\back\rcr'), malformed(2), malformed(3), entry(4, 'raw\\n')]);
  });

  it('reads the --tag format, the name up to the last parenthesis', () => {
    expect(
      parse(
        `SHA256 (a (1).txt) = ${HEX}\nSHA256(b)=${HEX}\n\\SHA256 (c\\nd) = ${HEX}\nSHA256 (e) = ${HEX} \nMD5 (f) = ${HEX}\n`,
      ),
    ).toEqual([entry(1, 'a (1).txt'), entry(2, 'b'), entry(3, 'c\nd'), malformed(4), malformed(5)]);
  });

  it('takes the reversed BSD format (one blank) only when the first line uses it, then for every line', () => {
    expect(parse(`${HEX} a\n${HEX}  b\n`)).toEqual([entry(1, 'a'), entry(2, ' b')]);
    expect(parse(`${HEX}  a\n${HEX} b\n`)).toEqual([entry(1, 'a'), malformed(2)]);
  });

  it('refuses short digests, digests not followed by a blank, and non-hex digits', () => {
    expect(parse(`${HEX.slice(2)}  a\n${HEX}x a\n${'g'.repeat(64)}  a\n${HEX}\n`)).toEqual([
      malformed(1),
      malformed(2),
      malformed(3),
      malformed(4),
    ]);
  });

  it('keeps a name that is not UTF-8 as a Buffer, and cuts a plain name at a NUL as C would', () => {
    const latin1 = Buffer.concat([Buffer.from(`${HEX}  caf`), Buffer.from([0xe9, 0x0a])]);
    expect(parse(latin1)).toEqual([entry(1, Buffer.from([0x63, 0x61, 0x66, 0xe9]))]);
    expect(parse(`${HEX}  a\0b\n\\${HEX}  a\0b\n`)).toEqual([entry(1, 'a'), malformed(2)]);
  });

  it('refuses a listed `-` when the list itself is standard input', () => {
    expect(parse(`${HEX}  -\n`, true)).toEqual([malformed(1)]);
    expect(parse(`${HEX}  -\n`, false)).toEqual([entry(1, '-')]);
  });
});
