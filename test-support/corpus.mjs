// The differential corpus: the ELF files on this machine that glibc's loader can trace safely, so that
// `dit deps` can be compared with `LD_TRACE_LOADED_OBJECTS=1 ld.so FILE` over the whole machine.
//
// The selection follows docs/loader.md §12.4 (the corpus):
// - regular files only, each (dev, ino) once; file symlinks are followed, directory symlinks are not;
//   /usr/lib/debug is skipped;
// - ELF, 64-bit, little-endian, x86-64 (e_machine 62), ET_EXEC or ET_DYN, with PT_DYNAMIC;
// - PT_INTERP absent or exactly this glibc loader: another interpreter (musl, ...) would be traced by
//   the wrong loader;
// - no static executables: ld.so *runs* an ET_EXEC without PT_INTERP instead of listing it, and a
//   static-pie (ET_DYN, PT_DYNAMIC, no PT_INTERP, DF_1_PIE) only prints "statically linked".
//
// It has its own tiny header parser (no dependency on packages/elf): the corpus must not depend on the
// code it is used to test. Only the first page or so of each file is read, plus the program headers
// and the dynamic segment when they lie further in.
//
// Plain ESM with JSDoc types, node: builtins only, so that vitest tests and plain `node` scripts
// (bench/run.mjs) can both import it.

import {
  closeSync,
  fstatSync,
  lstatSync,
  openSync,
  readdirSync,
  readSync,
  realpathSync,
  statSync,
} from 'node:fs';
import { join, resolve } from 'node:path';

/** The interpreter of every glibc x86-64 program; the only PT_INTERP the corpus accepts. */
export const GLIBC_INTERP = '/lib64/ld-linux-x86-64.so.2';

/** The directories swept by default. */
export const DEFAULT_CORPUS_DIRS = Object.freeze(['/usr/bin', '/usr/sbin', '/usr/lib/x86_64-linux-gnu']);

/** Directory trees never entered (separate debug info: ELF files without code). */
export const SKIPPED_TREES = Object.freeze(['/usr/lib/debug']);

const ET_EXEC = 2;
const ET_DYN = 3;
const EM_X86_64 = 62;
const PT_DYNAMIC = 2;
const PT_INTERP = 3;
const DT_NULL = 0;
const DT_NEEDED = 1;
const DT_FLAGS_1 = 0x6ffffffb;
const DF_1_PIE = 0x08000000;
const PN_XNUM = 0xffff;

/** How much is read first: the ELF header and, in practice, all program headers. */
const HEAD_BYTES = 4096;
/** Sanity caps, so a corrupt header cannot make us read a huge region. */
const MAX_PHNUM = 65536;
const MAX_DYNAMIC_BYTES = 1 << 20;

/**
 * What the header parser found out about one file.
 *
 * `reason` is null when the file belongs in the corpus, otherwise one of:
 * - `short`: smaller than an ELF header;
 * - `not-elf`: no `\x7fELF` magic;
 * - `not-64bit`: EI_CLASS is not ELFCLASS64;
 * - `not-little-endian`: EI_DATA is not ELFDATA2LSB;
 * - `not-x86-64`: e_machine is not 62;
 * - `not-exec-or-dyn`: e_type is neither ET_EXEC nor ET_DYN (ET_REL objects, `.ko`, core files);
 * - `bad-phdrs`: e_phentsize is not 56, or the program headers lie outside the file;
 * - `no-dynamic`: no PT_DYNAMIC (static executables, and ET_DYN files such as the vDSO images);
 * - `foreign-interp`: PT_INTERP names another loader (`interp` says which);
 * - `static-exec`: ET_EXEC with PT_DYNAMIC but without PT_INTERP: ld.so would execute it;
 * - `static-pie`: ET_DYN without PT_INTERP whose DT_FLAGS_1 has DF_1_PIE;
 * - `bad-dynamic`: the dynamic segment of an ET_DYN without PT_INTERP could not be read.
 *
 * @typedef {object} ElfInfo
 * @property {string | null} reason  null = keep.
 * @property {number} [type]  e_type.
 * @property {number} [osabi]  EI_OSABI (glibc accepts 0 and 3 only; others are kept: the loader's
 *   failure on them is itself something to reproduce).
 * @property {string | null} [interp]  PT_INTERP without its NUL, or null when absent.
 * @property {boolean} [hasDynamic]
 * @property {number | null} [flags1]  DT_FLAGS_1; only looked up for ET_DYN without PT_INTERP
 *   (undefined otherwise, null when the tag is absent).
 * @property {number} [needed]  count of DT_NEEDED; only for ET_DYN without PT_INTERP, like flags1.
 */

