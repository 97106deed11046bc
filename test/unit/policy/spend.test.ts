// The daily spending count and its budget pause, on a fake clock.
import assert from 'node:assert/strict';
import { test } from 'node:test';
import type { CoreEvent } from '../../../src/events/catalog.ts';
import type { CoreSettings } from '../../../src/policy/settings.ts';
import { addSpend } from '../../../src/policy/spend.ts';
import { addTask } from '../../../src/policy/task-changes.ts';
import { planTick } from '../../../src/policy/tick.ts';
import { nextLocalMidnight } from '../../../src/policy/verdict.ts';
import { emptyState } from '../../../src/state/types.ts';
import { DEFAULT_SETTINGS } from '../../helpers/settings.ts';
import { MINUTE } from '../../helpers/units.ts';

const NOW = Date.UTC(2026, 10, 27, 22, 0, 0); // a fixed fake clock
const S: CoreSettings = { ...DEFAULT_SETTINGS, minSpawnInterval: 0, breaker: { failures: 1, window: 10 * MINUTE, cooldown: 15 * MINUTE } };

test('the daily budget pauses at the threshold and lifts at the next local midnight', () => {
  const s = { ...S, maxDailyCostUsd: 1 };
  const events: CoreEvent[] = [];
  let state = addSpend(emptyState(S.breaker.cooldown), 0.6, NOW, s, events);
  assert.equal(state.pause.budget, null);
  state = addSpend(state, 0.4, NOW + 1, s, events);
  const midnight = nextLocalMidnight(NOW + 1);
  assert.equal(state.pause.budget?.until, midnight);
  assert.deepEqual(
    events.map((e) => e.type),
    ['worker_paused'],
  );
  state = addTask(state, { id: 'a', promptFile: '/p/a', priority: 2, createdAt: 0 }).state;
  const held = planTick(state, midnight - 1, null, s);
  assert.match(held.heldBy ?? '', /paused: budget/);
  assert.equal(held.wakeAt, midnight);
  const next = planTick(state, midnight, null, s);
  assert.equal(next.spawns.length, 1);
  // the new day starts counting from zero
  const after = addSpend(next.state, 0.5, midnight + 1, s, []);
  assert.equal(after.spend.usd, 0.5);
  assert.equal(after.pause.budget, null);
});
