/**
 * A name that may be bytes that are not UTF-8 (a `FilePath` that is a Buffer: a name read from an
 * ELF file, a folder, a log), carried as a string: every byte that is not part of valid UTF-8
 * becomes the lone surrogate U+DC00 + byte (U+DC80..U+DCFF; as Python's `surrogateescape` does).
 * Decoded UTF-8 never holds a lone surrogate, so the mapping is one to one: such a name joins
 * directories, compares and is looked up like any other string (RootFs walks it), and becomes
 * exactly its bytes again where it leaves (`toByteString`) or reaches the file system (`fsPath`).
 */
import { isUtf8 } from 'node:buffer';
import type { FilePath } from './file-path.js';

const ESCAPE_BASE = 0xdc00;

/** A name as a string, its bytes that are not UTF-8 escaped. */
export function fromByteString(name: FilePath): string {
  if (typeof name === 'string') return name;
  if (isUtf8(name)) return name.toString('utf8');
  let text = '';
  for (let at = 0; at < name.length; ) {
    const length = utf8SequenceLength(name, at);
    if (length === 0) {
      text += String.fromCharCode(ESCAPE_BASE + name[at]!);
      at += 1;
    } else {
      text += name.subarray(at, at + length).toString('utf8');
      at += length;
    }
  }
  return text;
}

/** Whether a name carries escaped bytes (it was not UTF-8). */
export function hasEscapedBytes(name: string): boolean {
  return escapedBytes(name) !== null;
}

/** A carried name as it leaves: the string when it is UTF-8, else its exact bytes. */
export function toByteString(name: string): FilePath {
  return escapedBytes(name) ?? name;
}

/** What to hand to `fs` for a carried path: its exact bytes when it holds escaped ones. */
export function fsPath(path: string): FilePath {
  return escapedBytes(path) ?? path;
}

/** The bytes of a name with escapes, or null when it has none (the common case, checked cheaply). */
function escapedBytes(name: string): Buffer | null {
  if (!/[\ud800-\udfff]/.test(name)) return null;
  const parts: Buffer[] = [];
  let plain = '';
  let escaped = false;
  for (let i = 0; i < name.length; i++) {
    const unit = name.charCodeAt(i);
    const lone = unit >= 0xdc80 && unit <= 0xdcff && !(i > 0 && isHighSurrogate(name.charCodeAt(i - 1)));
    if (lone) {
      parts.push(Buffer.from(plain, 'utf8'), Buffer.of(unit - ESCAPE_BASE));
      plain = '';
      escaped = true;
    } else {
      plain += name[i];
    }
  }
  if (!escaped) return null;
  parts.push(Buffer.from(plain, 'utf8'));
  return Buffer.concat(parts);
}

function isHighSurrogate(unit: number): boolean {
  return unit >= 0xd800 && unit <= 0xdbff;
}

/** The length of the valid UTF-8 sequence at `at`, or 0 when the byte there does not start one. */
function utf8SequenceLength(bytes: Buffer, at: number): number {
  const first = bytes[at]!;
  if (first < 0x80) return 1;
  const length =
    first >= 0xc2 && first <= 0xdf
      ? 2
      : first >= 0xe0 && first <= 0xef
        ? 3
        : first >= 0xf0 && first <= 0xf4
          ? 4
          : 0;
  if (length === 0 || at + length > bytes.length) return 0;
  for (let i = 1; i < length; i++) if ((bytes[at + i]! & 0xc0) !== 0x80) return 0;
  // Overlong forms, UTF-16 surrogates and code points past U+10FFFF are not valid UTF-8.
  const second = bytes[at + 1]!;
  if (first === 0xe0 && second < 0xa0) return 0;
  if (first === 0xed && second >= 0xa0) return 0;
  if (first === 0xf0 && second < 0x90) return 0;
  if (first === 0xf4 && second >= 0x90) return 0;
  return length;
}
