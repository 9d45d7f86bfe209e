/**
 * `runtime_mounts DIR`, a shell function for a script running in a mount namespace of its own,
 * before it chroots into DIR: what a container runtime mounts into a container's root. /proc (a
 * fresh one; where the kernel refuses that, because the current /proc has parts masked as in a
 * container, the current one bound recursively), a minimal /dev on a tmpfs (null, zero, full,
 * random, urandom and tty bound from the host's, the fd, stdin, stdout and stderr links, /dev/shm
 * a tmpfs of its own for POSIX shared memory), and the mount points /proc, /dev and /tmp (1777)
 * where DIR lacks them.
 *
 * The verification run and the diagnosis run (the failing command traced again) both use it, so
 * the diagnosis sees what the verification saw: a shell's `cmd &` opens /dev/null, and without it
 * the traced run would die there instead of at the path the export lacks.
 */
export const RUNTIME_MOUNTS_FUNCTION = `
runtime_mounts() {
  for dir in proc dev tmp; do
    [ -d "$1/$dir" ] || [ -L "$1/$dir" ] || mkdir -m "$([ $dir = tmp ] && echo 1777 || echo 0755)" "$1/$dir" || return 1
  done
  mount -t proc proc "$1/proc" 2>/dev/null || mount --rbind /proc "$1/proc" || return 1
  mount -t tmpfs -o mode=0755,nosuid dev "$1/dev" || return 1
  for node in null zero full random urandom tty; do
    : > "$1/dev/$node" && mount --bind "/dev/$node" "$1/dev/$node" || return 1
  done
  mkdir "$1/dev/shm" && mount -t tmpfs -o mode=1777,nosuid,nodev shm "$1/dev/shm" || return 1
  ln -s /proc/self/fd "$1/dev/fd"
  ln -s /proc/self/fd/0 "$1/dev/stdin"
  ln -s /proc/self/fd/1 "$1/dev/stdout"
  ln -s /proc/self/fd/2 "$1/dev/stderr"
}
`;
