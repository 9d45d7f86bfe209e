/**
 * @dit/exporter: the exact file set an application needs — static ELF closure, traced run, runtime
 * data, includes — written as a folder that becomes a FROM scratch image, and verified inside it.
 */
export { ExportError, type ExportErrorCode } from './errors.js';
export {
  EXPLAIN_RECORD,
  EXPLAIN_RECORD_REASON,
  type ExplainRecord,
  type RecordEntry,
} from './explain-record.js';
export { exportImage } from './export.js';
export { type IsolatedRun, runIsolated } from './isolate.js';
export { makeWorkFolder, partialFile, sweepKilledRuns } from './leftovers.js';
export { describeProbe, isLoopback, type Probe } from './probes.js';
export { nssModules } from './runtime-data.js';
export {
  DEFAULT_READY_TIMEOUT_MS,
  DEFAULT_STOP_TIMEOUT_MS,
  type ServiceOutcome,
  superviseService,
} from './service.js';
export type {
  ExportedEntry,
  ExportOptions,
  ExportReport,
  Isolation,
  PackageUsage,
  ProgressEvent,
  Reason,
  SbomOutput,
  ServiceRun,
  ServiceSpec,
  Verification,
} from './types.js';
