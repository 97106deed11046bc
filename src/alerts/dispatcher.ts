// Sends alerts to every configured channel without ever holding up the supervisor: `emit` returns
// at once, deliveries run on their own, and a failed one is retried with backoff and then dropped
// (src/alerts/policy.ts decides). Nothing here throws into the caller. The dedupe memory is kept in
// a small file beside the state, so a crash-and-restart loop does not re-send the same alert.
import type { Logger } from '../log/logger.js';
import { readRegularText } from '../host/safe-open.js';
import { writeFileAtomic } from '../host/write-file-atomic.js';
import { alertFor, type Alert } from './alert.js';
import type { WardenEvent } from '../events/catalog.js';
import { admitAlert, afterDelivery, type AlertPolicySettings, type DedupeMemory, type DeliveryResult } from './policy.js';

export interface AlertChannel {
  /** "ntfy", "notify-send", "command". */
  readonly name: string;
  /** Resolves with the outcome; must not reject. `signal` aborts at the delivery timeout. */
  send(alert: Alert, signal: AbortSignal): Promise<DeliveryResult>;
}

export interface DispatcherSettings extends AlertPolicySettings {
  /** One delivery attempt may take this long (ms). */
  timeout: number;
}

/** Time, swappable for a fake clock in tests. */
export interface Clock {
  now(): number;
  setTimeout(fn: () => void, ms: number): unknown;
  clearTimeout(handle: unknown): void;
}

export const realClock: Clock = {
  now: () => Date.now(),
  setTimeout: (fn, ms) => setTimeout(fn, ms),
  clearTimeout: (h) => clearTimeout(h as NodeJS.Timeout),
};

/** Retries waiting at once, over all channels; past this the oldest is dropped (a long outage). */
export const MAX_WAITING_RETRIES = 100;

export interface ChannelStats {
  sent: number;
  failed: number;
  dropped: number;
}

interface Waiting {
  channel: AlertChannel;
  alert: Alert;
  attempt: number;
  timer: unknown;
}

export interface DispatcherOptions {
  channels: AlertChannel[];
  settings: DispatcherSettings;
  log: Logger;
  host: string;
  clock?: Clock;
  /** Where the dedupe memory is kept; null keeps it in memory only. */
  memoryFile?: string | null;
}

/** What the supervisor sees of alerting: hand over events; at shutdown, flush and stop. */
export interface AlertSink {
  emit(e: WardenEvent): void;
  stats(): { channels: Record<string, ChannelStats>; suppressed: number; waiting: number };
  drain(timeoutMs: number): Promise<void>;
  stop(): void;
}

export class AlertDispatcher implements AlertSink {
  private channels: AlertChannel[];
  private settings: DispatcherSettings;
  private memory: DedupeMemory;
  private readonly clock: Clock;
  private readonly log: Logger;
  private readonly host: string;
  private readonly memoryFile: string | null;
  private readonly inFlight = new Set<Promise<void>>();
  private readonly waiting = new Set<Waiting>();
  private readonly channelStats = new Map<string, ChannelStats>();
  private suppressedCount = 0;

  constructor(o: DispatcherOptions) {
    this.channels = o.channels;
    this.settings = o.settings;
    this.log = o.log;
    this.host = o.host;
    this.clock = o.clock ?? realClock;
    this.memoryFile = o.memoryFile ?? null;
    this.memory = this.loadMemory();
  }

  get channelNames(): string[] {
    return this.channels.map((c) => c.name);
  }

  /** Config reload: new channels and settings. Deliveries under way finish on the old ones. */
  reconfigure(channels: AlertChannel[], settings: DispatcherSettings): void {
    this.channels = channels;
    this.settings = settings;
  }

  /** Turns an event into an alert (if it is one), dedupes it, and starts its deliveries. */
  emit(e: WardenEvent): void {
    try {
      const alert = alertFor(e, { now: this.clock.now(), host: this.host });
      if (alert) this.send(alert);
    } catch (err) {
      this.log.error('alerts: could not handle an event (the supervisor carries on)', { event: e.type, error: (err as Error).message });
    }
  }

  /** Sends an alert unless it repeats one sent within repeat_after. Returns whether it went out. */
  send(alert: Alert): boolean {
    if (this.channels.length === 0) return false;
    const r = admitAlert(this.memory, alert, alert.at, this.settings.repeatAfter);
    this.memory = r.memory;
    if (!r.send) {
      this.suppressedCount++;
      this.log.info('alert not sent again: same key within alerts.repeat_after', {
        alert: alert.kind,
        key: alert.key,
        last_sent: new Date(r.lastSentAt ?? 0).toISOString(),
      });
      return false;
    }
    this.saveMemory();
    this.log.info('alert', { alert: alert.kind, title: alert.title, channels: this.channelNames.join(',') });
    for (const channel of this.channels) this.attempt(channel, alert, 1);
    return true;
  }

