/**
 * `exportImage` end to end on real programs of this machine: trace, closure, copy, verification;
 * then each export is run again, isolated like a container, and must print what the host prints.
 */
import { execFileSync, spawnSync } from 'node:child_process';
import { createHash } from 'node:crypto';
import {
  chmodSync,
  existsSync,
  linkSync,
  lstatSync,
  mkdirSync,
  mkdtempSync,
  readFileSync,
  readlinkSync,
  rmSync,
  symlinkSync,
  writeFileSync,
} from 'node:fs';
import { join } from 'node:path';
import { EXPLAIN_RECORD, ExportError, type ExportReport, exportImage, runIsolated } from '@dit/exporter';
import { afterAll, describe, expect, it, onTestFinished } from 'vitest';
import { ensureDebianRoot } from '../../../test-support/debian-root.mjs';
import { tempDir } from '../../../test-support/fixtures.js';

const temp = tempDir('dit-export-');
const T = temp.path;
afterAll(() => temp.cleanup());

const ENV = {
  PATH: '/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin',
  LANG: 'C.UTF-8',
  HOME: '/root',
};

function host(argv: string[], env: Record<string, string> = {}): string {
  return execFileSync(argv[0]!, argv.slice(1), { env: { ...ENV, ...env }, encoding: 'utf8', cwd: '/' });
}

async function inExport(output: string, argv: string[], env: Record<string, string> = {}) {
  const run = await runIsolated(output, argv, { env: { ...ENV, ...env }, cwd: '/', timeoutMs: 60_000 });
  return { ...run, text: run.stdout.toString('utf8') };
}

async function exportCase(
  name: string,
  argv: string[],
  extra: { env?: Record<string, string>; include?: string[] } = {},
) {
  const output = join(T, name);
  const report = await exportImage({
    path: output,
    command: argv,
    env: { ...ENV, ...extra.env },
    cwd: '/',
    include: extra.include,
  });
  return { output, report };
}

function expectVerified(report: ExportReport) {
  expect(report.verification?.note ?? '', 'verification').toSatisfy(
    (note: string) => report.verification?.ok === true || note === '',
  );
  expect(report.verification?.ok).toBe(true);
  expect(report.verification?.isolation).toBe('namespaces');
}

