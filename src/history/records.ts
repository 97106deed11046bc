// What the history keeps, and how one record reads as a line (pure). Host points are the worst of
// the samples seen in one minute: the least MemAvailable, the most pressure, load and heat, so a
// spike between two points still shows. Keys are short on disk (the SD card writes every byte)
// and spelled out in GET /history.
import type { HostSample } from '../admission/evaluate.js';

export const POINT_INTERVAL_MS = 60_000;

/** One host point a minute. */
export interface HistoryPoint {
  /** The start of its minute. */
  at: number;
  memAvailable: number | null;
  /** PSI memory some avg10, percent. */
  memoryPressure: number | null;
  load1: number | null;
  temperatureC: number | null;
}

/** A pause, breaker, spawn or exit (every decision-core event), or the daemon starting. */
export interface HistoryEvent {
  at: number;
  type: string;
  text: string;
}

const worst = (a: number | null, b: number | null, pick: (x: number, y: number) => number): number | null =>
  a === null ? b : b === null ? a : pick(a, b);

/** The minute a time falls in. */
export function minuteOf(at: number): number {
  return Math.floor(at / POINT_INTERVAL_MS) * POINT_INTERVAL_MS;
}

/** Folds a sample into its minute's point (a sample of a later minute starts a new point). */
export function foldSample(point: HistoryPoint | null, s: HostSample): HistoryPoint {
  const at = minuteOf(s.at);
  const fresh: HistoryPoint = {
    at,
    memAvailable: s.memAvailable,
    memoryPressure: s.psiAvailable ? s.memoryPressure : null,
    load1: s.load1,
    temperatureC: s.temperatureC,
  };
  if (point === null || point.at !== at) return fresh;
  return {
    at,
    memAvailable: worst(point.memAvailable, fresh.memAvailable, Math.min),
    memoryPressure: worst(point.memoryPressure, fresh.memoryPressure, Math.max),
    load1: worst(point.load1, fresh.load1, Math.max),
    temperatureC: worst(point.temperatureC, fresh.temperatureC, Math.max),
  };
}

export function encodePoint(p: HistoryPoint): string {
  const t = p.temperatureC === null ? null : Math.round(p.temperatureC * 10) / 10;
  return JSON.stringify({ t: p.at, m: p.memAvailable, p: p.memoryPressure, l: p.load1, c: t });
}

export function encodeEvent(e: HistoryEvent): string {
  return JSON.stringify({ t: e.at, e: e.type, x: e.text });
}

const num = (v: unknown): number | null => (typeof v === 'number' && Number.isFinite(v) ? v : null);

/** A line back into a point; null for a torn or foreign line. */
export function decodePoint(line: string): HistoryPoint | null {
  const o = parseObject(line);
  const at = num(o?.t);
  if (o === null || at === null) return null;
  return { at, memAvailable: num(o.m), memoryPressure: num(o.p), load1: num(o.l), temperatureC: num(o.c) };
}

export function decodeEvent(line: string): HistoryEvent | null {
  const o = parseObject(line);
  const at = num(o?.t);
  if (o === null || at === null || typeof o.e !== 'string' || typeof o.x !== 'string') return null;
  return { at, type: o.e, text: o.x };
}

/**
 * The time of a line without parsing it (every line starts `{"t":<ms>,`), so a read skips the lines
 * before its window without building an object for each; null when the line does not start so.
 */
export function lineTime(line: string): number | null {
  if (!line.startsWith('{"t":')) return null;
  const end = line.indexOf(',', 5);
  const t = Number(line.slice(5, end < 0 ? undefined : end));
  return Number.isFinite(t) ? t : null;
}

function parseObject(line: string): Record<string, unknown> | null {
  try {
    const v: unknown = JSON.parse(line);
    return typeof v === 'object' && v !== null && !Array.isArray(v) ? (v as Record<string, unknown>) : null;
  } catch {
    return null;
  }
}

/** GET /history. */
export interface HistoryReport {
  since: number;
  until: number;
  pointIntervalMs: number;
  points: HistoryPoint[];
  events: HistoryEvent[];
  /** What the history takes on disk now, and its bound. */
  disk: { dir: string; bytes: number; maxBytes: number };
  /** Bytes this daemon appended on the local day `day` (the SD card's share). */
  written: { day: string; bytes: number };
  /** Why the history is not being written, if it is not (an unsafe file, a full disk). */
  problem: string | null;
}
