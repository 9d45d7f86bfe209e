// The oracle: what glibc's own loader says a file needs, in trace mode (what ldd runs), parsed.
//
//   cd / && env -i LD_TRACE_LOADED_OBJECTS=1 [LD_LIBRARY_PATH=...] /lib64/ld-linux-x86-64.so.2 FILE
//
// See docs/loader.md §12.1. Rules the helpers here enforce or rely on:
// - a clean environment (no LD_PRELOAD, GLIBC_TUNABLES, inherited LD_LIBRARY_PATH) and CWD `/`
//   (relative RPATH entries and DT_NEEDED names with a slash depend on the CWD);
// - an absolute FILE: ld.so *searches* a name without a slash like a library; pass realpaths so that
//   $ORIGIN matches what a kernel exec would give (glibc < 2.42);
// - a timeout, and never a static ET_EXEC: ld.so runs those instead of listing them (the corpus in
//   corpus.mjs excludes them; readElfInfo() there tells single files apart);
// - LD_TRACE_LOADED_OBJECTS must reach the loader only, never a dynamically linked wrapper started in
//   between (chroot, /usr/bin/time, ...): that wrapper would be traced instead of run. Hence the
//   variable is passed through `env -i` *after* the wrapper.
//
// Plain ESM with JSDoc types, node: builtins only.

import { spawn, spawnSync } from 'node:child_process';
import { existsSync } from 'node:fs';
import { isAbsolute, join } from 'node:path';

export const DEFAULT_LOADER = '/lib64/ld-linux-x86-64.so.2';

/**
 * @typedef {object} LoaderTraceOptions
 * @property {string} [root]  '/' (default) or a directory to chroot into (needs root or `unshare -r`).
 *   FILE, the loader and LD_LIBRARY_PATH are then paths inside that root.
 * @property {string} [libraryPath]  LD_LIBRARY_PATH for the loader; undefined = unset. An empty
 *   string is passed as an empty variable (which glibc treats as unset).
 * @property {number} [timeoutMs]  Kill (SIGKILL) the loader after this long; default 20000.
 * @property {string} [loader]  The loader to run; default /lib64/ld-linux-x86-64.so.2.
 */

/**
 * One entry of the trace, in the loader's order (BFS load order; the rtld line follows its
 * search-list predecessor; "not found" entries stay where they occurred). The vDSO is dropped.
 *
 * - `\tNAME => PATH (0x…)`: name = NAME (the DT_NEEDED string), path = PATH.
 * - `\tNAME => not found`: path = null.
 * - `\tPATH (0x…)`: name = path = PATH. That is the rtld line (printed by its PT_INTERP path),
 *   names containing a slash, and a bare name found through an empty LD_LIBRARY_PATH element: PATH
 *   may then be *relative* (to `/`, inside the root), e.g. `./libfoo.so` or `libfoo.so`.
 *
 * @typedef {object} TraceLibrary
 * @property {string} name
 * @property {string | null} path
 */

/**
 * @typedef {object} LoaderTraceResult
 * @property {TraceLibrary[]} libraries  Empty for "statically linked" and for fatal errors.
 * @property {string | null} error  The loader's diagnostics, one per line, or null when it printed
 *   none: fatal errors (`FILE: error while loading shared libraries: …`, exit 127, nothing listed)
 *   and non-fatal ones printed while listing (`FILE: LIB: version \`V' not found (required by X)`,
 *   exit 0, libraries still listed); also set for a timeout, a signal or a failure to start.
 * @property {number | null} status  Exit status; null when killed by a signal or not started.
 * @property {string} raw  The loader's stdout, unmodified (addresses included).
 * @property {string} stderr  The loader's stderr, unmodified.
 * @property {boolean} staticallyLinked  The loader printed `\tstatically linked` (static-pie, a
 *   library without DT_NEEDED, ld.so itself).
 * @property {string[]} unparsed  Lines of stdout that matched no known format (expected empty).
 * @property {string | null} signal  The signal that ended the loader, e.g. 'SIGKILL' after a timeout.
 * @property {boolean} timedOut
 */