  private attempt(channel: AlertChannel, alert: Alert, attempt: number): void {
    const started = this.clock.now();
    const p = this.deliverOnce(channel, alert)
      .then((result) => {
        const stats = this.statsFor(channel.name);
        const ms = this.clock.now() - started;
        if (result.ok) {
          stats.sent++;
          this.log.info('alert delivered', {
            alert: alert.kind,
            channel: channel.name,
            attempt,
            ms,
            since_event_ms: this.clock.now() - alert.at,
            detail: result.detail,
          });
          return;
        }
        stats.failed++;
        const step = afterDelivery(attempt, result, this.settings);
        switch (step.action) {
          case 'retry':
            this.log.warn('alert delivery failed; retrying', {
              alert: alert.kind,
              channel: channel.name,
              attempt,
              retry_in_ms: step.inMs,
              error: result.error,
            });
            this.wait(channel, alert, attempt + 1, step.inMs);
            return;
          case 'drop':
            stats.dropped++;
            this.log.error('alert dropped', { alert: alert.kind, channel: channel.name, attempt, reason: step.reason });
            return;
          case 'done':
            return;
        }
      })
      .catch((err: unknown) =>
        this.log.error('alerts: delivery bookkeeping failed', { channel: channel.name, error: (err as Error).message }),
      )
      .finally(() => this.inFlight.delete(p));
    this.inFlight.add(p);
  }

  private async deliverOnce(channel: AlertChannel, alert: Alert): Promise<DeliveryResult> {
    try {
      return await channel.send(alert, AbortSignal.timeout(this.settings.timeout));
    } catch (err) {
      return { ok: false, retry: true, error: (err as Error).message };
    }
  }

  private wait(channel: AlertChannel, alert: Alert, attempt: number, ms: number): void {
    if (this.waiting.size >= MAX_WAITING_RETRIES) {
      const oldest = this.waiting.values().next().value as Waiting;
      this.clock.clearTimeout(oldest.timer);
      this.waiting.delete(oldest);
      this.statsFor(oldest.channel.name).dropped++;
      this.log.error('alert dropped: too many retries waiting', {
        alert: oldest.alert.kind,
        channel: oldest.channel.name,
        limit: MAX_WAITING_RETRIES,
      });
    }
    const w: Waiting = { channel, alert, attempt, timer: null };
    w.timer = this.clock.setTimeout(() => {
      this.waiting.delete(w);
      this.attempt(channel, alert, attempt);
    }, ms);
    this.waiting.add(w);
  }

  /** Waits for deliveries in flight (not for retries still waiting) at most `timeoutMs`. */
  async drain(timeoutMs: number): Promise<void> {
    const deadline = Date.now() + timeoutMs;
    while (this.inFlight.size > 0 && Date.now() < deadline) {
      let t: NodeJS.Timeout | undefined;
      await Promise.race([
        Promise.allSettled([...this.inFlight]),
        new Promise((r) => (t = setTimeout(r, Math.max(0, deadline - Date.now())))),
      ]);
      clearTimeout(t);
    }
  }

  /** Stops retries that are still waiting (at shutdown); they are logged as dropped. */
  stop(): void {
    for (const w of this.waiting) {
      this.clock.clearTimeout(w.timer);
      this.statsFor(w.channel.name).dropped++;
      this.log.warn('alert dropped at shutdown while waiting to retry', {
        alert: w.alert.kind,
        channel: w.channel.name,
        attempt: w.attempt,
      });
    }
    this.waiting.clear();
  }

  stats(): { channels: Record<string, ChannelStats>; suppressed: number; waiting: number } {
    return { channels: Object.fromEntries(this.channelStats), suppressed: this.suppressedCount, waiting: this.waiting.size };
  }

  private statsFor(name: string): ChannelStats {
    let s = this.channelStats.get(name);
    if (!s) this.channelStats.set(name, (s = { sent: 0, failed: 0, dropped: 0 }));
    return s;
  }

  private loadMemory(): DedupeMemory {
    if (!this.memoryFile) return {};
    try {
      const doc = JSON.parse(readRegularText(this.memoryFile)) as unknown;
      if (doc && typeof doc === 'object' && !Array.isArray(doc)) {
        return Object.fromEntries(Object.entries(doc).filter((kv): kv is [string, number] => typeof kv[1] === 'number'));
      }
      this.log.warn('alerts: ignoring a malformed dedupe file', { file: this.memoryFile });
    } catch (err) {
      if ((err as NodeJS.ErrnoException).code !== 'ENOENT')
        this.log.warn('alerts: ignoring an unreadable dedupe file', { file: this.memoryFile, error: (err as Error).message });
    }
    return {};
  }

  private saveMemory(): void {
    if (!this.memoryFile) return;
    try {
      writeFileAtomic(this.memoryFile, JSON.stringify(this.memory) + '\n', 0o600);
    } catch (err) {
      // losing the dedupe memory costs at most a repeated alert; never the loop
      this.log.warn('alerts: could not save the dedupe file', { file: this.memoryFile, error: (err as Error).message });
    }
  }
}
