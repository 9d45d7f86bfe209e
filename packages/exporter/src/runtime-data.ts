import { readdirSync, readFileSync } from 'node:fs';
import { posix } from 'node:path';
import type { PathSummary } from '@dit/trace';
import type { Closure } from './closure.js';
import type { Selection } from './selection.js';

/**
 * Files a short check run tends to miss although the program needs them in production, added when
 * the trace shows the area in use (docs/loader.md §11 lists what only run time shows):
 * NSS modules named in nsswitch.conf, the gconv cache, the CA certificates, Python package metadata.
 * Zones: see `addZoneDatabase`.
 */
export function addRuntimeData(
  selection: Selection,
  closure: Closure,
  traced: ReadonlySet<string>,
  /** An ELF program of the export to resolve dlopen()s from, or null if there is none. */
  program: string | null,
  /** The traced paths with how they were used (the zone database looks at that). */
  summaries: readonly PathSummary[] = [],
): void {
  const fs = selection.fs;
  const read = (path: string): string | null => {
    const lookup = fs.lookup(path);
    if (lookup.type !== 'file') return null;
    try {
      return readFileSync(fs.hostPath(lookup.realPath!), 'utf8');
    } catch {
      return null;
    }
  };
  const tracedUnder = (prefix: string) =>
    [...traced].some((path) => path === prefix || path.startsWith(`${prefix}/`));

  // NSS: glibc dlopen()s libnss_<service>.so.2 for the services nsswitch.conf names, lazily: a
  // check that looked up root (in `files`) never loaded the module that resolves other users.
  if (traced.has('/etc/nsswitch.conf') && program !== null) {
    const conf = read('/etc/nsswitch.conf');
    if (conf !== null) {
      const modules = nssModules(conf);
      if (modules.length > 0)
        closure.addDlopened(program, modules, 'an NSS module named in /etc/nsswitch.conf');
      for (const file of [
        '/etc/passwd',
        '/etc/group',
        '/etc/hosts',
        '/etc/host.conf',
        '/etc/resolv.conf',
        '/etc/gai.conf',
      ]) {
        if (traced.has(file))
          selection.add(file, { kind: 'runtime-data', why: 'name service configuration' });
      }
    }
  }

  // gconv: modules are opened by path from gconv-modules(.cache); keep the cache and the lists.
  for (const path of traced) {
    const match = /^(.*\/gconv)\//.exec(path);
    if (match === null) continue;
    const dir = match[1]!;
    for (const name of ['gconv-modules.cache', 'gconv-modules']) {
      if (fs.lookup(`${dir}/${name}`).type === 'file') {
        selection.add(`${dir}/${name}`, { kind: 'runtime-data', why: 'character set conversion (gconv)' });
      }
    }
    addTree(selection, `${dir}/gconv-modules.d`, 'character set conversion (gconv)');
    break;
  }

  // CA certificates: a TLS client that looked in /etc/ssl needs the bundle and the hashed links.
  if (tracedUnder('/etc/ssl') || tracedUnder('/usr/lib/ssl')) {
    const why = 'CA certificates for TLS';
    for (const file of [
      '/etc/ssl/certs/ca-certificates.crt',
      '/etc/ssl/openssl.cnf',
      '/usr/lib/ssl/openssl.cnf',
      '/usr/lib/ssl/cert.pem',
    ]) {
      if (fs.lookup(file).realPath !== null) selection.add(file, { kind: 'runtime-data', why });
    }
    if (tracedUnder('/etc/ssl/certs')) addTree(selection, '/etc/ssl/certs', why);
  }

  addZoneDatabase(selection, summaries);
  addPythonMetadata(selection);
}

/**
 * The time zone database, whole, once the program has read a zone by its name (a path under a
 * `zoneinfo` folder: `TZ=Europe/Berlin`, PostgreSQL's `SET TIME ZONE`, Python's zoneinfo, Java's
 * tzdb): such a program can be asked for any other zone at run time, by a user or a client, and a
 * check only ever touches one or two. 3.9 MiB on Debian 12.
 *
 * Reading only /etc/localtime does not bring it: every program that formats a local time reads that
 * link, and its one zone is exported through the link (links are always followed), so a `date` in
 * the image shows the build's local time as it did; the database would multiply a small image's
 * size for a zone nobody asked for. A `TZ` set at run time is then a new need: `--include
 * /usr/share/zoneinfo`, or a check run with that TZ, takes the database.
 */
