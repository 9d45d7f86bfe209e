/**
 * Secrets never leave the root: a throwaway root (dash, cat and libc from the cached Debian root)
 * filled with real keys made by openssl and ssh-keygen and with credential files, read by a traced
 * `sh -c 'cat ...'`. Each secret carries a marker; no marker may appear in the folder, the tar or
 * the report, and each secret must be listed as withheld with its rule.
 */
import { execFileSync } from 'node:child_process';
import {
  existsSync,
  linkSync,
  mkdirSync,
  readdirSync,
  readFileSync,
  statSync,
  symlinkSync,
  writeFileSync,
} from 'node:fs';
import { dirname, join } from 'node:path';
import { type ExportReport, exportImage } from '@dit/exporter';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { dit } from '../../../apps/cli/test/run-cli.js';
import { ensureDebianRoot } from '../../../test-support/debian-root.mjs';
import { tempDir } from '../../../test-support/fixtures.js';

const temp = tempDir('dit-secrets-');
const T = temp.path;
const ROOT = join(T, 'root');
afterAll(() => temp.cleanup());

const ENV = { PATH: '/usr/bin:/bin', LANG: 'C.UTF-8', HOME: '/root' };

/** Path inside the root -> the rule that must withhold it. Every one of these files holds its marker. */
const SECRETS: Record<string, string> = {
  '/srv/tls/server.pem': 'private-key-content',
  '/srv/tls/bundle.pem': 'private-key-content',
  '/srv/tls/ec.pem': 'private-key-content',
  '/srv/tls/encrypted.pem': 'private-key-content',
  '/srv/key.txt': 'private-key-content',
  '/srv/putty.txt': 'private-key-content',
  '/srv/service-account.json': 'private-key-content',
  '/srv/openssh-key': 'private-key-content',
  '/srv/deploy_key': 'private-key-name',
  '/srv/Deploy_Key.backup': 'private-key-content',
  '/srv/tls/SERVER.KEY': 'private-key-name',
  '/srv/tls/client.p12': 'keystore',
  '/srv/tls/CLIENT.PFX': 'keystore',
  '/app/.env': 'dotenv',
  '/app/.ENV.production': 'dotenv',
  '/root/.pgpass': 'pgpass',
  '/root/.vault-token': 'vault-token',
  '/root/.aws/config': 'aws-folder',
  '/root/.aws/credentials': 'aws-folder',
  '/root/.azure/accessTokens.json': 'azure-folder',
  '/root/.config/gcloud/application_default_credentials.json': 'gcloud-folder',
  '/root/ID_RSA': 'ssh-key-name',
  '/root/id_ed25519': 'ssh-key-name',
  '/home/app/.ssh/authorized_keys': 'ssh-folder',
  '/home/app/.SSH/id_ecdsa': 'ssh-folder',
  '/root/.gnupg/secring.gpg': 'gnupg-folder',
  '/root/.git-credentials': 'git-credentials',
  '/root/.netrc': 'netrc',
  '/root/.npmrc': 'npmrc',
  '/root/.pypirc': 'pypirc',
  '/root/.dockercfg': 'docker-config',
  '/root/.docker/config.json': 'docker-config',
  '/root/.kube/config': 'kube-config',
  '/root/.terraform.d/credentials.tfrc.json': 'terraform-credentials',
  '/etc/shadow': 'shadow',
  '/etc/shadow.bak': 'shadow',
  '/etc/SHADOW-': 'shadow',
  '/etc/gshadow': 'shadow',
  '/etc/gshadow~': 'shadow',
  '/var/backups/shadow.bak': 'shadow',
  '/etc/ssh/ssh_host_ed25519_key': 'ssh-host-key',
  '/etc/ssh/ssh_host_ecdsa_key': 'ssh-host-key',
  '/etc/ssl/private/snakeoil.pem': 'ssl-private-folder',
  // Other names of withheld files: one read before its withheld name, one after.
  '/srv/aws-alias-before': 'hard-link-to-withheld',
  '/srv/pgpass-alias-after': 'hard-link-to-withheld',
};

