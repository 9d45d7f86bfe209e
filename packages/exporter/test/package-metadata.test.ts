/**
 * What scanners see in an export: `/var/lib/dpkg/status.d`, copyright files, os-release. dpkg itself
 * judges the records (dpkg-query -S for ownership, -s for the fields, -W parsing what we wrote), and
 * md5sum -c checks the md5sums against the exported bytes.
 *
 * The scanners cannot be fetched here, so `scannerView` reads an export by the rules Trivy's Debian
 * analyzers follow (docs/scanners.md keeps the same list):
 *   OS (debian analyzer): `etc/debian_version`, a regular file; its first line is the release name,
 *     the family is Debian. (The os-release analyzer reads `etc/os-release` and `usr/lib/os-release`,
 *     regular files only, `KEY=value` lines split at the first `=`, both sides trimmed, quotes `"`
 *     and `'` trimmed from ID and VERSION_ID; it names no family for `debian`, which is why
 *     debian_version matters.)
 *   Packages (dpkg analyzer): `var/lib/dpkg/status`, every file directly inside
 *     `var/lib/dpkg/status.d/` except those ending `.md5sums`, and `var/lib/dpkg/info/*.list`. A
 *     file is a sequence of blocks separated by blank lines, `Key: value` lines with keys compared
 *     without case and continuation lines starting with a blank. A block is skipped when a word of
 *     its Status is `deinstall` or `purge`, or Package or Version is empty, or Version is not a
 *     Debian version (`[epoch:]upstream[-revision]`, epoch digits, upstream starting with a digit).
 *     Source is `name` or `name (version)`, defaulting to the package's own. Depends is split on `,`
 *     and `|`, each name cut at `(` and trimmed, and kept only when it names a package of the same
 *     file. Symlinks are not read (a layer walk takes regular files).
 */
