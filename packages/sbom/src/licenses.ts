import { fixupSpdxId } from '@cyclonedx/cyclonedx-library/SPDX';
import { field, parseStanzas } from '@dit/provenance';

/**
 * License names a Debian copyright file declares, when it is machine-readable (DEP-5: a first
 * stanza whose `Format:` names the copyright format): the first line of every `License:` field, split
 * where it offers a choice or a conjunction (`GPL-2+ or Artistic-1.0`). A free-form file declares
 * nothing a program can trust: empty.
 */
export function declaredLicenses(copyright: string): string[] {
  const stanzas = parseStanzas(copyright.replace(/\r\n/g, '\n'));
  const header = stanzas[0];
  if (header === undefined || !/copyright-format/i.test(field(header, 'format') ?? '')) return [];
  const names = new Set<string>();
  for (const stanza of stanzas) {
    const license = field(stanza, 'license');
    if (license === undefined) continue;
    const expression = license.split('\n')[0]!.trim();
    for (const name of expression.split(/\s+(?:or|and)\s+|\s*[|,]\s*/i)) {
      // `GPL-2+ with OpenSSL exception`: the license is GPL-2+; the exception is its text's business.
      const bare = name.replace(/\s+with\s+.*$/i, '').trim();
      if (bare !== '') names.add(bare);
    }
  }
  return [...names].sort();
}

/** Debian's short names (copyright-format 1.0's list) that differ from their SPDX identifiers. */
const DEBIAN_TO_SPDX: Record<string, string> = {
  expat: 'MIT',
  'bsd-2-clause': 'BSD-2-Clause',
  'bsd-3-clause': 'BSD-3-Clause',
  'bsd-4-clause': 'BSD-4-Clause',
  'psf-2': 'PSF-2.0',
  'artistic-1.0': 'Artistic-1.0',
  'artistic-2.0': 'Artistic-2.0',
  artistic: 'Artistic-1.0-Perl',
  'public-domain': '',
};

/**
 * The SPDX identifier for a Debian license name, or null when there is none (`public-domain`, a
 * name of the package's own): `GPL-2+` is `GPL-2.0-or-later`, `LGPL-2.1` is `LGPL-2.1-only`.
 */
export function spdxIdOf(name: string): string | null {
  const known = DEBIAN_TO_SPDX[name.toLowerCase()];
  if (known !== undefined) return known === '' ? null : known;
  const gnu = /^(A?GPL|LGPL|GFDL)-(\d)(?:\.(\d))?(\+)?$/i.exec(name);
  if (gnu !== null) {
    const id = `${gnu[1]!.toUpperCase()}-${gnu[2]}.${gnu[3] ?? '0'}-${gnu[4] ? 'or-later' : 'only'}`;
    return fixupSpdxId(id) ?? null;
  }
  // SPDX's own list, matched without case (`Zlib`, `Apache-2.0`, `ISC`).
  return fixupSpdxId(name) ?? null;
}
