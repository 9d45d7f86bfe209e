/**
 * `dit export --image`: images that podman loads and runs, skopeo and umoci read, with the same
 * digest for the same input; refusals before any work.
 */
import {
  chmodSync,
  existsSync,
  mkdirSync,
  readdirSync,
  readFileSync,
  utimesSync,
  writeFileSync,
} from 'node:fs';
import { join } from 'node:path';
import { zstdAvailable } from '@dit/image';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { tempDir } from '../../../test-support/fixtures.js';
import { buildHello, skopeo, tool } from './image-support.js';
import { dit } from './run-cli.js';

const temp = tempDir('dit-cli-image-');
const T = temp.path;
/** Images this file loaded into podman, removed at the end. */
const loaded: string[] = [];
let hello: string;

beforeAll(() => {
  // mkdtemp's 0700 would keep every user but root out of the program's folder, in the image too.
  chmodSync(T, 0o755);
  mkdirSync(join(T, 'app'));
  hello = buildHello(join(T, 'app'));
  writeFileSync(join(T, 'app', 'data.txt'), 'data version 1\n');
});
afterAll(() => {
  if (loaded.length > 0) tool('podman', 'rmi', '--force', ...loaded);
  temp.cleanup();
});

function podmanLoad(archive: string): string {
  const result = tool('podman', 'load', '-i', archive);
  expect(result.stderr).not.toMatch(/error/i);
  expect(result.status).toBe(0);
  const name = /Loaded image(?:\(s\))?: (\S+)/.exec(result.stdout)?.[1];
  expect(name).toBeDefined();
  loaded.push(name!);
  return name!;
}

