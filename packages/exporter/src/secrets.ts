import { closeSync, constants, openSync, readSync } from 'node:fs';

/**
 * Secrets are withheld from every export unless the user names them exactly: a key swept into an
 * image has leaked for good, and a minimizer that traces `cat ~/.aws/config` must not take it along.
 * Two independent tests: the name (cheap, no I/O) and the first bytes of the file (one read).
 */

/** A name rule: the `rule` is what the report and the warning name. */
export interface SecretNameRule {
  readonly rule: string;
  /** Absolute paths inside the root, matched case-insensitively: `*` within one name, `**` across folders. */
  readonly paths: readonly string[];
  /** Paths the patterns would match that are not secrets. */
  readonly except?: readonly string[];
}

/**
 * The name rules, most specific first (the first match is the one reported). A pattern ending in
 * `/**` withholds a whole folder; the others name files only, so a folder that happens to be called
 * `.env` (a Python virtualenv) is still exported, while every file in it is checked on its own.
 */
export const SECRET_NAME_RULES: readonly SecretNameRule[] = [
  { rule: 'ssh-folder', paths: ['**/.ssh/**'] },
  { rule: 'gnupg-folder', paths: ['**/.gnupg/**'] },
  // Only ssh's own key names: `id_*` in general names man pages (id_t.3type) and modules (id_generator.py).
  {
    rule: 'ssh-key-name',
    paths: ['**/id_rsa*', '**/id_dsa*', '**/id_ecdsa*', '**/id_ed25519*', '**/id_xmss*'],
    except: ['**/*.pub'],
  },
  { rule: 'ssh-host-key', paths: ['/etc/ssh/*_key', '**/ssh_host_*_key'] },
  { rule: 'private-key-name', paths: ['**/*.key', '**/*.ppk', '**/deploy_key', '**/private_key'] },
  { rule: 'ssl-private-folder', paths: ['/etc/ssl/private/**'] },
  // PKCS#12 and Java keystores hold private keys, except the system's trust stores (certificates).
  {
    rule: 'keystore',
    paths: ['**/*.p12', '**/*.pfx', '**/*.jks', '**/*.keystore'],
    except: ['/etc/ssl/certs/**', '/etc/pki/ca-trust/**', '/usr/share/ca-certificates/**'],
  },
  // Templates are committed to source control by convention, and dotenv-safe reads `.env.example`
  // at run time; a key pasted into one is still caught by its content.
  {
    rule: 'dotenv',
    paths: ['**/.env', '**/.env.*'],
    except: ['**/.env.example', '**/.env.sample', '**/.env.template', '**/.env.dist'],
  },
  // Debian's cron.daily keeps /var/backups/shadow.bak; editors and tools leave `shadow-`, `shadow~`.
  {
    rule: 'shadow',
    paths: [
      '/etc/shadow*',
      '/etc/gshadow*',
      '/etc/security/opasswd',
      ...['shadow', 'gshadow'].flatMap((name) =>
        ['', '-', '~', '.bak', '.old', '.orig', '.save'].map((suffix) => `**/${name}${suffix}`),
      ),
    ],
  },
  { rule: 'aws-folder', paths: ['**/.aws/**'] },
  { rule: 'azure-folder', paths: ['**/.azure/**'] },
  { rule: 'gcloud-folder', paths: ['**/.config/gcloud/**'] },
  { rule: 'pgpass', paths: ['**/.pgpass'] },
  { rule: 'vault-token', paths: ['**/.vault-token'] },
  { rule: 'git-credentials', paths: ['**/.git-credentials', '**/.config/git/credentials'] },
  { rule: 'netrc', paths: ['**/.netrc', '**/_netrc'] },
  { rule: 'npmrc', paths: ['**/.npmrc'] },
  { rule: 'pypirc', paths: ['**/.pypirc'] },
  { rule: 'docker-config', paths: ['**/.dockercfg', '**/.docker/config.json'] },
  { rule: 'kube-config', paths: ['**/.kube/config', '**/kubeconfig', '**/*.kubeconfig'] },
  { rule: 'terraform-credentials', paths: ['**/credentials.tfrc.json', '**/.terraformrc'] },
  { rule: 'cargo-credentials', paths: ['**/.cargo/credentials', '**/.cargo/credentials.toml'] },
  { rule: 'gh-hosts', paths: ['**/.config/gh/hosts.yml'] },
];

interface CompiledRule {
  readonly rule: string;
  readonly folder: RegExp | null;
  readonly file: RegExp | null;
  readonly except: RegExp | null;
}

/**
 * A pattern as a regular expression source, searched rather than anchored at the start: a leading
 * `**` + `/` is any folders, a trailing `/` + `**` the folder itself and all inside it, `*` any
 * characters but `/`. Searching for `/.ssh` this way avoids backtracking over the whole path for each
 * pattern, which made the check several times slower.
 */
