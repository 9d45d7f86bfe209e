/**
 * `--include` inside a `--root` full of links that try to leave it: absolute ones (`-> /`,
 * `-> /proc`, a host folder), relative ones climbing past the root, chains, loops, a link through a
 * file, and a folder too deep to list (past PATH_MAX: for root, who passes every permission check,
 * that is what "unreadable" can really mean). Every case exports, exports nothing from outside the
 * root, and warns where it skipped. Then the proof: `dit export --root` run under strace opens,
 * stats and lists nothing outside the root but its own files.
 */
import { execFileSync, spawnSync } from 'node:child_process';
import {
  copyFileSync,
  existsSync,
  lstatSync,
  mkdirSync,
  readdirSync,
  readFileSync,
  readlinkSync,
  realpathSync,
  symlinkSync,
  writeFileSync,
} from 'node:fs';
import { tmpdir } from 'node:os';
import { dirname, join, posix } from 'node:path';
import { type ExportReport, exportImage } from '@dit/exporter';
import { RootFs } from '@dit/paths';
import { build } from 'esbuild';
import picomatch from 'picomatch';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { ensureDebianRoot } from '../../../test-support/debian-root.mjs';
import { tempDir } from '../../../test-support/fixtures.js';
import { expandGlob } from '../src/root-glob.js';

const REPO = realpathSync(join(import.meta.dirname, '../../..'));
const temp = tempDir('dit-confinement-');
// rm, not rmSync: only calls relative to a descriptor reach the bottom of the tree past PATH_MAX.
afterAll(() => execFileSync('rm', ['-rf', temp.path]));
const W = realpathSync(temp.path);

/** A folder of the host that no include may ever reach: its name and content are looked for in every export. */
const HOST = join(W, 'host-only');
const MARKER = `host-only-marker-${process.pid}`;
mkdirSync(join(HOST, 'sub'), { recursive: true });
writeFileSync(join(HOST, `${MARKER}.txt`), `${MARKER}\n`);
writeFileSync(join(HOST, 'sub', 'nested.txt'), `${MARKER}\n`);

/** Enough `..` to climb from anywhere in the root to the host's `/`, were they followed on the host. */
const UP = '../'.repeat(W.split('/').length + 4);

/** A 250-byte name: twenty of them nest a file past PATH_MAX (4096), which no path-based call reaches. */
const LONG = 'd'.repeat(250);

/**
 * The root: a shell from the Debian root with its libraries (so `--binary` has a real closure), a
 * little data, and the hostile links, in `/app`.
 */
function makeRoot(name: string): string {
  const root = join(W, name);
  const debian = ensureDebianRoot();
  mkdirSync(root);
  // Merged /usr, as Debian has it; the files copied under their canonical paths.
  execFileSync('cp', ['-a', '--parents', 'bin', 'lib', 'lib64', root], { cwd: debian });
  for (const file of [
    'usr/bin/dash',
    'usr/lib/x86_64-linux-gnu/libc.so.6',
    'usr/lib64/ld-linux-x86-64.so.2',
    'usr/lib/x86_64-linux-gnu/ld-linux-x86-64.so.2',
    'etc/ld.so.cache',
  ]) {
    mkdirSync(dirname(join(root, file)), { recursive: true });
    execFileSync('cp', ['-a', join(debian, file), join(root, file)]);
  }
  symlinkSync('dash', join(root, 'usr/bin/sh'));
  mkdirSync(join(root, 'tmp'));
  writeFileSync(join(root, 'tmp/inside-tmp.txt'), 'in the root\n');
  mkdirSync(join(root, 'etc/app'), { recursive: true });
  writeFileSync(join(root, 'etc/app/config'), 'setting=1\n');
  mkdirSync(join(root, 'app/real'), { recursive: true });
  writeFileSync(join(root, 'app/real/file.txt'), 'data\n');
  writeFileSync(join(root, 'app/.hidden'), 'dot file\n');
  const links: Record<string, string> = {
    'to-root': '/',
    'to-proc': '/proc',
    'to-host-tmp': `${UP}tmp`,
    'to-host-folder': HOST,
    'to-host-folder-relative': `${UP}${HOST.slice(1)}`,
    'chain-1': 'chain-2',
    'chain-2': '../app/chain-3',
    'chain-3': `${UP}..`,
    'loop-a': 'loop-b',
    'loop-b': 'loop-a',
    self: 'self',
    'dir-loop': '.',
    'through-file': 'real/file.txt/x',
    'to-deep': '../deep',
  };
  for (const [link, target] of Object.entries(links)) symlinkSync(target, join(root, 'app', link));
  // The deep tree, made with *at calls: no path-based call can reach its bottom.
  mkdirSync(join(root, 'deep'));
  execFileSync('python3', [
    '-c',
    `import os, sys
fd = os.open(sys.argv[1], os.O_RDONLY)
for _ in range(20):
    os.mkdir(sys.argv[2], dir_fd=fd)
    fd = os.open(sys.argv[2], os.O_RDONLY, dir_fd=fd)
os.close(os.open('leaf.txt', os.O_WRONLY | os.O_CREAT, 0o644, dir_fd=fd))`,
    join(root, 'deep'),
    LONG,
  ]);
  return root;
}

