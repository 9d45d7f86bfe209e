/** `dit export` with a server: the options, what a user sees, and the exit statuses. */
import { readFileSync, writeFileSync } from 'node:fs';
import { createServer } from 'node:net';
import { join } from 'node:path';
import { parseImageReference, readImage } from '@dit/image';
import { afterAll, describe, expect, it } from 'vitest';
import { tempDir } from '../../../test-support/fixtures.js';
import { dit } from './run-cli.js';

const temp = tempDir('dit-cli-service-');
const T = temp.path;
afterAll(() => temp.cleanup());

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

/** A server that reads /srv/data/page.txt for every request: excluding it breaks the export. */
function pageServer(): { script: string; data: string } {
  const data = join(T, 'page.txt');
  writeFileSync(data, 'hello from the page\n');
  const script = join(T, 'page-server.py');
  writeFileSync(
    script,
    `import http.server, signal, sys
signal.signal(signal.SIGTERM, lambda *_: sys.exit(0))
class Handler(http.server.BaseHTTPRequestHandler):
    def do_GET(self):
        try:
            body = open(${JSON.stringify(data)}, 'rb').read()
        except OSError as error:
            sys.stderr.write(f'cannot read the page: {error}\\n')
            self.send_error(500)
            return
        self.send_response(200)
        self.send_header('Content-Length', str(len(body)))
        self.end_headers()
        self.wfile.write(body)
    def log_message(self, *args):
        pass
http.server.HTTPServer(('127.0.0.1', int(sys.argv[1])), Handler).serve_forever()
`,
  );
  return { script, data };
}

describe('dit export with probes', () => {
  it('exports and verifies a server, and says so', async () => {
    const port = await freePort();
    const { script } = pageServer();
    const result = await dit(
      'export',
      '--path',
      join(T, 'ok'),
      '-q',
      '--probe-http',
      `http://127.0.0.1:${port}/=200`,
      '--probe',
      `python3 -c "import urllib.request; assert b'hello' in urllib.request.urlopen('http://127.0.0.1:${port}/').read()"`,
      '--',
      'python3',
      script,
      String(port),
    );
    expect(result.stderr).toBe('');
    expect(result.status).toBe(0);
    expect(result.stdout).toMatch(
      /; verified: the server runs inside it and answers its probes \(namespaces\)\n$/,
    );
  });

  it('exits 1 when the server inside the export fails its probe, naming what it lacks', async () => {
    const port = await freePort();
    const { script, data } = pageServer();
    const result = await dit(
      'export',
      '--path',
      join(T, 'broken'),
      '-q',
      '--exclude',
      data,
      '--probe-http',
      `http://127.0.0.1:${port}/`,
      '--ready-timeout',
      '20',
      '--',
      'python3',
      script,
      String(port),
    );
    expect(result.status).toBe(1);
    expect(result.stderr).toContain(
      `dit: verification failed: inside the export the command was started as a service and --probe-http http://127.0.0.1:${port}/ failed: HTTP 500 (expected below 400)`,
    );
    expect(result.stderr).toContain('cannot read the page');
    expect(result.stderr).toContain(`  --include ${data}\n`);
  });

  it('exits 2 with one line for a server that fails under the trace', async () => {
    const port = await freePort();
    const result = await dit(
      'export',
      '--path',
      join(T, 'crash'),
      '-q',
      '--ready-tcp',
      `127.0.0.1:${port}`,
      '--',
      'python3',
      '-c',
      'raise SystemExit(4)',
    );
    expect(result.status).toBe(2);
    expect(result.stderr).toMatch(
      /^dit: export: python3 -c raise SystemExit\(4\): the service exited with status 4 before it was ready; [^\n]*\n$/,
    );
  });

  it.each([
    [['--probe-http', 'http://192.0.2.1/'], 'the host must be loopback'],
    [['--probe-http', 'https://127.0.0.1/'], 'only http:// URLs'],
    [['--ready-tcp', '127.0.0.1'], 'expected HOST:PORT'],
    [['--probe', 'true', '--stop-signal', 'SIGNOPE'], 'not a signal name'],
    [['--probe', 'true', '--ready-timeout', '0'], 'must be a positive number'],
    [['--stop-timeout', '5'], '--stop-timeout needs a server'],
    [['--ready', 'true', '--ready-tcp', '127.0.0.1:1'], 'exclude each other'],
  ])('refuses %j with exit 2', async (options, message) => {
    const result = await dit('export', '--path', join(T, 'refused'), ...options, '--', '/bin/true');
    expect(result.status).toBe(2);
    expect(result.stderr).toContain(message);
    expect(result.stderr.trim().split('\n')).toHaveLength(1);
  });
});

