import type { SbomInput, SbomPackage } from './types.js';

/**
 * The package URL of a Debian package: `pkg:deb/debian/NAME@VERSION?arch=ARCH&distro=debian-12`,
 * the form Syft and Trivy write and vulnerability databases match on. The version is percent-encoded
 * (an epoch's `:` and a `+` are not allowed as they are); names are lower-case letters, digits and
 * `+-.` by Debian policy and need no encoding beyond that `+`.
 */
export function debianPurl(pkg: SbomPackage, distro: SbomInput['distro']): string {
  const namespace = distro?.id ?? 'debian';
  const qualifiers = [`arch=${encodeURIComponent(pkg.architecture)}`];
  if (distro !== null) qualifiers.push(`distro=${encodeURIComponent(`${distro.id}-${distro.versionId}`)}`);
  return `pkg:deb/${namespace}/${encodeURIComponent(pkg.name)}@${encodeURIComponent(pkg.version)}?${qualifiers.join('&')}`;
}
