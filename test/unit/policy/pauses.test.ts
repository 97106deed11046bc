// The operator's pauses: `warden pause` holds spawning and leaves running workers alone, `warden
// resume` lifts it and closes an open breaker; the disk pause follows the problems it is given.
import assert from 'node:assert/strict';
import { test } from 'node:test';
import { closedBreaker } from '../../../src/policy/breaker.ts';
import { applyManualPause, applyResume } from '../../../src/policy/pauses.ts';
import { addTask } from '../../../src/policy/task-changes.ts';
import { planTick, runningCount } from '../../../src/policy/tick.ts';
import type { WardenState } from '../../../src/state/types.ts';
import { DEFAULT_SETTINGS as DEFAULTS, NO_BREAKER, settingsWith as settings } from '../../helpers/settings.ts';
import { stateWith } from '../../helpers/tasks.ts';

test('a manual pause blocks spawns but leaves running workers untouched', () => {
  const s = settings({ maxConcurrentWorkers: 2, minSpawnInterval: 0, breaker: NO_BREAKER });
  const running = planTick(stateWith([{ id: 'a' }]), 0, null, s).state;
  const withMore = addTask(addTask(running, { id: 'b', promptFile: '/p/b', priority: 2, createdAt: 1 }).state, {
    id: 'c',
    promptFile: '/p/c',
    priority: 2,
    createdAt: 2,
  }).state;
  const paused = applyManualPause(withMore, 100);
  assert.deepEqual(paused.events, [{ type: 'paused', by: 'manual' }]);
  const tick = planTick(paused.state, 200, null, s);
  assert.equal(tick.spawns.length, 0);
  assert.equal(tick.heldBy, 'paused: manual');
  assert.deepStrictEqual(tick.state.tasks.a, withMore.tasks.a, 'the running task is unchanged');
  assert.equal(runningCount(tick.state), 1);
});

test('resume clears a manual pause so spawning continues', () => {
  const s = settings({ breaker: NO_BREAKER });
  const paused = applyManualPause(stateWith([{ id: 'a' }]), 0).state;
  const r = applyResume(paused, s);
  assert.equal(r.state.pause.manual, null);
  assert.deepEqual(r.events, [{ type: 'resumed', by: 'manual' }]);
  assert.equal(planTick(r.state, 1, null, s).spawns.length, 1);
});

test('resume closes an open breaker and restores the base cooldown', () => {
  const open: WardenState = {
    ...stateWith([{ id: 'a' }]),
    breaker: {
      phase: 'open',
      recentFailures: [1, 2, 3],
      openedAt: 3,
      cooldownMs: 4 * DEFAULTS.breaker.cooldown,
      probeTaskId: null,
      reason: 'x',
    },
  };
  const r = applyResume(open, DEFAULTS);
  assert.deepStrictEqual(r.state.breaker, closedBreaker(DEFAULTS.breaker));
  assert.deepEqual(r.events, [{ type: 'breaker_closed', by: 'resume' }]);
  assert.equal(planTick(r.state, 4, null, DEFAULTS).spawns.length, 1);
});