const R = makeRoot('root');

/** Every entry of an export exists in the root with the same type (and the same target for links). */
function expectAllFromRoot(output: string, report: ExportReport): void {
  for (const entry of report.entries) {
    const source = lstatSync(join(R, entry.path));
    const exported = lstatSync(join(output, entry.path));
    const type = (stats: typeof source) =>
      stats.isSymbolicLink() ? 'symlink' : stats.isDirectory() ? 'directory' : 'file';
    expect(type(exported), entry.path).toBe(type(source));
    if (source.isSymbolicLink()) {
      expect(readlinkSync(join(output, entry.path)), entry.path).toBe(readlinkSync(join(R, entry.path)));
    }
    if (source.isFile()) {
      expect(
        readFileSync(join(output, entry.path)).equals(readFileSync(join(R, entry.path))),
        entry.path,
      ).toBe(true);
    }
  }
  // And the host's folder left no trace: no name, no content.
  for (const file of walkFiles(output)) {
    expect(file).not.toContain(MARKER);
    if (lstatSync(file).isFile()) expect(readFileSync(file, 'utf8')).not.toContain(MARKER);
  }
}

function walkFiles(dir: string): string[] {
  return readdirSync(dir, { withFileTypes: true }).flatMap((entry) => {
    const path = join(dir, entry.name);
    return entry.isDirectory() ? [path, ...walkFiles(path)] : [path];
  });
}

let outputs = 0;
async function exportIncluding(include: string[]): Promise<{ output: string; report: ExportReport }> {
  const output = join(W, 'out', `export-${++outputs}`);
  // dit explain's record is generated, not read from the root (explain.test.ts checks it): left
  // out, so that every entry must be the root's.
  const report = await exportImage({ path: output, root: R, include, verify: false, explainRecord: false });
  expectAllFromRoot(output, report);
  return { output, report };
}

const paths = (report: ExportReport) => report.entries.map((entry) => entry.path);

