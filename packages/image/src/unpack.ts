/**
 * Layers unpacked in order into a staging root, as a runtime's storage would stack them, confined:
 * every name is checked before anything is written (no absolute names, no `..`), folders on the
 * way are resolved inside the root (a link among them is followed as the image would see it, from
 * the root, never on the host), the last name is never followed, a relative link may not climb out
 * of the root, a hard link names a file inside it, and no device node is ever made: one under
 * /dev (where a runtime mounts its own, and which debootstrap'ed bases carry) is skipped and said,
 * one anywhere else refused. A refused layer stops the unpack with IMAGE_HOSTILE_LAYER; what was
 * written lies inside the root only.
 */
import {
  chmodSync,
  closeSync,
  fchmodSync,
  lchownSync,
  linkSync,
  lstatSync,
  lutimesSync,
  mkdirSync,
  openSync,
  readdirSync,
  readlinkSync,
  rmSync,
  type Stats,
  symlinkSync,
  utimesSync,
  writeSync,
} from 'node:fs';
import { posix } from 'node:path';
import { Readable } from 'node:stream';
import { pipeline } from 'node:stream/promises';
import { createGunzip } from 'node:zlib';
import { Parser, type ReadEntry } from 'tar';
import { ImageError } from './errors.js';

const OPAQUE = '.wh..wh..opq';
const WHITEOUT = '.wh.';

/** Unpacks `layers` (tar streams, compressed or not) in order into `root`, an empty folder; returns warnings. */
export async function unpackLayers(
  layers: readonly { readonly name: string; open(): Readable }[],
  root: string,
): Promise<string[]> {
  const skipped: string[] = [];
  for (const layer of layers) await unpackLayer(layer.name, layer.open(), root, skipped);
  return skipped.length === 0
    ? []
    : [`device nodes under /dev not unpacked (a runtime provides /dev): ${skipped.join(', ')}`];
}

async function unpackLayer(name: string, stream: Readable, root: string, skipped: string[]): Promise<void> {
  const writer = new LayerWriter(root, name, skipped);
  const parser = new Parser({
    onReadEntry: (entry: ReadEntry) => {
      if (writer.failure !== null) {
        entry.resume();
        return;
      }
      try {
        writer.entry(entry);
      } catch (error) {
        writer.failure = error;
        entry.resume();
        parser.abort(error as Error);
      }
    },
  });
  const { source, gzip } = await decompressed(stream, name);
  try {
    await pipeline([source, ...(gzip ? [createGunzip()] : []), parser]);
  } catch (error) {
    if (writer.failure === null) {
      throw new ImageError('IMAGE_BAD_SOURCE', `layer ${name}: ${(error as Error).message}`, {
        cause: error,
      });
    }
  }
  if (writer.failure !== null) throw writer.failure;
  writer.finish();
}

/** The layer as tar: gunzipped when it starts with gzip's magic bytes; zstd is named (Node.js 20 cannot read it). */
async function decompressed(stream: Readable, name: string): Promise<{ source: Readable; gzip: boolean }> {
  const chunks = stream[Symbol.asyncIterator]();
  const first = await chunks.next();
  const head: Buffer = first.done ? Buffer.alloc(0) : first.value;
  if (head[0] === 0x28 && head[1] === 0xb5 && head[2] === 0x2f && head[3] === 0xfd) {
    stream.destroy();
    throw new ImageError(
      'IMAGE_UNSUPPORTED',
      `layer ${name}: zstd-compressed, which this Node.js (${process.version}) cannot read`,
    );
  }
  const source = Readable.from(
    (async function* () {
      yield head;
      for (let next = await chunks.next(); !next.done; next = await chunks.next()) yield next.value as Buffer;
    })(),
  );
  return { source, gzip: head[0] === 0x1f && head[1] === 0x8b };
}

class LayerWriter {
  failure: unknown = null;
  /** Paths this layer wrote: an opaque whiteout removes what lower layers left, not these. */
  private readonly written = new Set<string>();
  private readonly folderTimes: [string, Date][] = [];