describe('dit export --image', () => {
  it('writes docker-archive, oci-archive and oci images that podman runs and skopeo reads, without --path', async () => {
    const out = join(T, 'first');
    mkdirSync(out);
    const data = join(T, 'app', 'data.txt');
    const { status, stdout, stderr } = await dit(
      'export',
      '--image',
      `docker-archive:${out}/d.tar:dit-test-image/hello:1`,
      '--image',
      `oci-archive:${out}/o.tar:dit-test-image/hello-oci:1`,
      '--image',
      `oci:${out}/layout:v1`,
      '--label',
      'org.example.team=tools',
      '--expose',
      '8080',
      '--stop-signal',
      'SIGINT',
      '-q',
      '--',
      hello,
      data,
    );
    expect(stderr).toMatch(/dit: wrote oci:.*layout:v1: manifest sha256:[0-9a-f]{64}/);
    expect(status).toBe(0);
    expect(stdout).toContain(`to docker-archive:${out}/d.tar`);
    // Without --path nothing is left but the images: the staging folder is gone.
    expect(readdirSync(out).sort()).toEqual(['d.tar', 'layout', 'o.tar']);

    for (const archive of ['d.tar', 'o.tar']) {
      const name = podmanLoad(join(out, archive));
      const run = tool('podman', 'run', '--rm', '--network', 'none', name);
      expect(run.stderr).toBe('');
      expect(run.stdout).toBe('hello uid=0 gid=0 name=root\ndata version 1\n');
    }

    const said = /layout:v1: manifest (sha256:[0-9a-f]{64})/.exec(stderr)![1];
    const inspected = skopeo(`oci:${out}/layout:v1`);
    expect(inspected.Digest).toBe(said);
    expect(inspected).toMatchObject({ Architecture: 'amd64', Os: 'linux', Created: '1970-01-01T00:00:00Z' });
    const config = skopeo(`oci:${out}/layout:v1`, '--config');
    expect(config.config).toMatchObject({
      Entrypoint: [hello, data],
      Env: [expect.stringMatching(/^PATH=/)],
      WorkingDir: '/',
      Labels: { 'org.example.team': 'tools' },
      ExposedPorts: { '8080/tcp': {} },
      StopSignal: 'SIGINT',
    });
    expect(config.history).toEqual([
      expect.objectContaining({
        created_by: `dit export -- ${hello} ${data}`,
        comment: expect.stringMatching(/^dit \d+\.\d+\.\d+/),
      }),
    ]);
    expect(config.rootfs.diff_ids).toHaveLength(1);
    // The layer is what --path would have held: umoci unpacks it, the program and its loader in place.
    const bundle = join(T, 'bundle');
    const unpacked = tool('umoci', 'unpack', '--image', `${out}/layout:v1`, bundle);
    expect(unpacked.stderr).not.toMatch(/error/i);
    expect(readFileSync(join(bundle, 'rootfs', hello))).toEqual(readFileSync(hello));
    expect(existsSync(join(bundle, 'rootfs', 'lib64', 'ld-linux-x86-64.so.2'))).toBe(true);
  });

  it('gives the same digest for the same input, at another time and from another folder; one byte changes it', async () => {
    const digestOf = async (name: string, cwd: string) => {
      const file = join(T, `${name}.tar`);
      const previous = process.cwd();
      process.chdir(cwd);
      try {
        const { status, stderr } = await dit(
          'export',
          '--image',
          `oci-archive:${file}`,
          '-q',
          '--',
          hello,
          join(T, 'app', 'data.txt'),
        );
        expect(stderr).toMatch(
          /^dit: wrote oci-archive:\S+: manifest sha256:[0-9a-f]{64}, image ID sha256:[0-9a-f]{64}, layer [\d.]+ MiB\n$/,
        );
        expect(status).toBe(0);
      } finally {
        process.chdir(previous);
      }
      return skopeo(`oci-archive:${file}`).Digest as string;
    };
    const first = await digestOf('r1', '/');
    // Later: every file of the application has another time, and dit runs in another folder.
    utimesSync(hello, new Date(), new Date(Date.now() + 5000));
    utimesSync(join(T, 'app'), new Date(), new Date(Date.now() + 5000));
    const second = await digestOf('r2', join(T, 'app'));
    expect(second).toBe(first);
    expect(readFileSync(join(T, 'r2.tar')).equals(readFileSync(join(T, 'r1.tar')))).toBe(true);

    writeFileSync(join(T, 'app', 'data.txt'), 'data version 2\n');
    const changed = await digestOf('r3', '/');
    expect(changed).not.toBe(first);
    writeFileSync(join(T, 'app', 'data.txt'), 'data version 1\n');
  });

  it('sets Entrypoint, Cmd, WorkingDir and Env as told, and SOURCE_DATE_EPOCH dates the image', async () => {
    const layout = join(T, 'told');
    const previous = process.env.SOURCE_DATE_EPOCH;
    process.env.SOURCE_DATE_EPOCH = '1700000000';
    try {
      const { status } = await dit(
        'export',
        '--image',
        `oci:${layout}:told`,
        '--entrypoint',
        JSON.stringify([hello]),
        '--cmd',
        JSON.stringify([join(T, 'app', 'data.txt')]),
        '--workdir',
        join(T, 'app'),
        '--env',
        'GREETING=hi',
        '-q',
        '--',
        hello,
        join(T, 'app', 'data.txt'),
      );
      expect(status).toBe(0);
    } finally {
      if (previous === undefined) delete process.env.SOURCE_DATE_EPOCH;
      else process.env.SOURCE_DATE_EPOCH = previous;
    }
    const config = skopeo(`oci:${layout}:told`, '--config');
    expect(config.created).toBe('2023-11-14T22:13:20Z');
    expect(config.config).toMatchObject({
      Entrypoint: [hello],
      Cmd: [join(T, 'app', 'data.txt')],
      WorkingDir: join(T, 'app'),
    });
    expect(config.config.Env).toEqual([expect.stringMatching(/^PATH=/), 'GREETING=hi']);
  });

  it('refuses bad image outputs and settings before any work (exit 2 or 3), writing nothing', async () => {
    const out = join(T, 'refused');
    mkdirSync(out);
    const cases: [string[], number, RegExp][] = [
      [['--image', `oci-archive:${out}/export/x.tar`, '--path', `${out}/export`], 2, /lies inside --path/],
      [['--image', 'registry:example.com/x'], 2, /not an image reference/],
      [['--image', `oci:${out}/l`, '--entrypoint', '/bin/app'], 2, /--entrypoint .*JSON array/],
      [['--image', `oci:${out}/l`, '--expose', 'http'], 2, /--expose http/],
      [['--image', `docker-archive:${out}/missing/x.tar`], 3, /the folder .*missing does not exist/],
      [
        ['--image', `oci-archive:${out}/same.tar`, '--image', `oci-archive:${out}/same.tar:other`],
        2,
        /the same place/,
      ],
    ];
    // zstd is refused where neither the native addon (with libzstd) nor node:zlib can write it.
    if (!zstdAvailable()) {
      cases.push([['--image', `oci:${out}/l`, '--compression', 'zstd'], 2, /no zstd in node:zlib/]);
    }
    for (const [options, expected, message] of cases) {
      const { status, stderr } = await dit('export', ...options, '-q', '--', hello);
      expect(stderr).toMatch(message);
      expect(stderr.trim().split('\n')).toHaveLength(1);
      expect(status).toBe(expected);
    }
    expect(readdirSync(out)).toEqual([]);
  });
});

