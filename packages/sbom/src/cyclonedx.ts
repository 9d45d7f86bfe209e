import { randomUUID } from 'node:crypto';
import { ComponentType, HashAlgorithm } from '@cyclonedx/cyclonedx-library/Enums';
import {
  Bom,
  Component,
  NamedLicense,
  Property,
  SpdxLicense,
  Tool,
} from '@cyclonedx/cyclonedx-library/Models';
import { JsonSerializer, JSON as SerializeJson } from '@cyclonedx/cyclonedx-library/Serialize';
import { Spec1dot6 } from '@cyclonedx/cyclonedx-library/Spec';
import { spdxIdOf } from './licenses.js';
import { debianPurl } from './purl.js';
import type { SbomInput } from './types.js';

/**
 * The export as a CycloneDX 1.6 JSON document: the image as the subject (a container component),
 * every Debian package a library component with its purl, licenses (SPDX ids where Debian's name has
 * one, names otherwise) and dependencies on the other exported packages, every application file a
 * file component with its SHA-256.
 */
export function cyclonedxJson(input: SbomInput): string {
  const bom = new Bom({ serialNumber: `urn:uuid:${input.uuid ?? randomUUID()}` });
  bom.metadata.timestamp = input.created ?? new Date();
  bom.metadata.tools.tools.add(new Tool({ name: input.tool.name, version: input.tool.version }));
  const subject = new Component(ComponentType.Container, input.name, { bomRef: 'export' });
  bom.metadata.component = subject;

  const byName = new Map<string, Component>();
  for (const pkg of input.packages) {
    const purl = debianPurl(pkg, input.distro);
    const component = new Component(ComponentType.Library, pkg.name, {
      bomRef: purl,
      version: pkg.version,
      purl,
    });
    for (const name of pkg.licenses) {
      const id = spdxIdOf(name);
      component.licenses.add(id === null ? new NamedLicense(name) : new SpdxLicense(id));
    }
    component.properties.add(new Property('dit:architecture', pkg.architecture));
    if (pkg.source !== undefined) component.properties.add(new Property('dit:source-package', pkg.source));
    component.properties.add(new Property('dit:exported-files', String(pkg.files)));
    bom.components.add(component);
    byName.set(pkg.name, component);
    subject.dependencies.add(component.bomRef);
  }
  for (const pkg of input.packages) {
    const component = byName.get(pkg.name)!;
    for (const dependency of pkg.dependsOn) {
      const target = byName.get(dependency);
      if (target !== undefined && target !== component) component.dependencies.add(target.bomRef);
    }
  }
  for (const file of input.files) {
    const component = new Component(ComponentType.File, file.path, { bomRef: `file:${file.path}` });
    component.hashes.set(HashAlgorithm['SHA-256'], file.sha256);
    component.hashes.set(HashAlgorithm['SHA-1'], file.sha1);
    bom.components.add(component);
    subject.dependencies.add(component.bomRef);
  }
  const serializer = new JsonSerializer(new SerializeJson.Normalize.Factory(Spec1dot6));
  return `${serializer.serialize(bom, { sortLists: true, space: 1 })}\n`;
}
