/**
 * @dit/explain: why each path is in an export, as a chain a person can read, and what each Debian
 * package weighs in it, from the report `dit export --report` writes. Data only: the CLI prints.
 */
export { ExplainError, type ExplainErrorCode } from './errors.js';
export { type Chain, type Explanation, explainPaths, formatChain, type Hop } from './explain.js';
export { type ExportFacts, ReportTree, readExportRecord, readReport } from './report.js';
export { APPLICATION_FILES, packageSizes, type SizeRow } from './sizes.js';
export { formatBytes, sizesSvg } from './svg.js';
