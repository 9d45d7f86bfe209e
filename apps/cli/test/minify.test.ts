/**
 * `dit minify`: hostile layers refused before anything leaves the staging root; whiteouts applied
 * exactly; a real image built and saved by podman (docker-archive and oci-archive) made small,
 * loaded and run with the same output.
 */
import { execFileSync, spawnSync } from 'node:child_process';
import {
  chmodSync,
  copyFileSync,
  existsSync,
  mkdirSync,
  readdirSync,
  readFileSync,
  writeFileSync,
} from 'node:fs';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { ensureDebianRoot } from '../../../test-support/debian-root.mjs';
import { tempDir } from '../../../test-support/fixtures.js';
import { buildHello, containerEnv, skopeo, tool } from './image-support.js';
import { dit } from './run-cli.js';

const temp = tempDir('dit-cli-minify-');
const T = temp.path;
const loaded: string[] = [];
let hello: string;

beforeAll(() => {
  chmodSync(T, 0o755);
  mkdirSync(join(T, 'app'));
  hello = buildHello(join(T, 'app'));
});
afterAll(() => {
  if (loaded.length > 0) tool('podman', 'rmi', '--force', ...loaded);
  temp.cleanup();
});

/**
 * Writes a docker-archive whose layers are made by Python's tarfile from `layers` (each a list of
 * members: [name, type, extra]), so that names dit's own writer would never produce can be tested.
 * The first layer holds the hello program and its libraries' loader-visible paths are not needed:
 * the checks below never get as far as running anything.
 */
function craftArchive(file: string, layers: [string, string, string?][][]): void {
  const script = `
import tarfile, io, json, sys, hashlib
layers = json.loads(sys.argv[2])
out = tarfile.open(sys.argv[1], 'w', format=tarfile.PAX_FORMAT)
names = []
for i, members in enumerate(layers):
    buf = io.BytesIO()
    with tarfile.open(fileobj=buf, mode='w', format=tarfile.PAX_FORMAT) as layer:
        for name, kind, extra in [m + [None] * (3 - len(m)) for m in members]:
            info = tarfile.TarInfo(name)
            data = b''
            if kind == 'file': data = (extra or 'x').encode(); info.size = len(data)
            elif kind == 'dir': info.type = tarfile.DIRTYPE; info.mode = 0o755
            elif kind == 'symlink': info.type = tarfile.SYMTYPE; info.linkname = extra
            elif kind == 'hardlink': info.type = tarfile.LNKTYPE; info.linkname = extra
            elif kind == 'chardev': info.type = tarfile.CHRTYPE; info.devmajor = 1; info.devminor = 3
            layer.addfile(info, io.BytesIO(data))
    blob = buf.getvalue()
    name = 'layer%d.tar' % i
    names.append((name, hashlib.sha256(blob).hexdigest()))
    info = tarfile.TarInfo(name); info.size = len(blob); out.addfile(info, io.BytesIO(blob))
config = json.dumps({'architecture': 'amd64', 'os': 'linux', 'config': {'Entrypoint': ['/hello']},
    'rootfs': {'type': 'layers', 'diff_ids': ['sha256:' + d for _, d in names]}}).encode()
info = tarfile.TarInfo('config.json'); info.size = len(config); out.addfile(info, io.BytesIO(config))
manifest = json.dumps([{'Config': 'config.json', 'RepoTags': ['crafted:1'], 'Layers': [n for n, _ in names]}]).encode()
info = tarfile.TarInfo('manifest.json'); info.size = len(manifest); out.addfile(info, io.BytesIO(manifest))
out.close()
`;
  execFileSync('python3', ['-c', script, file, JSON.stringify(layers)]);
}

/** Every path under `folder`, relative, for "nothing was written outside" checks. */
function tree(folder: string): string[] {
  const out: string[] = [];
  const walk = (relative: string) => {
    for (const name of readdirSync(join(folder, relative), { withFileTypes: true })) {
      const rel = relative === '' ? name.name : `${relative}/${name.name}`;
      out.push(rel);
      if (name.isDirectory()) walk(rel);
    }
  };
  walk('');
  return out.sort();
}

