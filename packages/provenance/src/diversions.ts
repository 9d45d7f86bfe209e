/**
 * One `dpkg-divert` record. dpkg keeps them in `<admindir>/diversions` as three lines each: the
 * path packages ship (`from`), where the diverted package's copy goes instead (`to`), and the
 * package that diverts, or `:` for a local diversion made by the administrator.
 */
export interface Diversion {
  readonly from: string;
  readonly to: string;
  /** The diverting package's name, or null for a local diversion. */
  readonly by: string | null;
}

export function parseDiversions(text: string): Diversion[] {
  const lines = text.split('\n');
  if (lines.at(-1) === '') lines.pop();
  const diversions: Diversion[] = [];
  // A truncated last record (fewer than three lines) is ignored, as it names no owner.
  for (let i = 0; i + 2 < lines.length; i += 3) {
    const by = lines[i + 2]!;
    diversions.push({ from: lines[i]!, to: lines[i + 1]!, by: by === ':' ? null : by });
  }
  return diversions;
}