/** What stays: certificates, public keys, trust stores, a `.env` template, a virtualenv called `.env`. */
const KEPT = [
  '/etc/ssl/certs/ca-certificates.crt',
  '/etc/ssl/certs/java/cacerts',
  '/srv/tls/server.crt',
  '/srv/tls/server-public.pem',
  '/etc/ssh/ssh_host_ed25519_key.pub',
  '/etc/ssh/sshd_config',
  '/app/.env.example',
  '/opt/venv/.env/pyvenv.cfg',
];

const marker = (path: string) => `DIT-SECRET-MARKER:${path}`;
/** The marker a path holds: a hard link holds its original's. */
const ALIASES: Record<string, string> = {
  '/srv/aws-alias-before': '/root/.aws/credentials',
  '/srv/pgpass-alias-after': '/root/.pgpass',
};
const markerOf = (path: string) => marker(ALIASES[path] ?? path);

/** openssl's output (its progress dots on stderr are dropped). */
function opensslBytes(args: string[]): Buffer {
  return execFileSync('openssl', args, { cwd: T, stdio: ['ignore', 'pipe', 'pipe'] });
}
const openssl = (args: string[]) => opensslBytes(args).toString('utf8');

function put(path: string, content: string | Buffer): void {
  const file = join(ROOT, path);
  mkdirSync(dirname(file), { recursive: true });
  writeFileSync(file, content);
}

/** A secret: its content, then its marker on a line of its own (the head still starts with the content). */
function secret(path: string, content: string | Buffer): void {
  put(path, Buffer.concat([Buffer.from(content), Buffer.from(`\n${marker(path)}\n`)]));
}

function sshKey(type: string): { key: string; pub: string } {
  const file = join(T, `ssh-${type}-${Math.random().toString(36).slice(2)}`);
  execFileSync('ssh-keygen', ['-q', '-t', type, '-N', '', '-C', 'dit-test', '-f', file]);
  return { key: readFileSync(file, 'utf8'), pub: readFileSync(`${file}.pub`, 'utf8') };
}