/**
 * @typedef {object} LoaderCommand
 * @property {string} command  What to spawn.
 * @property {string[]} args
 * @property {Record<string, string>} env  The complete environment to spawn it with.
 * @property {string} cwd
 * @property {string[]} argv  The same invocation as one argv that starts with `env -i`, for running it
 *   under another dynamically linked wrapper such as /usr/bin/time (`[...wrapper, ...argv]`).
 */

/**
 * The exact command loaderTrace runs, for callers that want to spawn it themselves (the benchmark).
 *
 * For root '/': the loader is spawned directly with the environment {LD_TRACE_LOADED_OBJECTS: '1'
 * [, LD_LIBRARY_PATH]} and CWD '/', which is what `cd / && env -i … LOADER FILE` does minus one exec.
 *
 * For another root: `chroot ROOT /usr/bin/env -i LD_TRACE_LOADED_OBJECTS=1 … LOADER FILE` (chroot
 * changes the CWD to the new `/`). A minimal root (an exported image) often has no `env`; then the
 * host's perl (Debian's Essential perl-base) does chroot + chdir + exec with the clean environment.
 *
 * @param {string} file  Absolute path (inside the root).
 * @param {LoaderTraceOptions} [options]
 * @returns {LoaderCommand}
 */
export function loaderTraceCommand(file, { root = '/', libraryPath, loader = DEFAULT_LOADER } = {}) {
  if (typeof file !== 'string' || !isAbsolute(file)) {
    // A name without a slash would be searched like a library, and a relative one depends on the CWD.
    throw new TypeError(`loaderTrace needs an absolute path, got ${JSON.stringify(file)}`);
  }
  /** @type {Record<string, string>} */
  const traceEnv = { LD_TRACE_LOADED_OBJECTS: '1' };
  if (libraryPath !== undefined) traceEnv.LD_LIBRARY_PATH = libraryPath;
  const assignments = Object.entries(traceEnv).map(([k, v]) => `${k}=${v}`);
  const isHostRoot = root === '/' || root === '' || root.replace(/\/+$/, '') === '';
  if (isHostRoot) {
    return {
      command: loader,
      args: [file],
      env: traceEnv,
      cwd: '/',
      argv: ['/usr/bin/env', '-i', ...assignments, loader, file],
    };
  }
  // The wrapper itself runs with a plain PATH and without LD_TRACE_LOADED_OBJECTS.
  const wrapperEnv = { PATH: '/usr/sbin:/usr/bin:/sbin:/bin' };
  const envInRoot = ['/usr/bin/env', '/bin/env'].find((p) => existsSync(join(root, p)));
  if (envInRoot !== undefined) {
    const args = [root, envInRoot, '-i', ...assignments, loader, file];
    return {
      command: '/usr/sbin/chroot',
      args,
      env: wrapperEnv,
      cwd: '/',
      argv: ['/usr/sbin/chroot', ...args],
    };
  }
  const script =
    'my ($root, @cmd) = @ARGV; my %e; while (@cmd && $cmd[0] =~ /^([A-Z_]+)=(.*)$/s) { $e{$1} = $2; shift @cmd }' +
    ' chroot($root) or die "chroot $root: $!\\n"; chdir("/") or die "chdir /: $!\\n";' +
    ' %ENV = %e; exec { $cmd[0] } @cmd or die "exec $cmd[0]: $!\\n";';
  const args = ['-e', script, root, ...assignments, loader, file];
  return { command: '/usr/bin/perl', args, env: wrapperEnv, cwd: '/', argv: ['/usr/bin/perl', ...args] };
}

const ADDRESS = / \(0x[0-9a-fA-F]+\)$/;
const ARROW = ' => ';

/**
 * Is NAME the vDSO? Its line is `\tlinux-vdso.so.1 (0x…)`; upstream 2.36.0 printed
 * `\tlinux-vdso.so.1 => linux-vdso.so.1 (0x…)` (BZ 29539). Other architectures call it
 * linux-gate.so.1 or linux-vdso{32,64}.so.1.
 *
 * @param {string} name
 */
