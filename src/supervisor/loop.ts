// The loop's timing: one tick at a time, a tick asked for during a tick runs right after it, and
// an idle loop sleeps until the decision core's next wake-up, the poll interval or the watchdog's
// half-period, whichever comes first. What a tick does is the supervisor's.
import type { Logger } from '../log/logger.js';
export interface TickLoopDeps {
  now: () => number;
  /** One turn of the loop; returns when the decision core next expects a change (or null). */
  body: () => Promise<number | null>;
  /** A turn that threw; the loop goes on (the next turn may succeed). */
  failed: (err: Error) => void;
  /** After each completed turn (the watchdog heartbeat). */
  after: () => void;
  /** The longest sleep between turns. */
  maxDelay: () => number;
}

export class TickLoop {
  private timer: NodeJS.Timeout | null = null;
  private running = false;
  private again = false;
  private stopped = false;
  /** When the last turn ended (0 before the first): what /healthz checks. */
  lastTickAt = 0;

  constructor(private readonly deps: TickLoopDeps) {}

  get ticking(): boolean {
    return this.running;
  }

  /** Runs a turn as soon as possible (after the current one, if one is running). */
  request(): void {
    if (this.stopped) return;
    if (this.running) {
      this.again = true;
      return;
    }
    this.arm(0);
  }

  stop(): void {
    this.stopped = true;
    if (this.timer) clearTimeout(this.timer);
    this.timer = null;
  }

  private arm(delay: number): void {
    if (this.timer) clearTimeout(this.timer);
    this.timer = setTimeout(() => void this.turn(), delay);
  }

  private async turn(): Promise<void> {
    if (this.stopped || this.running) return;
    this.running = true;
    this.timer = null;
    let wakeAt: number | null = null;
    try {
      wakeAt = await this.deps.body();
    } catch (err) {
      this.deps.failed(err as Error);
    } finally {
      this.running = false;
      this.lastTickAt = this.deps.now();
    }
    if (this.stopped) return;
    this.deps.after();
    if (this.again) {
      this.again = false;
      this.request();
      return;
    }
    let delay = this.deps.maxDelay();
    if (wakeAt !== null) delay = Math.min(delay, Math.max(0, wakeAt - this.deps.now()) + 5);
    this.arm(delay);
  }
}

/** WARDEN_DEBUG_STALL=1 (tests of the watchdog): SIGUSR2 wedges the loop, so heartbeats stop. */
export function onStallSignal(log: Logger, wedge: () => void): void {
  process.on('SIGUSR2', () => {
    log.warn('debug: SIGUSR2 received, wedging the supervisor loop (test trigger)');
    wedge();
  });
}
