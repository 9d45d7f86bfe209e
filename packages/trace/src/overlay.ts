/**
 * `overlay_root DIR`, a shell function for a script running in a mount namespace of its own: it
 * mounts, over DIR itself, an overlay whose lower layer is DIR and whose upper layer is a fresh
 * tmpfs. Whatever runs in DIR afterwards sees all of it and may write anywhere, as in a container's
 * root, while DIR itself never changes: the writes live in memory and vanish with the namespace.
 *
 * The layers are reached without naming them in the mount options (DIR through fd 3, opened before
 * the tmpfs covers it; the upper layer relative to the working directory), so no path of DIR is ever
 * parsed as options (a `,` or `:` in it would be). Returns 1, with nothing mounted, where the kernel
 * refuses the overlay.
 */
export const OVERLAY_ROOT_FUNCTION = `
overlay_root() {
  exec 3< "$1"
  if mount -t tmpfs -o mode=0755 dit-layer "$1" 2>/dev/null; then
    cd "$1"
    if mkdir upper work && chown --reference=/proc/self/fd/3 upper && chmod --reference=/proc/self/fd/3 upper &&
      mount -t overlay -o lowerdir=/proc/self/fd/3,upperdir=upper,workdir=work dit-root "$1" 2>/dev/null; then
      cd /
      exec 3<&-
      return 0
    fi
    cd /
    umount "$1"
  fi
  exec 3<&-
  return 1
}
`;
