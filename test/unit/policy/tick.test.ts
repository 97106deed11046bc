// The decision core on a fake clock: plain numbers as `now`, a seeded random, no processes.
import assert from 'node:assert/strict';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, describe, test } from 'node:test';
import { applyExit } from '../../../src/policy/attempt-end.ts';
import type { CoreSettings } from '../../../src/policy/settings.ts';
import { planTick, runningCount } from '../../../src/policy/tick.ts';
import { loadState, saveState } from '../../../src/state/store.ts';
import type { WardenState } from '../../../src/state/types.ts';
import { DEFAULT_SETTINGS as DEFAULTS, NO_BREAKER, settingsWith as settings } from '../../helpers/settings.ts';
import { HOUR, MINUTE, SECOND } from '../../helpers/units.ts';
import {
  exitReport as report,
  FAILED_EXIT as FAILED,
  halfRandom as half,
  stateWith,
  SUCCEEDED_EXIT as SUCCEEDED,
} from '../../helpers/tasks.ts';

/** A tiny deterministic LCG in [0, 1). */
function lcg(seed: number): () => number {
  let x = seed >>> 0;
  return () => {
    x = (Math.imul(x, 1664525) + 1013904223) >>> 0;
    return x / 2 ** 32;
  };
}

/** Spawns `id` (the only pending task) at `now` and returns the state with it running. */
function spawnOne(state: WardenState, now: number, s: CoreSettings): WardenState {
  const tick = planTick(state, now, null, s);
  assert.equal(tick.spawns.length, 1, `expected one spawn at ${now}, held by: ${tick.heldBy}`);
  return tick.state;
}

// ---- task lifecycle -----------------------------------------------------------------------------

describe('task lifecycle', () => {
  const s = settings({ breaker: NO_BREAKER });

  test('a failure puts the task in retry_wait with notBefore = now + the jittered delay', () => {
    const running = spawnOne(stateWith([{ id: 't1' }]), 0, s);
    const r = applyExit(running, 't1', FAILED, 5 * MINUTE, s, half);
    const t = r.state.tasks.t1!;
    assert.equal(r.outcome, 'exit_nonzero');
    assert.equal(t.state, 'retry_wait');
    assert.equal(t.notBefore, 5 * MINUTE + 30 * SECOND); // 0.5 x the 1m ceiling of the first failure
    assert.equal(t.current, null);
    assert.deepEqual(
      r.events.find((e) => e.type === 'task_retry'),
      { type: 'task_retry', taskId: 't1', kind: 'exit_nonzero', attempt: 1, delayMs: 30 * SECOND, detail: 'exit 1 after 300.0s' },
    );
  });

  test('a retry_wait task is not respawned before notBefore, and is at notBefore', () => {
    const running = spawnOne(stateWith([{ id: 't1' }]), 0, s);
    const waiting = applyExit(running, 't1', FAILED, 5 * MINUTE, s, half).state;
    const notBefore = waiting.tasks.t1!.notBefore!;
    const early = planTick(waiting, notBefore - 1, null, s);
    assert.equal(early.spawns.length, 0);
    assert.equal(early.wakeAt, notBefore);
    assert.deepEqual(planTick(waiting, notBefore, null, s).spawns, [{ taskId: 't1', attempt: 2, probe: false }]);
  });

  test('after max_attempts failures the task is dead and never spawned again', () => {
    let state = stateWith([{ id: 't1' }]);
    let now = 0;
    for (let attempt = 1; attempt <= 3; attempt++) {
      state = spawnOne(state, now, s);
      now += 5 * MINUTE;
      const r = applyExit(state, 't1', FAILED, now, s, half);
      state = r.state;
      if (attempt < 3) {
        assert.equal(state.tasks.t1!.state, 'retry_wait');
        now = state.tasks.t1!.notBefore!;
      } else {
        assert.ok(r.events.some((e) => e.type === 'task_dead' && e.attempts === 3));
      }
    }
    assert.equal(state.tasks.t1!.state, 'dead');
    assert.equal(state.tasks.t1!.attempts, 3);
    for (const later of [now + 1, now + HOUR, now + 30 * 24 * HOUR]) assert.equal(planTick(state, later, null, s).spawns.length, 0);
  });

  test('attempts reset to 0 after a success', () => {
    let state = stateWith([{ id: 't1' }]);
    let now = 0;
    for (let i = 0; i < 2; i++) {
      state = spawnOne(state, now, s);
      now += 5 * MINUTE;
      state = applyExit(state, 't1', FAILED, now, s, half).state;
      now = state.tasks.t1!.notBefore!;
    }
    state = spawnOne(state, now, s);
    assert.equal(state.tasks.t1!.attempts, 3);
    const r = applyExit(state, 't1', SUCCEEDED, now + 5 * MINUTE, s, half);
    assert.equal(r.state.tasks.t1!.state, 'succeeded');
    assert.equal(r.state.tasks.t1!.attempts, 0);
  });
});

// ---- spawn gates --------------------------------------------------------------------------------

