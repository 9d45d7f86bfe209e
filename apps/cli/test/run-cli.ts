import { vi } from 'vitest';
import { main } from '../src/main.js';

/** Runs the CLI in-process, as `dit ARGV...` would, and returns what it printed and its exit status. */
export async function dit(...argv: string[]): Promise<{ status: number; stdout: string; stderr: string }> {
  let stdout = '';
  let stderr = '';
  const status = await main(argv, { stdout: (text) => (stdout += text), stderr: (text) => (stderr += text) });
  return { status, stdout, stderr };
}

/**
 * Runs `dit hash ARGV...` in-process with a fresh @dit/native, so that `DIT_NATIVE` (`''`: the addon,
 * `'0'`: TypeScript) takes effect; the caller's afterEach undoes the stubbed environment.
 */
export async function ditHash(
  nativeSetting: string,
  ...argv: string[]
): Promise<{ status: number; stdout: string; stderr: string }> {
  vi.stubEnv('DIT_NATIVE', nativeSetting);
  vi.resetModules();
  const { hash } = await import('../src/commands/hash.js');
  let stdout = '';
  let stderr = '';
  const status = await hash(argv, { stdout: (text) => (stdout += text), stderr: (text) => (stderr += text) });
  return { status, stdout, stderr };
}