/**
 * Counts from one sweep.
 *
 * @typedef {object} CorpusStats
 * @property {string[]} dirs  The directories swept.
 * @property {number} entries  Directory entries looked at (files, symlinks, directories, others).
 * @property {number} files  Distinct regular files (by dev, ino) whose header was examined or which
 *   could not be opened.
 * @property {number} kept  Files in the corpus.
 * @property {number} duplicates  Entries that led to an already-seen (dev, ino): hard links and file
 *   symlinks.
 * @property {number} directorySymlinks  Symlinks to directories, not followed.
 * @property {number} brokenSymlinks  Symlinks whose target does not exist (or cannot be stat'ed).
 * @property {number} nonRegular  Sockets, FIFOs, device nodes: never opened.
 * @property {number} skippedTrees  Directories (or file symlinks into them) not entered because they
 *   are in SKIPPED_TREES.
 * @property {number} unreadableFiles  Regular files that could not be opened or read (EACCES, EIO, ...).
 * @property {number} unreadableDirs  Directories that could not be listed.
 * @property {Record<string, number>} skipped  Regular files left out, by ElfInfo `reason`.
 * @property {Record<string, number>} foreignInterps  The PT_INTERP values behind `foreign-interp`.
 */

/**
 * Result of a sweep: the corpus and how it was selected.
 *
 * @typedef {object} CorpusListing
 * @property {string[]} files  Sorted realpaths, as listElfCorpus returns them.
 * @property {CorpusStats} stats
 */

/**
 * Sorted realpaths of the files in the differential corpus.
 *
 * @param {readonly string[]} [dirs]
 * @returns {string[]}
 */
export function listElfCorpus(dirs = DEFAULT_CORPUS_DIRS) {
  return listElfCorpusStats(dirs).files;
}

/**
 * Same sweep as listElfCorpus, with counts of what was seen, kept and skipped (by reason). Each
 * distinct regular file is counted exactly once, in `kept`, in one `skipped` reason or in
 * `unreadableFiles`: `files === kept + unreadableFiles + sum(skipped)`.
 *
 * @param {readonly string[]} [dirs]
 * @returns {CorpusListing}
 */
