/**
 * @dit/provenance: which Debian package owns a file, read from a root's own dpkg database
 * (`status`, `info/*.list`, `info/*.md5sums`, `diversions`), with merged-/usr folder links resolved
 * so the database's paths meet the paths an export holds. Files no package owns are application files.
 */
export { type Attribution, attribute } from './attribute.js';
export { field, parseStanzas, type Stanza, withStatus } from './control.js';
export { DPKG_ADMINDIR, DpkgDatabase, type DpkgPackage, type Md5Line } from './database.js';
export { type Diversion, parseDiversions } from './diversions.js';
export { ProvenanceError, type ProvenanceErrorCode } from './errors.js';
