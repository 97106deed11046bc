// Finds where a key path sits in TOML text, so a validation error can say FILE:LINE:COL.
// smol-toml gives positions only for syntax errors; for schema errors we scan the text for the
// table header and the key. This understands the subset warden's config uses: [a] and [a.b]
// headers, dotted and bare keys. When a key is absent (a missing required key) it points at its
// table header, or at nothing.

export interface Position {
  line: number;
  column: number;
}

function stripQuotes(s: string): string {
  return s
    .trim()
    .replace(/^"(.*)"$/, '$1')
    .replace(/^'(.*)'$/, '$1');
}

export function locateKey(text: string, path: readonly (string | number)[]): Position | undefined {
  const keys = path.filter((p): p is string => typeof p === 'string');
  if (keys.length === 0) return undefined;
  const lines = text.split(/\r?\n/);
  let table: string[] = [];
  let best: Position | undefined;
  let bestDepth = 0;
  for (let i = 0; i < lines.length; i++) {
    const raw = lines[i] ?? '';
    const line = raw.replace(/^\s+/, '');
    if (line.startsWith('#') || line.length === 0) continue;
    const header = /^\[\s*([^\]]+?)\s*\]/.exec(line);
    if (header) {
      table = (header[1] ?? '').split('.').map(stripQuotes);
      const depth = prefixDepth(table, keys);
      if (depth === table.length && depth > bestDepth) {
        best = { line: i + 1, column: raw.indexOf('[') + 1 };
        bestDepth = depth;
      }
      continue;
    }
    const kv = /^([A-Za-z0-9_.\-"' ]+?)\s*=/.exec(line);
    if (!kv) continue;
    const full = [...table, ...(kv[1] ?? '').split('.').map(stripQuotes)];
    const depth = prefixDepth(full, keys);
    if (depth === full.length && depth > bestDepth) {
      best = { line: i + 1, column: raw.length - line.length + 1 };
      bestDepth = depth;
    }
  }
  return best;
}

function prefixDepth(a: readonly string[], b: readonly string[]): number {
  let n = 0;
  while (n < a.length && n < b.length && a[n] === b[n]) n++;
  return n;
}