describe('spawn gates', () => {
  test('max_concurrent_workers is never exceeded', () => {
    const s = settings({ maxConcurrentWorkers: 2, minSpawnInterval: 0, breaker: NO_BREAKER });
    const ids = ['a', 'b', 'c', 'd', 'e'];
    const first = planTick(stateWith(ids.map((id) => ({ id }))), 0, null, s);
    assert.equal(first.spawns.length, 2);
    assert.equal(runningCount(first.state), 2);
    const second = planTick(first.state, 1, null, s);
    assert.equal(second.spawns.length, 0);
    assert.match(second.heldBy ?? '', /max_concurrent_workers \(2\)/);
    const freed = applyExit(second.state, first.spawns[0]!.taskId, SUCCEEDED, 5 * MINUTE, s, half).state;
    const third = planTick(freed, 5 * MINUTE, null, s);
    assert.equal(third.spawns.length, 1);
    assert.equal(runningCount(third.state), 2);
  });

  test('tasks are spawned by priority (lower first), then oldest, then by ID', () => {
    const s = settings({ maxConcurrentWorkers: 10, minSpawnInterval: 0, breaker: NO_BREAKER });
    const state = stateWith([
      { id: 'low', priority: 3, createdAt: 0 },
      { id: 'urgent-new', priority: 1, createdAt: 50 },
      { id: 'urgent-old', priority: 1, createdAt: 10 },
      { id: 'normal', priority: 2, createdAt: 0 },
      { id: 'tie-b', priority: 2, createdAt: 5 },
      { id: 'tie-a', priority: 2, createdAt: 5 },
    ]);
    assert.deepEqual(
      planTick(state, 0, null, s).spawns.map((x) => x.taskId),
      ['urgent-old', 'urgent-new', 'normal', 'tie-a', 'tie-b', 'low'],
    );
  });
});

// ---- the incident, replayed ---------------------------------------------------------------------

/** 4 tasks; every worker exits 1 s after it starts with code 1; real defaults; 24 h of fake time. */
function replayIncident() {
  const s = DEFAULTS;
  assert.equal(s.maxConcurrentWorkers, 1);
  const END = 24 * HOUR;
  const random = lcg(20261127);
  let state = stateWith(
    [1, 2, 3, 4].map((n) => ({ id: `gh-${n}`, createdAt: n })),
    s,
  );
  const exits = new Map<string, number>(); // taskId -> the time its worker exits
  let now = 0;
  let spawns = 0;
  let maxRunning = 0;
  let firstOpen: { at: number; spawnsBefore: number; state: WardenState } | null = null;
  for (let step = 0; step < 100_000; step++) {
    for (const [id, at] of [...exits]) {
      if (at > now) continue;
      exits.delete(id);
      const r = applyExit(state, id, report({ exitCode: 1, durationMs: 1000 }), now, s, random);
      assert.equal(r.outcome, 'startup_error');
      state = r.state;
      if (!firstOpen && r.events.some((e) => e.type === 'breaker_opened')) firstOpen = { at: now, spawnsBefore: spawns, state };
    }
    const tick = planTick(state, now, null, s);
    state = tick.state;
    for (const o of tick.spawns) exits.set(o.taskId, now + 1000);
    spawns += tick.spawns.length;
    maxRunning = Math.max(maxRunning, runningCount(state));
    const next = Math.min(tick.wakeAt ?? Infinity, ...exits.values());
    if (next === Infinity || next > END) break;
    assert.ok(next > now, `time must advance (stuck at ${now})`);
    now = next;
  }
  return { s, spawns, maxRunning, firstOpen, state };
}

describe('incident replay', () => {
  const run = replayIncident();

  test('incident replay: at most 3 spawns before the breaker first opens; bounded spawns over 24 h; never 2 running at once', () => {
    assert.ok(run.firstOpen, 'the breaker opened');
    console.log(
      `incident replay: ${run.firstOpen.spawnsBefore} spawns before the breaker first opened (at t=${run.firstOpen.at / 1000}s); ${run.spawns} spawns over 24 h`,
    );
    assert.ok(run.firstOpen.spawnsBefore <= 3, `${run.firstOpen.spawnsBefore} spawns before the breaker opened`);
    assert.ok(run.spawns <= 4 * 3, `${run.spawns} spawns in 24 h (limit 4 tasks x max_attempts 3)`);
    assert.equal(run.state.totalSpawns, run.spawns);
    assert.equal(run.maxRunning, 1, 'never 2 workers at once');
    for (const t of Object.values(run.state.tasks)) assert.ok(t.attempts <= 3, `${t.id} had ${t.attempts} attempts`);
  });

  test('incident replay, simulated restart: the breaker is still open after save + load and nothing spawns before the cooldown ends', () => {
    assert.ok(run.firstOpen);
    const { s } = run;
    const dir = mkdtempSync(join(tmpdir(), 'warden-restart-'));
    after(() => rmSync(dir, { recursive: true, force: true }));
    saveState(dir, run.firstOpen.state);
    const { state: loaded, fresh } = loadState(dir, s.breaker.cooldown);
    assert.equal(fresh, false);
    assert.deepStrictEqual(loaded, run.firstOpen.state);
    assert.equal(loaded.breaker.phase, 'open');
    const reopenAt = loaded.breaker.openedAt! + loaded.breaker.cooldownMs;
    assert.equal(reopenAt, run.firstOpen.at + 15 * MINUTE);
    let state = loaded;
    for (const t of [run.firstOpen.at, run.firstOpen.at + 1, run.firstOpen.at + 5 * MINUTE, run.firstOpen.at + 10 * MINUTE, reopenAt - 1]) {
      const tick = planTick(state, t, null, s);
      assert.equal(tick.spawns.length, 0, `spawned at t=${t} after the restart`);
      assert.equal(tick.state.breaker.phase, 'open');
      state = tick.state;
    }
    assert.ok(
      Object.values(state.tasks).some((t) => t.state === 'pending'),
      'work was waiting: the breaker, not an empty queue, held it',
    );
    assert.equal(planTick(state, reopenAt, null, s).spawns.filter((x) => x.probe).length, 1, 'the cooldown ends in a single probe');
  });
});
