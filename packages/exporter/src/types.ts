import type { AccessKind, ListeningSocket } from '@dit/trace';
import type { Probe } from './probes.js';

export interface ExportOptions {
  /** The output folder. It must be empty or missing, unless `force`. */
  readonly path: string;
  /** The check command (after `--`): traced, and run again inside the export to verify it. */
  readonly command?: readonly string[];
  /** Programs whose static ELF closure (libraries, loader, `#!` interpreters) is exported. */
  readonly binaries?: readonly string[];
  /** Globs (inside the root) exported as well; an exact path to a folder takes the whole folder. */
  readonly include?: readonly string[];
  /** Globs (inside the root) never exported. */
  readonly exclude?: readonly string[];
  /** Read everything inside this unpacked image root, and trace the command chrooted into it. Default `/`. */
  readonly root?: string;
  /** Replace a non-empty `path`. */
  readonly force?: boolean;
  /** Keep setuid/setgid bits (dropped by default, with a warning). */
  readonly keepSetuid?: boolean;
  /** Run the command inside the export afterwards and compare (default true when there is a command). */
  readonly verify?: boolean;
  /** Kill the command (and all it started) after this many milliseconds. */
  readonly timeoutMs?: number;
  /**
   * The command's whole environment, in the trace and the verification (`--keep-env` passes this
   * process's). Default: the image's, as a runtime makes it: PATH (this process's) and HOME from
   * the user's entry in the root's /etc/passwd (then exported too), or `/` (see environment.ts).
   */
  readonly env?: Readonly<Record<string, string | undefined>>;
  /** Variables set on top of the environment (`--env K=V`). */
  readonly setEnv?: Readonly<Record<string, string>>;
  /**
   * The command is a server (service.ts): started under the trace, waited for until ready, probed,
   * stopped with its stop signal, and verified the same way inside the export. Its exit status
   * does not count; readiness and the probes do.
   */
  readonly service?: ServiceSpec;
  /**
   * Who the image runs as (`--user USER[:GROUP]`, default root), resolved in the root before any
   * work. When given, the export gets /etc/passwd and /etc/group if it lacks them or the user
   * (identity.ts), the user's home, and the check is verified as that uid, gid and groups.
   */
  readonly identity?: { readonly user?: string };
  /** The command's working directory, inside the root (default: `/` with a root, else the current directory). */
  readonly cwd?: string;
  /** LD_LIBRARY_PATH for the static resolution. */
  readonly libraryPath?: string;
  /** Also write the export as a tar archive at this path (the folder stays). */
  readonly tar?: string;
  /**
   * Also write the report (JSON) to this file, beside it first and renamed into place. Checked with
   * the output before any work: it must not lie inside `path`, and its folder must be writable.
   */
  readonly report?: string;
  /** Store identical files once, as hard links (off by default: writing one would change the other). */
  readonly dedupe?: boolean;
  /**
   * Write what scanners read (default true): `/var/lib/dpkg/status.d/` records of the Debian packages
   * the exported files come from, their `copyright` files, `/etc/os-release`, `/etc/debian_version`.
   */
  readonly packageMetadata?: boolean;
  /**
   * Write /var/lib/dit/explain.json (default true): why each path is in, for `dit explain --path`
   * on the finished export or its image, without the --report (explain-record.ts says what it
   * holds and what it never does).
   */
  readonly explainRecord?: boolean;
  /**
   * Software bills of materials to write (checked with the output before any work, written beside
   * their place and renamed into it once the export is complete).
   */
  readonly sbom?: readonly SbomOutput[];
  /** dit's version, named as the tool in SBOMs. */
  readonly toolVersion?: string;
  /** Progress for long work; libraries never print, callers may. */
  readonly onProgress?: (event: ProgressEvent) => void;
  /**
   * Stops the export when aborted (Ctrl-C in the CLI): the traced or verified command and everything
   * it started are killed, and `exportImage` rejects with the signal's reason. Before the copy is
   * renamed into place nothing is left at `path`; once it is, the export stays, complete but not
   * (or not fully) verified.
   */
  readonly signal?: AbortSignal;
}

/** One --sbom: CycloneDX 1.6 JSON or SPDX 2.3 JSON, to a file. */
export interface SbomOutput {
  readonly format: 'cyclonedx-json' | 'spdx-json';
  readonly file: string;
}

export type ProgressEvent =
  | { readonly stage: 'trace'; readonly command: readonly string[] }
  | { readonly stage: 'resolve'; readonly files: number }
  | { readonly stage: 'copy'; readonly done: number; readonly total: number }
  | { readonly stage: 'hash'; readonly files: number }
  /** The check is about to run inside the export (it may take as long as it took when traced). */
  | { readonly stage: 'verifying' }
  /** The check has run inside the export, isolated this way. */
  | { readonly stage: 'verify'; readonly isolation: Isolation };

