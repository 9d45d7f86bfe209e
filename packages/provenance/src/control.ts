/**
 * Debian control data as dpkg writes its `status` file (deb822 without signatures): stanzas
 * separated by blank lines, `Field: value` lines, continuation lines starting with a space or a tab.
 * The stanza's text is kept byte for byte, so it can be written out again exactly as dpkg recorded it.
 */
export interface Stanza {
  /** Fields in file order; names as written (dpkg compares them without case). */
  readonly fields: readonly (readonly [name: string, value: string])[];
  /** The stanza's lines as they were, without the blank line that ends it, with a final newline. */
  readonly text: string;
}

export function parseStanzas(text: string): Stanza[] {
  const stanzas: Stanza[] = [];
  let lines: string[] = [];
  const flush = () => {
    if (lines.length > 0) stanzas.push(parseStanza(lines));
    lines = [];
  };
  for (const line of text.split('\n')) {
    // A line of only blanks ends a stanza, as it does for dpkg's parser.
    if (/^[ \t]*$/.test(line)) flush();
    else lines.push(line);
  }
  flush();
  return stanzas;
}

function parseStanza(lines: readonly string[]): Stanza {
  const fields: [string, string][] = [];
  for (const line of lines) {
    if (line.startsWith(' ') || line.startsWith('\t')) {
      // A continuation line belongs to the field before it (a stray one before any field is dropped).
      const last = fields.at(-1);
      if (last !== undefined) last[1] += `\n${line}`;
      continue;
    }
    const colon = line.indexOf(':');
    if (colon <= 0) continue; // not a field: dpkg would refuse the file; we keep what is readable
    fields.push([line.slice(0, colon), line.slice(colon + 1).trim()]);
  }
  return { fields, text: `${lines.join('\n')}\n` };
}

/** The value of `name` (compared without case, as dpkg does), or undefined. */
export function field(stanza: Stanza, name: string): string | undefined {
  const wanted = name.toLowerCase();
  return stanza.fields.find(([key]) => key.toLowerCase() === wanted)?.[1];
}

/**
 * The stanza's text with its Status field set to `status` (added after Package when missing): the
 * other lines stay exactly as dpkg wrote them.
 */
export function withStatus(stanza: Stanza, status: string): string {
  const out: string[] = [];
  const hasStatus = field(stanza, 'status') !== undefined;
  let skipping = false;
  for (const line of stanza.text.slice(0, -1).split('\n')) {
    if (skipping && (line.startsWith(' ') || line.startsWith('\t'))) continue;
    skipping = false;
    if (/^status:/i.test(line)) {
      out.push(`Status: ${status}`);
      skipping = true;
      continue;
    }
    out.push(line);
    if (!hasStatus && /^package:/i.test(line)) out.push(`Status: ${status}`);
  }
  return `${out.join('\n')}\n`;
}
