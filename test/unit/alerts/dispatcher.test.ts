// Alerts: which events raise which alert, the dedupe and retry policy on a fake clock, the
// dispatcher never blocking or throwing into the supervisor, and the channels' encoding.
import assert from 'node:assert/strict';
import { writeFileSync } from 'node:fs';

import { join } from 'node:path';
import { describe, test } from 'node:test';
import { alertFor, digestText, type Alert } from '../../../src/alerts/alert.ts';
import { alertDocument, CommandChannel } from '../../../src/alerts/command.ts';
import {
  AlertDispatcher,
  MAX_WAITING_RETRIES,
  type AlertChannel,
  type Clock,
  type DispatcherSettings,
} from '../../../src/alerts/dispatcher.ts';
import type { WardenEvent } from '../../../src/events/catalog.ts';
import { findSessionBus, urgencyFor } from '../../../src/alerts/notify-send.ts';
import { encodeHeaderValue, NtfyChannel } from '../../../src/alerts/ntfy.ts';
import { admitAlert, afterDelivery, retryDelay, type DeliveryResult } from '../../../src/alerts/policy.ts';
import { createLogger } from '../../../src/log/logger.ts';
import { tempRoot } from '../../helpers/tmp.ts';
import { MINUTE, SECOND } from '../../helpers/units.ts';

const CTX = { now: 1_000_000, host: 'pi' };

const tmp = tempRoot('alerts-test').path;

function must(e: WardenEvent): Alert {
  const a = alertFor(e, CTX);
  assert.ok(a, `${e.type} raises an alert`);
  return a;
}

describe('alertFor: which events reach the owner', () => {
  const raising: [WardenEvent, string, number, string][] = [
    [
      { type: 'breaker_opened', reason: '3 failures in 600s, last: gh-1: startup_error', cooldownMs: 15 * MINUTE },
      'breaker OPEN, spawning paused',
      4,
      'rotating_light',
    ],
    [{ type: 'breaker_closed', by: 'probe' }, 'breaker closed, spawning resumed', 3, 'white_check_mark'],
    [{ type: 'pressure_entered', reasons: ['load: 3.00 per CPU is over max_load_per_cpu 1.5'] }, 'paused: pressure', 4, 'pause_button'],
    [{ type: 'pressure_left' }, 'resumed: pressure pause ended', 3, 'arrow_forward'],
    [{ type: 'paused', by: 'manual' }, 'paused: manual', 2, 'pause_button'],
    [{ type: 'resumed', by: 'manual' }, 'resumed: manual pause ended', 3, 'arrow_forward'],
    [{ type: 'disk_paused', reason: '200M free under /srv, min_free_disk 1G' }, 'paused: disk', 4, 'pause_button'],
    [{ type: 'disk_resumed' }, 'resumed: disk pause ended', 3, 'arrow_forward'],
    [
      { type: 'task_dead', taskId: 'gh-7', kind: 'oom_killed', attempts: 3, detail: 'killed by the OOM killer' },
      'task gh-7 is dead',
      4,
      'skull',
    ],
    [{ type: 'task_blocked', taskId: 'gh-8', reason: 'needs a secret' }, 'task gh-8 is blocked', 3, 'construction'],
    [{ type: 'unclean_restart', runningTasks: 2 }, 'restarted after an unclean stop', 4, 'boom'],
    [{ type: 'config_reload_failed', error: 'x.toml:1:1: bad' }, 'config reload failed, old config kept', 4, 'gear'],
    [{ type: 'alert_test' }, 'test alert', 3, 'test_tube'],
  ];
  for (const [e, title, priority, emoji] of raising) {
    test(`${e.type} -> "${title}", priority ${priority}`, () => {
      const a = must(e);
      assert.equal(a.title, `pi: ${title}`);
      assert.equal(a.priority, priority);
      assert.equal(a.tags[0], emoji);
      assert.equal(a.at, CTX.now);
      assert.ok(a.message.length > 0);
    });
  }

  const routine: WardenEvent[] = [
    { type: 'breaker_half_open' },
    { type: 'pressure_recovering', recoverAfterMs: 2 * MINUTE },
    { type: 'task_spawn', taskId: 'a', attempt: 1, probe: false },
    { type: 'task_succeeded', taskId: 'a', attempt: 1 },
    { type: 'task_retry', taskId: 'a', kind: 'exit_nonzero', attempt: 1, delayMs: 1000, detail: 'exit 1' },
    { type: 'task_interrupted', taskId: 'a', detail: 'warden was stopped' },
    { type: 'task_cancelled', taskId: 'a', reason: 'label removed' },
  ];
  for (const e of routine) test(`${e.type} raises no alert`, () => assert.equal(alertFor(e, CTX), null));

  test('task_dead names the task, the failure kind in words, and the detail', () => {
    const a = must({ type: 'task_dead', taskId: 'gh-7', kind: 'oom_killed', attempts: 3, detail: 'killed by the OOM killer' });
    assert.equal(a.key, 'task_dead:gh-7');
    assert.match(
      a.message,
      /after 3 attempts.*oom_killed, the worker was killed for exceeding its memory limit \(killed by the OOM killer\)/,
    );
    assert.deepEqual(a.fields, { task: 'gh-7', failure_kind: 'oom_killed', attempts: 3, detail: 'killed by the OOM killer' });
  });

  test('a pause and its resume clear each other; reasons keep separate keys', () => {
    const p = must({ type: 'paused', by: 'manual' });
    const r = must({ type: 'resumed', by: 'manual' });
    const pp = must({ type: 'pressure_entered', reasons: ['x'] });
    assert.deepEqual([p.key, p.clears], ['paused:manual', ['resumed:manual']]);
    assert.deepEqual([r.key, r.clears], ['resumed:manual', ['paused:manual']]);
    assert.notEqual(pp.key, p.key);
  });

  test('two different reload errors have different keys; the same error has the same key', () => {
    const a = must({ type: 'config_reload_failed', error: 'a' });
    const b = must({ type: 'config_reload_failed', error: 'b' });
    assert.notEqual(a.key, b.key);
    assert.equal(a.key, must({ type: 'config_reload_failed', error: 'a' }).key);
  });

  test('the digest reads as three short lines', () => {
    const text = digestText({
      periodMs: 24 * 3_600_000,
      spawns: 5,
      succeeded: 3,
      dead: 1,
      failures: { startup_error: 2 },
      tasks: { pending: 1, running: 1, succeeded: 3, retry_wait: 0, dead: 1, blocked: 0, cancelled: 0 },
      workers: 1,
      maxWorkers: 1,
      breaker: 'closed',
      paused: [],
      statusLine: '1/1 workers, 1 queued',
    });
    assert.equal(
      text,
      'Last 24h: 5 spawn(s), 3 succeeded, 1 dead; failures: startup_error 2.\nNow: 1/1 workers, 1 queued. Breaker closed.\nTasks: pending 1, running 1, succeeded 3, dead 1.',
    );
  });
});