function buildRoot(): void {
  // Only what `sh -c 'cat ...'` runs on, copied (not linked) from the cached Debian root.
  const debian = ensureDebianRoot();
  mkdirSync(ROOT);
  for (const link of ['bin', 'lib', 'lib64', 'sbin']) symlinkSync(`usr/${link}`, join(ROOT, link));
  for (const path of [
    'usr/bin/dash',
    'usr/bin/sh',
    'usr/bin/cat',
    'usr/lib/x86_64-linux-gnu/libc.so.6',
    'usr/lib/x86_64-linux-gnu/ld-linux-x86-64.so.2',
    'usr/lib64/ld-linux-x86-64.so.2',
    'etc/ld.so.cache',
  ]) {
    execFileSync('cp', ['-a', '--parents', path, ROOT], { cwd: debian });
  }
  mkdirSync(join(ROOT, 'tmp'), { mode: 0o1777 });

  const rsa = openssl(['genpkey', '-algorithm', 'RSA', '-pkeyopt', 'rsa_keygen_bits:2048']);
  writeFileSync(join(T, 'rsa.pem'), rsa);
  const cert = openssl(['req', '-x509', '-key', 'rsa.pem', '-subj', '/CN=dit-test', '-days', '1']);
  writeFileSync(join(T, 'cert.pem'), cert);
  const ec = openssl(['genpkey', '-algorithm', 'EC', '-pkeyopt', 'ec_paramgen_curve:P-256']);
  writeFileSync(join(T, 'ec.pem'), ec);

  secret('/srv/tls/server.pem', rsa);
  secret('/srv/tls/bundle.pem', `${cert}${rsa}`);
  secret('/srv/tls/ec.pem', openssl(['pkey', '-in', 'ec.pem', '-traditional']));
  secret('/srv/tls/encrypted.pem', openssl(['pkey', '-in', 'ec.pem', '-aes256', '-passout', 'pass:x']));
  secret('/srv/key.txt', openssl(['pkey', '-in', 'rsa.pem', '-traditional']));
  secret('/srv/putty.txt', 'PuTTY-User-Key-File-3: ssh-ed25519\nEncryption: none\nComment: dit-test\n');
  secret('/srv/service-account.json', JSON.stringify({ type: 'service_account', private_key: rsa }, null, 2));
  secret('/srv/openssh-key', sshKey('ed25519').key);
  secret('/srv/deploy_key', sshKey('ed25519').key);
  secret('/srv/Deploy_Key.backup', sshKey('ecdsa').key);
  secret('/srv/tls/SERVER.KEY', ec);
  const p12 = opensslBytes([
    'pkcs12',
    '-export',
    '-inkey',
    'rsa.pem',
    '-in',
    'cert.pem',
    '-passout',
    'pass:x',
  ]);
  secret('/srv/tls/client.p12', p12);
  secret('/srv/tls/CLIENT.PFX', p12);
  secret('/app/.env', 'DATABASE_URL=postgres://app:hunter2@db/app');
  secret('/app/.ENV.production', 'STRIPE_KEY=sk_live_x');
  secret('/root/.pgpass', 'db:5432:app:app:hunter2');
  secret('/root/.vault-token', 'hvs.CAESIJ');
  secret('/root/.aws/config', '[default]\nregion = eu-west-1');
  secret('/root/.aws/credentials', '[default]\naws_secret_access_key = x');
  secret('/root/.azure/accessTokens.json', '[]');
  secret('/root/.config/gcloud/application_default_credentials.json', '{"refresh_token": "x"}');
  secret('/root/ID_RSA', sshKey('rsa').key);
  secret('/root/id_ed25519', sshKey('ed25519').key);
  secret('/home/app/.ssh/authorized_keys', sshKey('ed25519').pub);
  secret('/home/app/.SSH/id_ecdsa', sshKey('ecdsa').key);
  secret('/root/.gnupg/secring.gpg', 'gpg');
  secret('/root/.git-credentials', 'https://u:token@example.invalid');
  secret('/root/.netrc', 'machine example.invalid login u password p');
  secret('/root/.npmrc', '//registry.npmjs.org/:_authToken=x');
  secret('/root/.pypirc', '[pypi]\npassword = x');
  secret('/root/.dockercfg', '{}');
  secret('/root/.docker/config.json', '{"auths": {}}');
  secret('/root/.kube/config', 'apiVersion: v1\nkind: Config');
  secret('/root/.terraform.d/credentials.tfrc.json', '{"credentials": {}}');
  for (const path of ['/etc/shadow', '/etc/shadow.bak', '/etc/SHADOW-', '/etc/gshadow', '/etc/gshadow~']) {
    secret(path, 'root:$y$j9T$hash:19000:0:99999:7:::');
  }
  secret('/var/backups/shadow.bak', 'root:$y$j9T$hash:19000:0:99999:7:::');
  const hostKey = sshKey('ed25519');
  secret('/etc/ssh/ssh_host_ed25519_key', hostKey.key);
  secret('/etc/ssh/ssh_host_ecdsa_key', sshKey('ecdsa').key);
  secret('/etc/ssl/private/snakeoil.pem', rsa);
  for (const [alias, original] of Object.entries(ALIASES)) linkSync(join(ROOT, original), join(ROOT, alias));
  symlinkSync('/root/.vault-token', join(ROOT, 'srv/vault-link'));

  // What stays. The CA bundle is this machine's real one when it has it (only certificates).
  const bundle = '/etc/ssl/certs/ca-certificates.crt';
  put(bundle, existsSync(bundle) ? readFileSync(bundle) : `${cert}${cert}`);
  // A trust store: certificates only, no key (Debian's Java cacerts is a keystore of certificates).
  put(
    '/etc/ssl/certs/java/cacerts',
    opensslBytes(['pkcs12', '-export', '-nokeys', '-in', 'cert.pem', '-passout', 'pass:changeit']),
  );
  put('/srv/tls/server.crt', cert);
  put('/srv/tls/server-public.pem', openssl(['pkey', '-in', 'rsa.pem', '-pubout']));
  put('/etc/ssh/ssh_host_ed25519_key.pub', hostKey.pub);
  put('/etc/ssh/sshd_config', 'PermitRootLogin no\n');
  put('/app/.env.example', 'DATABASE_URL=\n');
  put('/opt/venv/.env/pyvenv.cfg', 'home = /usr/bin\n');
}

