import { describe, expect, it } from 'vitest';
import { denyReason } from './deny.js';

describe('the deny list', () => {
  it.each([
    '/proc/self/maps',
    '/sys/devices/system/cpu/online',
    '/dev/null',
    '/run/nscd/socket',
    '/var/run/docker.sock',
    '/root/.ssh/id_rsa',
    '/home/app/.ssh/known_hosts',
    '/root/.netrc',
    '/app/.npmrc',
    '/root/.aws/credentials',
    '/root/.docker/config.json',
    '/etc/ssl/private/ssl-cert-snakeoil.key',
    '/etc/shadow',
    '/srv/tls/server.key',
    '/root/.gnupg/private-keys-v1.d/x',
  ])('denies %s', (path) => {
    expect(denyReason(path)).not.toBeNull();
  });

  it('says which denials are virtual (silent) and which are secrets (withheld and reported)', () => {
    expect(denyReason('/proc/self/maps')).toEqual({ kind: 'virtual', rule: '/proc' });
    expect(denyReason('/root/.pgpass')).toEqual({ kind: 'secret', rule: 'pgpass' });
    expect(denyReason('/app/.env', true)).toBeNull();
  });

  it.each([
    '/usr/lib/x86_64-linux-gnu/libc.so.6',
    '/etc/passwd',
    '/etc/ssl/certs/ca-certificates.crt',
    '/root/id_ed25519.pub',
    '/usr/share/zoneinfo/Europe/Berlin',
    '/procfs-tools/readme',
    '/devtools/bin/x',
    '/usr/lib/python3/dist-packages/keyring/backend.py',
    '/usr/share/doc/keyboard.txt',
  ])('lets %s through', (path) => {
    expect(denyReason(path)).toBeNull();
  });
});
