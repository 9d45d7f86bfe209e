/** spdxJson's package rules on small inputs: what the image package says with and without files. */
import { createHash } from 'node:crypto';
import { spdxJson } from '@dit/sbom';
import { describe, expect, it } from 'vitest';

const base = {
  name: '/app/run',
  distro: { id: 'debian', versionId: '12' },
  packages: [
    {
      name: 'libc6',
      version: '2.36-9',
      architecture: 'amd64',
      dependsOn: [],
      licenses: ['GPL-2+'],
      files: 3,
    },
  ],
  tool: { name: 'dit', version: '0.0.0-test' },
  created: new Date('2026-01-01T00:00:00Z'),
  uuid: '00000000-0000-4000-8000-000000000000',
};

const sha1 = (text: string) => createHash('sha1').update(text).digest('hex');

describe('spdxJson: the image package', () => {
  it('with application files: filesAnalyzed, and the verification code of its files (SPDX 2.3 §7.9)', () => {
    const files = [
      { path: '/app/b', sha256: '0'.repeat(64), sha1: sha1('b') },
      { path: '/app/a', sha256: '1'.repeat(64), sha1: sha1('a') },
    ];
    const document = JSON.parse(spdxJson({ ...base, files }));
    const image = document.packages.find((pkg: { SPDXID: string }) => pkg.SPDXID === 'SPDXRef-Image');
    expect(image.filesAnalyzed).toBe(true);
    // The spec's algorithm: the files' SHA-1s sorted, concatenated, hashed again.
    const code = sha1([sha1('a'), sha1('b')].sort().join(''));
    expect(image.packageVerificationCode).toEqual({ packageVerificationCodeValue: code });
    const contained = document.relationships.filter(
      (r: { spdxElementId: string; relationshipType: string; relatedSpdxElement: string }) =>
        r.spdxElementId === 'SPDXRef-Image' && r.relatedSpdxElement.startsWith('SPDXRef-File-'),
    );
    expect(contained.map((r: { relationshipType: string }) => r.relationshipType)).toEqual([
      'CONTAINS',
      'CONTAINS',
    ]);
  });

  it('without: not analysed, no verification code, and it contains no file', () => {
    const document = JSON.parse(spdxJson({ ...base, files: [] }));
    const image = document.packages.find((pkg: { SPDXID: string }) => pkg.SPDXID === 'SPDXRef-Image');
    expect(image.filesAnalyzed).toBe(false);
    expect(image.packageVerificationCode).toBeUndefined();
    expect(document.files).toEqual([]);
  });

  it('a Debian package is never analysed: its files are not listed', () => {
    const document = JSON.parse(spdxJson({ ...base, files: [] }));
    const libc = document.packages.find((pkg: { name: string }) => pkg.name === 'libc6');
    expect(libc.filesAnalyzed).toBe(false);
    expect(libc.licenseDeclared).toBe('GPL-2.0-or-later');
  });
});
