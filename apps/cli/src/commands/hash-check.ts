import { readFileSync } from 'node:fs';
import { describeErrno, errnoOf, type HashResult, hashFiles } from '@dit/native';
import type { FilePath } from '@dit/paths';
import { type ChecksumListLine, parseChecksumList } from '../checksum-list.js';
import { escapedName, joinText } from '../checksum-text.js';
import type { Io } from '../io.js';

export interface CheckOptions {
  /** --quiet: print nothing for a file that matches. */
  readonly quiet?: boolean;
  /** --status: print nothing on standard output; the exit status tells. */
  readonly status?: boolean;
  /** --strict: a malformed line fails the check. */
  readonly strict?: boolean;
  /** --warn: name each malformed line on standard error. */
  readonly warn?: boolean;
  /** --ignore-missing: a listed file that does not exist is neither reported nor a failure. */
  readonly ignoreMissing?: boolean;
}

/**
 * `dit hash --check LIST...`: what `sha256sum --check` does, with the same standard output (so
 * scripts reading it see no difference) and exit status, the files of each list hashed in parallel
 * on all cores. The warnings on standard error are sha256sum's, after `dit:`; a file that cannot be
 * read is named as `dit hash` names it. `-` is standard input. True when every list checked out.
 */
export async function checkLists(
  lists: readonly FilePath[],
  options: CheckOptions,
  io: Io,
): Promise<boolean> {
  let allGood = true;
  for (const list of lists) {
    if (!(await checkList(list, options, io))) allGood = false;
  }
  return allGood;
}

async function checkList(list: FilePath, options: CheckOptions, io: Io): Promise<boolean> {
  const fromStdin = list === '-';
  const listName: FilePath = fromStdin ? 'standard input' : list;
  let data: Buffer;
  try {
    data = readFileSync(fromStdin ? 0 : list);
  } catch (error) {
    const { error: message } = describeErrno(errnoOf(error));
    io.stderr(joinText(['dit: ', listName, `: ${message}\n`]));
    return false;
  }
  const lines = parseChecksumList(data, { fromStdin });
  const entries = lines.filter((line): line is ChecksumListLine & { kind: 'entry' } => line.kind === 'entry');
  // A listed `-` is standard input, as for sha256sum (a list read from standard input cannot have one).
  const files = entries.filter((entry) => entry.path !== '-');
  const results = await hashFiles(files.map((entry) => entry.path));
  const byLine = new Map<ChecksumListLine, HashResult>(files.map((entry, index) => [entry, results[index]!]));
  for (const entry of entries) if (entry.path === '-') byLine.set(entry, await hashStandardInput());

  const counts = { malformed: 0, unreadable: 0, mismatched: 0, matched: 0 };
  // Standard output in one write per run of lines, flushed before anything goes to standard error, so
  // that the two still interleave as sha256sum's do on a terminal.
  let pending: FilePath[] = [];
  const flush = () => {
    if (pending.length > 0) io.stdout(joinText(pending));
    pending = [];
  };
  const warn = (parts: FilePath[]) => {
    flush();
    io.stderr(joinText(parts));
  };
  const out = (name: FilePath, verdict: string) => {
    if (options.status) return;
    // Only a newline forces escaping here (one line per file for whoever reads the output).
    const hasNewline = typeof name === 'string' ? name.includes('\n') : name.includes(0x0a);
    pending.push(hasNewline ? '\\' : '', hasNewline ? escapedName(name).text : name, `: ${verdict}\n`);
  };
  for (const line of lines) {
    if (line.kind === 'malformed') {
      counts.malformed++;
      if (options.warn)
        warn(['dit: ', listName, `: ${line.line}: improperly formatted SHA256 checksum line\n`]);
      continue;
    }
    const result = byLine.get(line)!;
    if (result.sha256 === undefined) {
      if (options.ignoreMissing && result.code === 'ENOENT') continue;
      counts.unreadable++;
      warn(['dit: ', line.path, `: ${result.error}\n`]);
      out(line.path, 'FAILED open or read');
    } else if (result.sha256 !== line.sha256) {
      counts.mismatched++;
      out(line.path, 'FAILED');
    } else {
      counts.matched++;
      if (!options.quiet) out(line.path, 'OK');
    }
  }

  if (entries.length === 0) {
    warn(['dit: ', listName, ': no properly formatted checksum lines found\n']);
    return false;
  }
  flush();
  if (!options.status) {
    const plural = (n: number, one: string, many: string) => (n === 1 ? one : many);
    const warnings = [
      counts.malformed > 0 &&
        `${counts.malformed} ${plural(counts.malformed, 'line is', 'lines are')} improperly formatted`,
      counts.unreadable > 0 &&
        `${counts.unreadable} listed ${plural(counts.unreadable, 'file', 'files')} could not be read`,
      counts.mismatched > 0 &&
        `${counts.mismatched} computed ${plural(counts.mismatched, 'checksum', 'checksums')} did NOT match`,
    ].filter((warning): warning is string => typeof warning === 'string');
    for (const warning of warnings) warn([`dit: WARNING: ${warning}\n`]);
    if (options.ignoreMissing && counts.matched === 0) warn(['dit: ', listName, ': no file was verified\n']);
  }
  return (
    counts.matched > 0 &&
    counts.mismatched === 0 &&
    counts.unreadable === 0 &&
    !(options.strict && counts.malformed > 0)
  );
}

let standardInput: Promise<HashResult> | undefined;

/** The SHA-256 of standard input, read once however often a list names `-`. */
function hashStandardInput(): Promise<HashResult> {
  standardInput ??= (async () => {
    const { createHash } = await import('node:crypto');
    try {
      return { path: '-', sha256: createHash('sha256').update(readFileSync(0)).digest('hex') };
    } catch (error) {
      return { path: '-', ...describeErrno(errnoOf(error)) };
    }
  })();
  return standardInput;
}
