import assert from 'node:assert/strict';
import { describe, test } from 'node:test';
import { applyEnded, applyLaunchFailure, applyNotedStops } from '../../../src/policy/attempt-end.ts';
import { DEFAULT_SETTINGS } from '../../helpers/settings.ts';
import { stateOf, task } from '../../helpers/tasks.ts';

const running = (id: string, attempt: number, claimedAt: number) =>
  task(id, {
    state: 'running',
    attempts: attempt,
    current: { attempt, claimedAt, pid: 1, pidStartTime: null, unit: null, executor: 'direct', probe: false },
  });

describe('attempt end on a full disk', () => {
  test('noted stops: the same running attempt becomes interrupted with its attempt refunded; stale entries change nothing', () => {
    const prev = stateOf([running('a', 2, 100), running('b', 1, 100), task('c')]);
    const note = {
      stoppedAt: 500,
      attempts: [
        { taskId: 'a', attempt: 2, claimedAt: 100 },
        { taskId: 'b', attempt: 1, claimedAt: 99 }, // an earlier claim of the same attempt number
        { taskId: 'c', attempt: 1, claimedAt: 100 },
        { taskId: 'gone', attempt: 1, claimedAt: 100 },
      ],
    };
    const r = applyNotedStops(prev, note, 1000);
    assert.equal(r.count, 1);
    assert.equal(r.state.tasks.a?.state, 'pending');
    assert.equal(r.state.tasks.a?.attempts, 1);
    assert.equal(r.state.tasks.a?.history.at(-1)?.outcome, 'interrupted');
    assert.equal(r.state.tasks.a?.history.at(-1)?.durationMs, 400);
    assert.equal(r.state.tasks.b, prev.tasks.b);
    assert.deepEqual(
      r.events.map((e) => e.type),
      ['task_interrupted'],
    );
  });

  test('a launch that failed for lack of space is interrupted, not charged; any other launch failure is classified', () => {
    const prev = stateOf([running('a', 1, 100)]);
    const full = applyLaunchFailure(prev, 'a', { field: 'spawnError', message: 'ENOSPC', diskFull: true }, 200, DEFAULT_SETTINGS, () => 0);
    assert.equal(full.state.tasks.a?.state, 'pending');
    assert.equal(full.state.tasks.a?.attempts, 0);
    assert.match(full.state.tasks.a?.history.at(-1)?.detail ?? '', /no room on disk to start the worker: ENOSPC/);
    const other = applyLaunchFailure(
      prev,
      'a',
      { field: 'spawnError', message: 'EACCES', diskFull: false },
      200,
      DEFAULT_SETTINGS,
      () => 0,
    );
    assert.equal(other.state.tasks.a?.history.at(-1)?.outcome, 'spawn_failed');
    assert.equal(other.state.tasks.a?.attempts, 1);
  });

  test('applyEnded: a shutdown stop is interrupted and named for the shutdown note; a cancel asks for the cancel', () => {
    const prev = stateOf([running('a', 1, 100)]);
    const exit = { spawnError: null, exitCode: null, signal: 'SIGTERM', oomKilled: false, lost: false, endedAt: 300 };
    const base = { startedAt: 100, exit, completion: null, verdict: null };
    const s = applyEnded(prev, 'a', { ...base, stopReason: 'shutdown' }, 300, DEFAULT_SETTINGS, 60_000, () => 0);
    assert.deepEqual(s.stopped, { taskId: 'a', attempt: 1, claimedAt: 100 });
    assert.equal(s.cancel, false);
    assert.equal(s.state.tasks.a?.history.at(-1)?.outcome, 'interrupted');
    const c = applyEnded(prev, 'a', { ...base, stopReason: 'cancelled' }, 300, DEFAULT_SETTINGS, 60_000, () => 0);
    assert.equal(c.stopped, null);
    assert.equal(c.cancel, true);
    const ok = applyEnded(
      prev,
      'a',
      { ...base, exit: { ...exit, signal: null, exitCode: 0, endedAt: 100_000 }, stopReason: null },
      100_000,
      DEFAULT_SETTINGS,
      600_000,
      () => 0,
    );
    assert.equal(ok.state.tasks.a?.state, 'succeeded');
  });

  test('an OOM-killed attempt keeps the cgroup peak the wrapper read (memory.peak) in its record; unknown stays absent', () => {
    const prev = stateOf([running('a', 1, 100)]);
    const exit = {
      spawnError: null,
      exitCode: null,
      signal: 'SIGKILL',
      oomKilled: true,
      lost: false,
      endedAt: 60_000,
      memoryPeak: 67_108_864,
    };
    const r = applyEnded(
      prev,
      'a',
      { startedAt: 100, exit, completion: null, verdict: null, stopReason: null },
      60_000,
      DEFAULT_SETTINGS,
      600_000,
      () => 0,
    );
    const rec = r.state.tasks.a?.history.at(-1);
    assert.equal(rec?.outcome, 'oom_killed');
    assert.equal(rec?.memoryPeak, 67_108_864);
    const unknown = applyEnded(
      prev,
      'a',
      { startedAt: 100, exit: { ...exit, memoryPeak: null }, completion: null, verdict: null, stopReason: null },
      60_000,
      DEFAULT_SETTINGS,
      600_000,
      () => 0,
    );
    assert.equal('memoryPeak' in (unknown.state.tasks.a?.history.at(-1) ?? {}), false);
  });
});
