// The circuit breaker on a fake clock: when it opens, how long it stays open, the one probe of
// half-open, and the doubled cooldown; directly and through planTick and applyExit.
import assert from 'node:assert/strict';
import { describe, test } from 'node:test';
import { applyExit } from '../../../src/policy/attempt-end.ts';
import { advanceBreaker, breakerGate, breakerOnFailure, closedBreaker, MAX_COOLDOWN_MS } from '../../../src/policy/breaker.ts';
import { planTick } from '../../../src/policy/tick.ts';
import type { WardenState } from '../../../src/state/types.ts';
import { DEFAULT_SETTINGS as DEFAULTS, settingsWith as settings } from '../../helpers/settings.ts';
import { FAILED_EXIT as FAILED, halfRandom as half, stateWith, SUCCEEDED_EXIT as SUCCEEDED } from '../../helpers/tasks.ts';
import { HOUR, MINUTE } from '../../helpers/units.ts';

describe('breaker', () => {
  const b = DEFAULTS.breaker; // 3 failures in 10m, cooldown 15m

  test('opens after `failures` failures within `window`', () => {
    let br = closedBreaker(b);
    const transitions = [0, 4 * MINUTE, 9 * MINUTE].map((t) => {
      const r = breakerOnFailure(br, t, b, 'x', 'startup_error');
      br = r.breaker;
      return r.transition;
    });
    assert.deepEqual(transitions, [null, null, 'opened']);
    assert.equal(br.phase, 'open');
    assert.equal(br.openedAt, 9 * MINUTE);
    assert.equal(br.cooldownMs, 15 * MINUTE);
  });

  test('does not open when the failures are spread wider than `window`', () => {
    let br = closedBreaker(b);
    for (const t of [0, 6 * MINUTE, 12 * MINUTE]) br = breakerOnFailure(br, t, b, 'x', 'startup_error').breaker;
    assert.equal(br.phase, 'closed');
  });

  test('opens through applyExit after 3 failed tasks in a row', () => {
    const s = settings({ maxConcurrentWorkers: 3, minSpawnInterval: 0 });
    const tick = planTick(stateWith([{ id: 'a' }, { id: 'b' }, { id: 'c' }]), 0, null, s);
    let state = tick.state;
    const opened: string[] = [];
    for (const id of ['a', 'b', 'c']) {
      const r = applyExit(state, id, FAILED, 5 * MINUTE, s, half);
      state = r.state;
      for (const e of r.events) if (e.type === 'breaker_opened') opened.push(id);
    }
    assert.deepEqual(opened, ['c']);
    assert.equal(state.breaker.phase, 'open');
  });

  const openAt = (openedAt: number, cooldownMs = b.cooldown): WardenState => ({
    ...stateWith([{ id: 'a' }, { id: 'b' }, { id: 'c' }]),
    breaker: { phase: 'open', recentFailures: [openedAt], openedAt, cooldownMs, probeTaskId: null, reason: '3 failures in 600s' },
  });
  const wide = settings({ maxConcurrentWorkers: 4, minSpawnInterval: 0 });

  test('stays open, spawning nothing, until the cooldown has passed', () => {
    const state = openAt(HOUR);
    for (const t of [HOUR, HOUR + MINUTE, HOUR + 15 * MINUTE - 1]) {
      const tick = planTick(state, t, null, wide);
      assert.equal(tick.spawns.length, 0, `spawned at ${t}`);
      assert.equal(tick.state.breaker.phase, 'open');
      assert.match(tick.heldBy ?? '', /^paused: breaker/);
      assert.equal(tick.wakeAt, HOUR + 15 * MINUTE);
    }
    assert.equal(advanceBreaker(state.breaker, HOUR + 15 * MINUTE - 1).phase, 'open');
    assert.deepEqual(breakerGate(state.breaker), { allow: 'none', until: HOUR + 15 * MINUTE });
  });

  test('half-open allows exactly one probe spawn', () => {
    const first = planTick(openAt(0), 15 * MINUTE, null, wide);
    assert.ok(first.events.some((e) => e.type === 'breaker_half_open'));
    assert.deepEqual(first.spawns, [{ taskId: 'a', attempt: 1, probe: true }]);
    assert.equal(first.state.breaker.phase, 'half_open');
    assert.equal(first.state.breaker.probeTaskId, 'a');
    for (const t of [15 * MINUTE + 1, 16 * MINUTE, 10 * HOUR])
      assert.equal(planTick(first.state, t, null, wide).spawns.length, 0, `second spawn at ${t}`);
  });

  test('a successful probe closes the breaker', () => {
    const probing = planTick(openAt(0), 15 * MINUTE, null, wide).state;
    const r = applyExit(probing, 'a', SUCCEEDED, 30 * MINUTE, wide, half);
    assert.deepStrictEqual(r.state.breaker, closedBreaker(b));
    assert.ok(r.events.some((e) => e.type === 'breaker_closed' && e.by === 'probe'));
    assert.equal(planTick(r.state, 30 * MINUTE, null, wide).spawns.length, 2, 'normal spawning resumes');
  });

  test('a failed probe reopens the breaker with the cooldown doubled', () => {
    const probing = planTick(openAt(0), 15 * MINUTE, null, wide).state;
    const r = applyExit(probing, 'a', FAILED, 20 * MINUTE, wide, half);
    assert.equal(r.state.breaker.phase, 'open');
    assert.equal(r.state.breaker.openedAt, 20 * MINUTE);
    assert.equal(r.state.breaker.cooldownMs, 30 * MINUTE);
    assert.ok(r.events.some((e) => e.type === 'breaker_opened' && e.cooldownMs === 30 * MINUTE));
    assert.equal(planTick(r.state, 50 * MINUTE - 1, null, wide).spawns.length, 0);
  });

  test('the doubled cooldown never exceeds 24h', () => {
    const probing = planTick(openAt(0, 20 * HOUR), 20 * HOUR, null, wide).state;
    const r = applyExit(probing, 'a', FAILED, 21 * HOUR, wide, half);
    assert.equal(r.state.breaker.cooldownMs, MAX_COOLDOWN_MS);
    assert.equal(MAX_COOLDOWN_MS, 24 * HOUR);
  });
});