export function listElfCorpusStats(dirs = DEFAULT_CORPUS_DIRS) {
  /** @type {CorpusStats} */
  const stats = {
    dirs: [...dirs],
    entries: 0,
    files: 0,
    kept: 0,
    duplicates: 0,
    directorySymlinks: 0,
    brokenSymlinks: 0,
    nonRegular: 0,
    skippedTrees: 0,
    unreadableFiles: 0,
    unreadableDirs: 0,
    skipped: {},
    foreignInterps: {},
  };
  /** @type {Set<string>} "dev:ino" of every regular file handled. */
  const seen = new Set();
  /** @type {Set<string>} "dev:ino" of every directory entered (dirs may overlap, e.g. /usr/lib and /usr/lib/x86_64-linux-gnu). */
  const seenDirs = new Set();
  /** @type {string[]} */
  const files = [];

  /** @param {string} path */
  const isSkippedTree = (path) => SKIPPED_TREES.some((t) => path === t || path.startsWith(`${t}/`));

  /**
   * @param {string} path  A path to a regular file (possibly through symlinks).
   * @param {import('node:fs').Stats} st  stat() (followed) of it.
   */
  const visitFile = (path, st) => {
    const key = `${st.dev}:${st.ino}`;
    if (seen.has(key)) {
      stats.duplicates++;
      return;
    }
    seen.add(key);
    let real;
    try {
      real = realpathSync(path);
    } catch {
      stats.files++;
      stats.unreadableFiles++;
      return;
    }
    if (isSkippedTree(real)) {
      // A symlink into the debug tree: treated like the tree itself.
      stats.skippedTrees++;
      return;
    }
    stats.files++;
    /** @type {ElfInfo} */
    let info;
    try {
      info = readElfInfo(real);
    } catch {
      stats.unreadableFiles++;
      return;
    }
    if (info.reason === null) {
      stats.kept++;
      files.push(real);
    } else {
      stats.skipped[info.reason] = (stats.skipped[info.reason] ?? 0) + 1;
      if (info.reason === 'foreign-interp' && info.interp != null) {
        stats.foreignInterps[info.interp] = (stats.foreignInterps[info.interp] ?? 0) + 1;
      }
    }
  };

  /** @param {string} dir */
  const walk = (dir) => {
    if (isSkippedTree(dir)) {
      stats.skippedTrees++;
      return;
    }
    let st;
    try {
      st = statSync(dir);
    } catch {
      stats.unreadableDirs++;
      return;
    }
    const dkey = `${st.dev}:${st.ino}`;
    if (seenDirs.has(dkey)) return;
    seenDirs.add(dkey);
    let entries;
    try {
      entries = readdirSync(dir, { withFileTypes: true });
    } catch {
      stats.unreadableDirs++;
      return;
    }
    // Sorted, so that the walk (and which path of a hard-linked inode is seen first) is deterministic.
    entries.sort((a, b) => (a.name < b.name ? -1 : a.name > b.name ? 1 : 0));
    for (const entry of entries) {
      stats.entries++;
      const path = join(dir, entry.name);
      if (entry.isDirectory()) {
        walk(path);
      } else if (entry.isFile()) {
        let fst;
        try {
          fst = lstatSync(path);
        } catch {
          stats.brokenSymlinks++; // vanished between readdir and lstat
          continue;
        }
        visitFile(path, fst);
      } else if (entry.isSymbolicLink()) {
        let target;
        try {
          target = statSync(path);
        } catch {
          stats.brokenSymlinks++;
          continue;
        }
        if (target.isDirectory()) stats.directorySymlinks++;
        else if (target.isFile()) visitFile(path, target);
        else stats.nonRegular++;
      } else {
        // Never open FIFOs or devices: open() on a FIFO blocks.
        stats.nonRegular++;
      }
    }
  };

  for (const dir of dirs) walk(resolve(dir));
  files.sort();
  return { files, stats };
}

/**
 * Reads `length` bytes at `position`; fewer only at end of file.
 *
 * @param {number} fd
 * @param {number} position
 * @param {number} length
 * @returns {Buffer}
 */
function readAt(fd, position, length) {
  const buf = Buffer.alloc(length);
  let got = 0;
  while (got < length) {
    const n = readSync(fd, buf, got, length - got, position + got);
    if (n === 0) break;
    got += n;
  }
  return got === length ? buf : buf.subarray(0, got);
}

/**
 * Classifies one file with a minimal ELF header parser (see ElfInfo for the verdicts). Throws on
 * I/O errors (unreadable file); a short or malformed file is a verdict, not an exception.
 *
 * Exported so tests and the oracle's callers can check a single file (e.g. before handing it to the
 * loader: never trace a static ET_EXEC, ld.so would run it).
 *
 * @param {string} path
 * @returns {ElfInfo}
 */
export function readElfInfo(path) {
  const fd = openSync(path, 'r');
  try {
    return classify(fd);
  } finally {
    closeSync(fd);
  }
}

/**
 * @param {number} fd
 * @returns {ElfInfo}
 */