describe('exports that run', () => {
  it('python3 with json, ssl, sqlite3 and hashlib', async () => {
    const argv = [
      '/usr/bin/python3',
      '-c',
      "import json, ssl, sqlite3, hashlib; print(json.dumps([hashlib.sha256(b'dit').hexdigest(), ssl.OPENSSL_VERSION, sqlite3.sqlite_version]))",
    ];
    const { output, report } = await exportCase('python', argv);
    expectVerified(report);
    expect((await inExport(output, argv)).text).toBe(host(argv));
    // The export is small: the interpreter, its modules and libraries, not the distribution.
    expect(report.totals.bytes).toBeLessThan(60 * 1024 * 1024);
    expect(existsSync(join(output, 'usr/bin/perl'))).toBe(false);
  });

  it('node', async () => {
    const argv = [
      process.execPath,
      '-e',
      "const z=require('zlib');console.log(z.gunzipSync(z.gzipSync('dit')).toString(), typeof require('crypto').createHash)",
    ];
    const { output, report } = await exportCase('node', argv);
    expectVerified(report);
    expect((await inExport(output, argv)).text).toBe(host(argv));
  });

  it('curl --version', async () => {
    const argv = ['/usr/bin/curl', '--version'];
    const { output, report } = await exportCase('curl', argv);
    expectVerified(report);
    expect((await inExport(output, argv)).text).toBe(host(argv));
  });

  it('a #!/bin/bash script using coreutils', async () => {
    // Not under /tmp: verification gives the command an empty /tmp, as images start with one.
    const app = mkdtempSync('/opt/dit-test-');
    onTestFinished(() => rmSync(app, { recursive: true, force: true }));
    const script = join(app, 'app.sh');
    writeFileSync(
      script,
      '#!/bin/bash\nset -euo pipefail\necho "hello from $(basename "$0")" | tr a-z A-Z\nprintf "b\\na\\n" | sort | head -n 1\nseq 3 | wc -l\n',
    );
    chmodSync(script, 0o755);
    const { output, report } = await exportCase('bash', [script]);
    expectVerified(report);
    expect((await inExport(output, [script])).text).toBe(host([script]));
    expect(lstatSync(join(output, 'bin')).isSymbolicLink()).toBe(true); // /bin -> usr/bin kept as a link
  });

  it('the dist-info of an imported Python package, which importlib.metadata reads', async () => {
    // A package of our own in a site-packages folder (not under /tmp, which is scratch); a second
    // package is not imported, and its metadata must stay out.
    const app = mkdtempSync('/opt/dit-test-');
    onTestFinished(() => rmSync(app, { recursive: true, force: true }));
    const site = join(app, 'site-packages');
    const pkg = (name: string, version: string) => {
      mkdirSync(join(site, name), { recursive: true });
      writeFileSync(join(site, name, '__init__.py'), `VALUE = ${JSON.stringify(name)}\n`);
      const info = join(site, `${name}-${version}.dist-info`);
      mkdirSync(info);
      writeFileSync(join(info, 'METADATA'), `Metadata-Version: 2.1\nName: ${name}\nVersion: ${version}\n`);
      // RECORD as pip writes it: path,hash,size; one entry written with a "./" that must be normalised.
      writeFileSync(
        join(info, 'RECORD'),
        `./${name}/__init__.py,,\n${name}-${version}.dist-info/METADATA,,\n${name}-${version}.dist-info/RECORD,,\n`,
      );
    };
    pkg('ditprobe', '1.2.3');
    pkg('unused', '9.9');
    // The check imports ditprobe but reads only other's metadata (which loads the modules that
    // reading needs): ditprobe's dist-info can come only from the rule.
    pkg('other', '0.1');
    const argv = ['/usr/bin/python3', '-c', 'import ditprobe, importlib.metadata as m; m.version("other")'];
    const { output, report } = await exportCase('dist-info', argv, { env: { PYTHONPATH: site } });
    expectVerified(report);
    const version = [
      '/usr/bin/python3',
      '-c',
      'import importlib.metadata as m; print(m.version("ditprobe"))',
    ];
    const run = await inExport(output, version, { PYTHONPATH: site });
    expect(run.text, run.stderr.toString()).toBe('1.2.3\n');
    const exported = new Set(report.entries.map((entry) => entry.path));
    expect(exported.has(join(site, 'ditprobe-1.2.3.dist-info/METADATA'))).toBe(true);
    expect(exported.has(join(site, 'unused-9.9.dist-info/METADATA'))).toBe(false);
  });

  it('getent passwd root, with the NSS setup', async () => {
    const argv = ['/usr/bin/getent', 'passwd', 'root'];
    const { output, report } = await exportCase('getent', argv);
    expectVerified(report);
    expect((await inExport(output, argv)).text).toBe(host(argv));
    expect(existsSync(join(output, 'etc/nsswitch.conf'))).toBe(true);
    expect(existsSync(join(output, 'etc/shadow'))).toBe(false);
  });

  it('TZ=Europe/Berlin date -d @0', async () => {
    const argv = ['/bin/date', '-d', '@0'];
    const env = { TZ: 'Europe/Berlin' };
    const { output, report } = await exportCase('date', argv, { env });
    expectVerified(report);
    const inside = await inExport(output, argv, env);
    expect(inside.text).toBe(host(argv, env));
    expect(inside.text).toContain('CET 1970');
  });

  it('static mode: --binary without a command gives a root where curl --version runs', async () => {
    const output = join(T, 'static-curl');
    const report = await exportImage({ path: output, binaries: ['/usr/bin/curl'] });
    expect(report.verification).toBeNull();
    expect(report.trace).toBeNull();
    const argv = ['/usr/bin/curl', '--version'];
    expect((await inExport(output, argv)).text).toBe(host(argv));
    // Every file says why it is there.
    const libcurl = report.entries.find((entry) => entry.path.endsWith('/libcurl.so.4.8.0'));
    expect(libcurl?.reasons.join()).toMatch(/needed by/);
    expect(libcurl?.sha256).toBe(
      createHash('sha256')
        .update(readFileSync(join(output, libcurl!.path)))
        .digest('hex'),
    );
    expect(readlinkSync(join(output, 'lib64/ld-linux-x86-64.so.2'))).toBe(
      readlinkSync('/lib64/ld-linux-x86-64.so.2'),
    );
    const tmp = lstatSync(join(output, 'tmp'));
    expect(tmp.mode & 0o7777).toBe(0o1777);
  });
});