describe('dedupe (admitAlert) on a fake clock', () => {
  const REPEAT = 30 * MINUTE;
  const at = (ms: number, e: WardenEvent = { type: 'unclean_restart', runningTasks: 0 }) => alertFor(e, { now: ms, host: 'pi' })!;

  test('the same key inside repeat_after is suppressed; at repeat_after it is sent again', () => {
    let m = admitAlert({}, at(0), 0, REPEAT);
    assert.equal(m.send, true);
    m = admitAlert(m.memory, at(REPEAT - 1), REPEAT - 1, REPEAT);
    assert.equal(m.send, false);
    assert.equal(m.lastSentAt, 0, 'a suppressed repeat does not extend the window');
    m = admitAlert(m.memory, at(REPEAT), REPEAT, REPEAT);
    assert.equal(m.send, true);
  });

  test('different keys do not suppress each other', () => {
    const a = admitAlert({}, at(0, { type: 'task_dead', taskId: 'a', kind: 'unknown', attempts: 1, detail: '' }), 0, REPEAT);
    const b = admitAlert(a.memory, at(1, { type: 'task_dead', taskId: 'b', kind: 'unknown', attempts: 1, detail: '' }), 1, REPEAT);
    assert.equal(b.send, true);
  });

  test('open, closed, open again within repeat_after: all three are sent (the opposite event lifts the suppression)', () => {
    const open = (t: number) => at(t, { type: 'breaker_opened', reason: 'r', cooldownMs: 1 });
    const closed = (t: number) => at(t, { type: 'breaker_closed', by: 'probe' });
    let m = admitAlert({}, open(0), 0, REPEAT);
    const sent = [m.send];
    for (const [t, a] of [
      [1000, closed(1000)],
      [2000, open(2000)],
      [3000, open(3000)],
    ] as const) {
      m = admitAlert(m.memory, a, t, REPEAT);
      sent.push(m.send);
    }
    assert.deepEqual(sent, [true, true, true, false], 'only the plain repeat of "open" is suppressed');
  });

  test('repeat_after = 0 sends everything', () => {
    let m = admitAlert({}, at(0), 0, 0);
    m = admitAlert(m.memory, at(0), 0, 0);
    assert.equal(m.send, true);
  });

  test('old keys are forgotten, so the memory does not grow without bound', () => {
    let memory = {};
    for (let i = 0; i < 1000; i++)
      memory = admitAlert(
        memory,
        at(i * MINUTE, { type: 'task_dead', taskId: `t${i}`, kind: 'unknown', attempts: 1, detail: '' }),
        i * MINUTE,
        REPEAT,
      ).memory;
    assert.ok(Object.keys(memory).length <= 31, `${Object.keys(memory).length} keys kept`);
  });
});

