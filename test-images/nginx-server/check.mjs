// The final image is a server: start it with no network, fetch the page from inside its network
// namespace with the host's curl, stop it, and hand the page to the harness to compare.
import { execFileSync } from 'node:child_process';
import { setTimeout as sleep } from 'node:timers/promises';

export async function check({ image, podman }) {
  const id = podman(['run', '-d', '--network', 'none', image]).trim();
  try {
    const pid = podman(['inspect', '--format', '{{.State.Pid}}', id]).trim();
    for (let attempt = 0; attempt < 50; attempt++) {
      try {
        return execFileSync('nsenter', ['-t', pid, '-n', 'curl', '-fsS', 'http://127.0.0.1:8080/'], {
          encoding: 'utf8',
          stdio: ['ignore', 'pipe', 'ignore'],
        });
      } catch {
        await sleep(200);
      }
    }
    throw new Error(`the server did not answer; its log:\n${podman(['logs', id])}`);
  } finally {
    podman(['rm', '-f', id]);
  }
}