describe('dit export --image --user', () => {
  it('runs as nonroot (65532) under podman, with the minimal passwd and group dit writes and a home', async () => {
    const out = join(T, 'user');
    mkdirSync(out);
    // No check: nothing read /etc/passwd, so the export has none until dit writes one.
    const { status, stderr } = await dit(
      'export',
      '--image',
      `docker-archive:${out}/u.tar:dit-test-image/user:1`,
      '--user',
      'nonroot',
      '--binary',
      hello,
      '--entrypoint',
      JSON.stringify([hello]),
      '-q',
    );
    expect(stderr).toMatch(/^dit: wrote docker-archive:/);
    expect(status).toBe(0);
    const name = podmanLoad(join(out, 'u.tar'));
    const run = tool('podman', 'run', '--rm', '--network', 'none', name);
    expect(run.stdout).toBe('hello uid=65532 gid=65532 name=nonroot\n');
    expect(
      tool('podman', 'run', '--rm', '--network', 'none', '--entrypoint', '/nonexistent', name).status,
    ).not.toBe(0);
    const layout = join(out, 'layout');
    await dit('export', '--image', `oci:${layout}:u`, '--user', 'nonroot', '--binary', hello, '-q');
    expect(skopeo(`oci:${layout}:u`, '--config').config.User).toBe('nonroot');
    const bundle = join(out, 'bundle');
    expect(tool('umoci', 'unpack', '--image', `${layout}:u`, bundle).status).toBe(0);
    const rootfs = join(bundle, 'rootfs');
    expect(readFileSync(join(rootfs, 'etc/passwd'), 'utf8')).toBe(
      'root:x:0:0:root:/root:/sbin/nologin\nnobody:x:65534:65534:nobody:/nonexistent:/sbin/nologin\nnonroot:x:65532:65532:nonroot:/home/nonroot:/sbin/nologin\n',
    );
    expect(readFileSync(join(rootfs, 'etc/group'), 'utf8')).toBe(
      'root:x:0:\nnobody:x:65534:\nnonroot:x:65532:\n',
    );
  });

  it('verifies as the user: a file only root may read fails the proof (exit 1, the file named), and no image is written', async () => {
    const secret = join(T, 'app', 'root-only.conf');
    writeFileSync(secret, 'only root\n', { mode: 0o600 });
    const out = join(T, 'denied');
    mkdirSync(out);
    const { status, stderr } = await dit(
      'export',
      '--image',
      `oci-archive:${out}/d.tar`,
      '--user',
      'nonroot',
      '-q',
      '--',
      hello,
      secret,
    );
    expect(stderr).toContain(`as uid 65532 (--user nonroot) it cannot read ${secret}`);
    expect(stderr).toContain('no image written');
    expect(status).toBe(1);
    expect(readdirSync(out)).toEqual([]);
    // The same as root verifies.
    expect(
      (await dit('export', '--image', `oci-archive:${out}/d.tar`, '-q', '--', hello, secret)).status,
    ).toBe(0);
  });

  it('refuses a user the root does not define (exit 2), before any work', async () => {
    const out = join(T, 'nouser');
    mkdirSync(out);
    const { status, stderr } = await dit(
      'export',
      '--image',
      `oci:${out}/l`,
      '--user',
      'nosuchuser',
      '-q',
      '--',
      hello,
    );
    expect(stderr).toMatch(/^dit: export: --user nosuchuser: no user nosuchuser in the root's \/etc\/passwd/);
    expect(status).toBe(2);
    expect(readdirSync(out)).toEqual([]);
  });
});
