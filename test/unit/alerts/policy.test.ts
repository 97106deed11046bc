// The alerting policy on a fake clock: dedupe within repeat_after, and the retry schedule.
import assert from 'node:assert/strict';
import { describe, test } from 'node:test';
import { alertFor } from '../../../src/alerts/alert.ts';
import { admitAlert, afterDelivery, retryDelay, type DeliveryResult } from '../../../src/alerts/policy.ts';
import type { WardenEvent } from '../../../src/events/catalog.ts';
import { MINUTE, SECOND } from '../../helpers/units.ts';

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
