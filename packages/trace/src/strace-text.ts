/**
 * The lexical layer: strace's text for one system call, split into arguments, strings decoded and
 * `-y` fd annotations taken apart. Nothing here knows what a system call means.
 *
 * strace prints every byte that is not printable ASCII as a C escape (`\n`, `\"`, octal `\351`, or
 * `\xe9` with `-x`), and inside a `-y` annotation it also escapes `<` and `>` (`\74`, `\76`), so an
 * annotation ends at the first bare `>`. The log is read as latin1, one char per byte, so that any
 * raw byte strace might let through survives the round trip too.
 */

import { posix } from 'node:path';

/** One `name(args) = result` line, complete (an `<unfinished ...>` line joined with its resume). */
export interface CallText {
  readonly name: string;
  /** The top-level arguments as printed, trimmed. */
  readonly args: readonly string[];
  /** What follows `=`, trimmed (`3</etc/passwd>`, `-1 ENOENT (No such file or directory)`, `?`); '' if none. */
  readonly result: string;
}

/** The outcome of a call, taken from its result text. */
export interface CallResult {
  /** The number returned, or null for `?` (never returned: the process died in the call). */
  readonly value: number | null;
  /** `-y` annotation of a returned fd: the path behind it, decoded. */
  readonly annotation: string | null;
  readonly errno: string | null;
}

