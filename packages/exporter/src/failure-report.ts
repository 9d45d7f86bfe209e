/**
 * What a failed verification shows of the command's own words, and which of the paths it missed are
 * worth naming.
 *
 * The real error is often the first thing a program says, followed by pages of shutdown noise
 * (apache2, PostgreSQL): a tail of five lines had scrolled past it. So the whole stderr is shown
 * when it is short, and otherwise its last lines with the first line that looks like an error kept
 * in front of them.
 */
const MAX_LINES = 50;
const ERROR_LINE =
  /error|fatal|fail|cannot|can't|could not|unable|not found|no such|denied|refused|exception|traceback|panic|abort/i;

export function stderrExcerpt(stderr: string): string {
  const lines = stderr.replace(/\s+$/, '').split('\n');
  if (lines.length === 1 && lines[0] === '') return '';
  if (lines.length <= MAX_LINES) return lines.join('\n');
  const tail = lines.slice(-MAX_LINES);
  const firstError = lines.findIndex((line) => ERROR_LINE.test(line));
  const skipped = lines.length - MAX_LINES;
  if (firstError < 0 || firstError >= skipped) {
    return [`[... ${skipped} earlier lines]`, ...tail].join('\n');
  }
  const between = skipped - firstError - 1;
  return [
    ...(firstError > 0 ? [`[... ${firstError} earlier lines]`] : []),
    lines[firstError]!,
    ...(between > 0 ? [`[... ${between} lines]`] : []),
    ...tail,
  ].join('\n');
}

/**
 * Files a container runtime puts into every container (bind mounts over the image's): an
 * `--include` of them could never change what the command sees.
 */
const RUNTIME_PROVIDED = new Set(['/etc/hosts', '/etc/hostname', '/etc/resolv.conf', '/etc/mtab']);

/** A path the failing run missed that an `--include` could not fix. */
export function unfixable(path: string): boolean {
  if (RUNTIME_PROVIDED.has(path)) return true;
  // What is under /tmp and /var/tmp at run time is the run's own: an application there is named by
  // the paths the traced run used, which are checked apart from these.
  return ['/tmp', '/var/tmp'].some((dir) => path === dir || path.startsWith(`${dir}/`));
}
