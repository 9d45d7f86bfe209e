/**
 * Service mode with real servers: started under strace, waited for, probed from outside the trace,
 * stopped with their stop signal, verified the same way inside the export. What only a probe used
 * is not exported; what the server did only because of a probe is.
 */
import { readdirSync, readFileSync, realpathSync, writeFileSync } from 'node:fs';
import { createServer } from 'node:net';
import { join } from 'node:path';
import { ExportError, type ExportOptions, type ExportReport, exportImage } from '@dit/exporter';
import { afterAll, describe, expect, it } from 'vitest';
import { tempDir } from '../../../test-support/fixtures.js';

const temp = tempDir('dit-service-');
const T = realpathSync(temp.path);
afterAll(() => temp.cleanup());

const ENV = { PATH: '/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin', LANG: 'C.UTF-8' };

/**
 * A small HTTP server: /difflib imports difflib inside the handler (lazily, only for that route),
 * /plain answers without it, anything else is a 404. `onTerm`: what SIGTERM does.
 */
const SERVER = (onTerm: 'exit' | 'ignore') => `
import http.server, signal, sys
signal.signal(signal.SIGTERM, ${onTerm === 'exit' ? 'lambda *_: sys.exit(0)' : 'signal.SIG_IGN'})
class Handler(http.server.BaseHTTPRequestHandler):
    def do_GET(self):
        if self.path == '/difflib':
            import difflib
            body = difflib.__name__.encode()
        elif self.path == '/plain':
            body = b'plain'
        else:
            self.send_error(404)
            return
        self.send_response(200)
        self.send_header('Content-Length', str(len(body)))
        self.end_headers()
        self.wfile.write(body)
    def log_message(self, *args):
        pass
http.server.HTTPServer(('127.0.0.1', int(sys.argv[1])), Handler).serve_forever()
`;

const script = (name: string, onTerm: 'exit' | 'ignore' = 'exit') => {
  const path = join(T, `${name}.py`);
  writeFileSync(path, SERVER(onTerm));
  return path;
};

/** A port nothing listens on now (asked of the kernel, then released). */
function freePort(): Promise<number> {
  return new Promise((resolve, reject) => {
    const server = createServer();
    server.once('error', reject);
    server.listen(0, '127.0.0.1', () => {
      const { port } = server.address() as { port: number };
      server.close(() => resolve(port));
    });
  });
}

/** Live processes whose command line holds `marker`: none may be left after a run. */
function processesWith(marker: string): number[] {
  const found: number[] = [];
  for (const name of readdirSync('/proc')) {
    if (!/^\d+$/.test(name) || Number(name) === process.pid) continue;
    try {
      if (readFileSync(`/proc/${name}/cmdline`, 'latin1').includes(marker)) found.push(Number(name));
    } catch {
      // gone
    }
  }
  return found;
}

const has = (report: ExportReport, pattern: RegExp) =>
  report.entries.some((entry) => pattern.test(entry.path));

async function serve(
  name: string,
  options: Partial<ExportOptions> & Pick<ExportOptions, 'service'>,
  port?: number,
) {
  const server = script(name);
  const used = port ?? (await freePort());
  return exportImage({
    path: join(T, name),
    command: ['python3', server, String(used)],
    env: ENV,
    cwd: '/',
    ...options,
  });
}

async function refusal(promise: Promise<unknown>): Promise<ExportError> {
  const error = await promise.then(
    () => null,
    (thrown: unknown) => thrown,
  );
  expect(error).toBeInstanceOf(ExportError);
  return error as ExportError;
}

describe('a server probed over HTTP', () => {
  it('a module imported lazily by the probed route is exported; probing another route leaves it out', async () => {
    const withRoute = await freePort();
    const lazy = await serve(
      'lazy-route',
      { service: { probes: [{ kind: 'http', url: `http://127.0.0.1:${withRoute}/difflib` }] } },
      withRoute,
    );
    expect(lazy.verification?.note ?? null).toBeNull();
    expect(lazy.verification).toMatchObject({ ok: true, service: { probesPassed: 1, stopped: 'signal' } });
    expect(lazy.trace?.service).toMatchObject({ probesPassed: 1, stopped: 'signal' });
    expect(has(lazy, /\/difflib\.py$/)).toBe(true);

    const other = await freePort();
    const plain = await serve(
      'other-route',
      { service: { probes: [{ kind: 'http', url: `http://127.0.0.1:${other}/plain`, status: 200 }] } },
      other,
    );
    expect(plain.verification).toMatchObject({ ok: true });
    expect(has(plain, /\/difflib\.py$/)).toBe(false);
    // The server itself is there in both.
    expect(has(plain, /\/http\/server\.py$/)).toBe(true);
  });

  it('a --probe command runs outside the trace: the client is not exported', async () => {
    const port = await freePort();
    const report = await serve(
      'command-probe',
      {
        service: {
          ready: { kind: 'tcp', host: '127.0.0.1', port },
          probes: [
            {
              kind: 'command',
              command: `od -An -N1 /dev/zero >/dev/null && python3 -c "import urllib.request; urllib.request.urlopen('http://127.0.0.1:${port}/plain')"`,
            },
          ],
        },
      },
      port,
    );
    expect(report.verification).toMatchObject({ ok: true, service: { probesPassed: 1 } });
    expect(has(report, /\/usr\/bin\/od$/)).toBe(false);
    expect(has(report, /\/urllib\/request\.py$/)).toBe(false);
    expect(has(report, /\/bin\/sh$|\/bin\/dash$/)).toBe(false);
  });
});

