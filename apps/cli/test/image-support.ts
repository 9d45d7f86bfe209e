/** Helpers for the image tests: podman with the test-images' storage settings, skopeo, a small C program. */
import { spawnSync } from 'node:child_process';
import { writeFileSync } from 'node:fs';
import { join } from 'node:path';

const PODMAN_CONF = join(import.meta.dirname, '..', '..', '..', 'test-images', 'podman');

/** podman and skopeo as test-images/run.mjs runs them: vfs storage, no daemon. */
export const containerEnv = {
  ...process.env,
  CONTAINERS_CONF: process.env.CONTAINERS_CONF ?? join(PODMAN_CONF, 'containers.conf'),
  CONTAINERS_STORAGE_CONF: process.env.CONTAINERS_STORAGE_CONF ?? join(PODMAN_CONF, 'storage.conf'),
};

export function tool(
  command: string,
  ...args: string[]
): { status: number | null; stdout: string; stderr: string } {
  const result = spawnSync(command, args, { encoding: 'utf8', env: containerEnv, maxBuffer: 64 << 20 });
  return { status: result.status, stdout: result.stdout, stderr: result.stderr };
}

/** `skopeo inspect` (or `--config`, `--raw`) of a reference, parsed; throws with skopeo's message on failure. */
// biome-ignore lint/suspicious/noExplicitAny: skopeo's JSON, read field by field in the assertions
export function skopeo(reference: string, what: '' | '--config' | '--raw' = ''): Record<string, any> {
  const result = tool('skopeo', 'inspect', ...(what === '' ? [] : [what]), reference);
  if (result.status !== 0) throw new Error(`skopeo inspect ${reference}: ${result.stderr}`);
  return JSON.parse(result.stdout);
}

/**
 * A dynamically linked program that prints its uid and the name getpwuid gives it (so /etc/passwd
 * matters), and the first line of each file named in its arguments (so a file's readability does).
 */
export function buildHello(folder: string): string {
  const source = join(folder, 'hello.c');
  writeFileSync(
    source,
    `#include <stdio.h>
#include <pwd.h>
#include <unistd.h>
int main(int argc, char **argv) {
  struct passwd *pw = getpwuid(getuid());
  printf("hello uid=%d gid=%d name=%s\\n", (int)getuid(), (int)getgid(), pw ? pw->pw_name : "?");
  for (int i = 1; i < argc; i++) {
    FILE *f = fopen(argv[i], "r");
    char line[256];
    if (f == NULL || fgets(line, sizeof line, f) == NULL) { perror(argv[i]); return 3; }
    printf("%s", line);
    fclose(f);
  }
  return 0;
}
`,
  );
  const program = join(folder, 'hello');
  const gcc = spawnSync('gcc', ['-O2', '-o', program, source], { encoding: 'utf8' });
  if (gcc.status !== 0) throw new Error(`gcc: ${gcc.stderr}`);
  return program;
}