describe('RootFs.readdir: listing a folder inside the root', () => {
  const fs = new RootFs(R);

  it('lists through a link as the root sees it, never the host', () => {
    expect(fs.readdir('/app/to-host-tmp')).toMatchObject({ realPath: '/tmp', error: null });
    expect(fs.readdir('/app/to-host-tmp').entries.map((entry) => entry.name)).toEqual(['inside-tmp.txt']);
    expect(fs.readdir('/app/chain-1')).toMatchObject({ realPath: '/', error: null });
    expect(fs.readdir('/app/to-host-folder')).toMatchObject({ realPath: null, error: 'ENOENT' });
  });

  it('types entries as listed: links stay links', () => {
    const app = new Map(fs.readdir('/app').entries.map((entry) => [entry.name, entry.type]));
    expect(app.get('real')).toBe('directory');
    expect(app.get('to-root')).toBe('symlink');
    expect(app.get('.hidden')).toBe('file');
  });

  it('says why a folder cannot be listed', () => {
    expect(fs.readdir('/app/loop-a').error).toBe('ELOOP');
    expect(fs.readdir('/app/through-file').error).toBe('ENOTDIR');
    expect(fs.readdir('/app/real/file.txt').error).toBe('ENOTDIR');
    expect(fs.readdir(`/deep/${Array(20).fill(LONG).join('/')}`).error).toBe('ENAMETOOLONG');
  });

  it('descends from a listing only into the real folders it holds', () => {
    const app = fs.readdir('/app');
    expect(fs.readdirEntry(app, 'real')).toMatchObject({
      path: '/app/real',
      realPath: '/app/real',
      error: null,
    });
    expect(fs.readdirEntry(app, 'to-root').error).toBe('ENOTDIR');
    expect(fs.readdirEntry(app, 'missing').error).toBe('ENOENT');
    // A listing not made by this RootFs, however it names its folders, opens nothing.
    const forged = {
      path: '/',
      realPath: '/',
      entries: [{ name: 'tmp', type: 'directory' as const }],
      error: null,
    };
    expect(new RootFs(R).readdirEntry(forged, 'tmp')).toMatchObject({ realPath: null, entries: [] });
  });
});

