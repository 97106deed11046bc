// The console table every benchmark prints: the first column (and any listed in `left`)
// left-aligned, the rest right-aligned. Plus the two formats most tables share.

export function table(log: (s: string) => void, head: string[], rows: string[][], left: number[] = []): void {
  const widths = head.map((h, i) => Math.max(h.length, ...rows.map((r) => (r[i] ?? '').length)));
  const line = (cells: string[]) =>
    '  ' +
    cells
      .map((c, i) => (i === 0 || left.includes(i) ? c.padEnd(widths[i] ?? 0) : c.padStart(widths[i] ?? 0)))
      .join('  ')
      .trimEnd();
  log(line(head));
  log('  ' + widths.map((w) => '-'.repeat(w)).join('  '));
  for (const r of rows) log(line(r));
}

export const fmtX = (x: number) => (Number.isFinite(x) ? `${x.toFixed(2)}x` : '-');

/** Milliseconds with 3 significant digits. */
export const fmtMs = (x: number) =>
  Number.isFinite(x) ? (x >= 100 ? `${x.toFixed(0)} ms` : x >= 10 ? `${x.toFixed(1)} ms` : `${x.toFixed(2)} ms`) : '-';