/** The traced check reads every file given, then succeeds whatever cat says. */
function catAll(paths: readonly string[]): string[] {
  return ['/bin/sh', '-c', 'cat "$@" > /tmp/seen; true', 'sh', ...paths];
}

// The hard-link alias read before its withheld name, the other after; the symlink to a secret too.
const READ_ORDER = [
  '/srv/aws-alias-before',
  ...Object.keys(SECRETS).filter(
    (p) => !p.startsWith('/srv/aws-alias') && !p.startsWith('/srv/pgpass-alias'),
  ),
  '/srv/pgpass-alias-after',
  '/srv/vault-link',
  ...KEPT,
];

interface Exported {
  output: string;
  report: ExportReport;
  reportText: string;
  tar: Buffer;
}

async function exportRead(name: string, include?: string[], dedupe = false): Promise<Exported> {
  const output = join(T, name);
  const tar = join(T, `${name}.tar`);
  const report = await exportImage({
    path: output,
    root: ROOT,
    command: catAll(READ_ORDER),
    env: ENV,
    cwd: '/',
    include,
    tar,
    dedupe,
    verify: false,
  });
  // The report as `dit export --report` writes it.
  return { output, report, reportText: JSON.stringify(report, null, 1), tar: readFileSync(tar) };
}

/** Every regular file under `dir`, as its bytes. */
function allFiles(dir: string): Buffer[] {
  const found: Buffer[] = [];
  for (const entry of readdirSync(dir, { withFileTypes: true, recursive: true })) {
    const path = join(entry.parentPath, entry.name);
    if (entry.isFile()) found.push(readFileSync(path));
  }
  return found;
}

function expectNoMarker(exported: Exported, except: readonly string[] = []): void {
  const files = allFiles(exported.output);
  for (const path of Object.keys(SECRETS)) {
    if (except.includes(path)) continue;
    const needle = markerOf(path);
    expect(
      files.some((bytes) => bytes.includes(needle)),
      `${path} in the folder`,
    ).toBe(false);
    expect(exported.tar.includes(needle), `${path} in the tar`).toBe(false);
    expect(exported.reportText.includes(needle), `${path} in the report`).toBe(false);
  }
}

beforeAll(buildRoot, 120_000);

describe('secrets in a traced export', () => {
  let plain: Exported;
  beforeAll(async () => {
    plain = await exportRead('plain');
  }, 120_000);

  it('the check did read every secret (so the trace saw each one)', () => {
    const seen = readFileSync(join(ROOT, 'tmp/seen'), 'utf8');
    for (const path of Object.keys(SECRETS)) expect(seen, path).toContain(markerOf(path));
  });

  it('copies no secret byte into the folder, the tar or the report', () => {
    expectNoMarker(plain);
    const exported = new Set(plain.report.entries.map((e) => e.path));
    for (const path of Object.keys(SECRETS)) expect(exported.has(path), path).toBe(false);
    expect(exported.has('/srv/vault-link'), 'a link to a secret').toBe(false);
    expect(existsSync(join(plain.output, 'srv/vault-link'))).toBe(false);
  });

  it('lists every secret as withheld, with its rule, in the report and in a warning', () => {
    const withheld = Object.fromEntries(plain.report.withheld.map((w) => [w.path, w.rule]));
    for (const [path, rule] of Object.entries(SECRETS)) {
      expect(withheld[path], path).toBe(rule);
      expect(
        plain.report.warnings.some((w) => w.startsWith(`withheld ${path}: ${rule} (`)),
        path,
      ).toBe(true);
    }
    expect(plain.report.warnings).toContain(
      'withheld /srv/key.txt: private-key-content (holds a -----BEGIN RSA PRIVATE KEY----- block; --include /srv/key.txt takes it)',
    );
    // In path order, as the entries are.
    const paths = plain.report.withheld.map((w) => w.path);
    expect(paths).toEqual([...paths].sort((a, b) => a.localeCompare(b)));
    // Nothing else: the symlink to /root/.vault-token is reported as its target.
    expect(plain.report.withheld.filter((w) => !(w.path in SECRETS))).toEqual([]);
  });

  it('keeps the CA bundle, certificates, public keys, trust stores and templates, byte for byte', () => {
    for (const path of KEPT) {
      const entry = plain.report.entries.find((e) => e.path === path);
      expect(entry?.type, path).toBe('file');
      expect(readFileSync(join(plain.output, path)).equals(readFileSync(join(ROOT, path))), path).toBe(true);
    }
    expect(statSync(join(plain.output, 'opt/venv/.env')).isDirectory()).toBe(true);
  });
});