describe('retry policy', () => {
  const S = { repeatAfter: 0, retryAttempts: 5, retryBase: 5 * SECOND, retryMax: 30 * SECOND };
  const fail: DeliveryResult = { ok: false, retry: true, error: 'HTTP 500' };

  test('delays double from retry_base and stop at retry_max', () => {
    assert.deepEqual(
      [1, 2, 3, 4, 5].map((n) => retryDelay(n, S)),
      [5000, 10000, 20000, 30000, 30000],
    );
  });
  test('a failure is retried until retry_attempts, then dropped', () => {
    assert.deepEqual(
      [1, 2, 3, 4].map((n) => afterDelivery(n, fail, S)),
      [1, 2, 3, 4].map((n) => ({ action: 'retry', inMs: retryDelay(n, S) })),
    );
    const last = afterDelivery(5, fail, S);
    assert.equal(last.action, 'drop');
    assert.match(last.action === 'drop' ? last.reason : '', /gave up after 5 attempt\(s\): HTTP 500/);
  });
  test('a failure that cannot pass (a bad token) is dropped at once', () => {
    assert.equal(afterDelivery(1, { ok: false, retry: false, error: 'HTTP 403' }, S).action, 'drop');
  });
  test('success is done', () => assert.deepEqual(afterDelivery(1, { ok: true, detail: '' }, S), { action: 'done' }));
});

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
const DEAD: WardenEvent = { type: 'task_dead', taskId: 'gh-1', kind: 'startup_error', attempts: 3, detail: 'exit 1 after 0.4s' };

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

describe('channels', () => {
  test('ntfy headers: ASCII passes as it is, anything else as an RFC 2047 encoded word', () => {
    assert.equal(encodeHeaderValue('pi: task gh-1 is dead'), 'pi: task gh-1 is dead');
    const enc = encodeHeaderValue('pi: tâche morte ☠');
    assert.match(enc, /^=\?UTF-8\?B\?[A-Za-z0-9+/=]+\?=$/);
    assert.equal(Buffer.from(enc.slice(10, -2), 'base64').toString('utf8'), 'pi: tâche morte ☠');
    assert.equal(encodeHeaderValue('two\nlines'), 'two lines', 'no header injection through a newline');
  });

  test('ntfy over https takes the TLS path (here: nothing listens, so a retryable ECONNREFUSED)', async () => {
    const r = await new NtfyChannel('https://127.0.0.1:1/topic', 'tk_secret').send(must(DEAD), AbortSignal.timeout(5000));
    assert.deepEqual(r, { ok: false, retry: true, error: 'POST https://127.0.0.1:1/topic: ECONNREFUSED' });
  });

  test('notify-send urgency follows the priority', () => {
    assert.deepEqual(
      [1, 2, 3, 4, 5].map((p) => urgencyFor(p as 1)),
      ['low', 'low', 'normal', 'critical', 'critical'],
    );
  });

  test('session bus: [alerts] session_bus, else $DBUS_SESSION_BUS_ADDRESS, else /run/user/UID/bus; a missing socket is reported', () => {
    const sock = join(tmp, 'bus');
    writeFileSync(sock, '');
    assert.deepEqual(findSessionBus(`unix:path=${sock}`, {}, 0), { address: `unix:path=${sock}` });
    assert.deepEqual(findSessionBus(null, { DBUS_SESSION_BUS_ADDRESS: `unix:path=${sock},guid=abc` }, 0), {
      address: `unix:path=${sock},guid=abc`,
    });
    assert.deepEqual(findSessionBus(null, { DBUS_SESSION_BUS_ADDRESS: 'unix:abstract=/tmp/dbus-x' }, 0), {
      address: 'unix:abstract=/tmp/dbus-x',
    });
    const none = findSessionBus(null, {}, 4242);
    assert.equal(none.address, null);
    assert.match(
      none.address === null ? none.why : '',
      /\/run\/user\/4242\/bus \(the default for uid 4242\) does not exist; set \[alerts\] session_bus/,
    );
  });

  test('the command hook gets the alert as one JSON line on stdin, and its exit code decides', async () => {
    const out = join(tmp, 'hook-out.json');
    const alert = must(DEAD);
    const ok = await new CommandChannel(['/bin/sh', '-c', `cat > ${out}`]).send(alert, AbortSignal.timeout(5000));
    assert.deepEqual(ok, { ok: true, detail: 'exit 0' });
    const { readFileSync } = await import('node:fs');
    assert.equal(readFileSync(out, 'utf8'), alertDocument(alert));
    assert.deepEqual(JSON.parse(readFileSync(out, 'utf8')).fields, {
      task: 'gh-1',
      failure_kind: 'startup_error',
      attempts: 3,
      detail: 'exit 1 after 0.4s',
    });
    const bad = await new CommandChannel(['/bin/sh', '-c', 'echo nope >&2; exit 3']).send(alert, AbortSignal.timeout(5000));
    assert.deepEqual(bad, { ok: false, retry: true, error: '/bin/sh exited 3: nope' });
    const missing = await new CommandChannel(['/nonexistent/hook']).send(alert, AbortSignal.timeout(5000));
    assert.equal(missing.ok === false && missing.retry, false, 'a missing program is not retried');
    const slow = await new CommandChannel(['/bin/sleep', '5']).send(alert, AbortSignal.timeout(100));
    assert.equal(slow.ok, false);
    assert.match(slow.ok ? '' : slow.error, /timed out/);
  });
});
