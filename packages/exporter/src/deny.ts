/**
 * What is never exported unless named exactly: virtual filesystems, runtime state, and secrets. A
 * minimizer that sweeps `/root/.ssh/id_rsa` into an image (slim #73) has leaked it for good.
 */
const VIRTUAL_PREFIXES = ['/proc', '/sys', '/dev', '/run', '/var/run'];

/** Secrets by name; checked on every path, so plain string tests rather than a glob engine. */
const SECRET_DIRECTORIES = ['/.ssh/', '/.gnupg/'];
const SECRET_NAME_PREFIXES = ['id_rsa', 'id_dsa', 'id_ecdsa', 'id_ed25519'];
const SECRET_NAMES = new Set(['.netrc', '.npmrc', '.pypirc', '.git-credentials']);
const SECRET_SUFFIXES = ['/.docker/config.json', '/.aws/credentials', '/.kube/config', '.key'];
const SECRET_PATHS = new Set(['/etc/shadow', '/etc/gshadow', '/etc/shadow-', '/etc/gshadow-']);

function isSecret(path: string): boolean {
  if (SECRET_PATHS.has(path) || path.startsWith('/etc/ssl/private/')) return true;
  if (SECRET_DIRECTORIES.some((dir) => path.includes(dir))) return true;
  if (SECRET_SUFFIXES.some((suffix) => path.endsWith(suffix))) return true;
  const name = path.slice(path.lastIndexOf('/') + 1);
  return SECRET_NAMES.has(name) || SECRET_NAME_PREFIXES.some((prefix) => name.startsWith(prefix));
}

/** The reason `path` (absolute, inside the root) is denied, or null. */
export function denyReason(path: string): string | null {
  for (const prefix of VIRTUAL_PREFIXES) {
    if (path === prefix || path.startsWith(`${prefix}/`)) return `${prefix} is virtual or runtime state`;
  }
  if (isSecret(path)) return 'looks like a secret (keys, credentials, tokens)';
  return null;
}
