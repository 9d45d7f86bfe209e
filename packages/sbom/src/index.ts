/**
 * @dit/sbom: a software bill of materials for an export, as CycloneDX 1.6 JSON (written with
 * @cyclonedx/cyclonedx-library) or SPDX 2.3 JSON: Debian packages with purls, the licenses their
 * machine-readable copyright files declare, dependencies between them, application files with digests.
 */
export { cyclonedxJson } from './cyclonedx.js';
export { declaredLicenses, spdxIdOf } from './licenses.js';
export { debianPurl } from './purl.js';
export { spdxJson } from './spdx.js';
export type { SbomFile, SbomInput, SbomPackage } from './types.js';
