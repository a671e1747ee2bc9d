/**
 * The known name closest to a misspelt one, for a "did you mean" hint: case-insensitive edit distance of at most
 * a third of the name (at least 2), or a name that differs only in case.
 *
 * @example
 * suggest('colection', ['collection', 'chain']); // 'collection'
 * suggest('apikey', ['url', 'apiKey']);          // 'apiKey'
 */
export function suggest(name: string, known: readonly string[]): string | undefined {
  const limit = Math.max(2, Math.floor(name.length / 3));
  let best: { name: string; distance: number } | undefined;
  for (const candidate of known) {
    const distance = editDistance(name.toLowerCase(), candidate.toLowerCase());
    if (distance <= limit && (!best || distance < best.distance)) best = { name: candidate, distance };
  }
  return best?.name;
}

/** Levenshtein distance (insertions, deletions, substitutions), one row at a time. */
function editDistance(a: string, b: string): number {
  let row = Array.from({ length: b.length + 1 }, (_, j) => j);
  for (let i = 1; i <= a.length; i++) {
    const next = [i];
    for (let j = 1; j <= b.length; j++) next[j] = Math.min(row[j] + 1, next[j - 1] + 1, row[j - 1] + (a[i - 1] === b[j - 1] ? 0 : 1));
    row = next;
  }
  return row[b.length];
}

/** The object keys a zod (v4) schema accepts at `path`, seen through defaults, pipes and arrays; [] if none. */
export function keysAt(schema: unknown, path: readonly PropertyKey[]): string[] {
  type Def = { innerType?: unknown; in?: unknown; out?: unknown; element?: unknown; shape?: Record<string, unknown>; type?: string };
  const defOf = (s: unknown) => (s as { _zod?: { def?: Def } })?._zod?.def;
  const unwrap = (s: unknown): unknown => {
    for (let def = defOf(s); def && (def.innerType || def.in); def = defOf(s)) s = def.type === 'pipe' ? def.out : def.innerType;
    return s;
  };
  let at = unwrap(schema);
  for (const key of path) {
    const def = defOf(at);
    at = unwrap(typeof key === 'number' ? def?.element : def?.shape?.[String(key)]);
  }
  return Object.keys(defOf(at)?.shape ?? {});
}
