import { DF_1, ET, PT } from './constants.js';
import { readDynamic } from './dynamic.js';
import { ElfError } from './errors.js';
import { readHeaders } from './header.js';
import { BufferSource, type ByteSource, FileSource } from './source.js';
import type { DynamicSection, ElfFile, ElfHeader, ElfKind } from './types.js';

/**
 * Reads an ELF file's header, PT_INTERP and dynamic section with a few small reads (never the whole
 * file). Throws {@link ElfError} for anything that is not a well-formed ELF file. A path that is
 * not UTF-8 is given as its bytes (a Buffer); messages then show it decoded.
 */
export function readElfSync(path: string | Buffer): ElfFile {
  return FileSource.with(textOf(path), (source) => readFrom(source), path);
}

/** Reads only e_ident and the file header: enough to judge class, machine and ABI. */
export function readElfHeaderSync(path: string | Buffer): { header: ElfHeader; size: number } {
  return FileSource.with(
    textOf(path),
    (source) => ({ header: readHeaders(source).header, size: source.size }),
    path,
  );
}

function textOf(path: string | Buffer): string {
  return typeof path === 'string' ? path : path.toString('utf8');
}

/** The same as {@link readElfSync} for bytes already in memory; `path` is only used in errors. */
export function parseElf(data: Uint8Array, path = '<buffer>'): ElfFile {
  return readFrom(new BufferSource(path, data));
}

/** Whether the first bytes are the ELF magic (cheap check for "is this worth parsing?"). */
export function isElfMagic(data: Uint8Array): boolean {
  return data.length >= 4 && data[0] === 0x7f && data[1] === 0x45 && data[2] === 0x4c && data[3] === 0x46;
}

function readFrom(source: ByteSource): ElfFile {
  const { header, programs } = readHeaders(source);
  const interpSegment = programs.find((program) => program.type === PT.INTERP);
  let interpreter: string | null = null;
  let interpreterProblem: string | null = null;
  if (interpSegment !== undefined) {
    // Only the kernel reads PT_INTERP, and only a program's: ld.so ignores a library's. So a bad
    // one is data here (the resolver refuses it in a program), never an error for the whole file.
    try {
      const bytes = source.read(interpSegment.offset, interpSegment.filesz, 'PT_INTERP');
      const end = bytes.indexOf(0);
      interpreter = Buffer.from(bytes.subarray(0, end < 0 ? bytes.length : end)).toString('utf8');
      if (interpreter === '') interpreterProblem = 'PT_INTERP is empty';
    } catch (error) {
      if (!(error instanceof ElfError)) throw error;
      interpreter = '';
      interpreterProblem = error.problem;
    }
  }
  const dynamic = readDynamic(source, header, programs);
  return {
    path: source.path,
    size: source.size,
    header,
    kind: classify(header, interpreter, dynamic),
    interpreter,
    interpreterProblem,
    loads: programs.filter((program) => program.type === PT.LOAD),
    dynamic,
  };
}

function classify(header: ElfHeader, interpreter: string | null, dynamic: DynamicSection | null): ElfKind {
  switch (header.type) {
    case ET.EXEC:
      return interpreter === null && dynamic === null ? 'static' : 'executable';
    case ET.DYN: {
      const pie = dynamic !== null && (dynamic.flags1 & DF_1.PIE) !== 0;
      if (pie) return interpreter === null ? 'static-pie' : 'pie';
      return 'shared-library';
    }
    case ET.REL:
      return 'relocatable';
    default:
      return 'other';
  }
}
