// "did you mean": the known words closest to a mistyped one. Distance is optimal string alignment
// (Levenshtein plus adjacent transpositions: `stauts` is one edit from `status`); a word that
// starts a known one (`stat`) counts as close too.

/** Edits (insert, delete, substitute, swap two neighbours) that turn `a` into `b`. */
export function editDistance(a: string, b: string): number {
  const d: number[][] = Array.from({ length: a.length + 1 }, (_, i) =>
    Array.from({ length: b.length + 1 }, (_, j) => (i === 0 ? j : j === 0 ? i : 0)),
  );
  for (let i = 1; i <= a.length; i++)
    for (let j = 1; j <= b.length; j++) {
      const cost = a[i - 1] === b[j - 1] ? 0 : 1;
      let best = Math.min(d[i - 1]![j]! + 1, d[i]![j - 1]! + 1, d[i - 1]![j - 1]! + cost);
      if (i > 1 && j > 1 && a[i - 1] === b[j - 2] && a[i - 2] === b[j - 1]) best = Math.min(best, d[i - 2]![j - 2]! + 1);
      d[i]![j] = best;
    }
  return d[a.length]![b.length]!;
}

/** The candidates close to `word`, closest first: at most 2 edits (1 for words of 3 letters or fewer), or a prefix. */
export function closest(word: string, candidates: readonly string[]): string[] {
  const w = word.toLowerCase();
  const limit = w.length <= 3 ? 1 : 2;
  return candidates
    .map((c) => ({ c, d: w.length >= 2 && c.startsWith(w) ? 0.5 : editDistance(w, c) }))
    .filter((x) => x.d <= limit)
    .sort((x, y) => x.d - y.d)
    .map((x) => x.c);
}

/** `did you mean "status"?`, or the whole list when nothing is close. */
export function didYouMean(word: string, candidates: readonly string[], quote = (s: string) => `"${s}"`): string {
  const near = closest(word, candidates);
  if (near.length) return `did you mean ${near.slice(0, 3).map(quote).join(' or ')}?`;
  return `choose one of: ${candidates.join(', ')}`;
}
