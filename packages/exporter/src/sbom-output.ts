import { createHash } from 'node:crypto';
import { readFileSync, renameSync, rmSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import type { RootFs } from '@dit/paths';
import { type DpkgDatabase, field } from '@dit/provenance';
import { cyclonedxJson, declaredLicenses, type SbomInput, type SbomPackage, spdxJson } from '@dit/sbom';
import { ExportError } from './errors.js';
import { EXPLAIN_RECORD_REASON } from './explain-record.js';
import { partialFile } from './leftovers.js';
import { checkOutputFile, type OutputTarget } from './output.js';
import type { ExportReport, SbomOutput } from './types.js';
import { describeWriteError } from './write-errors.js';

/**
 * Checks every --sbom file before any work, as --tar and --report are checked: not inside --path,
 * in a folder that can be written, and no file named twice (with --tar, --report or another --sbom).
 */
export function checkSbomOutputs(
  outputs: readonly SbomOutput[],
  target: OutputTarget,
  taken: readonly (string | undefined)[],
): SbomOutput[] {
  const used = new Set(taken.filter((file) => file !== undefined));
  return outputs.map((output) => {
    const file = checkOutputFile(output.file, '--sbom', target);
    if (used.has(file)) {
      throw new ExportError(
        'EXPORT_BAD_OUTPUT',
        `--sbom ${output.file}: names a file another output is written to`,
      );
    }
    used.add(file);
    return { format: output.format, file };
  });
}

/**
 * Writes each SBOM of the finished export, beside its place and renamed into it (never half-written).
 * Licenses are read from the copyright files in the root, dependencies from the packages' records.
 */
export function writeSboms(
  outputs: readonly SbomOutput[],
  context: {
    readonly report: ExportReport;
    readonly database: DpkgDatabase | null;
    readonly fs: RootFs;
    readonly toolVersion: string;
  },
): void {
  if (outputs.length === 0) return;
  const input = sbomInput(context);
  for (const output of outputs) {
    const text = output.format === 'spdx-json' ? spdxJson(input) : cyclonedxJson(input);
    const partial = partialFile(output.file);
    try {
      writeFileSync(partial, text);
      renameSync(partial, output.file);
    } catch (error) {
      rmSync(partial, { force: true });
      throw new ExportError(
        'EXPORT_WRITE_FAILED',
        `--sbom ${output.file}: ${describeWriteError(error)}; the export at ${context.report.output} is complete`,
        { cause: error },
      );
    }
  }
}

function sbomInput(context: {
  readonly report: ExportReport;
  readonly database: DpkgDatabase | null;
  readonly fs: RootFs;
  readonly toolVersion: string;
}): SbomInput {
  const { report, database, fs } = context;
  const read = (path: string): string | null => {
    const lookup = fs.lookup(path);
    if (lookup.type !== 'file' || lookup.realPath === null) return null;
    try {
      return readFileSync(fs.hostPath(lookup.realPath), 'utf8');
    } catch {
      return null;
    }
  };
  const exported = new Set(report.packages.map((usage) => usage.name));
  const packages: SbomPackage[] = report.packages.map((usage) => {
    const stanza = database?.packages.get(usage.id)?.stanza;
    const relations =
      stanza === undefined ? '' : [field(stanza, 'pre-depends'), field(stanza, 'depends')].join(',');
    const source = stanza === undefined ? undefined : field(stanza, 'source')?.split(/\s+/)[0];
    return {
      name: usage.name,
      version: usage.version,
      architecture: usage.architecture,
      ...(source === undefined || source === usage.name ? {} : { source }),
      dependsOn: [...new Set(packageNames(relations))].filter(
        (name) => exported.has(name) && name !== usage.name,
      ),
      licenses: declaredLicenses(read(`/usr/share/doc/${usage.name}/copyright`) ?? ''),
      files: usage.files,
    };
  });
  // Application files: regular files no package owns, other than the records dit wrote for scanners
  // and for dit explain (explain-record.ts): dit's own metadata, not the application's software.
  const files = report.entries
    .filter((entry) => entry.type === 'file' && entry.packages === undefined && entry.sha256 !== null)
    .filter((entry) => !entry.reasons.every((reason) => reason.startsWith('package metadata:')))
    .filter((entry) => !entry.reasons.includes(EXPLAIN_RECORD_REASON))
    .map((entry) => ({
      path: entry.path,
      sha256: entry.sha256!,
      sha1: createHash('sha1')
        .update(readFileSync(join(report.output, entry.path)))
        .digest('hex'),
    }));
  return {
    name: report.command?.join(' ') ?? report.output,
    distro: osRelease(read('/etc/os-release') ?? read('/usr/lib/os-release') ?? ''),
    packages,
    files,
    tool: { name: 'dit', version: context.toolVersion },
  };
}

/** Package names in a Depends-style field: `libc6 (>= 2.34), libssl3 | libssl1.1, python3:any`. */
function packageNames(relations: string): string[] {
  return relations
    .split(/[,|]/)
    .map((relation) => relation.trim().split(/[\s(:]/)[0]!)
    .filter((name) => name !== '');
}

/** ID and VERSION_ID of an os-release file (`KEY=value`, the value optionally quoted). */
function osRelease(text: string): SbomInput['distro'] {
  const values = new Map<string, string>();
  for (const line of text.split('\n')) {
    const match = /^([A-Z_]+)=(.*)$/.exec(line.trim());
    if (match !== null) values.set(match[1]!, match[2]!.replace(/^(["'])(.*)\1$/, '$2'));
  }
  const id = values.get('ID');
  const versionId = values.get('VERSION_ID');
  return id === undefined || versionId === undefined ? null : { id, versionId };
}