describe('--root: an unpacked Debian image', () => {
  it("exports from the root only: every file is the root's own, and the command ran chrooted", async () => {
    const root = ensureDebianRoot();
    const output = join(T, 'from-root');
    const argv = ['/usr/bin/bash', '-c', 'echo "$(cat /etc/debian_version)" | sed s/^/debian-/'];
    const report = await exportImage({ path: output, root, command: argv, env: ENV, cwd: '/' });
    expectVerified(report);
    const expected = `debian-${readFileSync(join(root, 'etc/debian_version'), 'utf8').trim()}\n`;
    expect((await inExport(output, argv)).text).toBe(expected);
    // The dpkg records for scanners and dit explain's record are written, not copied
    // (package-metadata.test.ts and apps/cli/test/explain.test.ts check them).
    const copied = report.entries.filter(
      (e) => e.type === 'file' && !e.path.startsWith('/var/lib/dpkg/status.d/') && e.path !== EXPLAIN_RECORD,
    );
    for (const entry of copied) {
      const inRoot = readFileSync(join(root, entry.path));
      expect(createHash('sha256').update(inRoot).digest('hex'), entry.path).toBe(entry.sha256);
    }
    expect(report.entries.some((e) => e.path === '/usr/bin/sed')).toBe(true);
  });
});

