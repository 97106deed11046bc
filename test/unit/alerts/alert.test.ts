// Which events raise which alert (title, priority, key), which are routine, and the digest's text.
import assert from 'node:assert/strict';
import { describe, test } from 'node:test';
import { alertFor, digestText } from '../../../src/alerts/alert.ts';
import type { WardenEvent } from '../../../src/events/catalog.ts';
import { ALERT_CTX as CTX, mustAlert as must } from '../../helpers/alerts.ts';
import { MINUTE } from '../../helpers/units.ts';

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