function patternSource(pattern: string): string {
  const floating = pattern.startsWith('**/');
  const folder = pattern.endsWith('/**');
  const body = pattern.slice(floating ? 2 : 0, folder ? -3 : undefined);
  if (!body.startsWith('/') || body.includes('**'))
    throw new Error(`secret pattern ${pattern}: not supported`);
  const source = body
    .split('*')
    .map((part) => part.replace(/[.+?^${}()|[\]\\-]/g, '\\$&'))
    .join('[^/]*');
  return `${floating ? '' : '^'}${source}${folder ? '(?:/|$)' : '$'}`;
}

function anyOf(patterns: readonly string[]): RegExp | null {
  if (patterns.length === 0) return null;
  return new RegExp(patterns.map(patternSource).join('|'), 'i');
}

const COMPILED: readonly CompiledRule[] = SECRET_NAME_RULES.map(({ rule, paths, except = [] }) => ({
  rule,
  folder: anyOf(paths.filter((p) => p.endsWith('/**'))),
  file: anyOf(paths.filter((p) => !p.endsWith('/**'))),
  except: anyOf(except),
}));

/** Every pattern at once: most paths match none, and one test says so. */
const ANY_SECRET_NAME = anyOf(SECRET_NAME_RULES.flatMap((r) => r.paths))!;

/**
 * The name rule `path` (absolute, inside the root) falls under, or null. `isDirectory`: file rules do
 * not apply to a folder of that name (its files are checked one by one).
 */
export function secretNameRule(path: string, isDirectory = false): string | null {
  if (!ANY_SECRET_NAME.test(path)) return null;
  for (const { rule, folder, file, except } of COMPILED) {
    const matched = folder?.test(path) || (!isDirectory && file?.test(path));
    if (matched && !except?.test(path)) return rule;
  }
  return null;
}

/** How much of each file the content test reads: a key after a certificate chain still fits. */
export const CONTENT_HEAD_BYTES = 16 * 1024;

/**
 * A private-key block: the PEM armour (`-----BEGIN RSA PRIVATE KEY-----`, `EC`, `DSA`, `ENCRYPTED`,
 * plain PKCS#8, `OPENSSH`, PGP's `PRIVATE KEY BLOCK`, SSH2's `---- BEGIN SSH2 ENCRYPTED PRIVATE KEY ----`)
 * followed by the end of its line and the key's first base64 or header character. The line end may
 * be escaped (`\n` inside a JSON string: a gcloud service-account key), and the body indented (YAML).
 * Requiring the body keeps code that only names the marker (`_SK_START = b"-----BEGIN OPENSSH PRIVATE
 * KEY-----"` in python3-cryptography) exportable.
 */
const PRIVATE_KEY_BLOCK =
  /(-----BEGIN (?:[A-Z0-9]+ )*PRIVATE KEY(?: BLOCK)?-----|---- BEGIN SSH2 ENCRYPTED PRIVATE KEY ----)(?:\r?\n|(?:\\r)?\\n)(?:\s|\\n)*[A-Za-z0-9+/]/;
/** PuTTY's `.ppk` format: its first line names it. */
const PUTTY_KEY = /(?:^|\n)PuTTY-User-Key-File-\d+: /;

const head = Buffer.alloc(CONTENT_HEAD_BYTES);

/**
 * The content rule the file at `hostPath` falls under (`private-key-content` with the block's
 * label), or null. One open and one read of the head; an unreadable file is not judged here (the
 * copy reports it). Most files hold neither marker, and a native byte search says so without
 * decoding anything.
 */
export function secretContentRule(hostPath: string): { rule: string; detail: string } | null {
  let length: number;
  try {
    // Never blocks on a fifo swapped in since the lookup, never follows a link swapped in either.
    const fd = openSync(hostPath, constants.O_RDONLY | constants.O_NONBLOCK | constants.O_NOFOLLOW);
    try {
      length = readSync(fd, head, 0, head.length, 0);
    } finally {
      closeSync(fd);
    }
  } catch {
    return null;
  }
  const bytes = head.subarray(0, length);
  if (bytes.indexOf('PRIVATE KEY') >= 0) {
    const block = PRIVATE_KEY_BLOCK.exec(bytes.toString('latin1'));
    if (block !== null) return { rule: 'private-key-content', detail: `holds a ${block[1]} block` };
  }
  if (bytes.indexOf('PuTTY-User-Key-File-') >= 0 && PUTTY_KEY.test(bytes.toString('latin1'))) {
    return { rule: 'private-key-content', detail: 'holds a PuTTY private key' };
  }
  return null;
}
