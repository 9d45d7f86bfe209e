import { createHash, randomUUID } from 'node:crypto';
import { spdxIdOf } from './licenses.js';
import { debianPurl } from './purl.js';
import type { SbomInput } from './types.js';

/**
 * The export as an SPDX 2.3 JSON document. The image is a package the document describes; it
 * CONTAINS every Debian package (with its purl as a package-manager reference and the licenses its
 * copyright file declares as `licenseDeclared`) and every application file (with the SHA-1 SPDX
 * requires of a file and the SHA-256); packages DEPENDS_ON the exported packages their Depends names.
 * A package that CONTAINS files must say `filesAnalyzed: true` and carry the verification code of
 * those files (SPDX 2.3 §7.8, §7.9; the SPDX project's validator refuses the document otherwise), so
 * the image is analysed exactly when it holds application files.
 * A Debian license name with no SPDX identifier becomes a `LicenseRef-` defined in
 * `hasExtractedLicensingInfos`, pointing at the copyright file that names it.
 */
export function spdxJson(input: SbomInput): string {
  const created = (input.created ?? new Date()).toISOString().replace(/\.\d{3}Z$/, 'Z');
  const image = 'SPDXRef-Image';
  const packageId = (name: string, architecture: string) =>
    `SPDXRef-Package-deb-${spdxIdPart(name)}-${spdxIdPart(architecture)}`;
  const extracted = new Map<string, { licenseId: string; name: string; extractedText: string }>();
  const relationships: { spdxElementId: string; relationshipType: string; relatedSpdxElement: string }[] = [
    { spdxElementId: 'SPDXRef-DOCUMENT', relationshipType: 'DESCRIBES', relatedSpdxElement: image },
  ];
  const byName = new Map(input.packages.map((pkg) => [pkg.name, packageId(pkg.name, pkg.architecture)]));

  const packages = [
    {
      SPDXID: image,
      name: input.name,
      downloadLocation: 'NOASSERTION',
      ...(input.files.length === 0
        ? { filesAnalyzed: false }
        : {
            filesAnalyzed: true,
            packageVerificationCode: { packageVerificationCodeValue: verificationCode(input) },
          }),
      licenseConcluded: 'NOASSERTION',
      licenseDeclared: 'NOASSERTION',
      copyrightText: 'NOASSERTION',
      primaryPackagePurpose: 'CONTAINER',
    },
    ...input.packages.map((pkg) => {
      const id = byName.get(pkg.name)!;
      relationships.push({ spdxElementId: image, relationshipType: 'CONTAINS', relatedSpdxElement: id });
      for (const dependency of pkg.dependsOn) {
        const target = byName.get(dependency);
        if (target !== undefined && target !== id)
          relationships.push({
            spdxElementId: id,
            relationshipType: 'DEPENDS_ON',
            relatedSpdxElement: target,
          });
      }
      const licenses = pkg.licenses.map((name) => {
        const spdx = spdxIdOf(name);
        if (spdx !== null) return spdx;
        const licenseId = `LicenseRef-${spdxIdPart(name)}`;
        extracted.set(licenseId, {
          licenseId,
          name,
          extractedText: `The license Debian calls "${name}": see /usr/share/doc/${pkg.name}/copyright in the image.`,
        });
        return licenseId;
      });
      return {
        SPDXID: id,
        name: pkg.name,
        versionInfo: pkg.version,
        downloadLocation: 'NOASSERTION',
        filesAnalyzed: false,
        licenseConcluded: 'NOASSERTION',
        licenseDeclared: licenses.length === 0 ? 'NOASSERTION' : [...new Set(licenses)].join(' AND '),
        copyrightText: 'NOASSERTION',
        ...(pkg.source === undefined
          ? {}
          : { sourceInfo: `built from the Debian source package ${pkg.source}` }),
        externalRefs: [
          {
            referenceCategory: 'PACKAGE-MANAGER',
            referenceType: 'purl',
            referenceLocator: debianPurl(pkg, input.distro),
          },
        ],
        primaryPackagePurpose: 'LIBRARY',
      };
    }),
  ];

  const files = input.files.map((file, index) => {
    const id = `SPDXRef-File-${index + 1}`;
    relationships.push({ spdxElementId: image, relationshipType: 'CONTAINS', relatedSpdxElement: id });
    return {
      SPDXID: id,
      fileName: `.${file.path}`,
      checksums: [
        { algorithm: 'SHA1', checksumValue: file.sha1 },
        { algorithm: 'SHA256', checksumValue: file.sha256 },
      ],
      licenseConcluded: 'NOASSERTION',
      copyrightText: 'NOASSERTION',
    };
  });

  const document = {
    spdxVersion: 'SPDX-2.3',
    dataLicense: 'CC0-1.0',
    SPDXID: 'SPDXRef-DOCUMENT',
    name: input.name,
    documentNamespace: `urn:uuid:${input.uuid ?? randomUUID()}`,
    creationInfo: { created, creators: [`Tool: ${input.tool.name}-${input.tool.version}`] },
    packages,
    files,
    relationships,
    ...(extracted.size === 0 ? {} : { hasExtractedLicensingInfos: [...extracted.values()] }),
  };
  return `${JSON.stringify(document, null, 1)}\n`;
}

/**
 * SPDX 2.3 §7.9's package verification code: the SHA-1 of the files' SHA-1s (lowercase hex), sorted
 * and concatenated, over the files the image package CONTAINS (its application files).
 */
function verificationCode(input: SbomInput): string {
  const sums = input.files.map((file) => file.sha1.toLowerCase()).sort();
  return createHash('sha1').update(sums.join('')).digest('hex');
}

/** SPDX identifiers allow letters, digits, `.` and `-` only. */
function spdxIdPart(text: string): string {
  return text.replace(/[^A-Za-z0-9.-]/g, '-');
}
