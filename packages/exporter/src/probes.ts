/**
 * Questions put to a running service from outside: a shell command line of the build stage
 * (`--probe`), an HTTP request made by dit itself (`--probe-http`, no curl needed), or a TCP
 * connection (`--ready-tcp`). None of them runs under the trace, so nothing of the client ends up
 * in the image.
 *
 * HTTP and TCP questions go to loopback only: the service runs on this machine (in the trace and in
 * the verification alike), and dit has no business talking to any other host.
 */
import { spawn } from 'node:child_process';
import { request } from 'node:http';
import { isIP, Socket } from 'node:net';

export type Probe =
  /**
   * `sh -c COMMAND` with dit's environment; exit status 0 passes. With `root`, the shell runs
   * chrooted into it (never traced): `dit minify`'s probes use the source image's clients, which
   * the machine running dit need not have, as `dit export`'s use the build stage's.
   */
  | { readonly kind: 'command'; readonly command: string; readonly root?: string }
  /** GET URL; passes on `status`, or on any status below 400 when none is given. */
  | { readonly kind: 'http'; readonly url: string; readonly status?: number }
  /** A TCP connection that is accepted. */
  | { readonly kind: 'tcp'; readonly host: string; readonly port: number };

/**
 * What one attempt found: null when it passed, else why not (one short clause). `answered`: the
 * service did answer, only not as asked (an HTTP status other than the one expected): it is up,
 * so waiting longer for it to be ready would not help. A 503 counts as not answered: servers say
 * that while they warm up.
 */
export type ProbeResult = null | { readonly why: string; readonly answered: boolean };

const failed = (why: string, answered = false): ProbeResult => ({ why, answered });

/** The probe as the user wrote it, for messages. */
export function describeProbe(probe: Probe): string {
  switch (probe.kind) {
    case 'command':
      return `--probe ${probe.command}`;
    case 'http':
      return `--probe-http ${probe.url}${probe.status === undefined ? '' : `=${probe.status}`}`;
    case 'tcp':
      return `--ready-tcp ${probe.host.includes(':') ? `[${probe.host}]` : probe.host}:${probe.port}`;
  }
}

/** One attempt, given up after `timeoutMs`. */
export function runProbe(probe: Probe, timeoutMs: number): Promise<ProbeResult> {
  switch (probe.kind) {
    case 'command':
      return commandProbe(probe.command, timeoutMs, probe.root);
    case 'http':
      return httpProbe(probe.url, probe.status, timeoutMs);
    case 'tcp':
      return tcpProbe(probe.host, probe.port, timeoutMs);
  }
}

/** A loopback host: 127.0.0.0/8, ::1 or localhost. */
export function isLoopback(host: string): boolean {
  const bare = host.replace(/^\[(.*)\]$/, '$1');
  if (bare === 'localhost') return true;
  if (isIP(bare) === 4) return bare.startsWith('127.');
  return isIP(bare) === 6 && (bare === '::1' || /^(0{0,4}:){7}0{0,3}1$/.test(bare));
}

function commandProbe(command: string, timeoutMs: number, root?: string): Promise<ProbeResult> {
  return new Promise((resolve) => {
    const [program, ...args] =
      root === undefined ? ['/bin/sh', '-c', command] : ['chroot', root, '/bin/sh', '-c', command];
    const child = spawn(program!, args, { stdio: ['ignore', 'ignore', 'pipe'], detached: true });
    const stderr: Buffer[] = [];
    child.stderr.on('data', (chunk: Buffer) => stderr.push(chunk));
    // Its own process group: a probe that hangs is killed with whatever it started.
    const timer = setTimeout(() => {
      try {
        process.kill(-child.pid!, 'SIGKILL');
      } catch {
        // gone
      }
    }, timeoutMs);
    child.once('error', (error) => {
      clearTimeout(timer);
      resolve(failed(`could not run ${program}: ${error.message}`));
    });
    child.once('close', (code, signal) => {
      clearTimeout(timer);
      if (code === 0) return resolve(null);
      const said = Buffer.concat(stderr).toString('utf8').trim().split('\n').at(-1) ?? '';
      const how =
        signal === 'SIGKILL'
          ? `no answer within ${timeoutMs / 1000} s`
          : signal
            ? `died of ${signal}`
            : `exited with ${code}`;
      resolve(failed(`${how}${said ? ` (${said})` : ''}`));
    });
  });
}

function httpProbe(url: string, expected: number | undefined, timeoutMs: number): Promise<ProbeResult> {
  return new Promise((resolve) => {
    const req = request(url, { method: 'GET', agent: false, timeout: timeoutMs }, (response) => {
      response.resume(); // the body is not needed, but must be read for the socket to close
      response.once('end', () => {
        const status = response.statusCode ?? 0;
        const ok = expected === undefined ? status < 400 : status === expected;
        resolve(ok ? null : failed(`HTTP ${status} (expected ${expected ?? 'below 400'})`, status !== 503));
      });
      response.once('error', (error) => resolve(failed(error.message)));
    });
    req.once('timeout', () => req.destroy(new Error(`no answer within ${timeoutMs / 1000} s`)));
    req.once('error', (error: NodeJS.ErrnoException) => resolve(failed(error.code ?? error.message)));
    req.end();
  });
}

function tcpProbe(host: string, port: number, timeoutMs: number): Promise<ProbeResult> {
  return new Promise((resolve) => {
    const socket = new Socket();
    socket.setTimeout(timeoutMs);
    socket.once('connect', () => {
      socket.destroy();
      resolve(null);
    });
    socket.once('timeout', () => {
      socket.destroy();
      resolve(failed(`no answer within ${timeoutMs / 1000} s`));
    });
    socket.once('error', (error: NodeJS.ErrnoException) => resolve(failed(error.code ?? error.message)));
    socket.connect(port, host);
  });
}
