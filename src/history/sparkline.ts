// The last hours as one line of block characters, for `warden status` and `warden top` (pure).
import type { HistoryPoint } from './records.js';

const BLOCKS = '▁▂▃▄▅▆▇█';

/** The series a sparkline can show, and which value of a column stands for it (the worst). */
export const SERIES = {
  memAvailable: { label: 'MemAvail', worst: Math.min },
  memoryPressure: { label: 'PSI mem', worst: Math.max },
  load1: { label: 'load1', worst: Math.max },
  temperatureC: { label: 'temp', worst: Math.max },
} as const;
export type SeriesKey = keyof typeof SERIES;

/** Splits [from, to) into `width` columns and keeps the worst value of the points in each; null: no point. */
export function columns(points: readonly HistoryPoint[], key: SeriesKey, from: number, to: number, width: number): (number | null)[] {
  const out: (number | null)[] = new Array<number | null>(width).fill(null);
  if (width <= 0 || to <= from) return out;
  const span = (to - from) / width;
  for (const p of points) {
    const v = p[key];
    if (v === null || p.at < from || p.at >= to) continue;
    const i = Math.min(width - 1, Math.floor((p.at - from) / span));
    const cur = out[i] ?? null;
    out[i] = cur === null ? v : SERIES[key].worst(cur, v);
  }
  return out;
}

/**
 * One block per value, scaled between `min` and `max` (by default those of the values); a column
 * without data is a space. A flat series draws at the bottom.
 */
export function sparkline(values: readonly (number | null)[], range: { min?: number; max?: number } = {}): string {
  const present = values.filter((v): v is number => v !== null);
  if (present.length === 0) return ' '.repeat(values.length);
  const min = range.min ?? Math.min(...present);
  const max = Math.max(range.max ?? Math.max(...present), min);
  return values
    .map((v) => {
      if (v === null) return ' ';
      const f = max === min ? 0 : (Math.min(max, Math.max(min, v)) - min) / (max - min);
      return BLOCKS[Math.min(BLOCKS.length - 1, Math.round(f * (BLOCKS.length - 1)))];
    })
    .join('');
}

/** The range of the present values of a series, for the label beside its line. */
export function extent(values: readonly (number | null)[]): { min: number; max: number } | null {
  const present = values.filter((v): v is number => v !== null);
  return present.length ? { min: Math.min(...present), max: Math.max(...present) } : null;
}
