// The alert dispatcher on a fake clock: retries, dedupe and its memory file, and never blocking
// or throwing into the supervisor.
import assert from 'node:assert/strict';
import { writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, test } from 'node:test';
import { type Alert } from '../../../src/alerts/alert.ts';
import {
  AlertDispatcher,
  MAX_WAITING_RETRIES,
  type AlertChannel,
  type Clock,
  type DispatcherSettings,
} from '../../../src/alerts/dispatcher.ts';
import { type DeliveryResult } from '../../../src/alerts/policy.ts';
import { createLogger } from '../../../src/log/logger.ts';
import { TASK_DEAD as DEAD } from '../../helpers/alerts.ts';
import { tempRoot } from '../../helpers/tmp.ts';
import { MINUTE, SECOND } from '../../helpers/units.ts';

const tmp = tempRoot('alerts-test').path;

/** A clock whose timers run only when the test advances it. */
class FakeClock implements Clock {
  t = 0;
  private timers: { at: number; fn: () => void; id: number }[] = [];
  private nextId = 0;
  now = () => this.t;
  setTimeout = (fn: () => void, ms: number) => {
    const id = ++this.nextId;
    this.timers.push({ at: this.t + ms, fn, id });
    return id;
  };
  clearTimeout = (h: unknown) => {
    this.timers = this.timers.filter((x) => x.id !== h);
  };
  /** Moves time forward, running each due timer and letting its promises settle. */
  async advance(ms: number): Promise<void> {
    const end = this.t + ms;
    for (;;) {
      await flush();
      const due = this.timers.filter((x) => x.at <= end).sort((a, b) => a.at - b.at)[0];
      if (!due) break;
      this.timers = this.timers.filter((x) => x !== due);
      this.t = due.at;
      due.fn();
    }
    this.t = end;
    await flush();
  }
  get pending(): number {
    return this.timers.length;
  }
}

const flush = async () => {
  for (let i = 0; i < 10; i++) await new Promise<void>((r) => setImmediate(r));
};

/** The phone: a channel that records each attempt at fake time and answers from a script. */
class ScriptedChannel implements AlertChannel {
  attempts: { at: number; key: string }[] = [];
  constructor(
    readonly name: string,
    private readonly clock: FakeClock,
    private readonly answer: (n: number) => DeliveryResult | 'throw' | 'hang',
  ) {}
  send(alert: Alert): Promise<DeliveryResult> {
    this.attempts.push({ at: this.clock.t, key: alert.key });
    const a = this.answer(this.attempts.length);
    if (a === 'throw') return Promise.reject(new Error('boom'));
    if (a === 'hang') return new Promise(() => {});
    return Promise.resolve(a);
  }
}

function quietLog(lines: string[] = []) {
  return createLogger({ write: (l) => lines.push(l), timestamps: false, level: 'debug' });
}

const SETTINGS: DispatcherSettings = {
  repeatAfter: 10 * MINUTE,
  retryAttempts: 4,
  retryBase: 5 * SECOND,
  retryMax: 60 * SECOND,
  timeout: 10 * SECOND,
};

