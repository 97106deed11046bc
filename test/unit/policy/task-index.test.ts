// The task index behind planTick: it must always say what a walk over every task would say, for
// new states, old states that are planned again, states loaded from disk, and states edited by a
// spread outside the decision core. The property test at the end replays random event sequences
// through the indexed decision core and through the naive planTick it replaced, side by side.
import assert from 'node:assert/strict';
import { describe, test } from 'node:test';
import fc from 'fast-check';
import type { HostSample } from '../../../src/admission/evaluate.ts';
import { admissionViolations, updatePressure } from '../../../src/admission/evaluate.ts';

import { formatDuration } from '../../../src/config/units.ts';
import { advanceBreaker, breakerGate, recordProbeSpawn } from '../../../src/policy/breaker.ts';
import type { ExitReport } from '../../../src/policy/classify.ts';
import { addTask, addTasks, applyCancel, updateRunningAttempt } from '../../../src/policy/task-changes.ts';
import { applyDiskCheck, expectedIndex } from '../../helpers/policy.ts';
import { applyExit, applyInterrupted } from '../../../src/policy/attempt-end.ts';
import { applyManualPause, applyResume } from '../../../src/policy/pauses.ts';
import { planTick, runningCount, taskCounts, type SpawnOrder, type TickResult } from '../../../src/policy/tick.ts';
import { type CoreEvent } from '../../../src/events/catalog.ts';
import { type CoreSettings } from '../../../src/policy/settings.ts';
import { nextSpawnAllowedAt } from '../../../src/policy/rate-limit.ts';
import {
  buildTaskIndex,
  compareTasks,
  taskIndex,
  updateSorted,
  withChangedTasks,
  withoutTerminalTask,
} from '../../../src/policy/task-index.ts';
import { TASK_STATES, type Task, type TaskState, type WardenState } from '../../../src/state/types.ts';
import { DEFAULT_SETTINGS, NO_BREAKER } from '../../helpers/settings.ts';
import { exitReport, hostSample, PRESSURED_SAMPLE, stateOf, task } from '../../helpers/tasks.ts';
import { MINUTE } from '../../helpers/units.ts';

const ids = (list: readonly Task[]) => list.map((t) => t.id);

