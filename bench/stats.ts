// Small timing helpers for the benchmark: nanosecond clocks, percentiles, a warm-up + measure loop.

export interface Summary {
  n: number;
  p50: number;
  p99: number;
  max: number;
  mean: number;
}

/** Nanoseconds, monotonic. */
export function nowNs(): bigint {
  return process.hrtime.bigint();
}

/** Nearest-rank percentile of an ascending array. */
export function percentile(sorted: readonly number[], p: number): number {
  if (sorted.length === 0) return NaN;
  const rank = Math.min(sorted.length - 1, Math.max(0, Math.ceil((p / 100) * sorted.length) - 1));
  return sorted[rank] as number;
}

/** Summary of durations given in nanoseconds, reported in microseconds. */
export function summarize(ns: readonly number[]): Summary {
  const us = ns.map((x) => x / 1000).sort((a, b) => a - b);
  const mean = us.reduce((a, b) => a + b, 0) / Math.max(1, us.length);
  return { n: us.length, p50: percentile(us, 50), p99: percentile(us, 99), max: us[us.length - 1] ?? NaN, mean };
}

/** Times `fn` once per iteration after `warmup` untimed calls; returns the per-call nanoseconds. */
export function timeEach(fn: () => unknown, warmup: number, iterations: number): number[] {
  for (let i = 0; i < warmup; i++) fn();
  const out: number[] = new Array(iterations);
  for (let i = 0; i < iterations; i++) {
    const t0 = nowNs();
    fn();
    out[i] = Number(nowNs() - t0);
  }
  return out;
}

/**
 * Times two functions alternately (a, b, a, b, ...), so that noise from other tenants of a shared
 * machine hits both series alike and their ratio stays meaningful.
 */
export function timeInterleaved(a: () => unknown, b: () => unknown, warmup: number, iterations: number): [number[], number[]] {
  for (let i = 0; i < warmup; i++) {
    a();
    b();
  }
  const ta: number[] = new Array(iterations);
  const tb: number[] = new Array(iterations);
  for (let i = 0; i < iterations; i++) {
    let t0 = nowNs();
    a();
    ta[i] = Number(nowNs() - t0);
    t0 = nowNs();
    b();
    tb[i] = Number(nowNs() - t0);
  }
  return [ta, tb];
}

export function fmtUs(us: number): string {
  if (!Number.isFinite(us)) return '-';
  if (us >= 10_000) return `${(us / 1000).toFixed(1)} ms`;
  if (us >= 1000) return `${(us / 1000).toFixed(2)} ms`;
  if (us >= 100) return `${us.toFixed(0)} µs`;
  if (us >= 10) return `${us.toFixed(1)} µs`;
  return `${us.toFixed(2)} µs`;
}

export function fmtRatio(r: number): string {
  return Number.isFinite(r) ? `${r.toFixed(r >= 100 ? 0 : r >= 10 ? 1 : 2)}x` : '-';
}

export function fmtBytes(n: number): string {
  if (n >= 1024 ** 3) return `${(n / 1024 ** 3).toFixed(1)} GiB`;
  if (n >= 1024 * 1024) return `${(n / 1024 / 1024).toFixed(2)} MiB`;
  if (n >= 1024) return `${(n / 1024).toFixed(1)} KiB`;
  return `${n} B`;
}
