/**
 * `dit export` under hostile and careless input, each case in a throwaway root (an overlay copy of a
 * Debian root with dit.tar in it, entered with unshare + chroot): a regression here destroys the
 * copy, never this machine. Every case checks the exact status, the one `dit:` line, that no stack
 * trace is printed, and that what was at the path it guards is byte for byte as it was.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { makeDitLayer, type ThrowawayRoot, throwawayRoot } from '../../../test-support/throwaway-root.js';

let layer: { path: string; cleanup: () => void };
beforeAll(() => {
  layer = makeDitLayer();
});
afterAll(() => layer?.cleanup());

/** One line per entry under a folder (type, mode, owner, size, mtime, link target), then every file's sha256. */
const MANIFEST = `
manifest() {
  find "$1" -xdev -mindepth 1 \\( -path /proc -o -path /dev -o -path /sys -o -path /tmp -o -path /var/tmp \\) -prune \\
    -o -printf '%p %y %m %U %G %s %T@ %l\\n' | LC_ALL=C sort
  find "$1" -xdev -mindepth 1 \\( -path /proc -o -path /dev -o -path /sys -o -path /tmp -o -path /var/tmp \\) -prune \\
    -o -type f -exec sha256sum {} + | LC_ALL=C sort
}
`;

interface Case {
  /** Shell lines run first, in the same namespace (mounts made here last for the whole case). */
  readonly setup?: string;
  /** The dit command line (the case may add shell around it). */
  readonly run: string;
  /** The folder whose content must be exactly as it was afterwards. */
  readonly guard?: string;
  /** Shell lines run after, whose output is returned (to inspect what the case left). */
  readonly after?: string;
}

interface Outcome {
  readonly status: number;
  readonly stderr: string;
  readonly guarded: boolean | null;
  readonly after: string;
  readonly ditLines: string[];
}

function runCase(root: ThrowawayRoot, testCase: Case): Outcome {
  const guard = testCase.guard;
  const script = `${MANIFEST}
set +e
${testCase.setup ?? ''}
${guard ? `manifest ${guard} > /dev/before` : ''}
${testCase.run} 2> /dev/stderr-of-dit
echo "@@status=$?"
${guard ? `manifest ${guard} > /dev/after; if cmp -s /dev/before /dev/after; then echo @@guarded=yes; else echo @@guarded=no; diff /dev/before /dev/after | head -20; fi` : ''}
echo @@after
${testCase.after ?? ''}
echo @@stderr
cat /dev/stderr-of-dit
`;
  const result = root.run(script);
  const out = result.stdout;
  const status = Number(/@@status=(\d+)/.exec(out)?.[1] ?? Number.NaN);
  const guardedText = /@@guarded=(yes|no)/.exec(out)?.[1];
  const afterText = out.slice(out.indexOf('@@after\n') + 8, out.indexOf('@@stderr\n'));
  const stderr = out.slice(out.indexOf('@@stderr\n') + 9);
  if (Number.isNaN(status)) throw new Error(`the case did not run: ${result.stderr}\n${out}`);
  if (guardedText === 'no') console.error(out);
  return {
    status,
    stderr,
    guarded: guardedText === undefined ? null : guardedText === 'yes',
    after: afterText,
    ditLines: stderr.split('\n').filter((line) => line.startsWith('dit:')),
  };
}

/** Runs the case in a root of its own. */
function inThrowaway(testCase: Case): Outcome {
  const root = throwawayRoot(layer.path);
  try {
    return runCase(root, testCase);
  } finally {
    root.cleanup();
  }
}

function expectRefused(outcome: Outcome, status: number, message: RegExp) {
  expect(outcome.stderr).not.toMatch(/^\s+at /m); // no stack frame, ever
  expect(outcome.ditLines, outcome.stderr).toHaveLength(1);
  expect(outcome.ditLines[0]).toMatch(message);
  expect(outcome.status, outcome.stderr).toBe(status);
  if (outcome.guarded !== null) expect(outcome.guarded).toBe(true);
}

const APP = `mkdir -p /data/app && printf 'keep me\\n' > /data/app/file && ln -s file /data/app/link && mkdir /data/app/sub && printf x > /data/app/sub/y`;

