/**
 * A path as the OS has it: a string when its bytes are UTF-8 (nearly always), else a Buffer of the
 * bytes, so that a name in Latin-1 (say) is hashed and printed as it is rather than with U+FFFD in
 * it. Node's `fs` takes either.
 */
export type FilePath = string | Buffer;

/**
 * A name's bytes as text for messages: printable ASCII as it is, every other byte as `\xNN`, as
 * strace and the shell show a name that is not UTF-8.
 */
export function printableBytes(bytes: Uint8Array): string {
  return Array.from(bytes, (byte) =>
    byte >= 0x20 && byte < 0x7f ? String.fromCharCode(byte) : `\\x${byte.toString(16).padStart(2, '0')}`,
  ).join('');
}
