// The decision core on a fake clock: plain numbers as `now`, a seeded random, no processes.
import assert from 'node:assert/strict';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, describe, test } from 'node:test';
import fc from 'fast-check';
import { backoffCeiling, backoffDelay } from '../../../src/policy/backoff.ts';
import { advanceBreaker, breakerGate, breakerOnFailure, closedBreaker, MAX_COOLDOWN_MS } from '../../../src/policy/breaker.ts';
import { classifyExit, type ExitOutcome, type ExitReport } from '../../../src/policy/classify.ts';
import { applyExit } from '../../../src/policy/attempt-end.ts';
import { applyManualPause, applyResume } from '../../../src/policy/pauses.ts';
import type { CoreSettings } from '../../../src/policy/settings.ts';
import { addTask } from '../../../src/policy/task-changes.ts';
import { planTick, runningCount } from '../../../src/policy/tick.ts';
import { FAILURE_KINDS } from '../../../src/policy/failure-kind.ts';
import { loadState, saveState } from '../../../src/state/store.ts';
import type { WardenState } from '../../../src/state/types.ts';
import { DEFAULT_SETTINGS as DEFAULTS, NO_BREAKER } from '../../helpers/settings.ts';
import { HOUR, MINUTE, SECOND } from '../../helpers/units.ts';
import { exitReport as report, stateWith } from '../../helpers/tasks.ts';

const settings = (over: Partial<CoreSettings> = {}): CoreSettings => ({ ...DEFAULTS, ...over });

const half = () => 0.5;

/** A tiny deterministic LCG in [0, 1). */
function lcg(seed: number): () => number {
  let x = seed >>> 0;
  return () => {
    x = (Math.imul(x, 1664525) + 1013904223) >>> 0;
    return x / 2 ** 32;
  };
}

const FAILED = report({ exitCode: 1 }); // exit_nonzero, well past the startup window
const SUCCEEDED = report({ exitCode: 0 });

/** Spawns `id` (the only pending task) at `now` and returns the state with it running. */
function spawnOne(state: WardenState, now: number, s: CoreSettings): WardenState {
  const tick = planTick(state, now, null, s);
  assert.equal(tick.spawns.length, 1, `expected one spawn at ${now}, held by: ${tick.heldBy}`);
  return tick.state;
}

// ---- backoff ------------------------------------------------------------------------------------

describe('backoff', () => {
  test('startup_error ceiling: 5m, 10m, 20m, 40m, 80m, then capped at 2h', () => {
    const got = [1, 2, 3, 4, 5, 6, 7].map((n) => backoffCeiling(DEFAULTS.backoff.startup_error, n) / MINUTE);
    assert.deepEqual(got, [5, 10, 20, 40, 80, 120, 120]);
  });

  test('every other kind: ceiling 1m, 2m, 4m, 8m, 16m, then capped at 30m', () => {
    for (const kind of FAILURE_KINDS.filter((k) => k !== 'startup_error')) {
      const got = [1, 2, 3, 4, 5, 6, 7].map((n) => backoffCeiling(DEFAULTS.backoff[kind], n) / MINUTE);
      assert.deepEqual(got, [1, 2, 4, 8, 16, 30, 30], kind);
    }
  });

  test('the ceiling stays at max for absurd failure counts (no overflow to Infinity or NaN)', () => {
    assert.equal(backoffCeiling(DEFAULTS.backoff.unknown, 100_000), 30 * MINUTE);
  });

  test('full jitter: every delay is an integer in [0, ceiling) for every kind', () => {
    fc.assert(
      fc.property(
        fc.constantFrom(...FAILURE_KINDS),
        fc.integer({ min: 1, max: 60 }),
        fc.double({ min: 0, max: 1, maxExcluded: true, noNaN: true }),
        (kind, failures, r) => {
          const ceiling = backoffCeiling(DEFAULTS.backoff[kind], failures);
          const d = backoffDelay(DEFAULTS.backoff[kind], failures, () => r);
          assert.ok(Number.isInteger(d) && d >= 0 && d < ceiling, `${kind} #${failures}: ${d} not in [0, ${ceiling})`);
        },
      ),
      { seed: 42, numRuns: 500 },
    );
  });

  test('full jitter spans the whole range: random 0 gives 0, random just below 1 gives ceiling - 1', () => {
    const b = DEFAULTS.backoff.startup_error;
    assert.equal(
      backoffDelay(b, 1, () => 0),
      0,
    );
    assert.equal(
      backoffDelay(b, 1, () => 1 - 2 ** -52),
      5 * MINUTE - 1,
    );
  });
});

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
});

// ---- breaker ------------------------------------------------------------------------------------

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

// ---- classifyExit -------------------------------------------------------------------------------

describe('classifyExit', () => {
  const cs = { startupWindow: 10 * SECOND };
  const rules: [string, Partial<ExitReport>, ExitOutcome][] = [
    ['a spawn error is spawn_failed', { spawnError: 'ENOENT: claude not found', exitCode: null }, 'spawn_failed'],
    ['a worktree error is worktree_error', { worktreeError: 'git worktree add failed', exitCode: null }, 'worktree_error'],
    ['running past max_runtime is timeout', { timedOut: true, exitCode: null, signal: 'SIGTERM' }, 'timeout'],
    ['an OOM kill is oom_killed', { oomKilled: true, exitCode: null, signal: 'SIGKILL' }, 'oom_killed'],
    ['a lost exit status is unknown', { lost: true, exitCode: null }, 'unknown'],
    ['exit code 0 inside the startup window is startup_error', { exitCode: 0, durationMs: 1 * SECOND }, 'startup_error'],
    ['exit code 1 inside the startup window is startup_error', { exitCode: 1, durationMs: 9_999 }, 'startup_error'],
    ['a signal after the startup window is crashed', { exitCode: null, signal: 'SIGSEGV' }, 'crashed'],
    ['a nonzero code after the startup window is exit_nonzero', { exitCode: 2 }, 'exit_nonzero'],
    ['code 0 after the startup window is succeeded', { exitCode: 0, durationMs: 10 * SECOND }, 'succeeded'],
  ];
  for (const [name, over, want] of rules) {
    test(name, () => assert.equal(classifyExit(report(over), cs), want));
  }

  test('NaN duration with exitCode null and signal null is unknown', () => {
    assert.equal(classifyExit(report({ durationMs: NaN, exitCode: null, signal: null }), cs), 'unknown');
  });

  test('a non-integer exit code is unknown', () => {
    assert.equal(classifyExit(report({ exitCode: 1.5 }), cs), 'unknown');
  });

  test('never throws on garbage input, and always returns a known outcome', () => {
    const known = new Set<string>(['succeeded', ...FAILURE_KINDS]);
    assert.equal(classifyExit(null as unknown as ExitReport, cs), 'unknown');
    assert.equal(classifyExit(undefined as unknown as ExitReport, cs), 'unknown');
    fc.assert(
      fc.property(
        fc.record(
          {
            spawnError: fc.anything(),
            worktreeError: fc.anything(),
            exitCode: fc.anything(),
            signal: fc.anything(),
            durationMs: fc.oneof(fc.double(), fc.anything()),
            timedOut: fc.anything(),
            oomKilled: fc.anything(),
            lost: fc.anything(),
          },
          { requiredKeys: [] },
        ),
        fc.anything(),
        (garbage, window) => {
          const out = classifyExit(garbage as unknown as ExitReport, { startupWindow: window as number });
          assert.ok(known.has(out), `unexpected outcome ${String(out)}`);
        },
      ),
      { seed: 7, numRuns: 500 },
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