describe('the output is sacred', () => {
  it.each([
    ['/', '/'],
    ['//', '/'],
    ['/.', '/'],
    ['/usr/..', '/'],
  ])('refuses --path %s (the root folder), with --force, and leaves / as it was', (path) => {
    const outcome = inThrowaway({
      run: `dit export --path ${path} --force --no-verify -- /bin/true`,
      guard: '/',
    });
    expectRefused(outcome, 2, /^dit: export: --path .*: is the machine's root folder/);
  });

  it('refuses a link to / as --path', () => {
    const outcome = inThrowaway({
      setup: 'ln -s / /rootlink',
      run: 'dit export --path /rootlink --force --no-verify -- /bin/true',
      guard: '/',
    });
    expectRefused(outcome, 2, /^dit: export: --path \/rootlink: is the machine's root folder \(through/);
  });

  it('refuses an empty --path (an unset variable) and leaves the current folder as it was', () => {
    const outcome = inThrowaway({
      setup: `${APP}; cd /data/app`,
      run: 'dit export --path "$UNSET" --force --no-verify -- /bin/true',
      guard: '/data/app',
    });
    expectRefused(outcome, 2, /^dit: export: --path is empty \(an unset variable\?\)/);
  });

  it('refuses a system folder with something in it, even with --force', () => {
    const outcome = inThrowaway({
      run: 'dit export --path /etc --force --no-verify -- /bin/true',
      guard: '/etc',
    });
    expectRefused(outcome, 2, /^dit: export: --path \/etc: is the system folder \/etc and is not empty/);
  });

  it('refuses a --path that is or contains the --root', () => {
    const setup = 'mkdir -p /srv/fr/usr/bin && cp /bin/ls /srv/fr/usr/bin/';
    const is = inThrowaway({
      setup,
      run: 'dit export --root /srv/fr --path /srv/fr --force --binary /bin/ls',
      guard: '/srv',
    });
    expectRefused(is, 2, /^dit: export: --path \/srv\/fr: is the --root/);
    const contains = inThrowaway({
      setup,
      run: 'dit export --root /srv/fr --path /srv --force --binary /bin/ls',
      guard: '/srv',
    });
    expectRefused(contains, 2, /^dit: export: --path \/srv: contains the --root/);
  });

  it.each([
    ['the command', 'dit export --path /data --force -- /data/app/run'],
    ['a --binary', 'dit export --path /data --force --binary /data/app/run'],
    ['an --include', "dit export --path /data --force --binary /bin/true --include '/data/app/**'"],
  ])('refuses a --path that holds %s the export is made from', (_what, run) => {
    const outcome = inThrowaway({
      setup: `${APP}; cp /bin/true /data/app/run`,
      run,
      guard: '/data',
    });
    expectRefused(outcome, 2, /^dit: export: --path \/data: contains .* which the export is made from/);
  });

  it('leaves a forced --path untouched when the check fails', () => {
    const outcome = inThrowaway({
      setup: APP,
      run: 'dit export --path /data/app --force -q -- /bin/false',
      guard: '/data/app',
      after: 'ls -a / /data',
    });
    expectRefused(outcome, 2, /^dit: export: \/bin\/false exited with status 1/);
    expect(outcome.after).not.toMatch(/\.dit-/); // no staging folder left
  });

  it('exports into a mount point (a volume), with and without --force, staging on its filesystem', () => {
    const outcome = inThrowaway({
      setup: 'mkdir /vol && mount -t tmpfs tmpfs /vol',
      run: 'dit export --path /vol -q -- /bin/true && printf old > /vol/old && dit export --path /vol --force -q -- /bin/true',
      after: 'ls -A /vol; test -x /vol/usr/bin/true && echo has-true',
    });
    expect(outcome.stderr).not.toMatch(/^\s+at /m);
    expect(outcome.status, outcome.stderr).toBe(0);
    expect(outcome.after).toContain('has-true');
    expect(outcome.after).not.toMatch(/^old$/m); // replaced, once the new export was complete
    expect(outcome.after).not.toMatch(/\.dit-/);
  });

  it('leaves a forced mount point untouched when the check fails', () => {
    const outcome = inThrowaway({
      setup: `mkdir /vol && mount -t tmpfs tmpfs /vol && printf 'old\\n' > /vol/old && mkdir /vol/keep`,
      run: 'dit export --path /vol --force -q -- /bin/false',
      guard: '/vol',
    });
    expectRefused(outcome, 2, /^dit: export: \/bin\/false exited with status 1/);
  });

  it('checks --tar and --report before the trace: inside --path, or in a missing folder', () => {
    const inside = inThrowaway({
      run: `dit export --path /out --tar /out/x.tar -- sh -c 'touch /ran'`,
      after: 'test -e /ran && echo ran; test -e /out && echo out-exists',
    });
    expectRefused(inside, 2, /^dit: export: --tar \/out\/x\.tar: lies inside --path \/out/);
    expect(inside.after).toBe('');
    const report = inThrowaway({ run: 'dit export --path /out --report /out/r.json -- /bin/true' });
    expectRefused(report, 2, /^dit: export: --report \/out\/r\.json: lies inside --path \/out/);
    const missing = inThrowaway({
      run: `dit export --path /out --tar /nonexistent/x.tar -- sh -c 'touch /ran'`,
      after: 'test -e /ran && echo ran; test -e /out && echo out-exists',
    });
    expectRefused(
      missing,
      3,
      /^dit: export: --tar \/nonexistent\/x\.tar: the folder \/nonexistent does not exist/,
    );
    expect(missing.after).toBe('');
  });

  it.each([
    ['a parent under /proc', '', '/proc/foo', /\/proc is a virtual filesystem/],
    [
      'a read-only filesystem',
      'mkdir /ro && mount -t tmpfs -o ro tmpfs /ro',
      '/ro/x',
      /read-only filesystem \(EROFS\)/,
    ],
    ['a parent that is a file', '', '/etc/passwd/x', /not a folder|ENOTDIR/],
  ])('fails with status 3 and one line for %s, leaving nothing', (_what, setup, path, message) => {
    const outcome = inThrowaway({
      setup,
      run: `dit export --path ${path} -q -- /bin/true`,
      guard: '/etc',
      after: 'ls -A / | grep dit-',
    });
    expectRefused(outcome, 3, message);
    expect(outcome.after).toBe('');
  });

  it('fails with status 3 on a full disk, before or during the copy, and leaves the old content', () => {
    const early = inThrowaway({
      setup: `mkdir /small && mount -t tmpfs -o size=2m tmpfs /small && mkdir /small/out && printf 'old\\n' > /small/out/old`,
      run: 'dit export --path /small/out --force -q --binary /usr/bin/perl --include /usr/lib/x86_64-linux-gnu/perl-base',
      guard: '/small',
    });
    expectRefused(early, 3, /^dit: export: --path \/small\/out: not enough space/);
    // Enough bytes, too few inodes: the copy itself runs out (ENOSPC from the kernel).
    const during = inThrowaway({
      setup: `mkdir /small && mount -t tmpfs -o size=64m,nr_inodes=40 tmpfs /small && mkdir /small/out && printf 'old\\n' > /small/out/old`,
      run: "dit export --path /small/out --force -q --binary /usr/bin/perl --include '/usr/lib/x86_64-linux-gnu/perl-base/**'",
      guard: '/small',
    });
    expectRefused(
      during,
      3,
      /^dit: export: --path \/small\/out: cannot write .*no space left on the device \(ENOSPC\)/,
    );
  });

  it('a killed run leaves nothing the next run to the same --path does not clean up', () => {
    const outcome = inThrowaway({
      setup: `${APP}`,
      run: `dit export --path /data/app --force -q -- sleep 30 & pid=$!
for i in $(seq 100); do ls -a /data | grep -q '^\\.app\\.dit-staging' && break; sleep 0.1; done
ls -a /data | grep -c '^\\.app\\.dit-staging' > /dev/staged
kill -9 $pid; wait $pid 2>/dev/null
cat /dev/staged | sed 's/^/staged=/'
dit export --path /data/app --force -q -- /bin/true`,
      after: 'ls -a /data; test -x /data/app/usr/bin/true && echo has-true',
    });
    expect(outcome.stderr).not.toMatch(/^\s+at /m);
    expect(outcome.status, outcome.stderr).toBe(0);
    expect(outcome.after).toContain('has-true');
    expect(outcome.after).not.toMatch(/\.dit-/);
  });

  it('a run killed between its two renames: the next run puts the old content back before anything else', () => {
    // What a kill at that instant leaves: the old content moved aside (a dead pid), nothing in its place.
    const outcome = inThrowaway({
      setup: `${APP}; mv /data/app /data/.app.dit-old-999999-0a0b0c0d; mkdir -p /data/.app.dit-staging-999999-0a0b0c0d/usr`,
      run: 'dit export --path /data/app -q -- /bin/true',
      after: `ls -A /data; cat /data/app/file`,
    });
    // The old content is back, so the folder is not empty, and without --force it is refused.
    expectRefused(outcome, 2, /^dit: export: --path \/data\/app: is not empty/);
    expect(outcome.after).toBe('app\nkeep me\n');
  });

  it('the image work folders and partial files of killed runs are removed by the next run; a live run keeps its own', () => {
    // What kills leave: a dead pid's (999999) layer work folder, minify root, partial archive and
    // report; pid 1 (alive in the throwaway's pid namespace) stands for a run still going.
    const outcome = inThrowaway({
      setup: `mkdir -p /data/.dit-image-999999-0a0b0c0d /data/.dit-minify-999999-0a0b0c0d/root/usr /data/.dit-image-1-0a0b0c0d
head -c 100000 /dev/urandom > /data/.dit-image-999999-0a0b0c0d/layer.gzip
printf partial > /data/img.tar.dit-partial-999999; printf partial > /data/r.json.dit-partial-999999
printf mine > /data/notes.txt`,
      run: 'dit export --image oci-archive:/data/img.tar --report /data/r.json -q -- /bin/true',
      after: 'ls -A /data',
    });
    expect(outcome.stderr).not.toMatch(/^\s+at /m);
    expect(outcome.status, outcome.stderr).toBe(0);
    expect(outcome.after.split('\n').filter(Boolean).sort()).toEqual([
      '.dit-image-1-0a0b0c0d',
      'img.tar',
      'notes.txt',
      'r.json',
    ]);
  });
});

describe('never leak a key', () => {
  it('withholds secrets by name and by content from the folder, the tar and the report, and names each', () => {
    const marker = 'DIT-SECRET-MARKER';
    const files = [
      '/root/.ssh/id_rsa',
      '/root/ID_RSA',
      '/root/.aws/config',
      '/root/.pgpass',
      '/root/.vault-token',
      '/app/.env',
      '/app/deploy_key',
      '/etc/shadow.bak',
      '/etc/ssh/ssh_host_ed25519_key',
      '/root/.config/gcloud/application_default_credentials.json',
    ];
    const pem = `-----BEGIN RSA PRIVATE KEY-----\\nMIIEowIBAAKCAQEA${marker}AAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAA\\n-----END RSA PRIVATE KEY-----\\n`;
    const setup = [
      ...files.map((file) => `mkdir -p $(dirname ${file}) && printf '${marker} %s\\n' ${file} > ${file}`),
      `printf '%b' '${pem}' > /app/key.txt && printf '%b' '${pem}' > /app/server.pem`,
    ].join('\n');
    const all = [...files, '/app/key.txt', '/app/server.pem', '/etc/ssl/certs/ca-certificates.crt'].join(' ');
    const outcome = inThrowaway({
      setup: `${setup}\ntest -e /etc/ssl/certs/ca-certificates.crt || { mkdir -p /etc/ssl/certs; printf 'cert\\n' > /etc/ssl/certs/ca-certificates.crt; }`,
      run: `dit export --path /out --tar /out.tar --report /report.json -q -- sh -c 'cat ${all} > /dev/null 2>&1; true'`,
      after: `grep -rl ${marker} /out /out.tar /report.json; echo grep-done; test -f /out/etc/ssl/certs/ca-certificates.crt && echo has-ca`,
    });
    expect(outcome.stderr).not.toMatch(/^\s+at /m);
    expect(outcome.status, outcome.stderr).toBe(0);
    expect(outcome.after).toBe('grep-done\nhas-ca\n'); // no marker anywhere; the CA bundle still there
    for (const file of [...files, '/app/key.txt', '/app/server.pem']) {
      expect(outcome.stderr).toContain(`dit: warning: withheld ${file}:`);
    }
  });
});

describe('never read outside the root, never export a broken program', () => {
  it('follows links inside --root only: an include through links to / and up and round in loops', () => {
    const outcome = inThrowaway({
      setup: [
        'mkdir -p /fr/app/data /fr/srv && printf inside > /fr/srv/file && printf host-marker > /host-marker',
        'ln -s / /fr/app/escape && ln -s ../../../../.. /fr/app/up && ln -s /srv /fr/app/data/srv',
        'ln -s loop-b /fr/app/loop-a && ln -s loop-a /fr/app/loop-b && printf app > /fr/app/data/file',
      ].join(' && '),
      run: "dit export --root /fr --path /out -q --include '/app/**' --include '/app/escape/srv/**' --include '/app/loop-a/**'",
      after: 'cd /out && find . | LC_ALL=C sort; grep -rl host-marker /out; echo grep-done',
    });
    expect(outcome.stderr).not.toMatch(/^\s+at /m);
    expect(outcome.status, outcome.stderr).toBe(0);
    // The links are kept as links; what /app/escape/srv names inside the root is /srv of the root.
    expect(outcome.after).toContain('./app/escape\n');
    expect(outcome.after).toContain('./srv/file\n');
    expect(outcome.after).not.toContain('host-marker\n');
    expect(outcome.after).not.toMatch(/usr\/local\/bin\/dit|\.\/etc\//);
    expect(outcome.stderr).toMatch(
      /dit: warning: --include \/app\/loop-a\/\*\*: skipped \/app\/loop-a: too many symbolic links/,
    );
  });

  it('refuses a --binary whose library its loader would not find (exit 2, nothing exported)', () => {
    const outcome = inThrowaway({
      setup: 'rm /usr/lib/x86_64-linux-gnu/libselinux.so.1',
      run: 'dit export --path /out -q --binary /usr/bin/ls',
      after: 'test -e /out && echo out-exists; ls -a / | grep dit-',
    });
    expectRefused(outcome, 2, /^dit: export: .*libselinux\.so\.1/);
    expect(outcome.after).toBe('');
  });
});

describe('nothing survives dit, and /tmp applications verify', () => {
  it('SIGKILL of dit during the trace kills strace and everything it traced', () => {
    const outcome = inThrowaway({
      // procps (pgrep) is not in a minimal root: the command lines are read from /proc directly.
      setup: `procs() { for p in /proc/[0-9]*; do tr '\\0' ' ' < $p/cmdline 2>/dev/null; echo; done | grep -E "$1"; }`,
      run: `dit export --path /out -q -- sh -c 'sleep 312 & sleep 313' & pid=$!
for i in $(seq 100); do procs '^sleep 313 $' > /dev/null && break; sleep 0.1; done
procs '^sleep 31[23] $' | wc -l | sed 's/^/before=/' > /dev/before-kill
kill -9 $pid; wait $pid 2>/dev/null
for i in $(seq 50); do procs '^sleep 31[23] $|^[^ ]*strace ' > /dev/null || break; sleep 0.1; done
true`,
      after:
        "cat /dev/before-kill; procs '^sleep 31[23] $|^[^ ]*strace '; ls -a /tmp | grep dit-; echo checked",
    });
    expect(outcome.status).toBe(0);
    // Both sleeps ran under trace; after the kill no sleep, no strace and no trace log is left (the
    // staging folder is, for the next run to the same --path to remove: tested above).
    expect(outcome.after).toBe('before=2\nchecked\n');
  });

  it('an application under /tmp exports and verifies, and its scratch files stay out', () => {
    const outcome = inThrowaway({
      setup:
        "mkdir -p /tmp/app && printf 'data\\n' > /tmp/app/data && printf '#!/bin/sh\\ncat /tmp/app/data > /tmp/scratch-$$\\nrm -f /tmp/scratch-$$\\nprintf made > /tmp/left-behind\\n' > /tmp/app/run && chmod +x /tmp/app/run",
      run: 'dit export --path /out -q -- /tmp/app/run',
      after: 'find /out/tmp | LC_ALL=C sort',
    });
    expect(outcome.stderr).not.toMatch(/^\s+at /m);
    expect(outcome.status, outcome.stderr).toBe(0);
    expect(outcome.after).toBe('/out/tmp\n/out/tmp/app\n/out/tmp/app/data\n/out/tmp/app/run\n');
  });
});
