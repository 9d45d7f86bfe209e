// Installs the npm dependency into the build context before the image is built: the registry is
// reachable from this machine but not from inside a podman build here (TLS interception whose CA
// only the host trusts). The Dockerfile then COPYs the application with its node_modules.
import { execFileSync } from 'node:child_process';
import { join } from 'node:path';

export function prepare({ context }) {
  execFileSync('npm', ['install', '--omit=dev', '--no-audit', '--no-fund', '--no-package-lock'], {
    cwd: join(context, 'app'),
    stdio: ['ignore', 'ignore', 'inherit'],
  });
}