  constructor(
    private readonly root: string,
    private readonly layer: string,
    private readonly skipped: string[],
  ) {}

  entry(entry: ReadEntry): void {
    const path = this.checkName(entry.path);
    if (path === null) {
      entry.resume(); // the root itself
      return;
    }
    const base = posix.basename(path);
    if (base === OPAQUE) {
      const folder = this.resolveFolder(posix.dirname(path));
      for (const child of safeReaddir(folder.host)) {
        if (!this.written.has(posix.join(folder.inRoot, child)))
          rmSync(posix.join(folder.host, child), { recursive: true, force: true });
      }
      entry.resume();
      return;
    }
    if (base.startsWith(WHITEOUT)) {
      const hidden = base.slice(WHITEOUT.length);
      if (hidden === '' || hidden === '.' || hidden === '..' || hidden.includes('/')) {
        this.refuse(entry.path, `a whiteout of "${hidden}"`);
      }
      const folder = this.resolveFolder(posix.dirname(path));
      rmSync(posix.join(folder.host, hidden), { recursive: true, force: true });
      entry.resume();
      return;
    }
    const folder = this.resolveFolder(posix.dirname(path));
    const inRoot = posix.join(folder.inRoot, base);
    const host = posix.join(folder.host, base);
    const existing = lstatOrNull(host);
    const mode = (entry.mode ?? 0o644) & 0o7777;
    const uid = entry.uid ?? 0;
    const gid = entry.gid ?? 0;
    const mtime = entry.mtime ?? new Date(0);
    switch (entry.type) {
      case 'Directory': {
        if (existing !== null && !existing.isDirectory()) rmSync(host, { recursive: true, force: true });
        if (existing === null || !existing.isDirectory()) mkdirSync(host);
        applyOwner(host, mode, uid, gid, false);
        this.folderTimes.push([host, mtime]);
        break;
      }
      case 'File':
      case 'OldFile':
      case 'ContiguousFile': {
        if (existing !== null) rmSync(host, { recursive: true, force: true });
        // O_EXCL: the name was just removed; nothing can stand there that the write would follow.
        const fd = openSync(host, 'wx', 0o600);
        entry.on('data', (chunk: Buffer) => {
          let done = 0;
          while (done < chunk.length) done += writeSync(fd, chunk, done);
        });
        entry.on('end', () => {
          try {
            fchmodSync(fd, mode);
            closeSync(fd);
            applyOwner(host, mode, uid, gid, true);
            utimesSync(host, mtime, mtime);
          } catch (error) {
            this.failure ??= error;
          }
        });
        this.written.add(inRoot);
        return;
      }
      case 'SymbolicLink': {
        const target = entry.linkpath ?? '';
        if (target === '') this.refuse(entry.path, 'a symbolic link with no target');
        if (!target.startsWith('/') && climbsOut(folder.inRoot, target)) {
          this.refuse(entry.path, `a symbolic link to ${target}, which leaves the image`);
        }
        if (existing !== null) rmSync(host, { recursive: true, force: true });
        symlinkSync(target, host);
        if (process.getuid?.() === 0) lchownSync(host, uid, gid);
        lutimesSync(host, mtime, mtime);
        break;
      }
      case 'Link': {
        const targetName = this.checkName(entry.linkpath ?? '');
        if (targetName === null) this.refuse(entry.path, 'a hard link to the root folder');
        const targetFolder = this.resolveFolder(posix.dirname(targetName!));
        const targetHost = posix.join(targetFolder.host, posix.basename(targetName!));
        const target = lstatOrNull(targetHost);
        if (target === null || target.isDirectory()) {
          this.refuse(
            entry.path,
            `a hard link to ${entry.linkpath}, which is ${target === null ? 'not in the image' : 'a folder'}`,
          );
        }
        if (existing !== null) rmSync(host, { recursive: true, force: true });
        linkSync(targetHost, host);
        break;
      }
      case 'CharacterDevice':
      case 'BlockDevice':
        if (inRoot.startsWith('/dev/')) {
          this.skipped.push(inRoot);
          entry.resume();
          return;
        }
        this.refuse(
          entry.path,
          'a device node (an image has no business creating one; a runtime provides /dev)',
        );
        break;
      case 'FIFO':
        this.refuse(entry.path, 'a named pipe');
        break;
      default:
        // PAX and GNU headers are consumed by the parser; anything else has no place in a root.
        this.refuse(entry.path, `an entry of type ${entry.type}`);
    }
    this.written.add(inRoot);
    entry.resume();
  }

