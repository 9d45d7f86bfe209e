import { execFileSync } from 'node:child_process';
import { readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { tempDir } from '../../../test-support/fixtures.js';
import { CONTENT_HEAD_BYTES, SECRET_NAME_RULES, secretContentRule, secretNameRule } from './secrets.js';

const temp = tempDir('dit-secrets-');
afterAll(() => temp.cleanup());

describe('secrets by name', () => {
  it.each([
    ['/root/.ssh/id_rsa', 'ssh-folder'],
    ['/root/.ssh/id_ed25519.pub', 'ssh-folder'],
    ['/home/app/.ssh/known_hosts', 'ssh-folder'],
    ['/root/.ssh', 'ssh-folder'],
    ['/root/.gnupg/private-keys-v1.d/x.key', 'gnupg-folder'],
    ['/app/id_rsa', 'ssh-key-name'],
    ['/app/ID_RSA', 'ssh-key-name'],
    ['/app/Id_Ed25519', 'ssh-key-name'],
    ['/app/id_ecdsa_sk', 'ssh-key-name'],
    ['/etc/ssh/ssh_host_ed25519_key', 'ssh-host-key'],
    ['/ETC/SSH/SSH_HOST_RSA_KEY', 'ssh-host-key'],
    ['/etc/ssh/custom_key', 'ssh-host-key'],
    ['/backup/ssh_host_ecdsa_key', 'ssh-host-key'],
    ['/srv/deploy_key', 'private-key-name'],
    ['/srv/DEPLOY_KEY', 'private-key-name'],
    ['/srv/tls/server.key', 'private-key-name'],
    ['/srv/tls/SERVER.KEY', 'private-key-name'],
    ['/home/u/putty.ppk', 'private-key-name'],
    ['/etc/ssl/private/ssl-cert-snakeoil.pem', 'ssl-private-folder'],
    ['/srv/tls/client.p12', 'keystore'],
    ['/srv/tls/client.PFX', 'keystore'],
    ['/opt/app/conf/keystore.jks', 'keystore'],
    ['/app/.env', 'dotenv'],
    ['/app/.ENV', 'dotenv'],
    ['/app/.env.production', 'dotenv'],
    ['/app/.env.local', 'dotenv'],
    ['/etc/shadow', 'shadow'],
    ['/etc/shadow-', 'shadow'],
    ['/etc/shadow.bak', 'shadow'],
    ['/etc/shadow~', 'shadow'],
    ['/etc/gshadow', 'shadow'],
    ['/etc/gshadow.20240101', 'shadow'],
    ['/etc/SHADOW', 'shadow'],
    ['/var/backups/shadow.bak', 'shadow'],
    ['/var/backups/gshadow.bak', 'shadow'],
    ['/root/.aws/config', 'aws-folder'],
    ['/root/.aws/credentials', 'aws-folder'],
    ['/root/.AWS/config', 'aws-folder'],
    ['/root/.azure/accessTokens.json', 'azure-folder'],
    ['/root/.config/gcloud/application_default_credentials.json', 'gcloud-folder'],
    ['/root/.pgpass', 'pgpass'],
    ['/root/.vault-token', 'vault-token'],
    ['/root/.git-credentials', 'git-credentials'],
    ['/root/.netrc', 'netrc'],
    ['/app/.npmrc', 'npmrc'],
    ['/root/.pypirc', 'pypirc'],
    ['/root/.dockercfg', 'docker-config'],
    ['/root/.docker/config.json', 'docker-config'],
    ['/root/.kube/config', 'kube-config'],
    ['/srv/cluster.kubeconfig', 'kube-config'],
    ['/root/.terraform.d/credentials.tfrc.json', 'terraform-credentials'],
    ['/root/.cargo/credentials.toml', 'cargo-credentials'],
  ])('withholds %s (%s)', (path, rule) => {
    expect(secretNameRule(path)).toBe(rule);
  });

  it.each([
    '/usr/lib/x86_64-linux-gnu/libc.so.6',
    '/etc/passwd',
    '/etc/group',
    '/etc/ssl/certs/ca-certificates.crt',
    // Trust stores: certificates, not keys.
    '/etc/ssl/certs/java/cacerts',
    '/etc/ssl/certs/java/cacerts.p12',
    '/usr/lib/jvm/java-17-openjdk-amd64/lib/security/cacerts',
    '/etc/ssh/ssh_host_ed25519_key.pub',
    '/etc/ssh/sshd_config',
    '/etc/ssh/ssh_config',
    '/root/id_ed25519.pub',
    '/app/.env.example',
    '/app/.env.sample',
    '/app/.env.template',
    '/usr/share/man/man5/shadow.5.gz',
    '/usr/share/locale/de/LC_MESSAGES/shadow.mo',
    '/usr/share/man/man3/id_t.3type.gz',
    '/usr/lib/python3/dist-packages/moto/utilities/id_generator.py',
    '/usr/lib/python3/dist-packages/cfnlint/data/schemas/patches/aws_kms_key',
    '/usr/lib/python3/dist-packages/keyring/backend.py',
    '/usr/share/keyrings/debian-archive-keyring.gpg',
    '/usr/share/doc/keyboard.txt',
    '/app/environment.py',
    '/app/.envrc.d/readme',
    '/root/.config/gcloudish/x',
  ])('lets %s through', (path) => {
    expect(secretNameRule(path)).toBeNull();
  });

  it('file rules do not apply to a folder of that name (a virtualenv called .env), folder rules do', () => {
    expect(secretNameRule('/app/.env', true)).toBeNull();
    expect(secretNameRule('/app/.env/bin/python3')).toBeNull();
    expect(secretNameRule('/app/.env/lib/.env')).toBe('dotenv');
    expect(secretNameRule('/root/.ssh', true)).toBe('ssh-folder');
    expect(secretNameRule('/root/.aws', true)).toBe('aws-folder');
  });

  it('every rule has a unique name and matches something', () => {
    const names = SECRET_NAME_RULES.map((r) => r.rule);
    expect(new Set(names).size).toBe(names.length);
    for (const { rule, paths } of SECRET_NAME_RULES) {
      const example = paths[0]!.replaceAll('**/', '/x/').replaceAll('/**', '/y').replaceAll('*', 'z');
      expect(secretNameRule(example.replace('//', '/')), `${rule}: ${example}`).toBe(rule);
    }
  });
});

describe('secrets by content', () => {
  const write = (name: string, content: string | Buffer) => {
    const path = join(temp.path, name);
    writeFileSync(path, content);
    return path;
  };
  const openssl = (args: string[]) => execFileSync('openssl', args, { encoding: 'utf8' });

  // Real keys, made by the real tools, in every armour they write.
  it.each([
    ['RSA', ['-algorithm', 'RSA', '-pkeyopt', 'rsa_keygen_bits:1024'], 'RSA PRIVATE KEY'],
    ['EC', ['-algorithm', 'EC', '-pkeyopt', 'ec_paramgen_curve:P-256'], 'EC PRIVATE KEY'],
    ['DSA', ['-paramfile', 'dsa.param'], 'DSA PRIVATE KEY'],
    ['Ed25519', ['-algorithm', 'ED25519'], null],
  ])('withholds a %s private key made by openssl, as PKCS#8 and in its own armour', (_name, args, own) => {
    if (args[0] === '-paramfile') {
      execFileSync(
        'openssl',
        [
          'genpkey',
          '-genparam',
          '-algorithm',
          'DSA',
          '-pkeyopt',
          'dsa_paramgen_bits:1024',
          '-out',
          'dsa.param',
        ],
        {
          cwd: temp.path,
        },
      );
    }
    const key = execFileSync('openssl', ['genpkey', ...args], { cwd: temp.path, encoding: 'utf8' });
    expect(key).toContain('-----BEGIN PRIVATE KEY-----');
    expect(secretContentRule(write('pkcs8.txt', key))).toEqual({
      rule: 'private-key-content',
      detail: 'holds a -----BEGIN PRIVATE KEY----- block',
    });
    if (own === null) return; // Ed25519 has no armour of its own
    const traditional = openssl(['pkey', '-traditional', '-in', write('in.pem', key)]);
    expect(secretContentRule(write('traditional.txt', traditional))?.detail).toBe(
      `holds a -----BEGIN ${own}----- block`,
    );
  });

  it('withholds encrypted PKCS#8 and legacy encrypted PEM keys', () => {
    const key = write(
      'plain.pem',
      openssl(['genpkey', '-algorithm', 'EC', '-pkeyopt', 'ec_paramgen_curve:P-256']),
    );
    const encrypted = openssl(['pkey', '-in', key, '-aes256', '-passout', 'pass:x']);
    expect(encrypted).toContain('-----BEGIN ENCRYPTED PRIVATE KEY-----');
    expect(secretContentRule(write('enc.txt', encrypted))?.detail).toContain('ENCRYPTED PRIVATE KEY');
    const legacy = openssl(['ec', '-in', key, '-aes256', '-passout', 'pass:x']);
    expect(legacy).toContain('Proc-Type: 4,ENCRYPTED');
    expect(secretContentRule(write('legacy.txt', legacy))?.detail).toContain('EC PRIVATE KEY');
  });

  it('withholds an OpenSSH private key made by ssh-keygen, not its public key', () => {
    const key = join(temp.path, 'sshkey');
    execFileSync('ssh-keygen', ['-q', '-t', 'ed25519', '-N', '', '-C', 'dit', '-f', key]);
    expect(secretContentRule(key)).toEqual({
      rule: 'private-key-content',
      detail: 'holds a -----BEGIN OPENSSH PRIVATE KEY----- block',
    });
    expect(secretContentRule(`${key}.pub`)).toBeNull();
  });

  it('withholds a PuTTY key, a key after a certificate, and keys inside JSON and YAML', () => {
    const putty = 'PuTTY-User-Key-File-3: ssh-ed25519\nEncryption: none\nComment: dit\nPublic-Lines: 2\n';
    expect(secretContentRule(write('key.ppk.txt', putty))?.detail).toBe('holds a PuTTY private key');
    const key = openssl(['genpkey', '-algorithm', 'ED25519']);
    const cert = openssl(['req', '-x509', '-key', write('k.pem', key), '-subj', '/CN=dit', '-days', '1']);
    expect(secretContentRule(write('combined.pem', `${cert}${cert}${key}`))?.rule).toBe(
      'private-key-content',
    );
    const json = JSON.stringify({ type: 'service_account', private_key: key }, null, 2);
    expect(json).toContain('-----BEGIN PRIVATE KEY-----\\n');
    expect(secretContentRule(write('sa.json', json))?.rule).toBe('private-key-content');
    const yaml = `tls:\n  key: |\n${key.replace(/^/gm, '    ')}`;
    expect(secretContentRule(write('values.yaml', yaml))?.rule).toBe('private-key-content');
  });

  it('lets certificates, public keys, CA bundles and code that names the marker through', () => {
    const key = write('k2.pem', openssl(['genpkey', '-algorithm', 'ED25519']));
    const cert = openssl(['req', '-x509', '-key', key, '-subj', '/CN=dit', '-days', '1']);
    expect(secretContentRule(write('cert.pem', cert))).toBeNull();
    expect(secretContentRule(write('pub.pem', openssl(['pkey', '-in', key, '-pubout'])))).toBeNull();
    expect(secretContentRule('/etc/ssl/certs/ca-certificates.crt')).toBeNull();
    // python3-cryptography's serialization/ssh.py names the marker; it holds no key.
    const code =
      '_SK_START = b"-----BEGIN OPENSSH PRIVATE KEY-----"\n_SK_END = b"-----END OPENSSH PRIVATE KEY-----"\n';
    expect(secretContentRule(write('ssh.py', code))).toBeNull();
    expect(secretContentRule(write('doc.txt', 'a PuTTY-User-Key-File-3: file is a key\n'))).toBeNull();
    expect(secretContentRule(join(temp.path, 'missing'))).toBeNull();
  });

  it('reads only the head: a key past it is not seen', () => {
    const key = openssl(['genpkey', '-algorithm', 'RSA', '-pkeyopt', 'rsa_keygen_bits:1024']);
    const padding = '#'.repeat(CONTENT_HEAD_BYTES);
    expect(secretContentRule(write('late.txt', `${padding}\n${key}`))).toBeNull();
    // The armour and the key's first bytes are inside the head, the rest of the key past it.
    const early = `${padding.slice(0, CONTENT_HEAD_BYTES - 100)}\n${key}`;
    expect(secretContentRule(write('early.txt', early))?.rule).toBe('private-key-content');
    expect(readFileSync(join(temp.path, 'early.txt')).length).toBeGreaterThan(CONTENT_HEAD_BYTES);
  });
});
