// Questions put to a server running in a final image started with `--network none`: the host's own
// Node.js is run inside the container's network namespace (nsenter -n), so no client has to be in
// the image and nothing leaves the namespace.
import { execFileSync } from 'node:child_process';
import { setTimeout as sleep } from 'node:timers/promises';

/**
 * Starts IMAGE detached with no network, runs `script` (a Node.js program printing the answer)
 * inside its network namespace until it succeeds (the server may still be starting), returns what
 * it printed, and removes the container.
 */
export async function askInside({ image, podman, script, runArgs = [] }) {
  const id = podman(['run', '-d', '--network', 'none', ...runArgs, image]).trim();
  try {
    const pid = podman(['inspect', '--format', '{{.State.Pid}}', id]).trim();
    let last = '';
    for (let attempt = 0; attempt < 75; attempt++) {
      try {
        return execFileSync('nsenter', ['-t', pid, '-n', process.execPath, '-e', script], {
          encoding: 'utf8',
          stdio: ['ignore', 'pipe', 'pipe'],
          timeout: 10_000,
        });
      } catch (error) {
        last = String(error.stderr ?? error.message)
          .trim()
          .split('\n')
          .at(-1);
        await sleep(200);
      }
    }
    throw new Error(`the server did not answer (${last}); its log:\n${podman(['logs', id])}`);
  } finally {
    podman(['rm', '-f', id]);
  }
}

/** A Node.js program that GETs `url` and prints the body (fails on a status of 400 or more). */
export function httpGet(url) {
  return `require('http').get(${JSON.stringify(url)}, (r) => { let b = ''; r.on('data', (c) => (b += c)); r.on('end', () => { if (r.statusCode >= 400) { console.error('HTTP ' + r.statusCode); process.exit(1); } process.stdout.write(b); }); }).on('error', (e) => { console.error(e.message); process.exit(1); });`;
}

/** A Node.js program that sends `request` (a latin1 string) to host:port and prints the first reply. */
export function tcpExchange(host, port, request) {
  return `const s = require('net').connect(${port}, ${JSON.stringify(host)}, () => s.write(Buffer.from(${JSON.stringify(request)}, 'latin1'))); s.once('data', (d) => { s.destroy(); process.stdout.write(d.toString('latin1'), () => process.exit(0)); }); s.on('error', (e) => { console.error(e.message); process.exit(1); }); setTimeout(() => { console.error('no reply'); process.exit(1); }, 5000).unref();`;
}