describe('AlertDispatcher on a fake clock', () => {
  test('a failing channel is retried after 5 s, 10 s, 20 s, then dropped; the other channel is unaffected', async () => {
    const clock = new FakeClock();
    const bad = new ScriptedChannel('ntfy', clock, () => ({ ok: false, retry: true, error: 'HTTP 500' }));
    const good = new ScriptedChannel('command', clock, () => ({ ok: true, detail: 'exit 0' }));
    const lines: string[] = [];
    const d = new AlertDispatcher({ channels: [bad, good], settings: SETTINGS, log: quietLog(lines), host: 'pi', clock });
    d.emit(DEAD);
    await clock.advance(10 * MINUTE);
    assert.deepEqual(
      bad.attempts.map((a) => a.at),
      [0, 5000, 15000, 35000],
    );
    assert.deepEqual(
      good.attempts.map((a) => a.at),
      [0],
    );
    assert.deepEqual(d.stats().channels, { ntfy: { sent: 0, failed: 4, dropped: 1 }, command: { sent: 1, failed: 0, dropped: 0 } });
    assert.equal(clock.pending, 0, 'nothing left scheduled');
    assert.ok(
      lines.some((l) =>
        /ERROR alert dropped alert=task_dead channel=ntfy attempt=4 reason="gave up after 4 attempt\(s\): HTTP 500"/.test(l),
      ),
      lines.join('\n'),
    );
  });

  test('a delivery that succeeds on the second attempt stops retrying', async () => {
    const clock = new FakeClock();
    const ch = new ScriptedChannel('ntfy', clock, (n) =>
      n === 1 ? { ok: false, retry: true, error: 'ECONNREFUSED' } : { ok: true, detail: 'HTTP 200' },
    );
    const d = new AlertDispatcher({ channels: [ch], settings: SETTINGS, log: quietLog(), host: 'pi', clock });
    d.emit(DEAD);
    await clock.advance(10 * MINUTE);
    assert.deepEqual(
      ch.attempts.map((a) => a.at),
      [0, 5000],
    );
    assert.deepEqual(d.stats().channels.ntfy, { sent: 1, failed: 1, dropped: 0 });
  });

  test('the same event again within repeat_after is not sent; after it, it is', async () => {
    const clock = new FakeClock();
    const ch = new ScriptedChannel('ntfy', clock, () => ({ ok: true, detail: '' }));
    const d = new AlertDispatcher({ channels: [ch], settings: SETTINGS, log: quietLog(), host: 'pi', clock });
    d.emit(DEAD);
    await clock.advance(9 * MINUTE);
    d.emit(DEAD);
    await clock.advance(MINUTE);
    d.emit(DEAD);
    await flush();
    assert.deepEqual(
      ch.attempts.map((a) => a.at),
      [0, 10 * MINUTE],
    );
    assert.equal(d.stats().suppressed, 1);
  });

  test('emit returns at once even when the channel never answers, and never throws', async () => {
    const clock = new FakeClock();
    const hanging = new ScriptedChannel('ntfy', clock, () => 'hang');
    const throwing = new ScriptedChannel('command', clock, () => 'throw');
    const d = new AlertDispatcher({ channels: [hanging, throwing], settings: SETTINGS, log: quietLog(), host: 'pi', clock });
    // emit is synchronous and returns nothing to wait on: the caller (the supervisor loop) goes on
    // while the hanging channel holds its deliveries; no stopwatch needed (the clock is fake)
    for (let i = 0; i < 100; i++) assert.equal(d.emit({ ...DEAD, taskId: `t${i}` }), undefined);
    await flush();
    assert.equal(hanging.attempts.length, 100, 'every delivery started and is still hanging');
    await clock.advance(MINUTE);
    assert.equal(
      throwing.attempts.length,
      100 * SETTINGS.retryAttempts,
      'a channel that throws counts as a failed delivery: retried, then dropped',
    );
    assert.equal(d.stats().channels.command!.dropped, 100);
  });

  test('during a long outage at most MAX_WAITING_RETRIES retries wait; the oldest are dropped', async () => {
    const clock = new FakeClock();
    const ch = new ScriptedChannel('ntfy', clock, () => ({ ok: false, retry: true, error: 'down' }));
    const d = new AlertDispatcher({ channels: [ch], settings: { ...SETTINGS, retryAttempts: 100 }, log: quietLog(), host: 'pi', clock });
    for (let i = 0; i < MAX_WAITING_RETRIES + 20; i++) d.emit({ ...DEAD, taskId: `t${i}` });
    await flush();
    assert.equal(d.stats().waiting, MAX_WAITING_RETRIES);
    assert.equal(d.stats().channels.ntfy!.dropped, 20);
    d.stop();
    assert.equal(clock.pending, 0, 'stop() cancels every waiting retry');
  });

  test('with no channel configured nothing is remembered or sent', () => {
    const d = new AlertDispatcher({ channels: [], settings: SETTINGS, log: quietLog(), host: 'pi', clock: new FakeClock() });
    d.emit(DEAD);
    assert.deepEqual(d.stats(), { channels: {}, suppressed: 0, waiting: 0 });
  });

  test('the dedupe memory survives a restart through its file', async () => {
    const file = join(tmp, 'alerts-sent.json');
    const clock = new FakeClock();
    const ch = new ScriptedChannel('ntfy', clock, () => ({ ok: true, detail: '' }));
    new AlertDispatcher({ channels: [ch], settings: SETTINGS, log: quietLog(), host: 'pi', clock, memoryFile: file }).emit(DEAD);
    const again = new AlertDispatcher({ channels: [ch], settings: SETTINGS, log: quietLog(), host: 'pi', clock, memoryFile: file });
    again.emit(DEAD);
    await flush();
    assert.equal(ch.attempts.length, 1);
  });

  test('a corrupt dedupe file is ignored with a warning, not fatal', () => {
    const file = join(tmp, 'corrupt.json');
    writeFileSync(file, '{not json');
    const lines: string[] = [];
    new AlertDispatcher({ channels: [], settings: SETTINGS, log: quietLog(lines), host: 'pi', memoryFile: file });
    assert.match(lines.join('\n'), /ignoring an unreadable dedupe file/);
  });
});
