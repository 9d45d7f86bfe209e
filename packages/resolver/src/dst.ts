/**
 * Dynamic string tokens (docs/loader.md §5). glibc knows $ORIGIN, $LIB and $PLATFORM, as `$NAME` or
 * `${NAME}`; a bare name must not be followed by [A-Za-z0-9_] ($ORIGINX is literal text), and
 * unknown tokens stay as they are.
 */
export interface DstValues {
  /** null when the origin is unknown: an element using it is dropped. */
  readonly ORIGIN: string | null;
  readonly LIB: string;
  readonly PLATFORM: string;
}

const TOKEN = /\$(?:\{(ORIGIN|LIB|PLATFORM)\}|(ORIGIN|LIB|PLATFORM)(?![A-Za-z0-9_]))/g;

export function hasDst(text: string): boolean {
  TOKEN.lastIndex = 0;
  return TOKEN.test(text);
}

/** Expands the tokens in `text`; null when one of them has no value (the loader drops the element). */
export function expandDst(text: string, values: DstValues): string | null {
  if (!text.includes('$')) return text;
  let unknown = false;
  const expanded = text.replace(TOKEN, (_match, braced: string | undefined, bare: string | undefined) => {
    const value = values[(braced ?? bare) as keyof DstValues];
    if (value === null) {
      unknown = true;
      return '';
    }
    return value;
  });
  return unknown ? null : expanded;
}

/**
 * Turns an RPATH/RUNPATH/LD_LIBRARY_PATH string into the directory strings glibc searches: each
 * element DST-expanded, trailing slashes removed and one added back (elf/dl-load.c fillin_rpath).
 * An empty element becomes "" — the current directory, as the loader treats it.
 */
export function glibcPathList(text: string, separators: RegExp, values: DstValues): string[] {
  const dirs: string[] = [];
  for (const element of text.split(separators)) {
    const expanded = expandDst(element, values);
    if (expanded === null) continue;
    let end = expanded.length;
    while (end > 1 && expanded[end - 1] === '/') end--;
    const dir = expanded.slice(0, end);
    dirs.push(dir === '' || dir.endsWith('/') ? dir : `${dir}/`);
  }
  return dirs;
}
