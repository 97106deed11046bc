// Human units used in the config file: sizes ("512M", "2G") and durations ("10s", "5m", "2h").
// Parsing is strict: a bare number, a negative value or an unknown suffix is an error, because a
// silently misread limit (bytes instead of megabytes) is exactly the kind of bug warden exists to stop.

const SIZE_UNITS: Record<string, number> = {
  '': 1,
  B: 1,
  K: 1024,
  M: 1024 ** 2,
  G: 1024 ** 3,
  T: 1024 ** 4,
};

const DURATION_UNITS: Record<string, number> = {
  ms: 1,
  s: 1000,
  m: 60_000,
  h: 3_600_000,
  d: 86_400_000,
};

export type ParseResult = { ok: true; value: number } | { ok: false; error: string };

/** Parses "512M", "2G", "1.5G", "1048576" (bytes) into bytes. */
export function parseSize(text: string): ParseResult {
  const m = /^\s*(-?\d+(?:\.\d+)?)\s*([KMGT]?)(?:i?B)?\s*$/i.exec(text);
  if (!m) return { ok: false, error: `expected a size like "512M" or "2G", got ${JSON.stringify(text)}` };
  const n = Number(m[1]);
  if (n < 0) return { ok: false, error: `expected a non-negative size, got ${JSON.stringify(text)}` };
  const unit = (m[2] ?? '').toUpperCase();
  return { ok: true, value: Math.round(n * (SIZE_UNITS[unit] ?? 1)) };
}

/** Parses "10s", "5m", "2h", "1h30m", "250ms" into milliseconds. */
export function parseDuration(text: string): ParseResult {
  const trimmed = text.trim();
  if (trimmed.startsWith('-')) return { ok: false, error: `expected a non-negative duration, got ${JSON.stringify(text)}` };
  const re = /(\d+(?:\.\d+)?)(ms|s|m|h|d)/gy;
  let total = 0;
  let matched = 0;
  let m: RegExpExecArray | null;
  while ((m = re.exec(trimmed)) !== null) {
    total += Number(m[1]) * (DURATION_UNITS[m[2] ?? 's'] ?? 1000);
    matched = re.lastIndex;
  }
  if (trimmed.length === 0 || matched !== trimmed.length) {
    return { ok: false, error: `expected a duration like "10s", "5m" or "2h", got ${JSON.stringify(text)}` };
  }
  return { ok: true, value: Math.round(total) };
}

export function formatDuration(ms: number): string {
  if (ms < 1000) return `${Math.round(ms)}ms`;
  const s = Math.round(ms / 1000);
  if (s < 60) return `${s}s`;
  const m = Math.floor(s / 60);
  if (m < 60) return s % 60 ? `${m}m${s % 60}s` : `${m}m`;
  const h = Math.floor(m / 60);
  return m % 60 ? `${h}h${m % 60}m` : `${h}h`;
}

export function formatSize(bytes: number): string {
  for (const [unit, factor] of [
    ['G', 1024 ** 3],
    ['M', 1024 ** 2],
    ['K', 1024],
  ] as const) {
    if (bytes >= factor) {
      const v = bytes / factor;
      return `${Number.isInteger(v) ? v : v.toFixed(1)}${unit}`;
    }
  }
  return `${bytes}B`;
}