describe('dit minify: hostile layers', () => {
  const cases: [string, [string, string, string?][], RegExp][] = [
    ['path traversal', [['../../pwned', 'file']], /refused \.\.\/\.\.\/pwned: a name with "\.\."/],
    ['an absolute name', [[`${T}/pwned`, 'file']], /refused .*pwned: an absolute name/],
    [
      'a link climbing out',
      [['up', 'symlink', '../../../../../pwned']],
      /refused up: a symbolic link to .*, which leaves the image/,
    ],
    [
      'a hard link out',
      [['hard', 'hardlink', '../../etc/passwd']],
      /refused \.\.\/\.\.\/etc\/passwd: a name with "\.\."/,
    ],
    [
      'a hard link to an absolute name',
      [['hard', 'hardlink', '/etc/passwd']],
      /refused \/etc\/passwd: an absolute name/,
    ],
    ['a device node', [['evil-null', 'chardev']], /refused evil-null: a device node/],
    [
      'a whiteout of ..',
      [
        ['dir', 'dir'],
        ['dir/.wh...', 'file'],
      ],
      /refused dir\/\.wh\.\.\.: a whiteout of "\.\."/,
    ],
  ];
  for (const [what, members, message] of cases) {
    it(`refuses ${what} with exit 2, writing nothing outside the staging root`, async () => {
      const folder = join(T, `hostile-${what.replaceAll(' ', '-')}`);
      mkdirSync(folder);
      craftArchive(join(folder, 'src.tar'), [[['ok.txt', 'file']], members]);
      const { status, stderr } = await dit(
        'minify',
        `docker-archive:${folder}/src.tar`,
        `oci:${folder}/out`,
        '-q',
      );
      expect(stderr).toMatch(message);
      expect(stderr.trim().split('\n')).toHaveLength(1);
      expect(status).toBe(2);
      // Only the source is left: no output, no staging root, nothing named pwned anywhere near.
      expect(tree(folder)).toEqual(['src.tar']);
      expect(tree(T).filter((path) => path.includes('pwned'))).toEqual([]);
    });
  }

  it('follows an absolute link on the way inside the root, never on the host', async () => {
    const folder = join(T, 'absolute-link');
    mkdirSync(folder);
    const canary = join(T, 'canary');
    mkdirSync(canary);
    // A lower layer links etc-link to the host-looking path of the canary; a higher one writes through it.
    craftArchive(join(folder, 'src.tar'), [
      [['etc-link', 'symlink', canary]],
      [[`etc-link/written`, 'file']],
    ]);
    const { stderr } = await dit(
      'minify',
      `docker-archive:${folder}/src.tar`,
      `oci:${folder}/out`,
      '-q',
      '--',
      '/hello',
    );
    expect(readdirSync(canary)).toEqual([]);
    // It got as far as the check (there is no /hello in this image), so the unpack itself was accepted.
    expect(stderr).toMatch(/\/hello: command not found/);
  });
});

describe('dit minify: a server', () => {
  it("takes dit export's service options, checked as minify's before any work", async () => {
    const { status, stderr } = await dit(
      'minify',
      `docker-archive:${T}/none.tar`,
      `docker-archive:${T}/out.tar:dit-test-image/x:1`,
      '--probe-http',
      'https://127.0.0.1/',
    );
    expect(status).toBe(2);
    expect(stderr).toMatch(/^dit: minify: --probe-http https:\/\/127\.0\.0\.1\/: only http:\/\/ URLs/);
    expect(existsSync(join(T, 'out.tar'))).toBe(false);
  });
});

