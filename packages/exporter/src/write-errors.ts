/** Short human causes for the errors a write can end in, with the errno kept for searching. */
const WRITE_ERRORS: Record<string, string> = {
  ENOSPC: 'no space left on the device',
  EDQUOT: 'disk quota exceeded',
  EROFS: 'read-only filesystem',
  EACCES: 'permission denied',
  EPERM: 'operation not permitted',
  ENOENT: 'a folder on the way does not exist',
  ENOTDIR: 'a part of the path is not a folder',
  EXDEV: 'crosses filesystems',
  EIO: 'input/output error',
  EMLINK: 'too many links',
  ENAMETOOLONG: 'name too long',
  ELOOP: 'too many levels of symbolic links',
  EBUSY: 'busy (a mount point?)',
  ENOTEMPTY: 'folder not empty',
};

/** One short human cause for a failed write, with the errno for searching. */
export function describeWriteError(error: unknown): string {
  const code = (error as NodeJS.ErrnoException | null)?.code;
  if (code !== undefined && code in WRITE_ERRORS) return `${WRITE_ERRORS[code]} (${code})`;
  return (error as Error | null)?.message ?? String(error);
}
