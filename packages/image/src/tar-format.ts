/**
 * Tar headers written byte for byte by dit, not by a library: every field of a layer is then a
 * choice made here (no user or group names, no atime or ctime, no device numbers, PAX records only
 * where ustar cannot hold a value), so the same tree always gives the same bytes, on any machine.
 */

export const BLOCK = 512;

export type TarType = 'file' | 'hardlink' | 'symlink' | 'directory';

export interface TarHeader {
  /** Relative name, `/` separated; a directory's ends with `/`. */
  readonly name: string;
  readonly type: TarType;
  /** Permission bits and setuid/setgid/sticky (`mode & 0o7777`). */
  readonly mode: number;
  readonly uid: number;
  readonly gid: number;
  /** Bytes that follow the header (0 for everything but regular files). */
  readonly size: number;
  /** Seconds since the epoch, whole. */
  readonly mtime: number;
  /** For links: the target (a hard link's is another name in the archive). */
  readonly linkname?: string;
}

const TYPE_FLAG: Record<TarType, string> = { file: '0', hardlink: '1', symlink: '2', directory: '5' };

/** The largest value an octal field of `width` bytes holds (one byte is the terminator). */
const maxOctal = (width: number) => 8 ** (width - 1) - 1;

/**
 * The header block(s) for one entry: a PAX extended header first when the name or link target does
 * not fit ustar's fields, or a number exceeds its octal field. Values that fit are never put in PAX,
 * so ordinary entries are plain ustar headers.
 */
export function encodeHeader(header: TarHeader): Buffer {
  const records: [string, string][] = [];
  const name = Buffer.from(header.name, 'utf8');
  const link = Buffer.from(header.linkname ?? '', 'utf8');
  const split = name.length > 100 ? splitName(name) : { prefix: Buffer.alloc(0), name };
  if (split === null) records.push(['path', header.name]);
  if (link.length > 100) records.push(['linkpath', header.linkname ?? '']);
  if (header.size > maxOctal(12)) records.push(['size', String(header.size)]);
  if (header.uid > maxOctal(8)) records.push(['uid', String(header.uid)]);
  if (header.gid > maxOctal(8)) records.push(['gid', String(header.gid)]);
  const block = ustar({
    name: split?.name ?? name.subarray(0, 100),
    prefix: split?.prefix ?? Buffer.alloc(0),
    type: TYPE_FLAG[header.type],
    mode: header.mode & 0o7777,
    uid: Math.min(header.uid, maxOctal(8)),
    gid: Math.min(header.gid, maxOctal(8)),
    size: Math.min(header.size, maxOctal(12)),
    mtime: Math.min(Math.max(0, Math.floor(header.mtime)), maxOctal(12)),
    linkname: link.subarray(0, 100),
  });
  if (records.length === 0) return block;
  const body = paxBody(records);
  const paxHeader = ustar({
    // A fixed name: tools that do not know PAX extract it as a file, and it must not vary.
    name: Buffer.from('PaxHeaders/entry'),
    prefix: Buffer.alloc(0),
    type: 'x',
    mode: 0o644,
    uid: 0,
    gid: 0,
    size: body.length,
    mtime: 0,
    linkname: Buffer.alloc(0),
  });
  return Buffer.concat([paxHeader, body, padding(body.length), block]);
}

/** Zero bytes up to the next block boundary after `size` bytes of content. */
export function padding(size: number): Buffer {
  const rest = size % BLOCK;
  return Buffer.alloc(rest === 0 ? 0 : BLOCK - rest);
}

/** The end of an archive: two zero blocks. */
export const END_OF_ARCHIVE = Buffer.alloc(2 * BLOCK);

/** ustar's prefix/name split at a `/`, or null when no split fits (then PAX carries the name). */
function splitName(name: Buffer): { prefix: Buffer; name: Buffer } | null {
  for (let slash = name.indexOf(0x2f); slash >= 0; slash = name.indexOf(0x2f, slash + 1)) {
    if (slash > 155) return null;
    const rest = name.length - slash - 1;
    if (rest <= 100 && rest > 0) return { prefix: name.subarray(0, slash), name: name.subarray(slash + 1) };
  }
  return null;
}

function paxBody(records: readonly [string, string][]): Buffer {
  const lines = records.map(([key, value]) => {
    // "LEN key=value\n", LEN counting itself: grow it until it is stable.
    const rest = ` ${key}=${value}\n`;
    const restBytes = Buffer.byteLength(rest);
    let length = restBytes + 1;
    while (String(length).length + restBytes !== length) length = String(length).length + restBytes;
    return `${length}${rest}`;
  });
  return Buffer.from(lines.join(''), 'utf8');
}

interface Fields {
  name: Buffer;
  prefix: Buffer;
  type: string;
  mode: number;
  uid: number;
  gid: number;
  size: number;
  mtime: number;
  linkname: Buffer;
}

function ustar(fields: Fields): Buffer {
  const block = Buffer.alloc(BLOCK);
  fields.name.copy(block, 0);
  octal(block, 100, 8, fields.mode);
  octal(block, 108, 8, fields.uid);
  octal(block, 116, 8, fields.gid);
  octal(block, 124, 12, fields.size);
  octal(block, 136, 12, fields.mtime);
  block.write(fields.type, 156, 'latin1');
  fields.linkname.copy(block, 157);
  block.write('ustar\u000000', 257, 'latin1');
  // uname and gname stay empty: owners are numeric, as a runtime applies them.
  octal(block, 329, 8, 0);
  octal(block, 337, 8, 0);
  fields.prefix.copy(block, 345);
  // The checksum is computed with its own field as blanks.
  block.fill(0x20, 148, 156);
  let sum = 0;
  for (const byte of block) sum += byte;
  block.write(`${sum.toString(8).padStart(6, '0')}\u0000 `, 148, 'latin1');
  return block;
}

function octal(block: Buffer, offset: number, width: number, value: number): void {
  block.write(`${value.toString(8).padStart(width - 1, '0')}\u0000`, offset, 'latin1');
}
