/**
 * --sbom of a real python3 export: CycloneDX 1.6 validated by @cyclonedx/cyclonedx-library's strict
 * JSON-schema validator, SPDX 2.3 held to the document rules the spec makes (no SPDX schema package
 * is published to npm, and the SPDX project's validator, pyspdxtools, is on PyPI, which this
 * project's machines cannot reach), purls parsed by packageurl-js, versions and dependencies judged
 * by dpkg-query.
 */
import { execFileSync } from 'node:child_process';
import { createHash } from 'node:crypto';
import { existsSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { isSupportedSpdxId } from '@cyclonedx/cyclonedx-library/SPDX';
import { Version } from '@cyclonedx/cyclonedx-library/Spec';
import { JsonStrictValidator } from '@cyclonedx/cyclonedx-library/Validation';
import { EXPLAIN_RECORD, ExportError, type ExportReport, exportImage } from '@dit/exporter';
import { declaredLicenses, spdxIdOf } from '@dit/sbom';
import { PackageURL } from 'packageurl-js';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { tempDir } from '../../../test-support/fixtures.js';

const temp = tempDir('dit-sbom-');
const T = temp.path;
afterAll(() => temp.cleanup());

const ENV = { PATH: '/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin', LANG: 'C.UTF-8', HOME: '/root' };

function dpkgField(pkg: string, fieldName: string): string {
  return execFileSync('dpkg-query', ['-W', '-f', `\${${fieldName}}`, pkg], { encoding: 'utf8' });
}

interface CdxComponent {
  type: string;
  name: string;
  version?: string;
  purl?: string;
  'bom-ref': string;
  licenses?: { license: { id?: string; name?: string } }[];
  hashes?: { alg: string; content: string }[];
}

describe('--sbom of a python3 export', () => {
  let output: string;
  let report: ExportReport;
  let cdx: { components: CdxComponent[]; dependencies: { ref: string; dependsOn?: string[] }[] };
  let cdxText: string;
  beforeAll(async () => {
    output = join(T, 'python');
    report = await exportImage({
      path: output,
      command: ['python3', '-c', 'import json, ssl, sqlite3; print("ok")'],
      env: ENV,
      cwd: '/',
      sbom: [
        { format: 'cyclonedx-json', file: join(T, 'python.cdx.json') },
        { format: 'spdx-json', file: join(T, 'python.spdx.json') },
      ],
      toolVersion: '0.0.0-test',
    });
    cdxText = readFileSync(join(T, 'python.cdx.json'), 'utf8');
    cdx = JSON.parse(cdxText);
  }, 120_000);

  it('CycloneDX 1.6: valid against the JSON schema (strict)', async () => {
    expect(await new JsonStrictValidator(Version.v1dot6).validate(cdxText)).toBeNull();
    expect(JSON.parse(cdxText).specVersion).toBe('1.6');
  });

  it('CycloneDX: one library per exported package, purls that parse, versions as dpkg has them', () => {
    const libraries = cdx.components.filter((c) => c.type === 'library');
    expect(libraries.map((c) => c.name).sort()).toEqual(report.packages.map((p) => p.name).sort());
    for (const library of libraries) {
      const purl = PackageURL.fromString(library.purl!);
      expect(purl.type).toBe('deb');
      expect(purl.namespace).toBe('debian');
      expect(purl.name).toBe(library.name);
      expect(purl.version, library.name).toBe(dpkgField(library.name, 'Version'));
      expect(purl.qualifiers).toEqual({ arch: dpkgField(library.name, 'Architecture'), distro: 'debian-12' });
    }
  });

  it('CycloneDX: licenses from machine-readable copyright files, as SPDX ids where Debian names have one', () => {
    const licenses = (name: string) =>
      cdx.components
        .find((c) => c.name === name)!
        .licenses?.map((l) => l.license.id ?? `name:${l.license.name}`)
        .sort();
    expect(licenses('zlib1g')).toEqual(['Zlib']);
    expect(licenses('libsqlite3-0')).toEqual(['GPL-2.0-or-later', 'name:public-domain']);
    // libc6's copyright is free-form: nothing a program can read as a declaration.
    expect(licenses('libc6')).toBeUndefined();
  });

  it("CycloneDX: dependencies between exported packages, from dpkg's Depends", () => {
    const refOf = new Map(cdx.components.map((c) => [c.name, c['bom-ref']]));
    const edges = new Map(cdx.dependencies.map((d) => [d.ref, new Set(d.dependsOn ?? [])]));
    let checked = 0;
    for (const pkg of report.packages) {
      const depends = `${dpkgField(pkg.name, 'Pre-Depends')},${dpkgField(pkg.name, 'Depends')}`;
      const named = new Set(depends.split(/[,|]/).map((d) => d.trim().split(/[\s(:]/)[0]!));
      const expected = report.packages
        .filter((other) => other.name !== pkg.name && named.has(other.name))
        .map((other) => refOf.get(other.name)!);
      expect([...(edges.get(refOf.get(pkg.name)!) ?? [])].sort(), pkg.name).toEqual(expected.sort());
      checked += expected.length;
    }
    expect(checked).toBeGreaterThan(5);
  });

  it('CycloneDX: application files as file components with the exported bytes’ SHA-256', () => {
    const files = cdx.components.filter((c) => c.type === 'file');
    const expected = report.entries
      .filter(
        (e) =>
          e.type === 'file' &&
          e.packages === undefined &&
          !e.path.startsWith('/var/lib/dpkg/status.d/') &&
          e.path !== EXPLAIN_RECORD,
      )
      .map((e) => e.path);
    // dit explain's record is in the export, and is dit's metadata, not an application file.
    expect(report.entries.some((e) => e.path === EXPLAIN_RECORD)).toBe(true);
    expect(files.map((f) => f.name).sort()).toEqual(expected.sort());
    expect(files.length).toBeGreaterThan(0);
    for (const file of files) {
      const digest = createHash('sha256')
        .update(readFileSync(join(output, file.name)))
        .digest('hex');
      expect(file.hashes!.find((h) => h.alg === 'SHA-256')!.content).toBe(digest);
    }
  });

  it('SPDX 2.3: the document fields the spec requires, ids that resolve, licenses that are SPDX or defined', () => {
    const spdx = JSON.parse(readFileSync(join(T, 'python.spdx.json'), 'utf8'));
    expect(spdx.spdxVersion).toBe('SPDX-2.3');
    expect(spdx.dataLicense).toBe('CC0-1.0');
    expect(spdx.SPDXID).toBe('SPDXRef-DOCUMENT');
    expect(spdx.documentNamespace).toMatch(/^urn:uuid:[0-9a-f-]{36}$/);
    expect(spdx.creationInfo.created).toMatch(/^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\dZ$/);
    expect(spdx.creationInfo.creators).toEqual(['Tool: dit-0.0.0-test']);
    const ids = new Set<string>(['SPDXRef-DOCUMENT']);
    for (const element of [...spdx.packages, ...spdx.files]) {
      expect(element.SPDXID).toMatch(/^SPDXRef-[A-Za-z0-9.-]+$/);
      expect(ids.has(element.SPDXID)).toBe(false);
      ids.add(element.SPDXID);
    }
    const defined = new Set(
      (spdx.hasExtractedLicensingInfos ?? []).map((l: { licenseId: string }) => l.licenseId),
    );
    for (const pkg of spdx.packages) {
      for (const key of ['name', 'downloadLocation', 'licenseConcluded', 'licenseDeclared', 'copyrightText'])
        expect(pkg[key], `${pkg.SPDXID} ${key}`).toBeTypeOf('string');
      for (const token of pkg.licenseDeclared.split(' AND ')) {
        expect(token === 'NOASSERTION' || isSupportedSpdxId(token) || defined.has(token), token).toBe(true);
      }
      for (const ref of pkg.externalRefs ?? []) {
        expect(ref.referenceType).toBe('purl');
        expect(PackageURL.fromString(ref.referenceLocator).type).toBe('deb');
      }
    }
    expect(spdx.packages.length).toBe(report.packages.length + 1); // and the image itself
    for (const file of spdx.files) {
      const sha1 = createHash('sha1')
        .update(readFileSync(join(output, file.fileName)))
        .digest('hex');
      expect(file.checksums).toContainEqual({ algorithm: 'SHA1', checksumValue: sha1 });
    }
    for (const relation of spdx.relationships) {
      expect(
        ids.has(relation.spdxElementId) && ids.has(relation.relatedSpdxElement),
        JSON.stringify(relation),
      ).toBe(true);
    }
    // A package that CONTAINS files has analysed them (§7.8) and carries their verification code
    // (§7.9): the rule the SPDX project's validator (pyspdxtools 0.8) found broken here.
    const fileIds = new Set(spdx.files.map((file: { SPDXID: string }) => file.SPDXID));
    for (const pkg of spdx.packages) {
      const contained = spdx.relationships.filter(
        (r: { spdxElementId: string; relationshipType: string; relatedSpdxElement: string }) =>
          r.spdxElementId === pkg.SPDXID &&
          r.relationshipType === 'CONTAINS' &&
          fileIds.has(r.relatedSpdxElement),
      );
      expect(pkg.filesAnalyzed, pkg.SPDXID).toBe(contained.length > 0);
      if (contained.length === 0) {
        expect(pkg.packageVerificationCode, pkg.SPDXID).toBeUndefined();
        continue;
      }
      const sums = spdx.files
        .map(
          (file: { checksums: { algorithm: string; checksumValue: string }[] }) =>
            file.checksums.find((c) => c.algorithm === 'SHA1')!.checksumValue,
        )
        .sort();
      expect(pkg.packageVerificationCode).toEqual({
        packageVerificationCodeValue: createHash('sha1').update(sums.join('')).digest('hex'),
      });
    }
    expect(
      spdx.relationships.filter((r: { relationshipType: string }) => r.relationshipType === 'DEPENDS_ON')
        .length,
    ).toBe(
      cdx.dependencies.filter((d) => d.ref !== 'export').reduce((n, d) => n + (d.dependsOn?.length ?? 0), 0),
    );
  });
});

describe('--sbom is checked with the other outputs, before any work', () => {
  it('refuses an SBOM inside --path, or one that names the --report file; nothing is exported', async () => {
    const output = join(T, 'refused');
    for (const [sbom, report] of [
      [join(output, 'sbom.json'), undefined],
      [join(T, 'same.json'), join(T, 'same.json')],
    ] as const) {
      const error = await exportImage({
        path: output,
        command: ['/usr/bin/true'],
        sbom: [{ format: 'cyclonedx-json', file: sbom }],
        report,
      }).catch((e: unknown) => e);
      expect(error).toBeInstanceOf(ExportError);
      expect((error as ExportError).code).toBe('EXPORT_BAD_OUTPUT');
      expect(existsSync(output)).toBe(false);
    }
  });
});

describe('licenses of copyright files', () => {
  it("declaredLicenses reads DEP-5 License fields of this machine's files, nothing from free-form ones", () => {
    expect(declaredLicenses(readFileSync('/usr/share/doc/zlib1g/copyright', 'utf8'))).toEqual(['Zlib']);
    expect(declaredLicenses(readFileSync('/usr/share/doc/libffi8/copyright', 'utf8'))).toEqual(
      expect.arrayContaining(['Expat', 'GPL-2+', 'LGPL-2.1+', 'MPL-1.1']),
    );
    expect(declaredLicenses(readFileSync('/usr/share/doc/libc6/copyright', 'utf8'))).toEqual([]);
  });

  it("spdxIdOf maps Debian's short names to SPDX identifiers", () => {
    expect(spdxIdOf('GPL-2+')).toBe('GPL-2.0-or-later');
    expect(spdxIdOf('LGPL-2.1')).toBe('LGPL-2.1-only');
    expect(spdxIdOf('Expat')).toBe('MIT');
    expect(spdxIdOf('BSD-3-clause')).toBe('BSD-3-Clause');
    expect(spdxIdOf('zlib')).toBe('Zlib');
    expect(spdxIdOf('public-domain')).toBeNull();
    expect(spdxIdOf('BSD-4-clause-UC')).toBe('BSD-4-Clause-UC');
    expect(spdxIdOf('MIT-like')).toBeNull();
  });
});
