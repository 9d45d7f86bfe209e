/** A Debian package in the export, as an SBOM describes it. */
export interface SbomPackage {
  readonly name: string;
  readonly version: string;
  readonly architecture: string;
  /** The source package (`Source:` without its version), when it differs from the name. */
  readonly source?: string;
  /** Names of the other packages of the export this one depends on (from Depends and Pre-Depends). */
  readonly dependsOn: readonly string[];
  /** License names its copyright file declares (Debian's short names), empty when it declares none. */
  readonly licenses: readonly string[];
  /** Its files and links in the export. */
  readonly files: number;
}

/** A file of the export that no package owns: the application's own. */
export interface SbomFile {
  /** Absolute path inside the export. */
  readonly path: string;
  readonly sha256: string;
  readonly sha1: string;
}

export interface SbomInput {
  /** What the export is (the command, or the output folder), the SBOM's subject. */
  readonly name: string;
  /** From the root's os-release: `debian` and `12` give the purl qualifier `distro=debian-12`. */
  readonly distro: { readonly id: string; readonly versionId: string } | null;
  readonly packages: readonly SbomPackage[];
  readonly files: readonly SbomFile[];
  readonly tool: { readonly name: string; readonly version: string };
  /** When the SBOM was made (default: now). */
  readonly created?: Date;
  /** A UUID naming this document (default: a random one). */
  readonly uuid?: string;
}