function addZoneDatabase(selection: Selection, summaries: readonly PathSummary[]): void {
  for (const summary of summaries) {
    // Opened, listed or checked under its own name: the fstat of /etc/localtime's descriptor names
    // the zone file too (strace's -y), but only as a `stat` through the link.
    if (!summary.ok || !summary.kinds.some((kind) => kind === 'open' || kind === 'list' || kind === 'access'))
      continue;
    const match = /^(.*\/zoneinfo)\/./.exec(summary.path);
    if (match === null) continue;
    addTree(selection, match[1]!, 'the time zone database (a zone was read by name)');
    return;
  }
}

/** Module names for the services nsswitch.conf names (`passwd: files systemd` -> libnss_systemd.so.2). */
export function nssModules(conf: string): string[] {
  const services = new Set<string>();
  for (const raw of conf.split('\n')) {
    const line = raw.replace(/#.*/, '').trim();
    const match = /^[a-z_]+\s*:\s*(.*)$/.exec(line);
    if (match === null) continue;
    // Actions in brackets ([NOTFOUND=return]) are not services.
    for (const word of match[1]!.replace(/\[[^\]]*\]/g, ' ').split(/\s+/)) {
      if (/^[A-Za-z0-9_-]+$/.test(word)) services.add(word);
    }
  }
  return [...services].map((service) => `libnss_${service}.so.2`);
}

function addTree(selection: Selection, dir: string, why: string): void {
  const fs = selection.fs;
  const lookup = fs.lookup(dir);
  if (lookup.type !== 'directory') return;
  const walk = (path: string) => {
    let names: string[];
    try {
      names = readdirSync(fs.hostPath(fs.lookup(path).realPath!)).sort();
    } catch {
      return;
    }
    for (const name of names) {
      const child = `${path}/${name}`;
      const stat = fs.stat(`${fs.lookup(path).realPath!}/${name}`);
      if (stat?.isDirectory()) walk(child);
      else selection.add(child, { kind: 'runtime-data', why });
    }
  };
  walk(lookup.path);
}

/**
 * Python reads `*.dist-info` to find entry points and versions (importlib.metadata); a package
 * whose metadata is gone breaks console scripts (slim #143). A dist-info folder comes along when its
 * RECORD lists a file that is exported.
 */
function addPythonMetadata(selection: Selection): void {
  const fs = selection.fs;
  const sitePackages = new Set<string>();
  for (const entry of selection.values()) {
    const match = /^(.*\/(?:site|dist)-packages)\//.exec(entry.path);
    if (match) sitePackages.add(match[1]!);
  }
  for (const dir of sitePackages) {
    let names: string[];
    try {
      names = readdirSync(fs.hostPath(dir));
    } catch {
      continue;
    }
    for (const name of names.filter((n) => n.endsWith('.dist-info'))) {
      let record: string;
      try {
        record = readFileSync(fs.hostPath(`${dir}/${name}/RECORD`), 'utf8');
      } catch {
        continue;
      }
      const used = record.split('\n').some((line) => {
        const comma = line.indexOf(',');
        const file = comma === -1 ? line : line.slice(0, comma);
        if (!file || file.startsWith('..')) return false;
        // RECORD paths are nearly always clean, and then joining is concatenating: normalising each of
        // thousands of lines with posix.join cost more than the rest of this function.
        const clean = !file.startsWith('/') && !/(^|\/)\.{1,2}(\/|$)|\/\//.test(file);
        const path = clean ? `${dir}/${file}` : posix.join(dir, file);
        return selection.get(path) !== undefined;
      });
      if (used) addTree(selection, `${dir}/${name}`, 'metadata of an imported Python package');
    }
  }
}