describe('--include in a root full of escaping links', () => {
  it('/app/** takes the links as links, follows none, and reads no host folder', async () => {
    const { output, report } = await exportIncluding(['/app/**']);
    expect(paths(report)).toEqual(
      expect.arrayContaining([
        '/app/real/file.txt',
        '/app/.hidden',
        '/app/to-root',
        '/app/to-host-tmp',
        '/app/loop-a',
      ]),
    );
    expect(readlinkSync(join(output, 'app/to-host-tmp'))).toBe(`${UP}tmp`);
    // Not walked into: nothing under a link's name.
    expect(
      paths(report).filter((path) => /^\/app\/(to-|chain|loop|self|dir-loop)[^/]*\//.test(path)),
    ).toEqual([]);
    expect(report.warnings).toEqual([]);
  });

  it('a link on the literal part is followed inside the root: `-> ../../../../tmp` is the root /tmp', async () => {
    const { output, report } = await exportIncluding(['/app/to-host-tmp/**']);
    expect(readFileSync(join(output, 'tmp/inside-tmp.txt'), 'utf8')).toBe('in the root\n');
    // The link itself is kept, so the path as named works in the export.
    expect(readlinkSync(join(output, 'app/to-host-tmp'))).toBe(`${UP}tmp`);
    expect(report.warnings).toEqual([]);
  });

  it('`-> /` and a relative chain past the root walk the root, and skip what cannot be listed', async () => {
    for (const pattern of ['/app/to-root/etc/**', '/app/chain-1/etc/**']) {
      const { output, report } = await exportIncluding([pattern]);
      expect(readFileSync(join(output, 'etc/app/config'), 'utf8')).toBe('setting=1\n');
      expect(report.warnings).toEqual([]);
    }
    const { report } = await exportIncluding(['/app/to-root/**']);
    expect(paths(report)).toContain('/app/real/file.txt');
    expect(report.warnings).toEqual([
      expect.stringMatching(
        /^--include \/app\/to-root\/\*\*: skipped \/app\/to-root\/deep\/d+(\/d+)*: path too long/,
      ),
    ]);
  });

  it('links to a host folder or to /proc lead nowhere inside the root: nothing, and no error', async () => {
    const { report } = await exportIncluding([
      '/app/to-host-folder/**',
      '/app/to-host-folder-relative/**',
      '/app/to-proc/**',
    ]);
    // Only what every export has: `/`, `/tmp`; and the folder the links are in.
    expect(paths(report).filter((path) => !['/', '/tmp', '/app'].includes(path))).toEqual([]);
    expect(report.warnings).toEqual([]);
  });

  it('loops, a link through a file and a tree past PATH_MAX are skipped with a warning each', async () => {
    const deepLoop = `/app/${Array(41).fill('dir-loop').join('/')}/**`;
    const { report } = await exportIncluding([
      '/app/loop-a/**',
      '/app/self/*',
      deepLoop,
      '/app/through-file/**',
      '/deep/**',
    ]);
    expect(report.warnings).toEqual([
      '--include /app/loop-a/**: skipped /app/loop-a: too many symbolic links (a loop)',
      '--include /app/self/*: skipped /app/self: too many symbolic links (a loop)',
      `--include ${deepLoop}: skipped ${deepLoop.slice(0, -3)}: too many symbolic links (a loop)`,
      '--include /app/through-file/**: skipped /app/through-file: not a folder',
      expect.stringMatching(/^--include \/deep\/\*\*: skipped \/deep\/d+(\/d+)*: path too long to list/),
    ]);
    // What lies above the unlistable folder is still taken.
    expect(paths(report)).toContain(`/deep/${LONG}`);
  });

  it('an exact folder include walks through the root too: a link to `/`, a loop, the deep tree', async () => {
    const { report } = await exportIncluding(['/app/to-root', '/app/loop-a']);
    expect(paths(report)).toEqual(
      expect.arrayContaining(['/app/real/file.txt', '/etc/app/config', '/app/loop-a']),
    );
    expect(report.warnings).toEqual([expect.stringMatching(/^--include \/app\/to-root: skipped \/deep\/d+/)]);
  });

  it('--exclude matches names without reading the disk, links included', async () => {
    const output = join(W, 'out', 'excluded');
    const report = await exportImage({
      path: output,
      root: R,
      include: ['/app/**', '/etc/app/config'],
      exclude: ['/app/to-*', '**/.hidden', '/etc/app/*'],
      verify: false,
    });
    const exported = paths(report);
    expect(exported).toContain('/app/real/file.txt');
    expect(exported.filter((path) => path.startsWith('/app/to-') || path.endsWith('.hidden'))).toEqual([]);
    expect(existsSync(join(output, 'etc/app/config'))).toBe(false);
  });
});

/**
 * The walk against the simplest reference there is: every path of a real tree, listed in full, and
 * picomatch asked about each (a folder also with a trailing slash). Equal results mean the pruning
 * never drops a match and the semantics stay picomatch's.
 */
describe('matching: picomatch semantics, pruned walk', () => {
  const debian = ensureDebianRoot();
  const everything: { path: string; folder: boolean }[] = [];
  (function list(dir: string): void {
    for (const entry of readdirSync(join(debian, dir), { withFileTypes: true })) {
      const path = posix.join(dir, entry.name);
      everything.push({ path, folder: entry.isDirectory() });
      if (entry.isDirectory()) list(path);
    }
  })('/');
  // The literal part itself (`/usr/share/zoneinfo` of `/usr/share/zoneinfo/**`) is where the walk
  // starts, not a match: it comes into the export as the folder of what matched, as it always did.
  const reference = (pattern: string) => {
    const isMatch = picomatch(pattern, { dot: true });
    const start = picomatch.scan(pattern).base;
    return everything
      .filter(({ path }) => path !== start)
      .filter(({ path, folder }) => isMatch(path) || (folder && isMatch(`${path}/`)))
      .map(({ path }) => path)
      .sort();
  };

  it.each([
    '/usr/share/zoneinfo/**',
    '/usr/lib/x86_64-linux-gnu/perl-base/*',
    '/usr/share/zoneinfo/[A-C]*/**',
    '/usr/share/zoneinfo/**/*Paris',
    '/usr/**/zoneinfo/Europe/?aris',
    '/etc/**/*.conf',
    '/etc/.*',
    '/etc/{passwd,group,apt/*}',
    '/usr/share/{doc,man}/*',
    '/usr/{lib,share}/**/copyright',
    '/usr/lib/**/',
    '/var/lib/dpkg/info/*.@(list|md5sums)',
    '/*',
  ])('%s', (pattern) => {
    expect(expandGlob(new RootFs(debian), pattern).matches).toEqual(reference(pattern));
  });

  it('`dir*/**` takes the folder it matches too, `**/` only folders', () => {
    const fs = new RootFs(debian);
    expect(expandGlob(fs, '/usr/share/zoneinfo/Eur*/**').matches).toContain('/usr/share/zoneinfo/Europe');
    const folders = expandGlob(fs, '/etc/**/').matches;
    expect(folders.length).toBeGreaterThan(5);
    expect(folders.every((path) => lstatSync(join(debian, path)).isDirectory())).toBe(true);
  });

  it('lists only the folders the pattern can still match below', () => {
    const fs = new RootFs(debian);
    const listed: string[] = [];
    const readdirEntry = fs.readdirEntry.bind(fs);
    fs.readdirEntry = (parent, name) => {
      const listing = readdirEntry(parent, name);
      listed.push(listing.path);
      return listing;
    };
    expandGlob(fs, '/usr/share/zoneinfo/**');
    expect(listed.length).toBeGreaterThan(5);
    expect(listed.every((path) => path.startsWith('/usr/share/zoneinfo/'))).toBe(true);
    listed.length = 0;
    expandGlob(fs, '/usr/*/zoneinfo/Europe/*');
    // /usr's folders, then zoneinfo and Europe: nothing else is read.
    expect(listed.filter((path) => path.split('/').length > 3)).toEqual([
      '/usr/share/zoneinfo',
      '/usr/share/zoneinfo/Europe',
    ]);
  });
});

/**
 * The proof, from the outside: dit's own process under strace, every file syscall and every folder
 * listing, each path resolved on the host as the kernel resolved it.
 */
describe('dit export --root under strace', () => {
  const cli = join(W, 'cli');
  const bundle = join(cli, 'dit.cjs');

  /** The CLI from its sources, bundled as the installed one is (scripts/build-cli.mjs), with the addon beside it. */
  beforeAll(async () => {
    mkdirSync(cli, { recursive: true });
    await build({
      stdin: {
        contents:
          "import { main } from './apps/cli/src/main.ts';\n" +
          'main(process.argv.slice(2)).then((status) => { process.exitCode = status; });\n',
        resolveDir: REPO,
        loader: 'ts',
      },
      outfile: bundle,
      bundle: true,
      platform: 'node',
      target: 'node20',
      format: 'cjs',
      conditions: ['source'],
      supported: { 'dynamic-import': false },
      define: { 'import.meta.url': '__ditImportMetaUrl' },
      banner: { js: "const __ditImportMetaUrl = require('node:url').pathToFileURL(__filename).href;" },
      // As scripts/build-cli.mjs: the CycloneDX library's optional plugins stay requires it does without.
      external: ['xmlbuilder2', 'libxmljs2', 'ajv', 'ajv-formats', 'ajv-formats-draft2019'],
      logLevel: 'error',
    });
    const addon = join(REPO, 'packages/native/dit-native.linux-x64-gnu.node');
    if (existsSync(addon)) copyFileSync(addon, join(cli, 'dit-native.linux-x64-gnu.node'));
  });

  const INCLUDES = [
    '/app/to-host-tmp/**',
    '/app/to-host-folder-relative/**',
    '/app/to-root/etc/**',
    '/app/chain-1/tmp/*',
    '/app/**',
    '/app/loop-a/**',
    '/app/through-file/**',
    '/deep/**',
    '/app/to-root',
  ];

  function traceDit(name: string, extra: string[]): { status: number; stderr: string; log: string } {
    const out = join(W, 'out', name);
    mkdirSync(out, { recursive: true });
    const log = join(W, `${name}.strace`);
    const args = ['export', '--root', R, '--path', join(out, 'export'), '--report', join(out, 'report.json')];
    for (const include of INCLUDES) args.push('--include', include);
    // --detach-on=execve: dit is traced, and each program it starts only up to its execve. Those
    // programs (strace, unshare, the check chrooted into the root or the export) are not dit; and
    // the check's own strace could not trace it under ours.
    const run = spawnSync(
      'strace',
      [
        '-f',
        '--detach-on=execve',
        '-qq',
        '-y',
        '-e',
        'trace=%file,getdents64',
        '-o',
        log,
        process.execPath,
        bundle,
        ...args,
        ...extra,
      ],
      { cwd: cli, encoding: 'utf8', env: { PATH: process.env.PATH, HOME: '/root', LANG: 'C.UTF-8' } },
    );
    return { status: run.status ?? -1, stderr: run.stderr, log: readFileSync(log, 'utf8') };
  }

  /** The run did what it should, and the log saw it: the walk listed the root's folders. */
  function expectExported(name: string, run: { status: number; stderr: string; log: string }): ExportReport {
    expect(run.stderr).not.toMatch(/\n\s+at /);
    expect(run.status, run.stderr).toBe(0);
    expect(run.stderr).toMatch(/warning: --include \/app\/loop-a\/\*\*: skipped \/app\/loop-a: too many/);
    expect(run.log).toContain(`getdents64(`);
    expect(run.log).toMatch(new RegExp(`getdents64\\(\\d+<${R}/etc/app>`));
    const report = JSON.parse(readFileSync(join(W, 'out', name, 'report.json'), 'utf8')) as ExportReport;
    expect(paths(report)).toEqual(
      expect.arrayContaining(['/usr/bin/dash', '/tmp/inside-tmp.txt', '/etc/app/config']),
    );
    return report;
  }

  it('opens, stats and lists nothing outside the root but its own files (--binary, --no-verify)', () => {
    const run = traceDit('binary', ['--binary', '/bin/sh', '--no-verify']);
    expect(outsideTheRoot(run.log, join(W, 'out', 'binary'))).toEqual([]);
    expectExported('binary', run);
  });

  it('and with a check command, traced chrooted into the root and verified inside the export', () => {
    const run = traceDit('command', ['--', '/bin/sh', '-c', 'exit 0']);
    expect(outsideTheRoot(run.log, join(W, 'out', 'command'))).toEqual([]);
    expect(expectExported('command', run).verification).toMatchObject({ ran: true, ok: true });
  });

  /**
   * Every path dit's process touched that is outside the root and not on the allowlist, as
   * `syscall path`. Paths inside the root are resolved on the host (following links as the kernel
   * did) so that a walk through one of the root's links to the host is caught too.
   */
  function outsideTheRoot(log: string, out: string): string[] {
    const allowed = allowlist(out);
    const found = new Set<string>();
    for (const access of accesses(log)) {
      for (const [index, path] of hostPaths(access).entries()) {
        // Past the first, a path is where one named inside the root really led: never allowlisted.
        if (isUnder(path, R) || (index === 0 && allowed(path, access))) continue;
        found.add(`${access.syscall} ${path}${access.failed ? ' (failed)' : ''}`);
      }
    }
    return [...found];
  }

  /** Where an access really went on the host: the parent resolved, and the last name too where the call follows it. */
  function hostPaths(access: Access): string[] {
    const out = [access.path];
    if (!isUnder(access.path, R)) return out;
    const real = (path: string): string | null => {
      try {
        return realpathSync(path);
      } catch {
        return null;
      }
    };
    const parent = real(dirname(access.path));
    if (parent !== null) out.push(posix.join(parent, posix.basename(access.path)));
    if (access.followsLast) {
      const whole = real(access.path);
      if (whole !== null) out.push(whole);
    }
    return out;
  }

  /**
   * What dit may touch outside the root, each for a reason:
   * - its own files: the bundle and the addon (and their folders' names, stat'ed when Node resolves
   *   its main module); the output folder, its staging siblings and the report, all under `out`;
   * - Node itself: its executable, the shared libraries the loader finds for it and for the addon
   *   (the files `ldd` names, probes in the system library folders that fail), OpenSSL's
   *   configuration, which Node reads at start-up;
   * - the kernel's facts about this process and machine: /proc/self, /proc/<pid> of dit's own
   *   threads, the CPU (/proc/cpuinfo, /sys/devices/system/cpu: the resolver's CPU level, the addon's
   *   thread count), the cgroup limits libuv reads, /dev/null and /dev/urandom;
   * - Node's module resolution from the bundle, which finds nothing (so reads nothing): package.json
   *   and node_modules in the folders above it, ~/.node_modules, ~/.node_libraries, and the addon
   *   looked for one folder up from its bundle (@dit/native's loader);
   * - the programs dit runs (strace, unshare, mkfifo), looked up on PATH and executed; the working
   *   directory `/` they are started in; the temporary folders (os.tmpdir()/dit-trace-*) where the
   *   check's strace writes its log, which dit reads and removes, and (dit-pipe-*) where the FIFOs of
   *   the check's stdout and stderr are made and unlinked; and the names in os.tmpdir() itself, where
   *   the trace looks for the log folders of dead dit runs to remove them (names only: nothing of
   *   another folder is opened).
   */
  function allowlist(out: string): (path: string, access: Access) => boolean {
    const libraries = new Set<string>();
    for (const file of [process.execPath, join(cli, 'dit-native.linux-x64-gnu.node')]) {
      if (!existsSync(file)) continue;
      for (const match of execFileSync('ldd', [file], { encoding: 'utf8' }).matchAll(/(\/\S+)/g)) {
        libraries.add(match[1]!);
        libraries.add(realpathSync(match[1]!));
      }
    }
    const own = [cli, out];
    const node = [process.execPath, realpathSync(process.execPath)];
    const systemLibraryDirs = ['/lib', '/lib64', '/usr/lib', '/usr/lib64', '/usr/local/lib'];
    // mkfifo makes the pipes the check's stdout and stderr go through (@dit/trace's pipes.ts).
    const tools = ['strace', 'unshare', 'mount', 'umount', 'setpriv', 'chroot', 'mkfifo'];
    const searchPath = (process.env.PATH ?? '').split(':').filter((dir) => dir.startsWith('/'));
    const home = process.env.HOME ?? '/root';
    const traceLogs = realpathSync(tmpdir());
    return (path, access) => {
      const name = posix.basename(path);
      const folder = posix.dirname(path);
      if (access.failed && own.some((dir) => isUnder(dir, folder))) {
        if (['package.json', 'node_modules'].includes(name) || /^dit-native\..*\.node$/.test(name))
          return true;
      }
      if (access.failed && [`${home}/.node_modules`, `${home}/.node_libraries`].includes(path)) return true;
      if (tools.includes(name) && searchPath.includes(folder) && !access.opens) return true;
      if (access.syscall === 'chdir' && path === '/') return true;
      if (path === traceLogs && (access.syscall === 'getdents64' || /^open/.test(access.syscall)))
        return true;
      // The private folders of those pipes' FIFOs (unlinked as soon as both ends are open).
      if (/^dit-(trace|pipe)-[^/]+$/.test(path.slice(traceLogs.length + 1).split('/')[0] ?? '')) {
        if (isUnder(path, traceLogs) && path !== traceLogs) return true;
      }
      if (own.some((dir) => isUnder(path, dir))) return true;
      // The folders above dit's own files, by name only (realpath, mkdir -p): never listed or opened.
      if (own.some((dir) => isUnder(dir, path)) && access.syscall !== 'getdents64' && !access.opens)
        return true;
      if (node.includes(path) || libraries.has(path)) return true;
      if (['/etc/ld.so.cache', '/etc/ld.so.preload'].includes(path)) return true;
      if (access.failed && systemLibraryDirs.some((dir) => isUnder(path, dir))) return true;
      if (/^\/(usr\/lib|etc)\/ssl\/openssl\.cnf$/.test(path)) return true;
      if (/^\/proc\/(self|thread-self|\d+)(\/|$)/.test(path) && ownProcess(path)) return true;
      if (['/proc/cpuinfo', '/proc/meminfo', '/proc/stat', '/dev/null', '/dev/urandom'].includes(path))
        return true;
      if (isUnder(path, '/sys/devices/system/cpu') || isUnder(path, '/sys/fs/cgroup')) return true;
      if (/^\/proc\/self\/cgroup$/.test(path)) return true;
      if (access.syscall === 'execve' && tools.includes(posix.basename(path))) return true;
      return false;
    };
    function ownProcess(path: string): boolean {
      const pid = /^\/proc\/(\d+)/.exec(path)?.[1];
      return pid === undefined || pids.has(pid);
    }
  }

  /** Pids seen in the log: dit's process, its threads, the children before their execve. */
  const pids = new Set<string>();

  interface Access {
    readonly syscall: string;
    /** Absolute, as the call named it (relative names joined to their folder's descriptor). */
    readonly path: string;
    readonly failed: boolean;
    /** Whether the call follows a link in the last name (open, stat, access: not lstat, readlink). */
    readonly followsLast: boolean;
    /** Whether it opened or listed the path (rather than only looking at its name). */
    readonly opens: boolean;
  }

  /** Calls whose last name is not followed (or only with flags that say so). */
  const NO_FOLLOW = new Set([
    'lstat',
    'readlink',
    'readlinkat',
    'unlink',
    'unlinkat',
    'rmdir',
    'rename',
    'renameat',
    'renameat2',
    'mkdir',
    'mkdirat',
    'symlink',
    'symlinkat',
    'lchown',
    'lgetxattr',
    'llistxattr',
  ]);
  /** Calls whose string arguments after the first are data, not paths. */
  const FIRST_STRING_ONLY = new Set([
    'execve',
    'execveat',
    'readlink',
    'readlinkat',
    'getxattr',
    'lgetxattr',
  ]);

  /** The accesses of a `strace -f -y` log, unfinished and resumed halves joined. */
  function accesses(log: string): Access[] {
    const pending = new Map<string, string>();
    const result: Access[] = [];
    for (const raw of log.split('\n')) {
      const head = /^(\d+)\s+(.*)$/.exec(raw);
      if (head === null) continue;
      const [, pid, rest] = head as unknown as [string, string, string];
      pids.add(pid);
      let line = rest;
      if (line.endsWith('<unfinished ...>')) {
        pending.set(pid, line.slice(0, -'<unfinished ...>'.length));
        continue;
      }
      const resumed = /^<\.\.\. \w+ resumed>(.*)$/.exec(line);
      if (resumed !== null) {
        line = (pending.get(pid) ?? '') + resumed[1];
        pending.delete(pid);
      }
      const call = /^(\w+)\((.*)\)\s+=\s+(.*)$/.exec(line);
      if (call === null) continue;
      const [, syscall, args, ret] = call as unknown as [string, string, string, string];
      const failed = ret.startsWith('-1');
      const opens = /^open|^execve|^getdents|^chdir/.test(syscall);
      const followsLast = !NO_FOLLOW.has(syscall) && !/NOFOLLOW/.test(args);
      // Every descriptor, as -y names it: the folder a call is relative to, and what an open returned.
      for (const fd of `${args} ${ret}`.matchAll(/(?:\d+|AT_FDCWD)<(\/[^>]*)>/g)) {
        result.push({
          syscall,
          path: fd[1]!,
          failed,
          followsLast: false,
          opens: !/AT_FDCWD</.test(fd[0]) && opens,
        });
      }
      const strings = [...args.matchAll(/"((?:[^"\\]|\\.)*)"/g)].map((match) => match[1]!);
      const named = FIRST_STRING_ONLY.has(syscall)
        ? strings.slice(0, 1)
        : /^symlink/.test(syscall)
          ? strings.slice(-1)
          : strings;
      const base = /^\s*(?:\d+|AT_FDCWD)<(\/[^>]*)>/.exec(args)?.[1] ?? null;
      for (const name of named) {
        if (name === '') continue;
        const path = name.startsWith('/') ? name : base === null ? null : posix.join(base, name);
        if (path !== null) result.push({ syscall, path: posix.normalize(path), failed, followsLast, opens });
      }
    }
    return result;
  }
});

function isUnder(path: string, dir: string): boolean {
  return path === dir || path.startsWith(dir === '/' ? '/' : `${dir}/`);
}
