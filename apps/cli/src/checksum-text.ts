import { Buffer } from 'node:buffer';
import type { FilePath } from '@dit/paths';

/**
 * The text of sha256sum's lines (GNU coreutils 9), shared by `dit hash` and `dit hash --check`. Names
 * are `FilePath`s: a Buffer where the name is not UTF-8, so that it comes out byte for byte.
 */

/** Strings joined, or bytes once any part is bytes (a name that is not UTF-8). */
export function joinText(parts: readonly FilePath[]): string | Buffer {
  if (parts.every((part) => typeof part === 'string')) return parts.join('');
  return Buffer.concat(parts.map((part) => (typeof part === 'string' ? Buffer.from(part) : part)));
}

const ESCAPES: Record<string, string> = { '\\': '\\\\', '\n': '\\n', '\r': '\\r' };
const BYTE_ESCAPES = new Map(
  [0x5c, 0x0a, 0x0d].map((byte) => [byte, Buffer.from(ESCAPES[String.fromCharCode(byte)]!)]),
);

/** The name with backslash, newline and carriage return escaped (`\\`, `\n`, `\r`), and whether any was. */
export function escapedName(path: FilePath): { readonly text: FilePath; readonly escaped: boolean } {
  if (typeof path === 'string') {
    if (!/[\\\n\r]/.test(path)) return { text: path, escaped: false };
    return { text: path.replace(/[\\\n\r]/g, (c) => ESCAPES[c]!), escaped: true };
  }
  const parts: Buffer[] = [];
  let start = 0;
  path.forEach((byte, index) => {
    const replacement = BYTE_ESCAPES.get(byte);
    if (replacement === undefined) return;
    parts.push(path.subarray(start, index), replacement);
    start = index + 1;
  });
  if (start === 0) return { text: path, escaped: false };
  parts.push(path.subarray(start));
  return { text: Buffer.concat(parts), escaped: true };
}

/**
 * One line as `sha256sum` prints it in text mode: digest, two spaces, name. A name with a backslash,
 * newline or carriage return is escaped and the line starts with a backslash, which tells
 * `sha256sum -c` to unescape it. With `zero` (-z), lines end in NUL and nothing is escaped.
 */
export function checksumLine(result: { path: FilePath; sha256: string }, zero = false): string | Buffer {
  const { path, sha256 } = result;
  if (zero) return joinText([`${sha256}  `, path, '\0']);
  const name = escapedName(path);
  return joinText([`${name.escaped ? '\\' : ''}${sha256}  `, name.text, '\n']);
}