describe('a server that fails: one error, nothing exported, nothing left running', () => {
  it('crashes at start', async () => {
    const marker = 'dit-crash-marker';
    const error = await refusal(
      exportImage({
        path: join(T, 'crash'),
        command: ['python3', '-c', 'import sys; sys.exit(3)', marker],
        env: ENV,
        cwd: '/',
        service: { probes: [{ kind: 'http', url: 'http://127.0.0.1:9/' }] },
      }),
    );
    expect(error.code).toBe('EXPORT_SERVICE_FAILED');
    expect(error.message).toMatch(
      /: the service exited with status 3 before it was ready; .*Nothing was exported\.$/,
    );
    expect(error.message).not.toContain('\n');
    expect(processesWith(marker)).toEqual([]);
  });

  it('never becomes ready within --ready-timeout', async () => {
    const port = await freePort();
    const marker = 'dit-never-ready-marker';
    const error = await refusal(
      exportImage({
        path: join(T, 'never-ready'),
        command: ['python3', '-c', 'import time; time.sleep(600)', marker],
        env: ENV,
        cwd: '/',
        service: { probes: [], ready: { kind: 'tcp', host: '127.0.0.1', port }, readyTimeoutMs: 1500 },
      }),
    );
    expect(error.code).toBe('EXPORT_SERVICE_FAILED');
    expect(error.message).toContain(
      `the service not ready after 1.5 s (--ready-timeout; --ready-tcp 127.0.0.1:${port}: ECONNREFUSED)`,
    );
    expect(processesWith(marker)).toEqual([]);
  });

  it('ignores SIGTERM: killed after --stop-timeout', async () => {
    const port = await freePort();
    const server = script('ignores-term', 'ignore');
    const error = await refusal(
      exportImage({
        path: join(T, 'ignores-term'),
        command: ['python3', server, String(port)],
        env: ENV,
        cwd: '/',
        service: { probes: [{ kind: 'http', url: `http://127.0.0.1:${port}/plain` }], stopTimeoutMs: 1000 },
      }),
    );
    expect(error.code).toBe('EXPORT_SERVICE_FAILED');
    expect(error.message).toContain(
      'still running 1 s after SIGTERM (--stop-timeout, --stop-signal); it was killed',
    );
    expect(processesWith(server)).toEqual([]);
  });

  it('stopped from outside (Ctrl-C) while waiting for readiness: rejects with the reason, kills the server', async () => {
    const port = await freePort();
    const marker = 'dit-aborted-service-marker';
    const controller = new AbortController();
    const reason = new Error('stopped by the test');
    setTimeout(() => controller.abort(reason), 1500);
    const error = await exportImage({
      path: join(T, 'aborted'),
      command: ['python3', '-c', 'import time; time.sleep(600)', marker],
      env: ENV,
      cwd: '/',
      signal: controller.signal,
      service: { probes: [], ready: { kind: 'tcp', host: '127.0.0.1', port }, readyTimeoutMs: 60_000 },
    }).then(
      () => null,
      (thrown: unknown) => thrown,
    );
    expect(error).toBe(reason);
    expect(processesWith(marker)).toEqual([]);
  });

  it('fails a probe', async () => {
    const port = await freePort();
    const server = script('failing-probe');
    const error = await refusal(
      exportImage({
        path: join(T, 'failing-probe'),
        command: ['python3', server, String(port)],
        env: ENV,
        cwd: '/',
        service: {
          probes: [
            { kind: 'http', url: `http://127.0.0.1:${port}/plain` },
            { kind: 'http', url: `http://127.0.0.1:${port}/missing` },
          ],
        },
      }),
    );
    expect(error.code).toBe('EXPORT_SERVICE_FAILED');
    expect(error.message).toContain(
      `the service --probe-http http://127.0.0.1:${port}/missing failed: HTTP 404 (expected below 400)`,
    );
    expect(processesWith(server)).toEqual([]);
  });
});