describe('dit export --image with a server', () => {
  /**
   * An HTTP server on a TCP port that also binds a UDP port it never listens on, and stops on
   * SIGINT (so that a --stop-signal SIGINT is what ends it, in the trace and in the verification).
   */
  function portsServer(): string {
    const script = join(T, 'ports-server.py');
    writeFileSync(
      script,
      `import http.server, signal, socket, sys
signal.signal(signal.SIGINT, lambda *_: sys.exit(0))
udp = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
udp.bind(('127.0.0.1', int(sys.argv[2])))
class Handler(http.server.BaseHTTPRequestHandler):
    def do_GET(self):
        self.send_response(204)
        self.end_headers()
    def log_message(self, *args):
        pass
http.server.HTTPServer(('127.0.0.1', int(sys.argv[1])), Handler).serve_forever()
`,
    );
    return script;
  }

  async function exportServer(name: string, ...options: string[]) {
    const port = await freePort();
    const udp = await freePort();
    const layout = join(T, `${name}-layout`);
    const report = join(T, `${name}.json`);
    const result = await dit(
      'export',
      '-q',
      '--image',
      `oci:${layout}:v1`,
      '--report',
      report,
      '--probe-http',
      `http://127.0.0.1:${port}/=204`,
      '--stop-signal',
      'SIGINT',
      ...options,
      '--',
      'python3',
      portsServer(),
      String(port),
      String(udp),
    );
    const config = readImage(parseImageReference(`oci:${layout}:v1`)).config.config;
    return { result, port, udp, config, report: JSON.parse(readFileSync(report, 'utf8')) };
  }

  it('exposes the TCP port the server listened on, and stops the image with --stop-signal', async () => {
    const { result, port, udp, config, report } = await exportServer('listened');
    expect(result.stderr).toMatch(/^dit: wrote oci:\S+listened-layout:v1: manifest sha256:[0-9a-f]{64}, /);
    expect(result.status).toBe(0);
    // SIGINT stopped it in both runs: the server's handler is what ended it.
    expect(report.trace.service.stopped).toBe('signal');
    expect(report.verification).toMatchObject({ ok: true, service: { stopped: 'signal' } });
    // The UDP port was bound but never listened on: not a served port.
    expect(report.trace.listening).toEqual([
      { port, address: '127.0.0.1', family: 'AF_INET', pid: expect.any(Number) },
    ]);
    expect(report.trace.listening.map((socket: { port: number }) => socket.port)).not.toContain(udp);
    expect(config?.ExposedPorts).toEqual({ [`${port}/tcp`]: {} });
    expect(config?.StopSignal).toBe('SIGINT');
  });

  it('takes exactly the ports --expose gives instead', async () => {
    const { result, port, config, report } = await exportServer('expose', '--expose', '53/udp');
    expect(result.status).toBe(0);
    expect(report.trace.listening.map((socket: { port: number }) => socket.port)).toEqual([port]);
    expect(config?.ExposedPorts).toEqual({ '53/udp': {} });
    expect(config?.StopSignal).toBe('SIGINT');
  });
});
