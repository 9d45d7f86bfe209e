import type { LookupError } from '@dit/paths';

export function describeLookupError(error: LookupError): string {
  switch (error) {
    case 'ENOENT':
      return 'no such file (or a dangling symlink)';
    case 'ENOTDIR':
      return 'a component of the path is not a directory';
    case 'ELOOP':
      return 'too many levels of symbolic links (a symlink loop)';
    case 'EACCES':
      return 'permission denied (a directory on the way is not searchable)';
  }
}