describe('task index', () => {
  test('lists pending tasks in spawn order, retry_wait tasks by due time (null first), and counts every state', () => {
    const tasks = stateOf([
      task('low', { priority: 3 }),
      task('old', { createdAt: 1 }),
      task('b', { createdAt: 5 }),
      task('a', { createdAt: 5 }),
      task('r-late', { state: 'retry_wait', notBefore: 900 }),
      task('r-now', { state: 'retry_wait', notBefore: null }),
      task('r-soon', { state: 'retry_wait', notBefore: 100 }),
      task('run', { state: 'running', attempts: 1 }),
      task('done', { state: 'succeeded' }),
    ]).tasks;
    const index = buildTaskIndex(tasks);
    assert.deepEqual(ids(index.pending), ['old', 'a', 'b', 'low']);
    assert.deepEqual(ids(index.retryWait), ['r-now', 'r-soon', 'r-late']);
    assert.deepEqual(index.counts, { pending: 4, running: 1, succeeded: 1, retry_wait: 3, dead: 0, blocked: 0, cancelled: 0 });
  });

  test('withChangedTasks leaves the input alone, keeps key order, appends new IDs and caches a correct index', () => {
    const before = stateOf([task('a'), task('b', { state: 'retry_wait', notBefore: 10 }), task('c')]).tasks;
    const snapshot = JSON.stringify(before);
    taskIndex(before);
    const next = withChangedTasks(before, [
      { ...before.a!, state: 'running' },
      task('d', { priority: 1 }),
      { ...before.b!, state: 'pending', notBefore: null },
    ]);
    assert.equal(JSON.stringify(before), snapshot);
    assert.deepEqual(Object.keys(next), ['a', 'b', 'c', 'd']);
    assert.deepEqual(taskIndex(next), expectedIndex(next));
    assert.deepEqual(taskIndex(before), expectedIndex(before), 'the old map keeps its own index');
  });

  test('withoutTerminalTask drops a finished task and derives a correct index; it refuses a live one', () => {
    const before = stateOf([task('a'), task('d', { state: 'dead' }), task('r', { state: 'retry_wait', notBefore: 3 })]).tasks;
    taskIndex(before);
    const next = withoutTerminalTask(before, 'd');
    assert.deepEqual(Object.keys(next), ['a', 'r']);
    assert.deepEqual(taskIndex(next), expectedIndex(next));
    assert.ok(before.d, 'the input is left alone');
    assert.equal(withoutTerminalTask(next, 'd'), next, 'an absent ID changes nothing');
    assert.throws(() => withoutTerminalTask(before, 'a'), /task a is pending/);
  });

  test('the same ID changed twice in one call counts once, with its last version', () => {
    const before = stateOf([task('a'), task('b')]).tasks;
    const next = withChangedTasks(before, [
      { ...before.a!, state: 'retry_wait', notBefore: 5 },
      { ...before.a!, state: 'running' },
    ]);
    assert.equal(next.a!.state, 'running');
    assert.deepEqual(taskIndex(next), expectedIndex(next));
  });

  test('updateSorted reports a task that is not where the order puts it (a stale index) as null', () => {
    const list = [task('a'), task('b'), task('c')];
    assert.equal(updateSorted(list, [task('b')], [], compareTasks), null, 'an equal but different object is not in the list');
    assert.deepEqual(ids(updateSorted(list, [list[1]!], [task('bb')], compareTasks)!), ['a', 'bb', 'c']);
  });

  test('a change to a task the index does not hold as it is in the map (an in-place edit) re-indexes from scratch', () => {
    const tasks = stateOf([task('a'), task('b')]).tasks;
    taskIndex(tasks);
    tasks.a = { ...tasks.a!, priority: 1 }; // breaks the contract: states are immutable
    const next = withChangedTasks(tasks, [{ ...tasks.a, state: 'running' }]);
    assert.deepEqual(taskIndex(next), expectedIndex(next));
  });
});

describe('planTick with the index', () => {
  const s: CoreSettings = { ...DEFAULT_SETTINGS, maxConcurrentWorkers: 2, minSpawnInterval: 10_000, breaker: NO_BREAKER };

  test('a held tick returns the very same state: no copy, nothing to save', () => {
    const state = { ...stateOf([task('a'), task('b', { state: 'retry_wait', notBefore: 50_000 })]), lastSpawnAt: 0 };
    const r = planTick(state, 1_000, null, s);
    assert.equal(r.spawns.length, 0);
    assert.match(r.heldBy ?? '', /^rate limit/);
    assert.equal(r.state, state);
    assert.equal(r.wakeAt, 10_000);
  });

  test('a task woken from retry_wait and claimed in the same tick is copied into the map once, as running', () => {
    const state = stateOf([task('r', { state: 'retry_wait', attempts: 1, notBefore: 100 })]);
    const r = planTick(state, 100, null, s);
    assert.deepEqual(r.spawns, [{ taskId: 'r', attempt: 2, probe: false }]);
    assert.equal(r.state.tasks.r!.state, 'running');
    assert.deepEqual(taskIndex(r.state.tasks), expectedIndex(r.state.tasks));
    assert.equal(state.tasks.r!.state, 'retry_wait', 'the input is unchanged');
  });

  test('a state edited in place after it was planned is re-indexed before anything is spawned from it', () => {
    const state = stateOf([task('a', { createdAt: 1 }), task('b', { createdAt: 2 })]);
    planTick({ ...state, lastSpawnAt: Date.now() }, 0, null, s); // indexes state.tasks
    state.tasks.a = { ...state.tasks.a!, state: 'cancelled' }; // breaks the contract
    assert.deepEqual(
      planTick(state, 0, null, s).spawns.map((o) => o.taskId),
      ['b'],
    );
  });

  test('wakeAt comes from the earliest retry even with 150,000 of them (Math.min(...list) overflowed the stack)', () => {
    const tasks: Task[] = [];
    for (let i = 0; i < 150_000; i++) tasks.push(task(`r${i}`, { state: 'retry_wait', attempts: 1, notBefore: 1_000_000 - i }));
    const r = planTick(stateOf(tasks), 0, null, s);
    assert.equal(r.wakeAt, 1_000_000 - 149_999);
  });

  test('runningCount and taskCounts come from the index, and a caller cannot change the index through them', () => {
    const state = stateOf([task('a', { state: 'running', attempts: 1 }), task('b'), task('c', { state: 'dead' })]);
    assert.equal(runningCount(state), 1);
    const counts = taskCounts(state);
    assert.deepEqual(counts, { pending: 1, running: 1, succeeded: 0, retry_wait: 0, dead: 1, blocked: 0, cancelled: 0 });
    counts.running = 99;
    assert.equal(runningCount(state), 1);
  });
});