/** Why a path is in the export: every entry has at least one. */
export type Reason =
  | { readonly kind: 'binary' }
  | { readonly kind: 'command' }
  | { readonly kind: 'needed-by'; readonly by: string }
  | { readonly kind: 'interpreter-of'; readonly of: string }
  /** `by`: the first process that used it, `python3 (pid 12)`. */
  | { readonly kind: 'traced'; readonly how: readonly AccessKind[]; readonly by?: string | undefined }
  | { readonly kind: 'included'; readonly pattern: string }
  | { readonly kind: 'runtime-data'; readonly why: string }
  | { readonly kind: 'link-on-the-way'; readonly to: string }
  | { readonly kind: 'parent-directory' }
  | { readonly kind: 'skeleton' }
  /** Written or copied for scanners and licenses: dpkg records, copyright files, os-release. */
  | { readonly kind: 'package-metadata'; readonly why: string };

export interface ExportedEntry {
  /** Absolute path inside the export (and the root). */
  readonly path: string;
  readonly type: 'file' | 'symlink' | 'directory';
  readonly size: number;
  /** Permission bits as exported (setuid/setgid dropped unless kept). */
  readonly mode: number;
  readonly uid: number;
  readonly gid: number;
  readonly sha256: string | null;
  /** For symlinks: the target as written. */
  readonly target?: string;
  /** For a hard link to an entry exported earlier: that entry's path. */
  readonly hardLinkOf?: string;
  readonly reasons: readonly string[];
  /** The Debian packages that own this file or link (dpkg's names: `libc6:amd64`); absent for application files. */
  readonly packages?: readonly string[];
}

/** A Debian package some of whose files or links are in the export. */
export interface PackageUsage {
  /** As dpkg names it (`libc6:amd64` for a Multi-Arch: same package). */
  readonly id: string;
  readonly name: string;
  readonly version: string;
  readonly architecture: string;
  /** Exported files and links it owns. */
  readonly files: number;
  /** Bytes of its exported regular files (a hard link counted once). */
  readonly bytes: number;
}

export type Isolation = 'namespaces' | 'chroot';

export interface Verification {
  /** How the check was isolated: fresh mount and pid namespaces, or a plain chroot where those are not allowed. */
  readonly isolation: Isolation | null;
  readonly ran: boolean;
  readonly ok: boolean;
  readonly expectedExitCode: number | null;
  readonly exitCode: number | null;
  readonly signal: string | null;
  /** Paths the failing run looked for that exist in the source but not in the export. */
  readonly missing: readonly string[];
  /** Why it did not run (namespaces and chroot both refused), or what went wrong. */
  readonly note: string | null;
  /** Service mode: how the server did inside the export. */
  readonly service?: ServiceRun;
}

/** A service's run: time to ready, probes passed, how it ended. */
export interface ServiceRun {
  readonly readyMs: number | null;
  readonly probesPassed: number;
  /** Exited after the stop signal, killed after the stop timeout, or exited on its own. */
  readonly stopped: 'signal' | 'killed' | 'exited' | null;
}

export interface ExportReport {
  readonly version: 1;
  readonly output: string;
  readonly root: string;
  readonly command: readonly string[] | null;
  readonly entries: readonly ExportedEntry[];
  readonly totals: {
    readonly files: number;
    readonly symlinks: number;
    readonly directories: number;
    readonly bytes: number;
  };
  readonly warnings: readonly string[];
  /** Secrets found by name or content and left out (each also in `warnings`); an exact --include takes one. */
  readonly withheld: readonly { readonly path: string; readonly rule: string }[];
  /** Debian packages the exported files come from, biggest first (empty without a dpkg database). */
  readonly packages: readonly PackageUsage[];
  /** What the scanner metadata added (null when off, or without a dpkg database). */
  readonly packageMetadata: {
    /** Records written to /var/lib/dpkg/status.d (one per package). */
    readonly packages: number;
    /** Files only there for the metadata: records, md5sums, copyright files, os-release. */
    readonly files: number;
    readonly bytes: number;
  } | null;
  readonly trace: {
    readonly exitCode: number | null;
    readonly durationMs: number;
    readonly paths: number;
    /** TCP ports the traced run listened on (a server's: `--image` makes them its ExposedPorts). */
    readonly listening: readonly ListeningSocket[];
    /** Service mode: how the server did under the trace. */
    readonly service?: ServiceRun;
  } | null;
  readonly verification: Verification | null;
}

/** A server's supervision (service.ts): readiness, probes in order, the stop. */
export interface ServiceSpec {
  /** Asked in order once the service is ready; each must pass. */
  readonly probes: readonly Probe[];
  /** Readiness: this probe, repeated until it passes. Default: the first of `probes` (which then counts as asked). */
  readonly ready?: Probe;
  /** How long readiness may take. Default 30 s. */
  readonly readyTimeoutMs?: number;
  /** Default SIGTERM. */
  readonly stopSignal?: NodeJS.Signals;
  /** How long the service may take to exit after the stop signal before it is killed. Default 10 s. */
  readonly stopTimeoutMs?: number;
  /** Pause between readiness attempts. Default 100 ms (a benchmark of the time to ready uses less). */
  readonly retryMs?: number;
}
