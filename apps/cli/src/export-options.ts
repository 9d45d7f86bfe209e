import type { parseArgs } from 'node:util';
import type { SbomOutput } from '@dit/exporter';
import { UsageError } from './io.js';
import { parseEnvOptions, parseTimeout } from './run-options.js';

/**
 * The options `dit export` and `dit minify` share about what goes in and what is written besides
 * the image: one table, one parser, so that an option added to one command is in the other too
 * (minify once lacked --sbom, --tar and --dedupe because each command had its own list).
 * `dit export`'s own (--root, --library-path, --keep-env) stay in export.ts.
 */
export const EXPORT_OPTIONS = {
  path: { type: 'string' },
  binary: { type: 'string', multiple: true },
  include: { type: 'string', multiple: true },
  exclude: { type: 'string', multiple: true },
  env: { type: 'string', multiple: true },
  force: { type: 'boolean' },
  'keep-setuid': { type: 'boolean' },
  'no-verify': { type: 'boolean' },
  timeout: { type: 'string' },
  report: { type: 'string' },
  tar: { type: 'string' },
  sbom: { type: 'string', multiple: true },
  dedupe: { type: 'boolean' },
  'no-package-metadata': { type: 'boolean' },
  'no-explain-record': { type: 'boolean' },
} as const;

/** What parseArgs gives for EXPORT_OPTIONS: derived from the table, so the two cannot disagree. */
type ExportValues = ReturnType<typeof parseArgs<{ options: typeof EXPORT_OPTIONS }>>['values'];

/** EXPORT_OPTIONS as @dit/exporter's ExportOptions names them, checked; `command` names the command in errors. */
export function parseExportOptions(values: ExportValues, command: 'export' | 'minify') {
  return {
    path: values.path,
    binaries: values.binary,
    include: values.include,
    exclude: values.exclude,
    setEnv: parseEnvOptions(values.env ?? [], command),
    force: values.force,
    keepSetuid: values['keep-setuid'],
    verify: !values['no-verify'],
    timeoutMs: parseTimeout(values.timeout, command),
    report: values.report,
    tar: values.tar,
    sbom: (values.sbom ?? []).map((value) => parseSbomOption(value, command)),
    dedupe: values.dedupe,
    packageMetadata: !values['no-package-metadata'],
    explainRecord: !values['no-explain-record'],
  };
}

const SBOM_FORMATS = ['cyclonedx-json', 'spdx-json'] as const;

/** `cyclonedx-json:FILE`, `spdx-json:FILE`, or a plain FILE (CycloneDX): a prefix that is no format is part of the name. */
export function parseSbomOption(value: string, command: 'export' | 'minify'): SbomOutput {
  const colon = value.indexOf(':');
  const prefix = colon < 0 ? '' : value.slice(0, colon);
  const format = SBOM_FORMATS.find((known) => known === prefix);
  if (format === undefined) {
    if (/^[a-z]+-json$/.test(prefix)) {
      throw new UsageError(
        `${command}: --sbom ${value}: unknown format ${prefix} (${SBOM_FORMATS.join(' or ')})`,
      );
    }
    return { format: 'cyclonedx-json', file: value };
  }
  if (colon === value.length - 1)
    throw new UsageError(`${command}: --sbom ${value}: no file after the format`);
  return { format, file: value.slice(colon + 1) };
}