// ---- the property: indexed planTick decides exactly what the naive one did -----------------------

/** planTick as it was before the index: three walks over every task and a copy per change. */
function naivePlanTick(prev: WardenState, now: number, sample: HostSample | null, s: CoreSettings): TickResult {
  const events: CoreEvent[] = [];
  let state = prev;
  const wake: number[] = [];
  const advanced = advanceBreaker(state.breaker, now);
  if (advanced !== state.breaker) {
    state = { ...state, breaker: advanced };
    events.push({ type: 'breaker_half_open' });
  }
  if (state.breaker.phase === 'open' && state.breaker.openedAt !== null) wake.push(state.breaker.openedAt + state.breaker.cooldownMs);
  if (sample !== null) {
    const violations = admissionViolations(sample, s.admission, s.memoryMax);
    const { pressure, transition } = updatePressure(state.pause.pressure, violations, now, s.admission.recoverAfter);
    if (pressure !== state.pause.pressure) state = { ...state, pause: { ...state.pause, pressure } };
    if (transition === 'entered') events.push({ type: 'pressure_entered', reasons: violations });
    if (transition === 'recovering') events.push({ type: 'pressure_recovering', recoverAfterMs: s.admission.recoverAfter });
    if (transition === 'left') events.push({ type: 'pressure_left' });
  }
  if (state.pause.pressure?.clearSince != null) wake.push(state.pause.pressure.clearSince + s.admission.recoverAfter);
  let tasks = state.tasks;
  for (const t of Object.values(state.tasks)) {
    if (t.state !== 'retry_wait') continue;
    if (t.notBefore === null || t.notBefore <= now) {
      if (tasks === state.tasks) tasks = { ...tasks };
      tasks[t.id] = { ...t, state: 'pending', notBefore: null, updatedAt: now };
    } else {
      wake.push(t.notBefore);
    }
  }
  if (tasks !== state.tasks) state = { ...state, tasks };
  const pending = Object.values(state.tasks).filter((t) => t.state === 'pending');
  const result = (spawns: SpawnOrder[], heldBy: string | null): TickResult => ({
    state,
    spawns,
    events,
    wakeAt: wake.length ? Math.min(...wake) : null,
    heldBy: pending.length > spawns.length ? heldBy : null,
  });
  if (pending.length === 0) return result([], null);
  if (state.pause.manual) return result([], 'paused: manual');
  if (state.pause.pressure) return result([], `paused: pressure (${state.pause.pressure.reasons.join('; ')})`);
  if (state.pause.disk) return result([], `paused: disk (${state.pause.disk.reason})`);
  const gate = breakerGate(state.breaker);
  if (gate.allow === 'none')
    return result(
      [],
      state.breaker.phase === 'open' ? `paused: breaker (${state.breaker.reason ?? 'open'})` : 'breaker half-open: probe running',
    );
  const running = Object.values(state.tasks).filter((t) => t.state === 'running').length;
  const slots = s.maxConcurrentWorkers - running;
  if (slots <= 0) return result([], `at max_concurrent_workers (${s.maxConcurrentWorkers})`);
  const allowedAt = nextSpawnAllowedAt(state.lastSpawnAt, s.minSpawnInterval);
  if (now < allowedAt) {
    wake.push(allowedAt);
    return result([], `rate limit: next spawn in ${formatDuration(allowedAt - now)}`);
  }
  const budget = gate.allow === 'probe' ? 1 : s.minSpawnInterval > 0 ? 1 : slots;
  const chosen = pending.sort(compareTasks).slice(0, budget);
  const spawns: SpawnOrder[] = [];
  tasks = { ...state.tasks };
  let breaker = state.breaker;
  for (const t of chosen) {
    const attempt = t.attempts + 1;
    const probe = gate.allow === 'probe';
    tasks[t.id] = {
      ...t,
      state: 'running',
      attempts: attempt,
      notBefore: null,
      updatedAt: now,
      current: { attempt, claimedAt: now, pid: null, pidStartTime: null, unit: null, executor: 'direct', probe },
    };
    if (probe) breaker = recordProbeSpawn(breaker, t.id);
    spawns.push({ taskId: t.id, attempt, probe });
    events.push({ type: 'task_spawn', taskId: t.id, attempt, probe });
  }
  state = { ...state, tasks, breaker, lastSpawnAt: now, totalSpawns: state.totalSpawns + spawns.length };
  if (s.minSpawnInterval > 0) wake.push(now + s.minSpawnInterval);
  return result(spawns, pending.length > spawns.length ? 'waiting for the next spawn slot' : null);
}

