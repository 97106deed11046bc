// A fake clock for unit tests of code that reads the time and sets timers: it replaces
// setTimeout/setInterval (and their clear functions) and Date.now with a virtual clock that moves
// only when the test says so.
//
// Why not node:test's `mock.timers` (Node 20.4+)? Checked on Node 20.20: `tick(ms)` first moves
// Date to the end of the tick and then fires every timer that was due, so a callback due at +5 ms
// of a `tick(20)` reads Date.now() as +20 ms, and a timer that callback sets inside the window
// does not fire in that tick. Nor can it wait, between two timers, for the async work a timer
// starts (a supervisor tick awaits its spawns). Here `advance(ms)` jumps from one due timer to the
// next, sets the time to each timer's own due time before firing it, and lets promises and
// pending I/O callbacks run (a few real setImmediate turns) before the next one. A test can jump
// hours in milliseconds of real time, and the order of events does not depend on machine speed.
//
// setImmediate and process.nextTick stay real: settle() uses them to let async work finish.
// `new Date()` without an argument is not faked (only Date.now), which is what the code reads.

interface Timer {
  id: number;
  at: number;
  seq: number;
  fn: (...args: unknown[]) => void;
  args: unknown[];
  /** null for a one-shot timer, else the interval's period. */
  every: number | null;
}

const real = {
  setTimeout: globalThis.setTimeout,
  clearTimeout: globalThis.clearTimeout,
  setInterval: globalThis.setInterval,
  clearInterval: globalThis.clearInterval,
  setImmediate: globalThis.setImmediate,
  dateNow: Date.now,
};

/** What the fake setTimeout returns: enough of NodeJS.Timeout for code that refs, unrefs or clears it. */
class FakeTimeout {
  constructor(
    readonly id: number,
    private readonly clock: FakeClock,
  ) {}
  ref(): this {
    return this;
  }
  unref(): this {
    return this;
  }
  hasRef(): boolean {
    return true;
  }
  refresh(): this {
    this.clock.refresh(this.id);
    return this;
  }
  close(): this {
    this.clock.clear(this);
    return this;
  }
  [Symbol.toPrimitive](): number {
    return this.id;
  }
}

/** How many real event-loop turns settle() gives async work between two timers. */
const SETTLE_TURNS = 5;
/** A guard against code that keeps setting zero-delay timers forever. */
const MAX_FIRES_PER_SETTLE = 10_000;

export class FakeClock {
  private t: number;
  private readonly timers = new Map<number, Timer>();
  private nextId = 1;
  private seq = 0;
  private installed = false;

  /** Starts at a fixed, realistic time (not 0: timestamps of 0 look like "never"). */
  constructor(start = Date.UTC(2025, 0, 6, 9, 0, 0)) {
    this.t = start;
  }

  /** The current virtual time in ms; pass it as an injected `now`. */
  readonly now = (): number => this.t;

  /** Replaces the global timer functions and Date.now until uninstall(). */
  install(): void {
    if (this.installed) throw new Error('FakeClock is already installed');
    this.installed = true;
    const add = (fn: unknown, ms: unknown, args: unknown[], every: boolean) => {
      if (typeof fn !== 'function') throw new TypeError('FakeClock: the callback must be a function');
      const delay = Math.max(0, Number(ms) || 0);
      const id = this.nextId++;
      this.timers.set(id, {
        id,
        at: this.t + delay,
        seq: this.seq++,
        fn: fn as Timer['fn'],
        args,
        every: every ? Math.max(1, delay) : null,
      });
      return new FakeTimeout(id, this);
    };
    const clear = (h: unknown) => {
      if (h instanceof FakeTimeout) this.clear(h);
      else if (h !== undefined && h !== null) real.clearTimeout(h as NodeJS.Timeout);
    };
    Object.assign(globalThis, {
      setTimeout: (fn: unknown, ms?: unknown, ...args: unknown[]) => add(fn, ms, args, false),
      setInterval: (fn: unknown, ms?: unknown, ...args: unknown[]) => add(fn, ms, args, true),
      clearTimeout: clear,
      clearInterval: clear,
    });
    Date.now = this.now;
  }

  uninstall(): void {
    if (!this.installed) return;
    this.installed = false;
    Object.assign(globalThis, {
      setTimeout: real.setTimeout,
      clearTimeout: real.clearTimeout,
      setInterval: real.setInterval,
      clearInterval: real.clearInterval,
    });
    Date.now = real.dateNow;
    this.timers.clear();
  }

  clear(h: FakeTimeout): void {
    this.timers.delete(h.id);
  }

  refresh(id: number): void {
    const timer = this.timers.get(id);
    if (timer) timer.at = this.t + (timer.every ?? 0);
  }

  /** Timers set and not yet fired or cleared. */
  pending(): number {
    return this.timers.size;
  }

  /** Lets promises and I/O callbacks run, and fires the timers due by now, until nothing is left to do. */
  async settle(): Promise<void> {
    for (let fired = 0; ; fired++) {
      for (let i = 0; i < SETTLE_TURNS; i++) await new Promise<void>((resolve) => real.setImmediate(resolve));
      const next = this.nextDue(this.t);
      if (!next) return;
      if (fired >= MAX_FIRES_PER_SETTLE) throw new Error('FakeClock: timers keep firing without the time moving');
      this.fire(next);
    }
  }

  /** Moves the time forward by `ms`, firing each timer due on the way at its own due time. */
  async advance(ms: number): Promise<void> {
    if (ms < 0) throw new Error('FakeClock: time does not go backwards');
    const target = this.t + ms;
    await this.settle();
    for (;;) {
      const next = this.nextDue(target);
      if (!next) break;
      this.t = Math.max(this.t, next.at);
      this.fire(next);
      await this.settle();
    }
    this.t = target;
    await this.settle();
  }

  /** advance() to an absolute time (no-op if it has passed). */
  async advanceTo(time: number): Promise<void> {
    await this.advance(Math.max(0, time - this.t));
  }

  private nextDue(limit: number): Timer | null {
    let best: Timer | null = null;
    for (const timer of this.timers.values()) {
      if (timer.at > limit) continue;
      if (!best || timer.at < best.at || (timer.at === best.at && timer.seq < best.seq)) best = timer;
    }
    return best;
  }

  private fire(timer: Timer): void {
    if (timer.every === null) this.timers.delete(timer.id);
    else {
      timer.at += timer.every;
      timer.seq = this.seq++;
    }
    timer.fn(...timer.args);
  }
}