describe('--include', () => {
  it('an exact path takes that one secret (and only it); the others stay withheld', async () => {
    const exported = await exportRead('exact', ['/root/.pgpass', '/srv/key.txt']);
    for (const path of ['/root/.pgpass', '/srv/key.txt']) {
      expect(readFileSync(join(exported.output, path)).equals(readFileSync(join(ROOT, path))), path).toBe(
        true,
      );
      expect(
        exported.report.withheld.some((w) => w.path === path),
        path,
      ).toBe(false);
    }
    expectNoMarker(exported, ['/root/.pgpass', '/srv/key.txt', '/srv/pgpass-alias-after']);
    // Its other name stays withheld: only the name given was meant.
    expect(exported.report.entries.some((e) => e.path === '/srv/pgpass-alias-after')).toBe(false);
    expect(exported.report.withheld.map((w) => w.path)).toContain('/root/.aws/config');
  });

  it('a folder or a glob does not take the secrets inside it (with --dedupe too)', async () => {
    const exported = await exportRead('folders', ['/etc/ssh', '/root/**', '/srv/**', '/etc/ssl'], true);
    expectNoMarker(exported);
    const paths = new Set(exported.report.entries.map((e) => e.path));
    expect(paths.has('/etc/ssh/ssh_host_ed25519_key.pub')).toBe(true);
    expect(paths.has('/etc/ssh/sshd_config')).toBe(true);
    expect(paths.has('/srv/tls/server.crt')).toBe(true);
    const withheld = Object.fromEntries(exported.report.withheld.map((w) => [w.path, w.rule]));
    expect(withheld['/etc/ssh/ssh_host_ed25519_key']).toBe('ssh-host-key');
    expect(withheld['/root/.aws']).toBe('aws-folder');
    expect(withheld['/etc/ssl/private']).toBe('ssl-private-folder');
  });
});

describe('dit export (the CLI)', () => {
  it('names each withheld secret in a warning, and writes no secret into --report or --tar', async () => {
    const output = join(T, 'cli');
    const report = join(T, 'cli-report.json');
    const tar = join(T, 'cli.tar');
    const argv = ['export', '-q', '--no-verify', '--root', ROOT, '--path', output, '--report', report];
    const result = await dit(...argv, '--tar', tar, '--', ...catAll(READ_ORDER));
    expect(result.stderr).not.toMatch(/^\s+at /m);
    expect(result.status).toBe(0);
    for (const [path, rule] of Object.entries(SECRETS)) {
      expect(result.stderr, path).toContain(`dit: warning: withheld ${path}: ${rule} (`);
    }
    const written = readFileSync(report, 'utf8');
    expect(JSON.parse(written).withheld).toHaveLength(Object.keys(SECRETS).length);
    expectNoMarker({ output, report: JSON.parse(written), reportText: written, tar: readFileSync(tar) });
  });
});