describe('dit minify: a real image', () => {
  const BASE = 'localhost/debian:bookworm-slim';
  const SOURCE = 'localhost/dit-test-image/minify-source:1';

  beforeAll(() => {
    // The base test-images/run.mjs makes (and keeps): a debootstrap'ed Debian imported into podman.
    if (spawnSync('podman', ['image', 'exists', BASE], { env: containerEnv }).status !== 0) {
      const root = ensureDebianRoot();
      execFileSync('sh', ['-c', `tar -C "${root}" -c . | podman import - ${BASE}`], {
        env: containerEnv,
        stdio: 'ignore',
      });
    }
    const context = join(T, 'context');
    mkdirSync(context);
    copyFileSync(hello, join(context, 'hello'));
    writeFileSync(join(context, 'data.txt'), 'data from the image\n');
    writeFileSync(join(context, 'old.txt'), 'removed by a later layer\n');
    writeFileSync(
      join(context, 'Containerfile'),
      `FROM ${BASE}
COPY hello data.txt old.txt /app/
RUN rm /app/old.txt && rm -rf /usr/share/doc
USER nobody
WORKDIR /app
ENV GREETING=hi
LABEL org.example.source=minify-test
ENTRYPOINT ["/app/hello"]
CMD ["/app/data.txt"]
`,
    );
    const built = tool('podman', 'build', '--quiet', '-t', SOURCE, context);
    if (built.status !== 0) throw new Error(`podman build: ${built.stderr}`);
    loaded.push(SOURCE);
    for (const format of ['docker-archive', 'oci-archive']) {
      const saved = tool('podman', 'save', '--format', format, '-o', join(T, `source.${format}.tar`), SOURCE);
      if (saved.status !== 0) throw new Error(`podman save: ${saved.stderr}`);
    }
  });

  for (const format of ['docker-archive', 'oci-archive']) {
    it(`minifies what podman save --format ${format} wrote: loaded and run, same output, the source's config`, async () => {
      const source =
        format === 'docker-archive'
          ? // The short name, as a user types it: podman saved it as localhost/….
            `docker-archive:${T}/source.${format}.tar:${SOURCE.replace('localhost/', '')}`
          : `oci-archive:${T}/source.${format}.tar`;
      const small = join(T, `small.${format}.tar`);
      const { status, stdout, stderr } = await dit(
        'minify',
        source,
        `docker-archive:${small}:dit-test-image/minified-${format}:1`,
        '--include',
        '/app',
        // One of the two leaves the record of why each file is in out, the other keeps it.
        ...(format === 'docker-archive'
          ? ['--no-explain-record']
          : // dit export's outputs besides the image, from the same option table.
            ['--sbom', `spdx-json:${T}/small.spdx.json`, '--tar', `${T}/small.files.tar`]),
        '-q',
      );
      expect(stderr).toMatch(/dit: wrote docker-archive:/);
      expect(status).toBe(0);
      expect(stdout).toMatch(/^minified .* to \d+ files, .*; verified \(namespaces\)\n$/);
      const before = tool('podman', 'run', '--rm', '--network', 'none', SOURCE);
      expect(before.stdout).toBe('hello uid=65534 gid=65534 name=nobody\ndata from the image\n');
      const name = tool('podman', 'load', '-i', small).stdout.match(/Loaded image: (\S+)/)![1]!;
      loaded.push(name);
      const after = tool('podman', 'run', '--rm', '--network', 'none', name);
      expect(after.stdout).toBe(before.stdout);
      const config = skopeo(`docker-archive:${small}`, '--config');
      expect(config.config).toMatchObject({
        User: 'nobody',
        WorkingDir: '/app',
        Entrypoint: ['/app/hello'],
        Cmd: ['/app/data.txt'],
        Labels: { 'org.example.source': 'minify-test' },
      });
      expect(config.config.Env).toContain('GREETING=hi');
      expect(config.history.at(-1).comment).toMatch(/^dit /);
      expect(config.history.slice(0, -1).every((entry: { empty_layer?: boolean }) => entry.empty_layer)).toBe(
        true,
      );
      // The whiteout of the later layer is applied: --include /app does not bring old.txt back.
      const files = tool('tar', '-tf', small).stdout;
      const layer = /\S+\/layer\.tar/.exec(files)![0];
      const listing = execFileSync('sh', ['-c', `tar -xOf "${small}" "${layer}" | tar -t`], {
        encoding: 'utf8',
      });
      expect(listing).toContain('app/data.txt');
      expect(listing).not.toContain('old.txt');
      expect(listing).not.toContain('usr/share/doc/');
      expect(listing.includes('var/lib/dit/explain.json')).toBe(format !== 'docker-archive');
      if (format === 'oci-archive') {
        const spdx = JSON.parse(readFileSync(`${T}/small.spdx.json`, 'utf8'));
        expect(spdx.spdxVersion).toBe('SPDX-2.3');
        // The minified image's Debian packages (libc6 for the dynamic hello) are in its SBOM.
        expect(spdx.packages.map((p: { name: string }) => p.name)).toContain('libc6');
        expect(tool('tar', '-tf', `${T}/small.files.tar`).stdout).toContain('app/data.txt');
      }
      expect(existsSync(small)).toBe(true);
    });
  }
});