const SAMPLES: Record<string, HostSample | null> = { none: null, healthy: hostSample(), pressured: PRESSURED_SAMPLE };

const REPORTS: Record<string, ExitReport> = {
  succeeded: exitReport(),
  failed: exitReport({ exitCode: 1 }),
  startup: exitReport({ exitCode: 1, durationMs: 1_000 }),
  blocked: exitReport({ completion: { kind: 'blocked', reason: 'needs a human' } }),
};

const newTaskArb = fc.record({
  id: fc.integer({ min: 0, max: 60 }).map((n) => `n${n}`),
  priority: fc.integer({ min: 1, max: 3 }),
  createdAt: fc.integer({ min: 0, max: 40 }),
});

type Command =
  | { kind: 'tick'; dt: number; sample: keyof typeof SAMPLES }
  | { kind: 'wake'; sample: keyof typeof SAMPLES }
  | { kind: 'exit'; pick: number; report: keyof typeof REPORTS; random: number }
  | { kind: 'interrupt'; pick: number }
  | { kind: 'cancel'; pick: number }
  | { kind: 'disk'; low: boolean }
  | { kind: 'add'; tasks: { id: string; priority: number; createdAt: number }[] }
  | { kind: 'pause' }
  | { kind: 'resume' }
  | { kind: 'reload' }
  | { kind: 'patch'; pick: number }
  | { kind: 'replan-old'; back: number; dt: number };

const commandArb: fc.Arbitrary<Command> = fc.oneof(
  {
    weight: 6,
    arbitrary: fc.record({
      kind: fc.constant('tick' as const),
      dt: fc.integer({ min: 0, max: 4 * MINUTE }),
      sample: fc.constantFrom('none', 'healthy', 'healthy', 'pressured'),
    }),
  },
  { weight: 3, arbitrary: fc.record({ kind: fc.constant('wake' as const), sample: fc.constantFrom('none', 'healthy') }) },
  {
    weight: 4,
    arbitrary: fc.record({
      kind: fc.constant('exit' as const),
      pick: fc.nat(),
      report: fc.constantFrom('succeeded', 'failed', 'startup', 'blocked'),
      random: fc.double({ min: 0, max: 0.999, noNaN: true }),
    }),
  },
  { weight: 1, arbitrary: fc.record({ kind: fc.constant('interrupt' as const), pick: fc.nat() }) },
  { weight: 1, arbitrary: fc.record({ kind: fc.constant('cancel' as const), pick: fc.nat() }) },
  { weight: 1, arbitrary: fc.record({ kind: fc.constant('disk' as const), low: fc.boolean() }) },
  { weight: 2, arbitrary: fc.record({ kind: fc.constant('add' as const), tasks: fc.array(newTaskArb, { minLength: 1, maxLength: 4 }) }) },
  { weight: 1, arbitrary: fc.record({ kind: fc.constant('pause' as const) }) },
  { weight: 1, arbitrary: fc.record({ kind: fc.constant('resume' as const) }) },
  { weight: 1, arbitrary: fc.record({ kind: fc.constant('reload' as const) }) },
  { weight: 1, arbitrary: fc.record({ kind: fc.constant('patch' as const), pick: fc.nat() }) },
  {
    weight: 1,
    arbitrary: fc.record({ kind: fc.constant('replan-old' as const), back: fc.nat(), dt: fc.integer({ min: 0, max: 10 * MINUTE }) }),
  },
);

