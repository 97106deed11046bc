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
  lineTime,
  minuteOf,
  POINT_INTERVAL_MS,
  type HistoryEvent,
  type HistoryPoint,
  type HistoryReport,
} from './records.js';
import { RotatingLog } from './rotating-log.js';

/** The most one generation of one log may hold; 2 generations x 2 logs is the directory's bound. */
export const HISTORY_FILE_MAX = 192 * 1024;
export const HISTORY_MAX_BYTES = 4 * HISTORY_FILE_MAX;
/** The events status and `warden top` show. */
const RECENT_EVENTS = 10;
/**
 * The last hours are also kept in memory (at most 360 points and MEMORY_EVENTS events), so that
 * `warden status` and `warden top`, which ask for 6 h, do not read the files: reading them grew
 * the daemon's heap by about 12 MB after ten requests (docs/benchmarks.md).
 */
export const MEMORY_HOURS = 6;
const MEMORY_EVENTS = 300;

export class History {
  readonly dir: string;
  private readonly points: RotatingLog;
  private readonly eventLog: RotatingLog;
  private pending: HistoryPoint | null = null;
  private lastWrittenMinute = -Infinity;
  private readonly recentEvents: HistoryEvent[] = [];
  private readonly memPoints: HistoryPoint[] = [];
  private memEventsFrom = 0;
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
      const from = this.deps.now() - MEMORY_HOURS * 3_600_000;
      for (const line of this.points.lines()) {
        const p = (lineTime(line) ?? 0) >= from ? decodePoint(line) : null;
        if (p) this.memPoints.push(p);
      }
      this.lastWrittenMinute = this.memPoints.at(-1)?.at ?? -Infinity;
      const lines = this.eventLog.lines();
      this.memEventsFrom = lines.length > MEMORY_EVENTS ? (lineTime(lines[lines.length - MEMORY_EVENTS]!) ?? Infinity) : 0;
      for (const line of lines.slice(-MEMORY_EVENTS)) {
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
        this.memPoints.push(done);
        const from = this.deps.now() - MEMORY_HOURS * 3_600_000;
        while ((this.memPoints[0]?.at ?? Infinity) < from) this.memPoints.shift();
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
    if (this.recentEvents.length > MEMORY_EVENTS) this.memEventsFrom = this.recentEvents.shift()!.at + 1;
    this.write(this.eventLog, encodeEvent(e));
  }

  /** The latest events, newest last. */
  recent(n = RECENT_EVENTS): HistoryEvent[] {
    return this.recentEvents.slice(-n);
  }

  /** Points and events since `since` (ms since the epoch): from memory for the last MEMORY_HOURS, else from the files. */
  read(since: number): HistoryReport {
    const now = this.deps.now();
    const fromMemory = since >= now - MEMORY_HOURS * 3_600_000 && since >= this.memEventsFrom;
    let points: HistoryPoint[];
    let events: HistoryEvent[];
    if (fromMemory) {
      points = this.memPoints.filter((p) => p.at >= since);
      events = this.recentEvents.filter((e) => e.at >= since);
    } else {
      points = [];
      events = [];
      const inWindow = (line: string) => (lineTime(line) ?? 0) >= since;
      for (const line of this.points.lines().filter(inWindow)) {
        const p = decodePoint(line);
        if (p && p.at >= since) points.push(p);
      }
      for (const line of this.eventLog.lines().filter(inWindow)) {
        const e = decodeEvent(line);
        if (e && e.at >= since) events.push(e);
      }
    }
    if (this.pending && this.pending.at >= since && this.pending.at > this.lastWrittenMinute) points.push(this.pending);
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
