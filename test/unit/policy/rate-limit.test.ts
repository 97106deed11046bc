// The global spawn rate limit: one spawn per min_spawn_interval, whatever the task.
import assert from 'node:assert/strict';
import { test } from 'node:test';
import { nextSpawnAllowedAt } from '../../../src/policy/rate-limit.ts';
import { planTick } from '../../../src/policy/tick.ts';
import { NO_BREAKER, settingsWith as settings } from '../../helpers/settings.ts';
import { stateWith } from '../../helpers/tasks.ts';
import { SECOND } from '../../helpers/units.ts';

test('nextSpawnAllowedAt: at once before the first spawn, min_spawn_interval after the last one', () => {
  assert.equal(nextSpawnAllowedAt(null, 10 * SECOND), -Infinity);
  assert.equal(nextSpawnAllowedAt(5 * SECOND, 10 * SECOND), 15 * SECOND);
  assert.equal(nextSpawnAllowedAt(5 * SECOND, 0), 5 * SECOND);
});

test('rate limit: one spawn per min_spawn_interval, globally across tasks', () => {
  const s = settings({ maxConcurrentWorkers: 4, minSpawnInterval: 10 * SECOND, breaker: NO_BREAKER });
  const t0 = planTick(stateWith([{ id: 'a' }, { id: 'b' }, { id: 'c' }]), 0, null, s);
  assert.deepEqual(
    t0.spawns.map((x) => x.taskId),
    ['a'],
  );
  const t1 = planTick(t0.state, 10 * SECOND - 1, null, s);
  assert.equal(t1.spawns.length, 0);
  assert.match(t1.heldBy ?? '', /^rate limit/);
  assert.equal(t1.wakeAt, 10 * SECOND);
  const t2 = planTick(t1.state, 10 * SECOND, null, s);
  assert.deepEqual(
    t2.spawns.map((x) => x.taskId),
    ['b'],
  );
});