  /** Folder times last: writing into a folder changes its time. */
  finish(): void {
    for (const [path, time] of this.folderTimes.reverse()) {
      try {
        utimesSync(path, time, time);
      } catch {
        // removed by a later whiteout of the same layer
      }
    }
  }

  /** The entry's name inside the root (`/a/b`), or null for the root itself; refuses absolute names and `..`. */
  private checkName(name: string): string | null {
    if (name.startsWith('/')) this.refuse(name, 'an absolute name');
    const parts = name.split('/').filter((part) => part !== '' && part !== '.');
    if (parts.includes('..')) this.refuse(name, 'a name with ".."');
    return parts.length === 0 ? null : `/${parts.join('/')}`;
  }

  /**
   * A folder inside the root, every link on the way followed inside the root (absolute targets from
   * the root, `..` stopping at it), missing folders made: where an entry's parent really lies.
   */
  private resolveFolder(path: string): { inRoot: string; host: string } {
    const pending = path.split('/').filter(Boolean);
    const resolved: string[] = [];
    let links = 0;
    while (pending.length > 0) {
      const part = pending.shift()!;
      if (part === '.' || part === '') continue;
      if (part === '..') {
        resolved.pop();
        continue;
      }
      const host = posix.join(this.root, ...resolved, part);
      const stat = lstatOrNull(host);
      if (stat === null) {
        mkdirSync(host, { mode: 0o755 });
      } else if (stat.isSymbolicLink()) {
        if (++links > 40) this.refuse(path, 'too many levels of symbolic links on the way');
        const target = readlinkSync(host);
        if (target.startsWith('/')) resolved.length = 0;
        pending.unshift(...target.split('/'));
        continue;
      } else if (!stat.isDirectory()) {
        // A file where a folder should be: replaced, as a later layer's folder replaces a lower file.
        rmSync(host, { force: true });
        mkdirSync(host, { mode: 0o755 });
      }
      resolved.push(part);
    }
    const inRoot = `/${resolved.join('/')}`;
    return { inRoot, host: posix.join(this.root, ...resolved) };
  }

  private refuse(name: string, what: string): never {
    throw new ImageError(
      'IMAGE_HOSTILE_LAYER',
      `layer ${this.layer}: refused ${name}: ${what}; nothing was written outside the staging root`,
    );
  }
}

/** A relative link target that, from its folder, climbs above the root. */
function climbsOut(folder: string, target: string): boolean {
  let depth = folder.split('/').filter(Boolean).length;
  for (const part of target.split('/')) {
    if (part === '..') depth--;
    else if (part !== '.' && part !== '') depth++;
    if (depth < 0) return true;
  }
  return false;
}

function applyOwner(path: string, mode: number, uid: number, gid: number, file: boolean): void {
  if (process.getuid?.() === 0) lchownSync(path, uid, gid);
  // chown clears setuid bits: the mode goes on after it.
  if (!file || (mode & 0o7000) !== 0) {
    try {
      chmodSync(path, mode);
    } catch {
      // a folder's mode is best effort
    }
  }
}

function safeReaddir(path: string): string[] {
  try {
    return readdirSync(path);
  } catch {
    return [];
  }
}

function lstatOrNull(path: string): Stats | null {
  try {
    return lstatSync(path);
  } catch {
    return null;
  }
}