const NAME = /^([a-z_][a-z0-9_]*)\(/;

/** Splits a complete call line; null when it does not look like one. */
export function splitCall(text: string): CallText | null {
  const match = NAME.exec(text);
  if (match === null) return null;
  const args: string[] = [];
  let depth = 0;
  let start = match[0].length;
  let i = start;
  const n = text.length;
  while (i < n) {
    const c = text[i]!;
    if (c === '"') {
      i = skipQuoted(text, i);
      continue;
    }
    if (c === '<' && i > 0 && /[0-9A-Za-z_]/.test(text[i - 1]!)) {
      i = skipAnnotation(text, i);
      continue;
    }
    if (c === '/' && text[i + 1] === '*') {
      const end = text.indexOf('*/', i + 2);
      i = end === -1 ? n : end + 2;
      continue;
    }
    if (c === '(' || c === '[' || c === '{') depth++;
    else if (c === ')' || c === ']' || c === '}') {
      if (depth === 0) {
        if (c !== ')') return null;
        const last = text.slice(start, i).trim();
        if (last !== '' || args.length > 0) args.push(last);
        const rest = text.slice(i + 1).trim();
        const result = rest.startsWith('=') ? rest.slice(1).trim() : '';
        return { name: match[1]!, args, result };
      }
      depth--;
    } else if (c === ',' && depth === 0) {
      args.push(text.slice(start, i).trim());
      start = i + 1;
    }
    i++;
  }
  return null;
}

/** Index just past the closing quote of the string starting at `start` (which is a `"`). */
function skipQuoted(text: string, start: number): number {
  let i = start + 1;
  while (i < text.length) {
    const c = text[i];
    if (c === '\\') i += 2;
    else if (c === '"') return i + 1;
    else i++;
  }
  return text.length;
}

/** Index just past the `>` that closes the annotation opening at `start` (which is a `<`). */
function skipAnnotation(text: string, start: number): number {
  let i = start + 1;
  while (i < text.length) {
    const c = text[i];
    if (c === '\\') i += 2;
    else if (c === '>') return i + 1;
    else i++;
  }
  return text.length;
}

const SIMPLE_ESCAPES: Record<string, number> = {
  n: 0x0a,
  t: 0x09,
  r: 0x0d,
  v: 0x0b,
  f: 0x0c,
  a: 0x07,
  b: 0x08,
  e: 0x1b,
  '\\': 0x5c,
  '"': 0x22,
  "'": 0x27,
  '?': 0x3f,
};

/**
 * Decodes C escapes into bytes, up to the first NUL, then the bytes as UTF-8. File names that are
 * not valid UTF-8 come out with U+FFFD in them: a JavaScript string cannot hold them, and no such
 * name is expected in an image's runtime files.
 */
export function unescapeStrace(body: string): string {
  if (!body.includes('\\') && !/[^\x20-\x7e]/.test(body)) return body;
  const bytes: number[] = [];
  let i = 0;
  while (i < body.length) {
    const c = body.charCodeAt(i);
    if (c !== 0x5c) {
      bytes.push(c & 0xff);
      i++;
      continue;
    }
    const next = body[i + 1];
    if (next === undefined) {
      bytes.push(0x5c);
      break;
    }
    if (next === 'x' && /^[0-9a-fA-F]{2}/.test(body.slice(i + 2, i + 4))) {
      bytes.push(Number.parseInt(body.slice(i + 2, i + 4), 16));
      i += 4;
      continue;
    }
    const octal = /^[0-7]{1,3}/.exec(body.slice(i + 1, i + 4));
    if (octal !== null) {
      bytes.push(Number.parseInt(octal[0], 8) & 0xff);
      i += 1 + octal[0].length;
      continue;
    }
    const simple = SIMPLE_ESCAPES[next];
    bytes.push(simple ?? next.charCodeAt(0) & 0xff);
    i += 2;
  }
  // Every string strace decodes here is a C string (a path, an argv element): the kernel reads it up
  // to its first NUL, and a JavaScript path holding one would make every fs call throw.
  const nul = bytes.indexOf(0);
  return Buffer.from(nul === -1 ? bytes : bytes.slice(0, nul)).toString('utf8');
}

/** A quoted string argument: its decoded value, and whether strace cut it short (`"abc"...`). */
export interface QuotedString {
  readonly value: string;
  readonly truncated: boolean;
}

/** Decodes `"..."` (optionally followed by `...`); null for anything else (NULL, an address). */
export function parseQuoted(arg: string): QuotedString | null {
  if (!arg.startsWith('"')) return null;
  const end = skipQuoted(arg, 0);
  if (arg[end - 1] !== '"' || end < 2) return null;
  return { value: unescapeStrace(arg.slice(1, end - 1)), truncated: arg.slice(end).startsWith('...') };
}

/** An fd argument as printed with `-y`: `3</usr/lib>`, `AT_FDCWD</tmp>`, `1<pipe:[123]>`. */
export interface FdArg {
  /** What precedes the annotation: `3`, `AT_FDCWD`, `-100`. */
  readonly fd: string;
  /** The decoded annotation, or null when there is none. */
  readonly annotation: string | null;
}

export function parseFdArg(arg: string): FdArg {
  const open = arg.indexOf('<');
  if (open <= 0) return { fd: arg.trim(), annotation: null };
  const end = skipAnnotation(arg, open);
  return { fd: arg.slice(0, open).trim(), annotation: unescapeStrace(arg.slice(open + 1, end - 1)) };
}

/**
 * The file path behind a `-y` annotation, or null for pipes, sockets, anon inodes. A file deleted
 * while open reads back from /proc as `PATH (deleted)`; the suffix is strace's relay of that.
 */
export function annotationPath(annotation: string | null): string | null {
  if (annotation === null || !annotation.startsWith('/')) return null;
  const path = annotation.endsWith(' (deleted)') ? annotation.slice(0, -' (deleted)'.length) : annotation;
  // The kernel's own paths are canonical already; a damaged log's are made so, never trusted as is.
  const normal = posix.normalize(path);
  return normal.length > 1 && normal.endsWith('/') ? normal.slice(0, -1) : normal;
}

/** Parses the text after `=`. */
export function parseResult(result: string): CallResult {
  let i = 0;
  while (i < result.length && result[i] !== ' ' && result[i] !== '<') i++;
  const token = result.slice(0, i);
  let annotation: string | null = null;
  if (result[i] === '<') {
    const end = skipAnnotation(result, i);
    annotation = unescapeStrace(result.slice(i + 1, end - 1));
    i = end;
  }
  const rest = result.slice(i).trim();
  const errno = /^(E[A-Z0-9]+)\b/.exec(rest)?.[1] ?? null;
  let value: number | null = null;
  if (/^-?\d+$/.test(token)) value = Number(token);
  else if (/^0x[0-9a-fA-F]+$/.test(token)) value = Number.parseInt(token.slice(2), 16);
  return { value, annotation, errno };
}

/** The elements of a printed string array (`["sh", "-c", ...]`); null for NULL or an address. */
export function parseStringArray(arg: string): string[] | null {
  const text = arg.trim();
  if (!text.startsWith('[')) return null;
  const out: string[] = [];
  let i = 1;
  while (i < text.length) {
    const c = text[i]!;
    if (c === '"') {
      const end = skipQuoted(text, i);
      out.push(unescapeStrace(text.slice(i + 1, end - 1)));
      i = end;
      continue;
    }
    if (c === ']') break;
    i++;
  }
  return out;
}

/** The `|`-separated names of a flags argument (`O_RDONLY|O_CLOEXEC`), or of `key=` inside a struct. */
export function flagNames(arg: string, key?: string): Set<string> {
  let text = arg;
  if (key !== undefined) {
    const match = new RegExp(`(?:^|[{,\\s])${key}=([^,}\\s]*)`).exec(arg);
    text = match?.[1] ?? '';
  }
  return new Set(text.split('|').map((part) => part.trim()));
}