function isVdso(name) {
  return /^linux-(vdso|gate)(32|64)?\.so\.\d+$/.test(name);
}

/**
 * Parses trace-mode output. Exported for tests of the parser itself.
 *
 * @param {string} stdout
 * @param {string} [stderr]
 * @returns {{ libraries: TraceLibrary[], staticallyLinked: boolean, unparsed: string[], errors: string[] }}
 */
export function parseLoaderTrace(stdout, stderr = '') {
  /** @type {TraceLibrary[]} */
  const libraries = [];
  /** @type {string[]} */
  const unparsed = [];
  let staticallyLinked = false;
  for (const line of stdout.split('\n')) {
    if (line === '') continue;
    if (!line.startsWith('\t')) {
      unparsed.push(line);
      continue;
    }
    const body = line.slice(1);
    if (body === 'statically linked') {
      staticallyLinked = true;
      continue;
    }
    const arrow = body.indexOf(ARROW);
    if (arrow === -1) {
      // `\tPATH (0x…)`: name and path are the same string.
      if (!ADDRESS.test(body)) {
        unparsed.push(line);
        continue;
      }
      const path = body.replace(ADDRESS, '');
      if (isVdso(path)) continue;
      libraries.push({ name: path, path });
      continue;
    }
    const name = body.slice(0, arrow);
    const rest = body.slice(arrow + ARROW.length);
    if (rest === 'not found') {
      libraries.push({ name, path: null });
      continue;
    }
    if (!ADDRESS.test(rest)) {
      unparsed.push(line);
      continue;
    }
    if (isVdso(name)) continue;
    libraries.push({ name, path: rest.replace(ADDRESS, '') });
  }
  const errors = stderr.split('\n').filter((l) => l.trim() !== '');
  return { libraries, staticallyLinked, unparsed, errors };
}

/**
 * @param {{ stdout: string, stderr: string, status: number | null, signal: string | null,
 *   timedOut: boolean, spawnError: Error | null | undefined, timeoutMs: number }} r
 * @returns {LoaderTraceResult}
 */
function toResult({ stdout, stderr, status, signal, timedOut, spawnError, timeoutMs }) {
  const parsed = parseLoaderTrace(stdout, stderr);
  const errors = parsed.errors;
  if (timedOut) errors.push(`timed out after ${timeoutMs} ms`);
  else if (spawnError) errors.push(`failed to run the loader: ${spawnError.message}`);
  else if (signal) errors.push(`killed by ${signal}`);
  return {
    libraries: parsed.libraries,
    error: errors.length > 0 ? errors.join('\n') : null,
    status: signal || spawnError ? null : status,
    raw: stdout,
    stderr,
    staticallyLinked: parsed.staticallyLinked,
    unparsed: parsed.unparsed,
    signal: signal ?? null,
    timedOut,
  };
}

const MAX_BUFFER = 64 * 1024 * 1024;

/**
 * Runs the loader in trace mode on FILE, synchronously, and parses its output.
 *
 * @param {string} file  Absolute path (inside `root`).
 * @param {LoaderTraceOptions} [options]
 * @returns {LoaderTraceResult}
 */
