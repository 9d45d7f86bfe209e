import { Buffer, isUtf8 } from 'node:buffer';
import type { FilePath } from '@dit/paths';

/**
 * Reading a checksum list as `sha256sum --check` (GNU coreutils 9) reads it, line by line, so that
 * any list sha256sum accepts means the same to `dit hash --check`, malformed lines included:
 *
 * - `HEX  NAME` or `HEX *NAME` (text or binary marker), leading blanks allowed, hex in either case;
 *   a line starting with `\` has an escaped name (`\\`, `\n`, `\r`; any other escape is malformed);
 * - `SHA256 (NAME) = HEX`, the BSD tag format (`sha256sum --tag`), the name up to the last `)`;
 * - `HEX NAME` with one blank, the "reversed BSD" format (`md5 -r`): allowed only when it is the
 *   first well-formed line of the list, and then every line is read that way (coreutils refuses to
 *   mix the two, so that a file renamed with a leading blank cannot pass for another);
 * - `#` comments and empty lines are skipped; a trailing CR (a list written on Windows) is dropped.
 *
 * Works on bytes: names are `FilePath`s, a Buffer where the name is not UTF-8.
 */

export type ChecksumListLine =
  | { readonly kind: 'entry'; readonly line: number; readonly sha256: string; readonly path: FilePath }
  | { readonly kind: 'malformed'; readonly line: number };

const HEX_DIGITS = 64;
/** Digest, one blank, and a name of at least one byte. */
const MIN_LINE_LENGTH = HEX_DIGITS + 2;
const TAG = Buffer.from('SHA256');
const BACKSLASH = 0x5c;
const isBlank = (byte: number | undefined) => byte === 0x20 || byte === 0x09;
const isHexDigit = (byte: number) =>
  (byte >= 0x30 && byte <= 0x39) || (byte >= 0x41 && byte <= 0x46) || (byte >= 0x61 && byte <= 0x66);

/**
 * The entries and malformed lines of a list, in order (comments and empty lines are not reported).
 * `fromStdin`: the list is standard input, where a name `-` is malformed (it would mean the list).
 */
export function parseChecksumList(data: Buffer, options: { fromStdin?: boolean } = {}): ChecksumListLine[] {
  const lines: ChecksumListLine[] = [];
  /** The reversed BSD format: undecided until the first line that tells, then fixed for the list. */
  const format = { reversed: undefined as boolean | undefined };
  let number = 0;
  for (let start = 0; start < data.length; ) {
    const newline = data.indexOf(0x0a, start);
    const end = newline === -1 ? data.length : newline;
    let line = data.subarray(start, end);
    start = end + 1;
    number++;
    if (line[0] === 0x23) continue; // '#'
    if (line[line.length - 1] === 0x0d) line = line.subarray(0, -1);
    if (line.length === 0) continue;
    const parsed = parseLine(line, format);
    if (parsed === null || (options.fromStdin && parsed.name.equals(Buffer.from('-')))) {
      lines.push({ kind: 'malformed', line: number });
    } else {
      lines.push({
        kind: 'entry',
        line: number,
        sha256: parsed.hex.toLowerCase(),
        path: filePath(parsed.name),
      });
    }
  }
  return lines;
}

function filePath(name: Buffer): FilePath {
  return isUtf8(name) ? name.toString() : name;
}

function parseLine(
  line: Buffer,
  format: { reversed: boolean | undefined },
): { hex: string; name: Buffer } | null {
  let i = 0;
  while (isBlank(line[i])) i++;
  const escaped = line[i] === BACKSLASH;
  if (escaped) i++;
  if (line.subarray(i, i + TAG.length).equals(TAG))
    return parseTagged(line.subarray(i + TAG.length), escaped);

  if (line.length - i < MIN_LINE_LENGTH + (line[i] === BACKSLASH ? 1 : 0)) return null;
  const hex = line.subarray(i, i + HEX_DIGITS);
  i += HEX_DIGITS;
  if (!isBlank(line[i])) return null;
  i++;
  // Like coreutils, the format is settled here, even when the digest then turns out malformed.
  if (line.length - i === 1 || (line[i] !== 0x20 && line[i] !== 0x2a)) {
    if (format.reversed === false) return null;
    format.reversed = true;
  } else if (format.reversed !== true) {
    format.reversed = false;
    i++; // the ' ' (text) or '*' (binary) marker; both read the file the same way on Linux
  }
  if (!hex.every(isHexDigit)) return null;
  const name = escaped ? unescapeName(line.subarray(i)) : untilNul(line.subarray(i));
  return name === null ? null : { hex: hex.toString('latin1'), name };
}

/** After `SHA256`: ` (NAME) = HEX`, the blank before `(` optional, blanks around `=` free. */
function parseTagged(rest: Buffer, escaped: boolean): { hex: string; name: Buffer } | null {
  let i = rest[0] === 0x20 ? 1 : 0;
  if (rest[i] !== 0x28) return null; // '('
  const body = rest.subarray(i + 1);
  const close = body.lastIndexOf(0x29); // ')': the name may hold others
  if (close === -1) return null;
  const name = escaped ? unescapeName(body.subarray(0, close)) : untilNul(body.subarray(0, close));
  i = close + 1;
  while (isBlank(body[i])) i++;
  if (body[i] !== 0x3d) return null; // '='
  i++;
  while (isBlank(body[i])) i++;
  const hex = untilNul(body.subarray(i));
  if (name === null || hex.length !== HEX_DIGITS || !hex.every(isHexDigit)) return null;
  return { hex: hex.toString('latin1'), name };
}

/** What C sees of a string: the bytes before the first NUL. */
function untilNul(bytes: Buffer): Buffer {
  const nul = bytes.indexOf(0);
  return nul === -1 ? bytes : bytes.subarray(0, nul);
}

/** `\\`, `\n` and `\r` decoded; null for any other escape, a trailing backslash or a NUL. */
function unescapeName(bytes: Buffer): Buffer | null {
  const out: number[] = [];
  for (let i = 0; i < bytes.length; i++) {
    const byte = bytes[i]!;
    if (byte === 0) return null;
    if (byte !== BACKSLASH) {
      out.push(byte);
      continue;
    }
    const next = bytes[++i];
    if (next === BACKSLASH) out.push(BACKSLASH);
    else if (next === 0x6e)
      out.push(0x0a); // n
    else if (next === 0x72)
      out.push(0x0d); // r
    else return null;
  }
  return Buffer.from(out);
}
