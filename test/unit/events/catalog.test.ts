// The event table: one row per event type, and the log level, metric counter and alert kind each
// row declares are what the log, /metrics and alerts do with that event.
import assert from 'node:assert/strict';
import { describe, test } from 'node:test';
import { alertFor } from '../../../src/alerts/alert.ts';
import { countEvent, emptyCounts } from '../../../src/control/metrics.ts';
import { EVENTS, raisesAlert, type CoreEvent, type EventType, type WardenEvent } from '../../../src/events/catalog.ts';
import { describeEvent, eventLevel } from '../../../src/log/events.ts';

const T0 = Date.UTC(2026, 10, 29, 12, 0, 0);

// One event of every type: a type without a sample (or a sample of a type not in the table)
// fails the type-check.
const SAMPLES: { [K in EventType]: Extract<WardenEvent, { type: K }> } = {
  breaker_opened: { type: 'breaker_opened', reason: '3 failures', cooldownMs: 60_000 },
  breaker_half_open: { type: 'breaker_half_open' },
  breaker_closed: { type: 'breaker_closed', by: 'probe' },
  pressure_entered: { type: 'pressure_entered', reasons: ['load 9 > 4'] },
  pressure_stuck: { type: 'pressure_stuck', reasons: ['memory: low'], why: 'memory_max 2G does not fit', fix: 'memory_max = "1280M"' },
  pressure_recovering: { type: 'pressure_recovering', recoverAfterMs: 60_000 },
  pressure_left: { type: 'pressure_left' },
  paused: { type: 'paused', by: 'manual' },
  resumed: { type: 'resumed', by: 'manual' },
  task_spawn: { type: 'task_spawn', taskId: 't1', attempt: 1, probe: false },
  task_succeeded: { type: 'task_succeeded', taskId: 't1', attempt: 1 },
  task_retry: { type: 'task_retry', taskId: 't1', kind: 'stalled', attempt: 1, delayMs: 60_000, detail: 'no output' },
  task_dead: { type: 'task_dead', taskId: 't1', kind: 'oom_killed', attempts: 3, detail: 'SIGKILL' },
  task_interrupted: { type: 'task_interrupted', taskId: 't1', detail: 'shutdown' },
  task_blocked: { type: 'task_blocked', taskId: 't1', reason: 'needs a token' },
  task_cancelled: { type: 'task_cancelled', taskId: 't1', reason: 'label removed' },
  hardware_paused: { type: 'hardware_paused', reason: 'thermal', reasons: ['SoC 85 C'] },
  hardware_recovering: { type: 'hardware_recovering', reason: 'power', recoverAfterMs: 60_000 },
  hardware_resumed: { type: 'hardware_resumed', reason: 'thermal' },
  disk_paused: { type: 'disk_paused', reason: '100 MiB free' },
  disk_resumed: { type: 'disk_resumed' },
  fleet_paused: { type: 'fleet_paused', reason: 'etcd unreachable' },
  fleet_resumed: { type: 'fleet_resumed' },
  worker_paused: { type: 'worker_paused', reason: 'usage_limit', detail: 'limit', until: T0 },
  worker_resumed: { type: 'worker_resumed', reason: 'budget' },
  unclean_restart: { type: 'unclean_restart', runningTasks: 2 },
  config_reload_failed: { type: 'config_reload_failed', error: 'bad key' },
  digest: {
    type: 'digest',
    summary: {
      periodMs: 86_400_000,
      spawns: 0,
      succeeded: 0,
      dead: 0,
      failures: {},
      tasks: { pending: 0, running: 0, succeeded: 0, retry_wait: 0, dead: 0, blocked: 0, cancelled: 0 },
      workers: 0,
      maxWorkers: 2,
      breaker: 'closed',
      paused: [],
      statusLine: '0/2 workers, 0 queued',
    },
  },
  alert_test: { type: 'alert_test' },
};
const ALL = Object.values(SAMPLES) as WardenEvent[];
const isCore = (e: WardenEvent): e is CoreEvent => EVENTS[e.type].source === 'core';

describe('the event table', () => {
  test('has one row per event type, each with a sample here', () => {
    assert.deepEqual(Object.keys(SAMPLES).sort(), Object.keys(EVENTS).sort());
  });

  test('the supervisor raises unclean_restart, config_reload_failed, digest and alert_test; the core the rest', () => {
    assert.deepEqual(
      ALL.filter((e) => !isCore(e)).map((e) => e.type),
      ['unclean_restart', 'config_reload_failed', 'digest', 'alert_test'],
    );
  });

  test('CoreEvent leaves out what only the supervisor raises', () => {
    // @ts-expect-error: a digest is not a decision-core event
    const notCore: CoreEvent = SAMPLES.digest;
    assert.equal(notCore.type, 'digest');
  });
});

describe('the log: every core event has its text and the level of its row', () => {
  for (const e of ALL.filter(isCore)) {
    test(e.type, () => {
      assert.ok(describeEvent(e).length > 0);
      assert.equal(eventLevel(e), EVENTS[e.type].level);
    });
  }

  test('the events logged as errors are the ones that stop spawning or lose a task', () => {
    assert.deepEqual(
      ALL.filter(isCore)
        .filter((e) => eventLevel(e) === 'error')
        .map((e) => e.type),
      [
        'breaker_opened',
        'pressure_entered',
        'pressure_stuck',
        'task_dead',
        'hardware_paused',
        'disk_paused',
        'fleet_paused',
        'worker_paused',
      ],
    );
  });
});

describe('alerts: an event raises an alert of the kind its row names, or none', () => {
  for (const e of ALL) {
    test(e.type, () => {
      const alert = alertFor(e, { now: T0, host: 'pi' });
      assert.equal(alert?.kind ?? null, EVENTS[e.type].alert);
      assert.equal(raisesAlert(e), alert !== null);
    });
  }
});

describe('metrics: an event adds one to each counter its row names', () => {
  test('a success, a blocked task and an opened breaker each count once', () => {
    const c = emptyCounts();
    for (const e of [SAMPLES.task_succeeded, SAMPLES.task_blocked, SAMPLES.breaker_opened]) countEvent(c, e);
    assert.deepEqual([c.succeeded, c.blocked, c.breakerOpened, c.dead], [1, 1, 1, 0]);
  });

  test('a retried and a dead attempt each count one failure of their kind; the dead one also a dead task', () => {
    const c = emptyCounts();
    countEvent(c, SAMPLES.task_retry);
    countEvent(c, SAMPLES.task_dead);
    assert.equal(c.failures.stalled, 1);
    assert.equal(c.failures.oom_killed, 1);
    assert.equal(c.dead, 1);
  });

  test('events whose row names no counter change no count', () => {
    const c = emptyCounts();
    for (const e of ALL.filter((x) => EVENTS[x.type].counts.length === 0)) countEvent(c, e);
    assert.deepEqual(c, emptyCounts());
  });
});