describe('bad input: a clear error and nothing exported', () => {
  async function expectExportError(options: Parameters<typeof exportImage>[0], code: string, text: RegExp) {
    const error = await exportImage(options).then(
      () => null,
      (e: unknown) => e,
    );
    expect(error).toBeInstanceOf(ExportError);
    expect((error as ExportError).code).toBe(code);
    expect((error as Error).message).toMatch(text);
    expect(existsSync(options.path) ? readdirNames(options.path) : []).toEqual(
      existingBefore.get(options.path) ?? [],
    );
  }
  const existingBefore = new Map<string, string[]>();
  const readdirNames = (dir: string) =>
    spawnSync('ls', ['-A', dir], { encoding: 'utf8' }).stdout.split('\n').filter(Boolean);

  it('a command that does not exist', async () => {
    await expectExportError(
      { path: join(T, 'bad1'), command: ['/usr/bin/no-such-program'] },
      'EXPORT_NOT_FOUND',
      /no-such-program: command not found/,
    );
  });
  it('a command that fails', async () => {
    await expectExportError(
      { path: join(T, 'bad2'), command: ['/bin/sh', '-c', 'exit 3'] },
      'EXPORT_COMMAND_FAILED',
      /exited with status 3/,
    );
  });
  it('a command that hangs past --timeout, killed with everything it started', async () => {
    const started = Date.now();
    await expectExportError(
      { path: join(T, 'bad3'), command: ['/bin/sh', '-c', 'sleep 600 & sleep 600'], timeoutMs: 1500 },
      'EXPORT_TIMEOUT',
      /still running after 1500 ms/,
    );
    expect(Date.now() - started).toBeLessThan(20_000);
    expect(spawnSync('pgrep', ['-f', 'sleep 600']).status).toBe(1);
  });
  it('an abort while tracing: the command tree killed, nothing exported, the reason rejected', async () => {
    const path = join(T, 'aborted');
    const controller = new AbortController();
    setTimeout(() => controller.abort(new Error('stopped by the caller')), 1000);
    await expect(
      exportImage({ path, command: ['/bin/sh', '-c', 'sleep 621 & sleep 622'], signal: controller.signal }),
    ).rejects.toThrow('stopped by the caller');
    expect(existsSync(path)).toBe(false);
    expect(spawnSync('pgrep', ['-f', 'sleep 62[12]']).status).toBe(1);
  });
  it('a non-empty --path', async () => {
    const path = join(T, 'bad4');
    mkdirSync(path);
    writeFileSync(join(path, 'keep.txt'), 'mine');
    existingBefore.set(path, ['keep.txt']);
    await expectExportError(
      { path, binaries: ['/usr/bin/curl'] },
      'EXPORT_OUTPUT_NOT_EMPTY',
      /is not empty \(use --force/,
    );
    expect(readFileSync(join(path, 'keep.txt'), 'utf8')).toBe('mine');
  });
  it('an --include that tries to leave the root', async () => {
    await expectExportError(
      { path: join(T, 'bad5'), binaries: ['/usr/bin/curl'], include: ['/../../etc/passwd'] },
      'EXPORT_PATH_ESCAPES_ROOT',
      /leaves the root/,
    );
  });
  it('a file with a name that is not UTF-8, whether traced or included, named with its bytes', async () => {
    // Outside /tmp: what a command touches there is scratch and never exported.
    const data = mkdtempSync('/opt/dit-test-latin1-');
    onTestFinished(() => rmSync(data, { recursive: true, force: true }));
    writeFileSync(Buffer.concat([Buffer.from(`${data}/caf`), Buffer.from([0xe9])]), 'Latin-1\n');
    writeFileSync(join(data, 'plain'), 'UTF-8\n');
    const named = new RegExp(`^${data}/caf\\\\xe9 \\(used by the command\\): the name is not UTF-8`);
    await expectExportError(
      { path: join(T, 'bad7'), command: ['/bin/sh', '-c', `cat ${data}/caf* ${data}/plain`] },
      'EXPORT_NAME_NOT_UTF8',
      named,
    );
    await expectExportError(
      { path: join(T, 'bad8'), binaries: ['/bin/sh'], include: [data] },
      'EXPORT_NAME_NOT_UTF8',
      new RegExp(`caf\\\\xe9 \\(matched by --include ${data}\\)`),
    );
    // A name with a real U+FFFD is UTF-8: it exports as any other.
    rmSync(Buffer.concat([Buffer.from(`${data}/caf`), Buffer.from([0xe9])]));
    writeFileSync(join(data, 'caf\uFFFD'), 'UTF-8 after all\n');
    const output = join(T, 'fffd');
    await exportImage({ path: output, binaries: ['/bin/sh'], include: [data] });
    expect(readFileSync(join(output, data, 'caf\uFFFD'), 'utf8')).toBe('UTF-8 after all\n');
  });
  it('a --root that is not a folder', async () => {
    await expectExportError(
      { path: join(T, 'bad6'), root: join(T, 'nowhere'), binaries: ['/bin/sh'] },
      'EXPORT_BAD_ROOT',
      /not a folder/,
    );
  });
});

describe('verification', () => {
  it('names the file a broken export lacks (removed on purpose with --exclude)', async () => {
    const argv = ['/usr/bin/python3', '-c', 'import json; print(json.dumps([1]))'];
    const decoder = execFileSync(
      '/usr/bin/python3',
      ['-c', 'import json.decoder; print(json.decoder.__file__)'],
      { encoding: 'utf8' },
    ).trim();
    const report = await exportImage({
      path: join(T, 'broken'),
      command: argv,
      env: ENV,
      cwd: '/',
      exclude: [decoder],
    });
    expect(report.verification?.ok).toBe(false);
    expect(report.verification?.ran).toBe(true);
    expect(report.verification?.missing).toContain(decoder);
    expect(report.verification?.note).toMatch(/exited with 1/);
  });
});

describe('hard links, --dedupe and --tar', () => {
  function makeRoot() {
    const root = join(T, `root-${Math.random().toString(36).slice(2)}`);
    mkdirSync(join(root, 'data'), { recursive: true });
    writeFileSync(join(root, 'data/a.txt'), 'same content\n');
    writeFileSync(join(root, 'data/b.txt'), 'same content\n');
    writeFileSync(join(root, 'data/c.txt'), 'other content\n');
    writeFileSync(join(root, 'data/h1'), 'linked\n');
    linkSync(join(root, 'data/h1'), join(root, 'data/h2'));
    symlinkSync('a.txt', join(root, 'data/link'));
    return root;
  }
  const inode = (path: string) => lstatSync(path).ino;

  it('keeps hard links as hard links, and copies identical files apart unless asked', async () => {
    const output = join(T, 'links-plain');
    await exportImage({ path: output, root: makeRoot(), include: ['/data'] });
    expect(inode(join(output, 'data/h1'))).toBe(inode(join(output, 'data/h2')));
    expect(inode(join(output, 'data/a.txt'))).not.toBe(inode(join(output, 'data/b.txt')));
  });

  it('--dedupe stores identical files once', async () => {
    const output = join(T, 'links-dedupe');
    const report = await exportImage({ path: output, root: makeRoot(), include: ['/data'], dedupe: true });
    expect(inode(join(output, 'data/a.txt'))).toBe(inode(join(output, 'data/b.txt')));
    expect(inode(join(output, 'data/c.txt'))).not.toBe(inode(join(output, 'data/a.txt')));
    expect(readFileSync(join(output, 'data/b.txt'), 'utf8')).toBe('same content\n');
    expect(report.entries.find((e) => e.path === '/data/b.txt')?.hardLinkOf).toBe('/data/a.txt');
  });

  it('--tar writes the same tree as an archive, links as links', async () => {
    const output = join(T, 'as-tar');
    const archive = join(T, 'as-tar.tar');
    const report = await exportImage({ path: output, root: makeRoot(), include: ['/data'], tar: archive });
    const listing = execFileSync('tar', ['-tvf', archive], { encoding: 'utf8' });
    const names = new Set(
      execFileSync('tar', ['-tf', archive], { encoding: 'utf8' })
        .split('\n')
        .filter(Boolean)
        .map((name) => name.replace(/^\.\/?/, '/').replace(/\/$/, '') || '/'),
    );
    for (const entry of report.entries) expect(names.has(entry.path), entry.path).toBe(true);
    expect(listing).toMatch(/^l.* \.\/data\/link -> a\.txt$/m);
    expect(listing).toMatch(/^h.* \.\/data\/h2 link to (\.\/)?data\/h1$/m);
  });
});
