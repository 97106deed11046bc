// Pieces `warden status` and `warden top` both show, as plain text (pure): a worker's usage, the
// pause clocks, the thresholds in force, the history's sparklines and the latest events.
import { formatDuration, formatSize } from '../config/units.js';
import type { HistoryReport } from '../history/records.js';
import type { HistoryEvent } from '../history/records.js';
import { columns, extent, SERIES, sparkline, type SeriesKey } from '../history/sparkline.js';
import type { StatusReport } from '../supervisor/report.js';
import type { WorkerUsage } from '../usage/meter.js';
import { localTime, relative, when } from './when.js';

type Worker = StatusReport['workers'][number];

/** `memory 312M of 2G (15%), peak 400M; cpu 43% over 2s; PSI 0.0%  [cgroup v1]`, or why there is none. */
export function usageText(w: Worker): string {
  const u = w.usage;
  if (!u) return 'usage: not read yet';
  return `${memoryText(u)}; ${cpuText(u)}${u.pressureSome10 === null ? '' : `; PSI ${u.pressureSome10.toFixed(1)}%`}  [${sourceText(u)}]`;
}

function memoryText(u: WorkerUsage): string {
  if (u.memoryBytes === null) return 'memory ?';
  const cap = u.limitBytes === null ? '' : ` of ${formatSize(u.limitBytes)} (${Math.round((100 * u.memoryBytes) / u.limitBytes)}%)`;
  const peak = u.peakBytes === null ? '' : `, peak ${formatSize(u.peakBytes)}`;
  return `memory ${formatSize(u.memoryBytes)}${cap}${peak}`;
}

function cpuText(u: WorkerUsage): string {
  if (u.cpuPercent === null) return 'cpu ? (next reading)';
  return `cpu ${Math.round(u.cpuPercent)}%${u.intervalMs === null ? '' : ` over ${formatDuration(u.intervalMs)}`}`;
}

export function sourceText(u: WorkerUsage): string {
  switch (u.source) {
    case 'cgroup-v1':
      return 'scope cgroup v1';
    case 'cgroup-v2':
      return 'scope cgroup v2';
    case 'proc':
      return '/proc, summed over the process group; no cap (direct executor)';
  }
}

/** One line per pause in force: since when, and when it may lift (the hysteresis clock). */
export function pauseLines(s: StatusReport, now: number): string[] {
  const clocks = s.pauseClocks ?? [];
  if (clocks.length === 0) return s.pause.paused ? [s.pause.reasons.join(', ')] : [];
  return clocks.map((c) => {
    const since = c.since === null ? '' : ` since ${when(c.since, now)}`;
    const lift = c.liftsAt === null ? `: waits for ${c.until}` : `: may lift at ${when(c.liftsAt, now)} ${c.until}`;
    return `${c.reason}${since}${lift}`;
  });
}

/** The thresholds in force, as one line. */
export function thresholdsText(s: StatusReport): string | null {
  const t = s.thresholds;
  if (!t) return null;
  return (
    `min_available_memory ${formatSize(t.minAvailableMemory)}, max_load_per_cpu ${t.maxLoadPerCpu}, max_memory_pressure ${t.maxMemoryPressure}%, ` +
    `max_temperature ${t.maxTemperature} °C, recover_after ${formatDuration(t.recoverAfterMs)}; ` +
    `breaker ${t.breaker.failures} in ${formatDuration(t.breaker.windowMs)}, cooldown ${formatDuration(t.breaker.cooldownMs)}`
  );
}

const SERIES_FORMAT: Record<SeriesKey, (v: number) => string> = {
  memAvailable: (v) => formatSize(v),
  memoryPressure: (v) => `${v.toFixed(1)}%`,
  load1: (v) => v.toFixed(2),
  temperatureC: (v) => `${v.toFixed(0)}°C`,
};

/**
 * The last `hours` as sparklines, one per series, `width` columns each. MemAvailable is drawn
 * from 0 to MemTotal when known, pressure from 0 to 100 % would hide small values: it is scaled
 * to its own range, as are load and temperature; the range is printed beside each line.
 */
export function historyLines(h: HistoryReport, now: number, hours: number, width: number, memTotal: number | null): string[] {
  const from = now - hours * 3_600_000;
  const out: string[] = [];
  for (const key of Object.keys(SERIES) as SeriesKey[]) {
    const cols = columns(h.points, key, from, now, width);
    const range = extent(cols);
    if (range === null) continue;
    const scale =
      key === 'memAvailable' && memTotal !== null ? { min: 0, max: memTotal } : { min: key === 'memoryPressure' ? 0 : range.min };
    const f = SERIES_FORMAT[key];
    out.push(`${SERIES[key].label.padEnd(9)}${sparkline(cols, scale)} ${f(range.min)}..${f(range.max)}`);
  }
  return out;
}

/** `14:03:12 (3m ago)  spawning gh-12 attempt 1`, newest last. */
export function eventLines(events: readonly HistoryEvent[], now: number, n: number): string[] {
  return events.slice(-n).map((e) => `${localTime(e.at, now)} ${relative(e.at, now).padStart(8)}  ${e.text}`);
}
