import type { NativeBinding } from './loader.js';

/**
 * Why the addon's layer writer would not give node:zlib's bytes, or undefined when it would: it
 * deflates with the zlib it finds in the process, which must be node:zlib's own
 * (`process.versions.zlib`, which may carry a build suffix such as `1.3.1-e00f703`).
 */
export function layerZlibProblem(binding: NativeBinding): string | undefined {
  const found = binding.layerZlib();
  if (found === null) return 'the addon finds no zlib in this process';
  const nodeZlib = process.versions.zlib ?? '';
  if (nodeZlib !== found && !nodeZlib.startsWith(`${found}-`)) {
    return `the addon finds zlib ${found} in this process, node:zlib is ${nodeZlib}`;
  }
  return undefined;
}