function classify(fd) {
  const size = fstatSync(fd).size;
  const head = readAt(fd, 0, HEAD_BYTES);
  if (head.length < 64) {
    return { reason: head.length >= 4 && !isElfMagic(head) ? 'not-elf' : 'short' };
  }
  if (!isElfMagic(head)) return { reason: 'not-elf' };
  if (head[4] !== 2) return { reason: 'not-64bit' };
  if (head[5] !== 1) return { reason: 'not-little-endian' };
  const osabi = head[7] ?? 0;
  const type = head.readUInt16LE(16);
  const machine = head.readUInt16LE(18);
  if (machine !== EM_X86_64) return { reason: 'not-x86-64', type, osabi };
  if (type !== ET_EXEC && type !== ET_DYN) return { reason: 'not-exec-or-dyn', type, osabi };

  const phoff = Number(head.readBigUInt64LE(32));
  const phentsize = head.readUInt16LE(54);
  let phnum = head.readUInt16LE(56);
  if (phnum === PN_XNUM) {
    // More than 0xfffe program headers: the real count is in section header 0's sh_info.
    const shoff = Number(head.readBigUInt64LE(40));
    const sh0 = readAt(fd, shoff, 64);
    if (sh0.length < 64) return { reason: 'bad-phdrs', type, osabi };
    phnum = sh0.readUInt32LE(44);
  }
  if (phentsize !== 56 || phnum > MAX_PHNUM || phoff + phnum * 56 > size) {
    return { reason: 'bad-phdrs', type, osabi };
  }
  const phdrs =
    phoff + phnum * 56 <= head.length
      ? head.subarray(phoff, phoff + phnum * 56)
      : readAt(fd, phoff, phnum * 56);
  if (phdrs.length < phnum * 56) return { reason: 'bad-phdrs', type, osabi };

  /** @type {{ offset: number, filesz: number } | null} */
  let dynamic = null;
  /** @type {string | null} */
  let interp = null;
  for (let i = 0; i < phnum; i++) {
    const at = i * 56;
    const ptype = phdrs.readUInt32LE(at);
    if (ptype === PT_DYNAMIC) {
      dynamic = {
        offset: Number(phdrs.readBigUInt64LE(at + 8)),
        filesz: Number(phdrs.readBigUInt64LE(at + 32)),
      };
    } else if (ptype === PT_INTERP) {
      const offset = Number(phdrs.readBigUInt64LE(at + 8));
      const filesz = Math.min(Number(phdrs.readBigUInt64LE(at + 32)), 4096);
      const raw =
        offset + filesz <= head.length ? head.subarray(offset, offset + filesz) : readAt(fd, offset, filesz);
      const nul = raw.indexOf(0);
      interp = raw.subarray(0, nul === -1 ? raw.length : nul).toString('latin1');
    }
  }

  const base = { type, osabi, interp, hasDynamic: dynamic !== null };
  if (dynamic === null) return { reason: 'no-dynamic', ...base };
  if (interp !== null) {
    return { reason: interp === GLIBC_INTERP ? null : 'foreign-interp', ...base };
  }
  if (type === ET_EXEC) return { reason: 'static-exec', ...base };

  // ET_DYN without PT_INTERP: a shared library (keep) or a static-pie (skip). Only DF_1_PIE in
  // DT_FLAGS_1 tells them apart; the tag's value is an immediate, so no address translation is needed.
  const len = Math.min(dynamic.filesz, MAX_DYNAMIC_BYTES);
  if (dynamic.offset + len > size || len < 16) return { reason: 'bad-dynamic', ...base };
  const dyn =
    dynamic.offset + len <= head.length
      ? head.subarray(dynamic.offset, dynamic.offset + len)
      : readAt(fd, dynamic.offset, len);
  /** @type {number | null} */
  let flags1 = null;
  let needed = 0;
  for (let at = 0; at + 16 <= dyn.length; at += 16) {
    const tag = dyn.readBigInt64LE(at);
    if (tag === BigInt(DT_NULL)) break;
    if (tag === BigInt(DT_NEEDED)) needed++;
    else if (tag === BigInt(DT_FLAGS_1)) flags1 = Number(dyn.readBigUInt64LE(at + 8) & 0xffffffffn);
  }
  const pie = flags1 !== null && (flags1 & DF_1_PIE) !== 0;
  return { reason: pie ? 'static-pie' : null, ...base, flags1, needed };
}

/** @param {Buffer} b */
function isElfMagic(b) {
  return b[0] === 0x7f && b[1] === 0x45 && b[2] === 0x4c && b[3] === 0x46;
}
