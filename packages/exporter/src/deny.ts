import picomatch from 'picomatch';

/**
 * What is never exported unless named exactly: virtual filesystems, runtime state, and secrets. A
 * minimizer that sweeps `/root/.ssh/id_rsa` into an image (slim #73) has leaked it for good.
 */
const VIRTUAL_PREFIXES = ['/proc', '/sys', '/dev', '/run', '/var/run'];

const SECRET_GLOBS = [
  '**/.ssh/**',
  '**/id_rsa*',
  '**/id_dsa*',
  '**/id_ecdsa*',
  '**/id_ed25519*',
  '**/.netrc',
  '**/.npmrc',
  '**/.pypirc',
  '**/.git-credentials',
  '**/.docker/config.json',
  '**/.aws/credentials',
  '**/.kube/config',
  '**/.gnupg/**',
  '/etc/ssl/private/**',
  '/etc/shadow',
  '/etc/gshadow',
  '/etc/shadow-',
  '/etc/gshadow-',
  '**/*.key',
];

const isSecret = picomatch(SECRET_GLOBS, { dot: true });

/** The reason `path` (absolute, inside the root) is denied, or null. */
export function denyReason(path: string): string | null {
  for (const prefix of VIRTUAL_PREFIXES) {
    if (path === prefix || path.startsWith(`${prefix}/`)) return `${prefix} is virtual or runtime state`;
  }
  if (isSecret(path)) return 'looks like a secret (keys, credentials, tokens)';
  return null;
}