export function loaderTrace(file, options = {}) {
  const timeoutMs = options.timeoutMs ?? 20000;
  const cmd = loaderTraceCommand(file, options);
  const r = spawnSync(cmd.command, cmd.args, {
    cwd: cmd.cwd,
    env: cmd.env,
    encoding: 'utf8',
    timeout: timeoutMs,
    killSignal: 'SIGKILL',
    maxBuffer: MAX_BUFFER,
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  // spawnSync reports a timeout as error.code === 'ETIMEDOUT' with signal SIGKILL.
  const err = /** @type {NodeJS.ErrnoException | undefined} */ (r.error);
  const timedOut = err?.code === 'ETIMEDOUT';
  return toResult({
    stdout: r.stdout ?? '',
    stderr: r.stderr ?? '',
    status: r.status,
    signal: r.signal,
    timedOut,
    spawnError: timedOut ? null : err,
    timeoutMs,
  });
}

/**
 * Same as loaderTrace, without blocking the event loop.
 *
 * @param {string} file
 * @param {LoaderTraceOptions} [options]
 * @returns {Promise<LoaderTraceResult>}
 */
export function loaderTraceAsync(file, options = {}) {
  const timeoutMs = options.timeoutMs ?? 20000;
  /** @type {LoaderCommand} */
  let cmd;
  try {
    cmd = loaderTraceCommand(file, options);
  } catch (e) {
    return Promise.reject(e);
  }
  return new Promise((resolvePromise) => {
    // spawn with our own timer rather than execFile's `timeout`: when execFile's timer races with the
    // child's exit, it discards the output and reports success with empty stdout (seen on Node 20).
    const child = spawn(cmd.command, cmd.args, {
      cwd: cmd.cwd,
      env: cmd.env,
      stdio: ['ignore', 'pipe', 'pipe'],
    });
    /** @type {Buffer[]} */
    const out = [];
    /** @type {Buffer[]} */
    const err = [];
    let timedOut = false;
    /** @type {Error | null} */
    let spawnError = null;
    let settled = false;
    const timer = setTimeout(() => {
      timedOut = true;
      child.kill('SIGKILL');
    }, timeoutMs);
    child.stdout.on('data', (b) => out.push(b));
    child.stderr.on('data', (b) => err.push(b));
    /**
     * @param {number | null} status
     * @param {NodeJS.Signals | null} signal
     */
    const finish = (status, signal) => {
      if (settled) return;
      settled = true;
      clearTimeout(timer);
      resolvePromise(
        toResult({
          stdout: Buffer.concat(out).toString('utf8'),
          stderr: Buffer.concat(err).toString('utf8'),
          status,
          signal,
          timedOut,
          spawnError,
          timeoutMs,
        }),
      );
    };
    child.on('error', (e) => {
      // Failure to spawn (ENOENT, EACCES); 'close' may or may not follow.
      spawnError = e;
      finish(null, null);
    });
    // Stop the timer as soon as the process is gone, before its pipes are drained.
    child.on('exit', () => clearTimeout(timer));
    child.on('close', (status, signal) => {
      // If the timer fired just as the process exited on its own, the kill hit a zombie: not a timeout.
      if (status !== null) timedOut = false;
      finish(status, signal);
    });
  });
}

/**
 * Traces many files with at most `concurrency` loaders at a time; results in input order.
 *
 * @param {readonly string[]} files
 * @param {LoaderTraceOptions & { concurrency?: number,
 *   onResult?: (file: string, result: LoaderTraceResult, index: number) => void }} [options]
 * @returns {Promise<LoaderTraceResult[]>}
 */
export async function loaderTraceMany(files, { concurrency = 2, onResult, ...options } = {}) {
  /** @type {LoaderTraceResult[]} */
  const results = new Array(files.length);
  let next = 0;
  const worker = async () => {
    while (next < files.length) {
      const i = next++;
      const file = /** @type {string} */ (files[i]);
      const result = await loaderTraceAsync(file, options);
      results[i] = result;
      onResult?.(file, result, i);
    }
  };
  const n = Math.max(1, Math.min(Math.floor(concurrency) || 1, files.length));
  await Promise.all(Array.from({ length: n }, worker));
  return results;
}

/**
 * The loader's `--list-diagnostics` output (system dirs, dl_platform, active hwcaps subdirs, CPU
 * features, auxv), to store with every differential run: results depend on the CPU. Run with an empty
 * environment, like the traces. Throws when the loader fails.
 *
 * @param {string} [loader]
 * @returns {string}
 */
export function loaderDiagnostics(loader = DEFAULT_LOADER) {
  const r = spawnSync(loader, ['--list-diagnostics'], {
    cwd: '/',
    env: {},
    encoding: 'utf8',
    timeout: 20000,
    maxBuffer: MAX_BUFFER,
  });
  if (r.error) throw new Error(`${loader} --list-diagnostics: ${r.error.message}`, { cause: r.error });
  if (r.status !== 0) {
    throw new Error(`${loader} --list-diagnostics exited with ${r.status ?? r.signal}: ${r.stderr}`);
  }
  return r.stdout;
}
