// Where what happened goes: each core event to the journal at its level, every event to the
// metrics counters and to the alerts, which decide what reaches the owner. Nothing here decides.
import type { AlertSink } from '../alerts/dispatcher.js';
import { countEvent, emptyCounts, type EventCounts } from '../control/metrics.js';
import type { CoreEvent, WardenEvent } from '../events/catalog.js';
import { describeEvent, eventLevel } from '../log/events.js';
import type { Logger } from '../log/logger.js';

/** How long the shutdown waits for alert deliveries in flight. */
const ALERT_FLUSH_MS = 3000;

export class EventSink {
  private readonly counts: EventCounts = emptyCounts();

  /** `trail`: the history (src/history/), which keeps pauses, the breaker, spawns and exits. */
  constructor(private readonly deps: { log: Logger; alerts: AlertSink | undefined; trail?: { events(e: readonly CoreEvent[]): void } }) {}

  /** Core events, after the state that produced them was saved. */
  record(events: readonly CoreEvent[]): void {
    for (const e of events) {
      this.deps.log[eventLevel(e)](describeEvent(e), { event: e.type });
      this.observe(e);
    }
    this.deps.trail?.events(events);
  }

  /** Metrics count every event; the alerts decide which ones reach the owner. */
  observe(e: WardenEvent): void {
    countEvent(this.counts, e);
    this.deps.alerts?.emit(e);
  }

  /** Event counts since the daemon started, to read now (/metrics renders them at once). */
  get current(): Readonly<EventCounts> {
    return this.counts;
  }

  /** Event counts since the daemon started (a copy, for the digest to keep). */
  totals(): EventCounts {
    return structuredClone(this.counts);
  }

  /** At shutdown: alerts in flight get a moment (a task that died just before SIGTERM is still reported). */
  async flush(): Promise<void> {
    await this.deps.alerts?.drain(ALERT_FLUSH_MS);
    this.deps.alerts?.stop();
  }
}