import { execFileSync, spawnSync } from 'node:child_process';
import { lstatSync, mkdirSync, readdirSync, readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { type ExportReport, exportImage } from '@dit/exporter';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { ensureDebianRoot } from '../../../test-support/debian-root.mjs';
import { dpkgOwners } from '../../../test-support/dpkg-owners.js';
import { tempDir } from '../../../test-support/fixtures.js';

const temp = tempDir('dit-package-metadata-');
const T = temp.path;
afterAll(() => temp.cleanup());

const ENV = { PATH: '/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin', LANG: 'C.UTF-8', HOME: '/root' };
const STATUS_D = 'var/lib/dpkg/status.d';
const MERGED_USR_LINKS = new Set(['/bin', '/sbin', '/lib', '/lib32', '/lib64', '/libx32']);

/** `Key: value` blocks, keys lower-cased, continuation lines joined with a newline (dpkg -s prints them so). */
function blocks(text: string): Map<string, string>[] {
  return text
    .split(/\n[ \t]*\n/)
    .filter((block) => block.trim() !== '')
    .map((block) => {
      const fields = new Map<string, string>();
      let last = '';
      for (const line of block.split('\n')) {
        if (/^[ \t]/.test(line)) fields.set(last, `${fields.get(last)}\n${line}`);
        else if (line.includes(':')) {
          last = line.slice(0, line.indexOf(':')).toLowerCase();
          fields.set(last, line.slice(line.indexOf(':') + 1).trim());
        }
      }
      return fields;
    });
}

function records(output: string): Map<string, Map<string, string>> {
  const folder = join(output, STATUS_D);
  return new Map(
    readdirSync(folder)
      .filter((name) => !name.endsWith('.md5sums'))
      .map((name) => [name, blocks(readFileSync(join(folder, name), 'utf8'))[0]!]),
  );
}

/** A Debian version as Trivy's parser takes it: `[epoch:]upstream[-revision]`. */
const DEBIAN_VERSION = /^(?:(\d+):)?(\d[A-Za-z0-9.+~:-]*?)(?:-([A-Za-z0-9.+~]+))?$/;

interface ScannedPackage {
  name: string;
  version: string;
  source: string;
  sourceVersion: string;
  dependsOn: string[];
}

/** The OS and packages an export shows to a scanner reading it by the rules at the top of this file. */
function scannerView(output: string) {
  const regular = (path: string) => {
    try {
      return lstatSync(join(output, path)).isFile();
    } catch {
      return false;
    }
  };
  const os = regular('etc/debian_version')
    ? { family: 'debian', name: readFileSync(join(output, 'etc/debian_version'), 'utf8').split('\n')[0]! }
    : null;
  const osRelease = new Map<string, string>();
  for (const file of ['etc/os-release', 'usr/lib/os-release'].filter(regular)) {
    for (const line of readFileSync(join(output, file), 'utf8').split('\n')) {
      const eq = line.indexOf('=');
      if (eq < 0) continue;
      osRelease.set(
        line.slice(0, eq).trim(),
        line
          .slice(eq + 1)
          .trim()
          .replace(/^["']+|["']+$/g, ''),
      );
    }
  }
  const files = [
    ...(regular('var/lib/dpkg/status') ? ['var/lib/dpkg/status'] : []),
    ...readdirSync(join(output, STATUS_D))
      .filter((name) => !name.endsWith('.md5sums'))
      .map((name) => `${STATUS_D}/${name}`)
      .filter(regular),
  ];
  const packages: ScannedPackage[] = [];
  for (const file of files) {
    const inFile: ScannedPackage[] = [];
    for (const block of blocks(readFileSync(join(output, file), 'utf8'))) {
      const status = (block.get('status') ?? '').split(/\s+/);
      if (status.includes('deinstall') || status.includes('purge')) continue;
      const name = block.get('package') ?? '';
      const version = block.get('version') ?? '';
      if (name === '' || version === '' || !DEBIAN_VERSION.test(version)) continue;
      const source = /^(\S*)(?: \((.*)\))?/.exec(block.get('source') ?? '')!;
      inFile.push({
        name,
        version,
        source: source[1] || name,
        sourceVersion: source[2] ?? version,
        dependsOn: (block.get('depends') ?? '')
          .split(/[,|]/)
          .map((dep) => dep.split('(')[0]!.trim())
          .filter((dep) => dep !== ''),
      });
    }
    const names = new Set(inFile.map((pkg) => pkg.name));
    for (const pkg of inFile)
      packages.push({ ...pkg, dependsOn: pkg.dependsOn.filter((dep) => names.has(dep)) });
  }
  return { os, osRelease, packages };
}

/** Packages owning an exported file or link, by dpkg-query -S on the root's database, as bare names. */
function judgedPackages(report: ExportReport, admindir: string): Set<string> {
  const paths = report.entries
    .filter((entry) => entry.type !== 'directory' && !entry.path.startsWith(`/${STATUS_D}/`))
    .filter((entry) => !MERGED_USR_LINKS.has(entry.path))
    .map((entry) => entry.path);
  const owners = dpkgOwners(admindir, paths);
  return new Set([...owners.values()].flatMap((set) => [...set].map((id) => id.split(':')[0]!)));
}

function dpkgStatus(admindir: string, name: string): Map<string, string> {
  return blocks(execFileSync('dpkg-query', [`--admindir=${admindir}`, '-s', name], { encoding: 'utf8' }))[0]!;
}

function expectRecordsJudgedByDpkg(output: string, report: ExportReport, admindir: string) {
  const recorded = records(output);
  // One record per package owning at least one exported file, and no other.
  expect(new Set(recorded.keys())).toEqual(judgedPackages(report, admindir));
  for (const [name, fields] of recorded) {
    expect(fields.get('package')).toBe(name);
    expect(fields.get('status')).toBe('install ok installed');
    const architecture = fields.get('architecture')!;
    const id = fields.get('multi-arch') === 'same' ? `${name}:${architecture}` : name;
    // Field for field what dpkg says about the package in the root.
    expect(Object.fromEntries(fields), name).toEqual(Object.fromEntries(dpkgStatus(admindir, id)));
  }
  // dpkg reads what we wrote: a database whose status is the records, one after the other.
  const database = join(T, `admindir-${Math.random().toString(36).slice(2)}`);
  mkdirSync(join(database, 'updates'), { recursive: true });
  mkdirSync(join(database, 'info'));
  const folder = join(output, STATUS_D);
  const stanzas = [...recorded.keys()].map((name) => readFileSync(join(folder, name), 'utf8'));
  writeFileSync(join(database, 'status'), stanzas.join('\n'));
  const listed = execFileSync(
    'dpkg-query',
    // biome-ignore lint/suspicious/noTemplateCurlyInString: dpkg-query's --showformat, not a template
    [`--admindir=${database}`, '-W', '-f', '${Package}\t${Version}\t${db:Status-Abbrev}\n'],
    {
      encoding: 'utf8',
    },
  );
  expect(
    listed
      .split('\n')
      .filter((line) => line !== '')
      .sort(),
  ).toEqual([...recorded].map(([name, fields]) => `${name}\t${fields.get('version')}\tii `).sort());
  // Every md5sums line holds for the exported bytes (md5sum -c from the export's root).
  const sums = readdirSync(folder).filter((name) => name.endsWith('.md5sums'));
  expect(sums.length).toBeGreaterThan(0);
  for (const name of sums) {
    const check = spawnSync('md5sum', ['--check', '--quiet', join(folder, name)], {
      cwd: output,
      encoding: 'utf8',
    });
    expect(check.status, `${name}: ${check.stdout}${check.stderr}`).toBe(0);
  }
}

describe('package metadata of a python3 export of this machine', () => {
  let output: string;
  let report: ExportReport;
  beforeAll(async () => {
    output = join(T, 'python');
    report = await exportImage({
      path: output,
      command: ['python3', '-c', 'import json, ssl, sqlite3; print("ok")'],
      env: ENV,
      cwd: '/',
      tar: join(T, 'python.tar'),
    });
  }, 120_000);

  it('records exactly the packages owning exported files, as dpkg has them, and dpkg reads them back', () => {
    expectRecordsJudgedByDpkg(output, report, '/var/lib/dpkg');
    expect(records(output).has('libpython3.11-stdlib')).toBe(true);
  });

  it("copies every recorded package's copyright file, os-release (with its link) and debian_version", () => {
    for (const name of records(output).keys()) {
      const copyright = `/usr/share/doc/${name}/copyright`;
      let present = false;
      try {
        present = lstatSync(copyright) !== null;
      } catch {}
      if (present)
        expect(readFileSync(join(output, copyright)).equals(readFileSync(copyright)), copyright).toBe(true);
    }
    expect(lstatSync(join(output, 'etc/os-release')).isSymbolicLink()).toBe(true);
    expect(readFileSync(join(output, 'usr/lib/os-release'), 'utf8')).toBe(
      readFileSync('/usr/lib/os-release', 'utf8'),
    );
    expect(readFileSync(join(output, 'etc/debian_version'), 'utf8')).toBe(
      readFileSync('/etc/debian_version', 'utf8'),
    );
  });

  it('is seen by a scanner reading it as Trivy does: Debian, and every package at its version', () => {
    const view = scannerView(output);
    expect(view.os).toEqual({ family: 'debian', name: readFileSync('/etc/debian_version', 'utf8').trim() });
    expect(view.osRelease.get('ID')).toBe('debian');
    expect(view.osRelease.get('VERSION_ID')).toBe('12');
    const installed = new Map(
      // biome-ignore lint/suspicious/noTemplateCurlyInString: dpkg-query's --showformat, not a template
      execFileSync('dpkg-query', ['-W', '-f', '${Package}\t${Version}\n'], { encoding: 'utf8' })
        .trim()
        .split('\n')
        .map((line) => line.split('\t') as [string, string]),
    );
    expect(view.packages.map((pkg) => pkg.name).sort()).toEqual([...records(output).keys()].sort());
    for (const pkg of view.packages) expect(pkg.version, pkg.name).toBe(installed.get(pkg.name));
    expect(view.packages.find((pkg) => pkg.name === 'libpython3.11-stdlib')?.source).toBe('python3.11');
  });

  it('reports provenance, the biggest packages and what the metadata added; the tar has the records', () => {
    const libc = report.entries.find((entry) => entry.path === '/usr/lib/x86_64-linux-gnu/libc.so.6');
    expect(libc?.packages).toEqual(['libc6:amd64']);
    const records = report.entries.filter((entry) => entry.path.startsWith(`/${STATUS_D}/`));
    expect(
      records.every((entry) => entry.sha256 !== null && entry.reasons[0]!.startsWith('package metadata')),
    ).toBe(true);
    const biggest = report.packages[0]!;
    expect(biggest.bytes).toBeGreaterThanOrEqual(report.packages.at(-1)!.bytes);
    expect(report.packages.map((pkg) => pkg.id)).toContain('libc6:amd64');
    expect(report.packageMetadata!.packages).toBe(records.filter((e) => !e.path.endsWith('.md5sums')).length);
    expect(report.packageMetadata!.bytes).toBeGreaterThan(0);
    const listing = execFileSync('tar', ['-tf', join(T, 'python.tar')], { encoding: 'utf8' });
    expect(listing).toMatch(/^(\.\/)?var\/lib\/dpkg\/status\.d\/libc6$/m);
  });
});

describe('package metadata of an export from the debootstrap root (--root)', () => {
  it("records the root's packages from the root's database, judged by dpkg --admindir in the root", async () => {
    const root = ensureDebianRoot();
    const output = join(T, 'root-bash');
    const report = await exportImage({ path: output, root, binaries: ['/usr/bin/bash', '/usr/bin/sh'] });
    expectRecordsJudgedByDpkg(output, report, join(root, 'var/lib/dpkg'));
    // /bin/sh is dash's: the diverted file, as the root's dpkg has it.
    expect(records(output).has('dash')).toBe(true);
    expect(readFileSync(join(output, 'etc/debian_version'), 'utf8')).toBe(
      readFileSync(join(root, 'etc/debian_version'), 'utf8'),
    );
  });

  it('--no-package-metadata (packageMetadata: false) writes none of it, and still reports provenance', async () => {
    const root = ensureDebianRoot();
    const output = join(T, 'root-bash-bare');
    const report = await exportImage({
      path: output,
      root,
      binaries: ['/usr/bin/bash'],
      packageMetadata: false,
    });
    expect(() => lstatSync(join(output, STATUS_D))).toThrow(/ENOENT/);
    expect(() => lstatSync(join(output, 'usr/share/doc'))).toThrow(/ENOENT/);
    expect(report.packageMetadata).toBeNull();
    expect(report.packages.map((pkg) => pkg.id)).toContain('bash');
  });
});
