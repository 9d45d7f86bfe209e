import { main } from '../src/main.js';

/** Runs the CLI in-process, as `dit ARGV...` would, and returns what it printed and its exit status. */
export async function dit(...argv: string[]): Promise<{ status: number; stdout: string; stderr: string }> {
  let stdout = '';
  let stderr = '';
  const status = await main(argv, { stdout: (text) => (stdout += text), stderr: (text) => (stderr += text) });
  return { status, stdout, stderr };
}
