// The pause-reason table: the list and the unions derived from it, which reasons a state reports,
// how each reads in the status line, and that every reason has its alert.
import assert from 'node:assert/strict';
import { describe, test } from 'node:test';
import { alertFor } from '../../../src/alerts/alert.ts';
import type { WardenEvent } from '../../../src/events/catalog.ts';
import {
  activePauseReasons,
  describePause,
  PAUSE_REASONS,
  PAUSES,
  type HardwarePauseReason,
  type PauseReason,
  type WorkerPauseReason,
} from '../../../src/state/pause-reasons.ts';
import { emptyState, type WardenState } from '../../../src/state/types.ts';

const T0 = Date.UTC(2026, 10, 29, 12, 0, 0);
const pressure = { since: T0, reasons: ['MemAvailable 100 MiB < 300 MiB'], clearSince: null };

/** A state paused for every reason at once. */
function pausedForEverything(): WardenState {
  const s = emptyState(60_000);
  return {
    ...s,
    breaker: { ...s.breaker, phase: 'open', openedAt: T0, reason: '3 failures in 600s' },
    pause: {
      manual: { since: T0 },
      pressure,
      thermal: { since: T0, reasons: ['SoC 85.0 C >= 80 C'], clearSince: null },
      power: { since: T0, reasons: ['under-voltage now'], clearSince: null },
      disk: { since: T0, reason: '100 MiB free on /srv' },
      workerAuth: { since: T0, reason: 'Not logged in' },
      usageLimit: { since: T0, until: T0 + 3600_000, reason: 'usage limit reached' },
      budget: { since: T0, until: T0 + 3600_000, reason: 'spent $5.00 today' },
      fleet: { since: T0, reason: 'etcd unreachable' },
    },
  };
}

describe('the pause-reason table', () => {
  test('lists every reason once, in the order status and /metrics show them', () => {
    assert.deepEqual(PAUSE_REASONS, [
      'breaker',
      'pressure',
      'thermal',
      'power',
      'disk',
      'manual',
      'worker_auth',
      'usage_limit',
      'budget',
      'fleet',
    ]);
  });

  test('the worker and hardware unions are exactly the rows of their group', () => {
    // Records over the unions: a missing or an extra member fails the type-check.
    const worker: Record<WorkerPauseReason, true> = { worker_auth: true, usage_limit: true, budget: true };
    const hardware: Record<HardwarePauseReason, true> = { thermal: true, power: true };
    const inGroup = (g: string) => PAUSE_REASONS.filter((r) => PAUSES[r].group === g);
    assert.deepEqual(inGroup('worker'), Object.keys(worker));
    assert.deepEqual(inGroup('hardware'), Object.keys(hardware));
  });

  test('each reason other than the breaker is kept under its own key of state.pause', () => {
    const keys = PAUSE_REASONS.map((r) => PAUSES[r].stateKey);
    assert.deepEqual(keys, [null, 'pressure', 'thermal', 'power', 'disk', 'manual', 'workerAuth', 'usageLimit', 'budget', 'fleet']);
    assert.deepEqual(Object.keys(emptyState(0).pause).sort(), keys.filter((k) => k !== null).sort());
  });
});

describe('activePauseReasons', () => {
  test('a fresh state is not paused', () => {
    assert.deepEqual(activePauseReasons(emptyState(60_000)), []);
  });

  test('reports every reason that is set, in table order', () => {
    assert.deepEqual(activePauseReasons(pausedForEverything()), [...PAUSE_REASONS]);
  });

  test('a half-open breaker is not a pause; an open one is', () => {
    const s = emptyState(60_000);
    assert.deepEqual(activePauseReasons({ ...s, breaker: { ...s.breaker, phase: 'half_open' } }), []);
    assert.deepEqual(activePauseReasons({ ...s, breaker: { ...s.breaker, phase: 'open' } }), ['breaker']);
  });

  test('a state written before a reason existed (its key missing) is not paused for it', () => {
    const s = emptyState(60_000);
    const { thermal: _t, power: _p, ...older } = s.pause;
    assert.deepEqual(activePauseReasons({ ...s, pause: older as WardenState['pause'] }), []);
  });
});

describe('describePause: the status line', () => {
  test('the breaker, pressure and hardware pauses say what caused them; the others are their name', () => {
    const s = pausedForEverything();
    assert.deepEqual(
      PAUSE_REASONS.map((r) => describePause(s, r)),
      [
        'breaker (3 failures in 600s)',
        'pressure (MemAvailable 100 MiB < 300 MiB)',
        'thermal (SoC 85.0 C >= 80 C)',
        'power (under-voltage now)',
        'disk',
        'manual',
        'worker_auth',
        'usage_limit',
        'budget',
        'fleet',
      ],
    );
  });

  test('an open breaker without a reason reads "open"', () => {
    const s = emptyState(60_000);
    assert.equal(describePause({ ...s, breaker: { ...s.breaker, phase: 'open' } }, 'breaker'), 'breaker (open)');
  });
});

describe('every pause reason reaches the owner with its priority', () => {
  // the event that begins and the one that ends each pause; a new reason fails the type-check here
  const begins: Record<PauseReason, WardenEvent> = {
    breaker: { type: 'breaker_opened', reason: '3 failures', cooldownMs: 60_000 },
    pressure: { type: 'pressure_entered', reasons: ['load'] },
    thermal: { type: 'hardware_paused', reason: 'thermal', reasons: ['hot'] },
    power: { type: 'hardware_paused', reason: 'power', reasons: ['under-voltage'] },
    disk: { type: 'disk_paused', reason: 'full' },
    manual: { type: 'paused', by: 'manual' },
    worker_auth: { type: 'worker_paused', reason: 'worker_auth', detail: 'Not logged in', until: null },
    usage_limit: { type: 'worker_paused', reason: 'usage_limit', detail: 'limit', until: T0 },
    budget: { type: 'worker_paused', reason: 'budget', detail: 'spent', until: T0 },
    fleet: { type: 'fleet_paused', reason: 'etcd unreachable' },
  };
  const ends: Record<PauseReason, WardenEvent> = {
    breaker: { type: 'breaker_closed', by: 'resume' },
    pressure: { type: 'pressure_left' },
    thermal: { type: 'hardware_resumed', reason: 'thermal' },
    power: { type: 'hardware_resumed', reason: 'power' },
    disk: { type: 'disk_resumed' },
    manual: { type: 'resumed', by: 'manual' },
    worker_auth: { type: 'worker_resumed', reason: 'worker_auth' },
    usage_limit: { type: 'worker_resumed', reason: 'usage_limit' },
    budget: { type: 'worker_resumed', reason: 'budget' },
    fleet: { type: 'fleet_resumed' },
  };
  const ctx = { now: T0, host: 'pi' };

  for (const r of PAUSE_REASONS) {
    test(`${r}: an alert when it begins, at the table's priority, and one when it ends`, () => {
      const paused = alertFor(begins[r], ctx);
      const resumed = alertFor(ends[r], ctx);
      assert.ok(paused && resumed);
      assert.equal(paused.priority, PAUSES[r].alertPriority);
      assert.equal(paused.fields.pause_reason, r);
      assert.equal(resumed.fields.pause_reason, r);
      if (r !== 'breaker') {
        assert.equal(paused.title, `pi: paused: ${r}`);
        assert.equal(resumed.title, `pi: resumed: ${r} pause ended`);
      }
    });
  }
});