const initialTaskArb = fc.record({
  priority: fc.integer({ min: 1, max: 3 }),
  createdAt: fc.integer({ min: 0, max: 20 }),
  state: fc.constantFrom<TaskState>(...TASK_STATES, 'pending', 'pending', 'retry_wait'),
  attempts: fc.integer({ min: 0, max: 2 }),
  notBefore: fc.option(fc.integer({ min: 0, max: 20 * MINUTE }), { nil: null }),
});

const settingsArb = fc.record({
  maxConcurrentWorkers: fc.integer({ min: 1, max: 4 }),
  minSpawnInterval: fc.constantFrom(0, 0, 30_000),
  maxAttempts: fc.integer({ min: 1, max: 3 }),
  failures: fc.integer({ min: 2, max: 6 }),
  cooldown: fc.constantFrom(MINUTE, 5 * MINUTE),
});

/** Snapshot, to prove a call left its input state as it was. */
const frozen = (state: WardenState) => JSON.stringify(state);

describe('indexed planTick against the naive planTick', () => {
  test('same decisions, same states, over random states and event sequences; inputs are never modified', () => {
    fc.assert(
      fc.property(
        fc.array(initialTaskArb, { maxLength: 25 }),
        settingsArb,
        fc.array(commandArb, { minLength: 1, maxLength: 60 }),
        (initial, k, commands) => {
          const s: CoreSettings = {
            ...DEFAULT_SETTINGS,
            maxConcurrentWorkers: k.maxConcurrentWorkers,
            minSpawnInterval: k.minSpawnInterval,
            maxAttempts: k.maxAttempts,
            breaker: { failures: k.failures, window: 10 * MINUTE, cooldown: k.cooldown },
          };
          const start = stateOf(
            initial.map((t, i) =>
              task(`t${i}`, {
                ...t,
                attempts: t.state === 'running' ? Math.max(1, t.attempts) : t.attempts,
                notBefore: t.state === 'retry_wait' ? t.notBefore : null,
              }),
            ),
          );
          // `mine` goes through the indexed core; `ref` through the naive planTick. Both use the same
          // applyExit/addTask/...: their only difference is how planTick finds its tasks.
          let mine = start;
          let ref: WardenState = JSON.parse(JSON.stringify(start)) as WardenState;
          const history: [WardenState, WardenState][] = [[mine, ref]];
          let now = 0;
          let wakeAt: number | null = null;
          const running = () =>
            Object.values(ref.tasks)
              .filter((t) => t.state === 'running')
              .map((t) => t.id);
          const step = <R extends { state: WardenState }>(f: (st: WardenState) => R): [R, R] => {
            const before = frozen(mine);
            const a = f(mine);
            assert.equal(frozen(mine), before, 'the input state was modified');
            const b = f(ref);
            assert.deepStrictEqual(a, b);
            return [a, b];
          };
          for (const c of commands) {
            switch (c.kind) {
              case 'tick':
              case 'wake': {
                // 'wake': the supervisor's timer fires exactly at the wakeAt of the last tick
                now = c.kind === 'tick' ? now + c.dt : Math.max(now, wakeAt ?? now);
                const sample = SAMPLES[c.sample] ?? null;
                const before = frozen(mine);
                const a = planTick(mine, now, sample, s);
                assert.equal(frozen(mine), before, 'planTick modified its input');
                const b = naivePlanTick(ref, now, sample, s);
                assert.deepStrictEqual(a, b, `tick at ${now}`);
                if (b.state === ref) assert.equal(a.state, mine, 'an unchanged state is returned as is');
                [mine, ref] = [a.state, b.state];
                wakeAt = b.wakeAt;
                break;
              }
              case 'replan-old': {
                // an old state stays valid: planning it again (with its own cached index) still agrees
                const [oldMine, oldRef] = history[c.back % history.length]!;
                assert.deepStrictEqual(planTick(oldMine, now + c.dt, null, s), naivePlanTick(oldRef, now + c.dt, null, s));
                break;
              }
              case 'exit': {
                const ids = running();
                if (ids.length === 0) break;
                const id = ids[c.pick % ids.length]!;
                [mine, ref] = step((st) => applyExit(st, id, REPORTS[c.report]!, now, s, () => c.random)).map((r) => r.state) as [
                  WardenState,
                  WardenState,
                ];
                break;
              }
              case 'interrupt': {
                const ids = running();
                if (ids.length === 0) break;
                const id = ids[c.pick % ids.length]!;
                [mine, ref] = step((st) => applyInterrupted(st, id, now, 'warden was stopped', 1_000)).map((r) => r.state) as [
                  WardenState,
                  WardenState,
                ];
                break;
              }
              case 'cancel': {
                // a pending or waiting task leaves the index's lists
                const ids = Object.values(ref.tasks)
                  .filter((t) => t.state === 'pending' || t.state === 'retry_wait')
                  .map((t) => t.id);
                if (ids.length === 0) break;
                const id = ids[c.pick % ids.length]!;
                [mine, ref] = step((st) => applyCancel(st, id, now, 'label removed')).map((r) => r.state) as [WardenState, WardenState];
                break;
              }
              case 'disk':
                [mine, ref] = step((st) => applyDiskCheck(st, c.low ? 1 : 10 ** 12, 10 ** 9, '/var/lib/warden', now)).map(
                  (r) => r.state,
                ) as [WardenState, WardenState];
                break;
              case 'add': {
                const list = c.tasks.map((t) => ({ ...t, promptFile: `/p/${t.id}`, createdAt: now + t.createdAt }));
                // the batch on our side, one by one on the reference side: the same states
                const before = frozen(mine);
                const batch = addTasks(mine, list);
                assert.equal(frozen(mine), before, 'addTasks modified its input');
                for (const t of list) ref = addTask(ref, t).state;
                assert.deepStrictEqual(batch.state, ref);
                mine = batch.state;
                break;
              }
              case 'pause':
                [mine, ref] = step((st) => applyManualPause(st, now)).map((r) => r.state) as [WardenState, WardenState];
                break;
              case 'resume':
                [mine, ref] = step((st) => applyResume(st, s)).map((r) => r.state) as [WardenState, WardenState];
                break;
              case 'reload':
                // a restart: the state comes back from its JSON, with no index cached (both sides,
                // so that a field left undefined is dropped on both)
                mine = JSON.parse(JSON.stringify(mine)) as WardenState;
                ref = JSON.parse(JSON.stringify(ref)) as WardenState;
                break;
              case 'patch': {
                // the supervisor records the worker's pid: through the core on our side, by a spread
                // (a map the index never saw) on the reference side
                const ids = running();
                if (ids.length === 0) break;
                const id = ids[c.pick % ids.length]!;
                const patch = { pid: 1000 + c.pick, pidStartTime: String(c.pick), unit: null };
                const t = ref.tasks[id]!;
                ref = { ...ref, tasks: { ...ref.tasks, [id]: { ...t, current: { ...t.current!, ...patch } } } };
                mine = updateRunningAttempt(mine, id, patch);
                assert.deepStrictEqual(mine, ref);
                break;
              }
            }
            assert.deepEqual(taskIndex(mine.tasks), expectedIndex(mine.tasks), `index after ${c.kind}`);
            history.push([mine, ref]);
          }
        },
      ),
      { seed: 20261127, numRuns: 300 },
    );
  });
});
