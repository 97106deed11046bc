// Maps line numbers of compiled dist/*.js back to the TypeScript source. tsc drops types and
// re-wraps some statements (one TS line may become several JS lines), so lines are matched by
// content (whitespace removed) and aligned in order, like a longest common subsequence in which
// several consecutive JS lines may share one TS line, so repeated statements map to the right place.
const norm = (s: string) => s.replace(/\s+/g, '');

function matches(js: string, ts: string): boolean {
  const a = norm(js);
  const b = norm(ts);
  return a.length >= 12 && b.includes(a.replace(/;$/, ''));
}

/** 1-based JS line -> 1-based TS line, for the JS lines that could be matched. */
export function alignLines(jsText: string, tsText: string): Map<number, number> {
  const js = jsText.split('\n');
  const ts = tsText.split('\n');
  const n = js.length;
  const m = ts.length;
  const dp: Uint16Array[] = Array.from({ length: n + 1 }, () => new Uint16Array(m + 1));
  for (let i = n - 1; i >= 0; i--) {
    const row = dp[i] as Uint16Array;
    const next = dp[i + 1] as Uint16Array;
    for (let j = m - 1; j >= 0; j--) {
      const skip = Math.max(next[j] as number, row[j + 1] as number);
      row[j] = matches(js[i] ?? '', ts[j] ?? '') ? Math.max(skip, (next[j] as number) + 1) : skip;
    }
  }
  const map = new Map<number, number>();
  let i = 0;
  let j = 0;
  while (i < n && j < m) {
    if (matches(js[i] ?? '', ts[j] ?? '') && (dp[i] as Uint16Array)[j] === ((dp[i + 1] as Uint16Array)[j] as number) + 1) {
      map.set(i + 1, j + 1);
      i++; // the next JS line may continue the same TS line
    } else if (((dp[i + 1] as Uint16Array)[j] as number) >= ((dp[i] as Uint16Array)[j + 1] as number)) i++;
    else j++;
  }
  return map;
}
