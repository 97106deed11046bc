// How the decision core's events read in the log, and at which level.
import assert from 'node:assert/strict';
import { describe, test } from 'node:test';
import { describeEvent, eventLevel } from '../../../src/log/events.ts';
import { type CoreEvent } from '../../../src/events/catalog.ts';
import { MINUTE, SECOND } from '../../helpers/units.ts';

describe('describeEvent', () => {
  test('a breaker opening says for how long spawning pauses, and why', () => {
    assert.equal(
      describeEvent({ type: 'breaker_opened', reason: '3 failures in 10m', cooldownMs: 15 * MINUTE }),
      'breaker OPEN: spawning paused for 15m (3 failures in 10m)',
    );
  });

  test('a breaker probe spawn is marked as the probe', () => {
    assert.equal(describeEvent({ type: 'task_spawn', taskId: 'gh-1', attempt: 2, probe: true }), 'spawning gh-1 attempt 2 (breaker probe)');
    assert.equal(describeEvent({ type: 'task_spawn', taskId: 'gh-1', attempt: 1, probe: false }), 'spawning gh-1 attempt 1');
  });

  test('a retry names the failure kind, the detail and the delay', () => {
    const line = describeEvent({
      type: 'task_retry',
      taskId: 'a',
      kind: 'exit_nonzero',
      attempt: 1,
      delayMs: 90 * SECOND,
      detail: 'exit 1',
    });
    assert.equal(line, 'task a attempt 1 failed: exit_nonzero (exit 1); retry in 1m30s');
  });

  test('pressure reasons are joined into one line', () => {
    assert.equal(
      describeEvent({ type: 'pressure_entered', reasons: ['memory: low', 'load: high'] }),
      'paused: pressure (memory: low; load: high)',
    );
  });

  test('a worker_auth pause tells the owner what to do', () => {
    const line = describeEvent({ type: 'worker_paused', reason: 'worker_auth', detail: 'Invalid API key', until: null });
    assert.match(line, /^paused: worker_auth: claude is not logged in/);
    assert.match(line, /then `warden resume`$/);
  });

  test('a timed worker pause gives its end as an ISO time; an open-ended one gives none', () => {
    const until = Date.UTC(2026, 10, 28, 0, 0, 0);
    assert.equal(
      describeEvent({ type: 'worker_paused', reason: 'usage_limit', detail: 'limit reached', until }),
      'paused: usage_limit (limit reached) until 2026-11-28T00:00:00.000Z',
    );
    assert.equal(describeEvent({ type: 'worker_paused', reason: 'usage_limit', detail: 'x', until: null }), 'paused: usage_limit (x)');
  });

  test('the breaker closing says whether the probe or a resume closed it', () => {
    assert.equal(describeEvent({ type: 'breaker_closed', by: 'probe' }), 'breaker closed: the probe succeeded');
    assert.equal(describeEvent({ type: 'breaker_closed', by: 'resume' }), 'breaker closed by resume');
  });
});

describe('eventLevel', () => {
  const cases: [CoreEvent, string][] = [
    [{ type: 'breaker_opened', reason: 'r', cooldownMs: 1 }, 'error'],
    [{ type: 'task_dead', taskId: 'a', kind: 'oom_killed', attempts: 3, detail: 'd' }, 'error'],
    [{ type: 'hardware_paused', reason: 'thermal', reasons: ['hot'] }, 'error'],
    [{ type: 'disk_paused', reason: 'low' }, 'error'],
    [{ type: 'task_retry', taskId: 'a', kind: 'oom_killed', attempt: 1, delayMs: 1, detail: 'd' }, 'warn'],
    [{ type: 'paused', by: 'manual' }, 'warn'],
    [{ type: 'task_cancelled', taskId: 'a', reason: 'label removed' }, 'warn'],
    [{ type: 'task_spawn', taskId: 'a', attempt: 1, probe: false }, 'info'],
    [{ type: 'hardware_resumed', reason: 'power' }, 'info'],
    [{ type: 'disk_resumed' }, 'info'],
  ];
  for (const [event, level] of cases)
    test(`${event.type} is logged at ${level}`, () => {
      assert.equal(eventLevel(event), level);
    });
});
