// The daemon's history without Prometheus: host points (one a minute: MemAvailable, PSI, load,
// temperature) and events (pauses, the breaker, spawns, exits), kept in state_dir/history/ in
// files of their own, never in the state file, so nothing here can corrupt the task state.
//
// Bounds: each of the two logs (points, events) keeps at most 2 x HISTORY_FILE_MAX on disk, so
// the directory stays under 4 x 192 KiB = 768 KiB (plus one line per file). A point line is
// 60-90 bytes: one file holds 2,000-3,000 minutes, so 35-50 h are always kept, and up to twice
// that. Events are kept apart so that a burst of them never pushes points out of the last 24 h.
// Writes: about 1,440 point lines a day (~100 KB) plus the events; the bytes appended today are
// counted and shown by GET /history (`written`) and `warden status`.
import type { HostSample } from '../admission/evaluate.js';
import type { CoreEvent } from '../events/catalog.js';
import { ensureDirsUnder } from '../host/safe-open.js';
import { describeEvent } from '../log/events.js';
import type { Logger } from '../log/logger.js';
import { localDay } from '../policy/verdict.js';
import {
  decodeEvent,
  decodePoint,
  encodeEvent,
  encodePoint,
  foldSample,
  minuteOf,
  POINT_INTERVAL_MS,
  type HistoryEvent,
  type HistoryPoint,
} from './records.js';
import { RotatingLog } from './rotating-log.js';

/** The most one generation of one log may hold; 2 generations x 2 logs is the directory's bound. */
export const HISTORY_FILE_MAX = 192 * 1024;
export const HISTORY_MAX_BYTES = 4 * HISTORY_FILE_MAX;
/** The events status and `warden top` show without reading the files. */
const RECENT_EVENTS = 10;

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

export class History {
  readonly dir: string;
  private readonly points: RotatingLog;
  private readonly eventLog: RotatingLog;
  private pending: HistoryPoint | null = null;
  private lastWrittenMinute = -Infinity;
  private readonly recentEvents: HistoryEvent[] = [];
  private written = { day: '', bytes: 0 };
  private problem: string | null = null;

  constructor(private readonly deps: { stateDir: string; log: Logger; now: () => number; fileMax?: number }) {
    this.dir = `${deps.stateDir}/history`;
    const max = deps.fileMax ?? HISTORY_FILE_MAX;
    this.points = new RotatingLog(this.dir, 'points', max);
    this.eventLog = new RotatingLog(this.dir, 'events', max);
  }

  /** At start: make the directory, cut torn last lines, and pick up where the last run ended. */
  open(version: string): void {
    try {
      ensureDirsUnder(this.deps.stateDir, ['history']);
      const cut = this.points.repair() + this.eventLog.repair();
      if (cut > 0) this.deps.log.info('history: cut a torn last line (a crash during an append)', { bytes: cut });
      const last = this.points.lines().at(-1);
      const point = last === undefined ? null : decodePoint(last);
      if (point) this.lastWrittenMinute = point.at;
      for (const line of this.eventLog.lines().slice(-RECENT_EVENTS)) {
        const e = decodeEvent(line);
        if (e) this.recentEvents.push(e);
      }
    } catch (err) {
      this.fail(err);
    }
    this.note('start', `warden ${version} started`);
  }

  /** A host sample (each tick takes one): folded into its minute, written once the minute is over. */
  sample(s: HostSample): void {
    if (this.pending !== null && minuteOf(s.at) !== this.pending.at) {
      const done = this.pending;
      this.pending = null;
      if (done.at > this.lastWrittenMinute) {
        this.lastWrittenMinute = done.at;
        this.write(this.points, encodePoint(done));
      }
    }
    this.pending = foldSample(this.pending, s);
  }

  /** The decision core's events, as they are committed: pauses, the breaker, spawns and exits. */
  events(events: readonly CoreEvent[]): void {
    for (const e of events) this.note(e.type, describeEvent(e));
  }

  note(type: string, text: string): void {
    const e: HistoryEvent = { at: this.deps.now(), type, text };
    this.recentEvents.push(e);
    if (this.recentEvents.length > RECENT_EVENTS) this.recentEvents.shift();
    this.write(this.eventLog, encodeEvent(e));
  }

  /** The latest events, newest last. */
  recent(n = RECENT_EVENTS): HistoryEvent[] {
    return this.recentEvents.slice(-n);
  }

  /** Points and events since `since` (ms since the epoch), read from the files. */
  read(since: number): HistoryReport {
    const now = this.deps.now();
    const points: HistoryPoint[] = [];
    for (const line of this.points.lines()) {
      const p = decodePoint(line);
      if (p && p.at >= since) points.push(p);
    }
    if (this.pending && this.pending.at >= since && this.pending.at > this.lastWrittenMinute) points.push(this.pending);
    const events: HistoryEvent[] = [];
    for (const line of this.eventLog.lines()) {
      const e = decodeEvent(line);
      if (e && e.at >= since) events.push(e);
    }
    return {
      since,
      until: now,
      pointIntervalMs: POINT_INTERVAL_MS,
      points,
      events,
      disk: {
        dir: this.dir,
        bytes: this.points.diskBytes() + this.eventLog.diskBytes(),
        maxBytes: 2 * (this.points.maxBytes + this.eventLog.maxBytes),
      },
      written: this.writtenToday(now),
      problem: this.problem,
    };
  }

  private writtenToday(now: number): { day: string; bytes: number } {
    const day = localDay(now);
    if (this.written.day !== day) this.written = { day, bytes: 0 };
    return { ...this.written };
  }

  private write(log: RotatingLog, line: string): void {
    try {
      const bytes = log.append(line);
      const today = this.writtenToday(this.deps.now());
      this.written = { day: today.day, bytes: today.bytes + bytes };
      if (this.problem !== null) {
        this.deps.log.info('history: writing again', { dir: this.dir });
        this.problem = null;
      }
    } catch (err) {
      this.fail(err);
    }
  }

  /** A history that cannot be written is said once (until it works again), never fatal. */
  private fail(err: unknown): void {
    const message = `${(err as Error).message}`;
    if (this.problem === null) this.deps.log.warn('history: cannot write; points and events are dropped until it can', { error: message });
    this.problem = message;
  }
}
