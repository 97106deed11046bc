// The state file must round-trip every state exactly: the incident's coordinator lost terminal and
// running tasks on every poll and so re-ran them forever. A corrupt file stops warden untouched.
import assert from 'node:assert/strict';

import { mkdirSync, readdirSync, readFileSync, writeFileSync } from 'node:fs';

import { join } from 'node:path';
import { describe, test } from 'node:test';

import fc from 'fast-check';
import { FAILURE_KINDS } from '../../../src/policy/failure-kind.ts';
import { loadState, saveState, StateError, statePath } from '../../../src/state/store.ts';
import {
  BREAKER_STATES,
  emptyState,
  stateSchema,
  TASK_STATES,
  type AttemptRecord,
  type BreakerState,
  type PauseState,
  type RunningAttempt,
  type Task,
  type TaskState,
  type WardenState,
} from '../../../src/state/types.ts';
import { tempRoot } from '../../helpers/tmp.ts';
import { runCliSync } from '../../helpers/cli.ts';

const COOLDOWN = 15 * 60_000;

const tmpRoot = tempRoot('state-test').path;
let dirNo = 0;
const freshDir = (): string => {
  const d = join(tmpRoot, `s${++dirNo}`);
  mkdirSync(d);
  return d;
};

// ---- arbitraries: every field within what stateSchema allows ------------------------------------

// Times and counters are integer milliseconds in warden; fractional values must survive too.
// (-0 is excluded: JSON has no negative zero, and warden never produces one.)
const time = fc.oneof(
  fc.integer({ min: 0, max: 4_102_444_800_000 }),
  fc.double({ min: 0, max: 1e13, noNaN: true, noDefaultInfinity: true }),
);
const nonNegative = fc.oneof(fc.integer({ min: 0, max: 1e9 }), fc.double({ min: 0, max: 1e9, noNaN: true, noDefaultInfinity: true }));
const text = fc.string({ unit: 'binary', maxLength: 40 }); // any code point, lone surrogates included
const nullableText = fc.option(text, { nil: null });
const taskId = fc.stringMatching(/^[A-Za-z0-9][A-Za-z0-9._-]{0,63}$/);
const OUTCOMES = ['succeeded', 'blocked', 'interrupted', ...FAILURE_KINDS] as const;
// JSON only ever yields plain objects, so generate plain ones (fast-check may otherwise produce
// null-prototype records, which deepStrictEqual rightly tells apart).
const record = <T>(model: { [K in keyof T]: fc.Arbitrary<T[K]> }): fc.Arbitrary<T> => fc.record(model, { noNullPrototype: true });

const attemptRecord: fc.Arbitrary<AttemptRecord> = record({
  attempt: fc.integer({ min: 1, max: 100 }),
  startedAt: time,
  endedAt: time,
  outcome: fc.constantFrom(...OUTCOMES),
  exitCode: fc.option(fc.integer({ min: -255, max: 255 }), { nil: null }),
  signal: fc.option(fc.constantFrom('SIGKILL', 'SIGTERM', 'SIGSEGV', 'SIGABRT'), { nil: null }),
  durationMs: nonNegative,
  detail: nullableText,
  costUsd: fc.option(nonNegative, { nil: null }),
  turns: fc.option(fc.integer({ min: 0, max: 10_000 }), { nil: null }),
  sessionId: nullableText,
});

const runningAttempt: fc.Arbitrary<RunningAttempt> = record({
  attempt: fc.integer({ min: 1, max: 100 }),
  claimedAt: time,
  pid: fc.option(fc.integer({ min: 1, max: 4_194_304 }), { nil: null }),
  pidStartTime: fc.option(fc.stringMatching(/^[0-9]{1,12}$/), { nil: null }),
  unit: fc.option(fc.stringMatching(/^warden-[a-z0-9-]{1,20}\.scope$/), { nil: null }),
  executor: fc.constantFrom('direct' as const, 'systemd' as const),
  probe: fc.boolean(),
});

const task = (id: string): fc.Arbitrary<Task> =>
  record({
    id: fc.constant(id),
    source: fc.constantFrom('local' as const, 'github' as const),
    issue: fc.option(record({ repo: text, number: fc.integer({ min: 1, max: 1e6 }), url: text, title: text }), { nil: null }),
    prUrl: nullableText,
    promptFile: text,
    priority: fc.integer({ min: -1000, max: 1000 }),
    createdAt: time,
    updatedAt: time,
    state: fc.constantFrom(...TASK_STATES),
    attempts: fc.integer({ min: 0, max: 100 }),
    notBefore: fc.option(time, { nil: null }),
    current: fc.option(runningAttempt, { nil: null }),
    history: fc.array(attemptRecord, { maxLength: 20 }),
    note: nullableText,
    costUsd: nonNegative,
    turns: fc.integer({ min: 0, max: 1_000_000 }),
    sessionId: nullableText,
  });

const tasks: fc.Arbitrary<Record<string, Task>> = fc
  .uniqueArray(taskId, { maxLength: 12 })
  .chain((ids) => fc.tuple(...ids.map(task)))
  .map((list) => Object.fromEntries(list.map((t) => [t.id, t])));

const breaker: fc.Arbitrary<BreakerState> = record({
  phase: fc.constantFrom(...BREAKER_STATES),
  recentFailures: fc.array(time, { maxLength: 10 }),
  openedAt: fc.option(time, { nil: null }),
  cooldownMs: nonNegative,
  probeTaskId: fc.option(taskId, { nil: null }),
  reason: nullableText,
});

const pause: fc.Arbitrary<PauseState> = record({
  manual: fc.option(record({ since: time }), { nil: null }),
  pressure: fc.option(record({ since: time, reasons: fc.array(text, { maxLength: 4 }), clearSince: fc.option(time, { nil: null }) }), {
    nil: null,
  }),
  disk: fc.option(record({ since: time, reason: text }), { nil: null }),
  fleet: fc.option(record({ since: time, reason: text }), { nil: null }),
  workerAuth: fc.option(record({ since: time, reason: text }), { nil: null }),
  usageLimit: fc.option(record({ since: time, until: time, reason: text }), { nil: null }),
  budget: fc.option(record({ since: time, until: time, reason: text }), { nil: null }),
  thermal: fc.option(record({ since: time, reasons: fc.array(text, { maxLength: 4 }), clearSince: fc.option(time, { nil: null }) }), {
    nil: null,
  }),
  power: fc.option(record({ since: time, reasons: fc.array(text, { maxLength: 4 }), clearSince: fc.option(time, { nil: null }) }), {
    nil: null,
  }),
});

const wardenState: fc.Arbitrary<WardenState> = record({
  version: fc.constant(1 as const),
  tasks,
  breaker,
  pause,
  lastSpawnAt: fc.option(time, { nil: null }),
  totalSpawns: fc.integer({ min: 0, max: 1_000_000 }),
  cleanShutdown: fc.boolean(),
  spend: record({ day: fc.stringMatching(/^(\d{4}-\d{2}-\d{2})?$/), usd: nonNegative }),
});

/** One hand-written state with a task in each of the 7 states, so every state is always covered. */
function everyStateExample(): WardenState {
  const base = emptyState(COOLDOWN);
  const mk = (state: TaskState, i: number): Task => ({
    id: `t-${state}`,
    source: state === 'succeeded' ? 'github' : 'local',
    issue: state === 'succeeded' ? { repo: 'o/r', number: 7, url: 'https://github.com/o/r/issues/7', title: 'a title' } : null,
    prUrl: state === 'succeeded' ? 'https://github.com/o/r/pull/8' : null,
    promptFile: `/var/lib/warden/prompts/t-${state}.md`,
    priority: i,
    createdAt: 1000 + i,
    updatedAt: 2000 + i,
    state,
    attempts: state === 'dead' ? 3 : 1,
    notBefore: state === 'retry_wait' ? 999_999 : null,
    current:
      state === 'running'
        ? { attempt: 1, claimedAt: 1500, pid: 4242, pidStartTime: '123456', unit: null, executor: 'direct', probe: false }
        : null,
    history: [
      {
        attempt: 1,
        startedAt: 10,
        endedAt: 20,
        outcome: 'interrupted',
        exitCode: null,
        signal: null,
        durationMs: 10,
        detail: 'warden stopped',
        costUsd: null,
        turns: null,
        sessionId: null,
      },
      {
        attempt: 1,
        startedAt: 30,
        endedAt: 31,
        outcome: 'auth_failed',
        exitCode: 1,
        signal: null,
        durationMs: 1000,
        detail: 'exit 1 after 1.0s',
        costUsd: 0,
        turns: 1,
        sessionId: '0b6c3f0e',
      },
    ],
    note: state === 'blocked' ? 'blocked: needs a human' : null,
    costUsd: state === 'succeeded' ? 0.0421 : 0,
    turns: state === 'succeeded' ? 3 : 1,
    sessionId: state === 'succeeded' ? '5f1e2d3c' : null,
  });
  return {
    ...base,
    tasks: Object.fromEntries(TASK_STATES.map((s, i) => [`t-${s}`, mk(s, i)])),
    breaker: {
      phase: 'open',
      recentFailures: [1, 2, 3],
      openedAt: 3,
      cooldownMs: COOLDOWN * 2,
      probeTaskId: null,
      reason: 'probe failed: t-dead: startup_error',
    },
    pause: {
      manual: { since: 5 },
      pressure: { since: 6, reasons: ['load: 2.00 per CPU is over max_load_per_cpu 1.5'], clearSince: 7 },
      disk: { since: 8, reason: '100M free' },
      fleet: { since: 9, reason: 'no lease' },
      workerAuth: { since: 9, reason: 'Not logged in · Please run /login' },
      usageLimit: { since: 10, until: 11, reason: 'Claude AI usage limit reached|1755615600' },
      budget: { since: 12, until: 13, reason: 'spent $20.10 today' },
      thermal: { since: 14, reasons: ['thermal: cpu-thermal at 81.2 °C is over max_temperature 75 °C'], clearSince: null },
      power: { since: 15, reasons: ['power: under-voltage now'], clearSince: 16 },
    },
    lastSpawnAt: 1500,
    totalSpawns: 9,
    cleanShutdown: false,
    spend: { day: '2026-11-27', usd: 20.1 },
  };
}

// ---- round trip ---------------------------------------------------------------------------------

describe('round trip (property)', () => {
  test('every WardenState survives saveState + loadState exactly, and stateSchema accepts it', () => {
    const seenStates = new Set<TaskState>();
    const seenOutcomes = new Set<string>();
    const seenPhases = new Set<string>();
    let withCurrent = 0;
    let withoutCurrent = 0;
    const dir = freshDir();
    fc.assert(
      fc.property(wardenState, (state) => {
        for (const t of Object.values(state.tasks)) {
          seenStates.add(t.state);
          if (t.current) withCurrent++;
          else withoutCurrent++;
          for (const h of t.history) seenOutcomes.add(h.outcome);
        }
        seenPhases.add(state.breaker.phase);
        assert.deepStrictEqual(stateSchema.parse(state), state);
        saveState(dir, state);
        const loaded = loadState(dir, COOLDOWN);
        assert.equal(loaded.fresh, false);
        assert.deepStrictEqual(loaded.state, state);
      }),
      { numRuns: 300, seed: 20261127, examples: [[everyStateExample()]] },
    );
    // the run really covered what it claims to
    assert.deepEqual([...seenStates].sort(), [...TASK_STATES].sort(), 'a task in each of the 7 states');
    assert.deepEqual([...seenOutcomes].sort(), [...OUTCOMES].sort(), 'every outcome, interrupted included');
    assert.deepEqual([...seenPhases].sort(), [...BREAKER_STATES].sort(), 'the breaker in every phase');
    assert.ok(withCurrent > 0 && withoutCurrent > 0, 'tasks with and without `current`');
  });

  test('a state with one task in each of the 7 states round-trips exactly', () => {
    const dir = freshDir();
    const state = everyStateExample();
    assert.equal(new Set(Object.values(state.tasks).map((t) => t.state)).size, 7);
    saveState(dir, state);
    assert.deepStrictEqual(loadState(dir, COOLDOWN).state, state);
  });
});

// ---- corrupt files --------------------------------------------------------------------------------

describe('a corrupt state file', () => {
  const valid = JSON.stringify(everyStateExample());
  const corrupt: [string, string][] = [
    ['truncated JSON', valid.slice(0, Math.floor(valid.length / 2))],
    ['wrong shape (a task without a state)', JSON.stringify({ ...everyStateExample(), tasks: { x: { id: 'x' } } })],
    ['wrong shape (an unknown version)', JSON.stringify({ ...everyStateExample(), version: 2 })],
    ['wrong shape (a JSON array)', '[]\n'],
    ['an empty file', ''],
  ];
  for (const [name, content] of corrupt) {
    test(`${name}: loadState throws StateError and leaves the file byte-for-byte untouched`, () => {
      const dir = freshDir();
      writeFileSync(statePath(dir), content);
      const before = readFileSync(statePath(dir));
      assert.throws(
        () => loadState(dir, COOLDOWN),
        (err: unknown) => {
          assert.ok(err instanceof StateError, `expected StateError, got ${String(err)}`);
          assert.match(err.message, /state\.json/);
          return true;
        },
      );
      assert.deepEqual(readFileSync(statePath(dir)), before);
      assert.deepEqual(readdirSync(dir), ['state.json']);
    });
  }
});

test('the corrupt-state message names state.json.bak only when it exists', () => {
  const dir = freshDir();
  writeFileSync(statePath(dir), '{"trunc');
  const message = () => {
    try {
      loadState(dir, COOLDOWN);
    } catch (err) {
      return (err as Error).message;
    }
    return '';
  };
  assert.doesNotMatch(message(), /Restore it from/);
  assert.match(message(), /There is no \S*state\.json\.bak to restore from; move it aside deliberately/);
  writeFileSync(`${statePath(dir)}.bak`, JSON.stringify(everyStateExample()));
  assert.match(message(), /Restore it from \S*state\.json\.bak/);
  writeFileSync(statePath(dir), '[]');
  assert.match(message(), /does not match the expected format[\s\S]*Restore it from \S*state\.json\.bak/);
});

test('an atomic write leaves no temp file behind', () => {
  const dir = freshDir();
  saveState(dir, everyStateExample());
  saveState(dir, emptyState(COOLDOWN));
  assert.deepEqual(readdirSync(dir), ['state.json']);
});

test('a missing state file is a fresh, empty state', () => {
  const dir = freshDir();
  const r = loadState(dir, COOLDOWN);
  assert.equal(r.fresh, true);
  assert.deepStrictEqual(r.state, emptyState(COOLDOWN));
  assert.deepEqual(readdirSync(dir), [], 'loading creates nothing');
});

test('`warden run` with a corrupt state.json exits 78 with a clear message and does not replace the file', () => {
  const root = freshDir();
  const stateDir = join(root, 'state');
  mkdirSync(stateDir);
  const truncated = JSON.stringify(everyStateExample()).slice(0, 200);
  writeFileSync(statePath(stateDir), truncated);
  const before = readFileSync(statePath(stateDir));
  const config = join(root, 'config.toml');
  writeFileSync(config, `[supervisor]\nstate_dir = "${stateDir}"\n[executor]\nkind = "direct"\n`);
  const r = runCliSync(['run', '--config', config]);
  assert.equal(r.signal, null, `warden run did not exit by itself (killed by ${r.signal})`);
  assert.equal(r.code, 78, r.stderr);
  assert.match(r.stderr, /warden: .*state\.json: state file is corrupt/);
  assert.match(r.stderr, /will not start from an empty state/);
  assert.doesNotMatch(r.stderr, /^ {4}at /m, 'no stack trace');
  assert.deepEqual(readFileSync(statePath(stateDir)), before);
  assert.deepEqual(readdirSync(stateDir), ['state.json'], 'no backup, temp or socket file was created');
});

describe('older state files', () => {
  test('a state file written before the GitHub fields existed still loads, with them empty', () => {
    const dir = freshDir();
    const old = {
      version: 1,
      tasks: {
        a: {
          id: 'a',
          source: 'local',
          promptFile: '/p',
          priority: 2,
          createdAt: 1,
          updatedAt: 1,
          state: 'dead',
          attempts: 3,
          notBefore: null,
          current: null,
          history: [],
          note: 'x',
        },
      },
      breaker: { phase: 'open', recentFailures: [1], openedAt: 1, cooldownMs: 5, probeTaskId: null, reason: 'r' },
      pause: { manual: null, pressure: null },
      lastSpawnAt: 1,
      totalSpawns: 3,
      cleanShutdown: false,
    };
    writeFileSync(join(dir, 'state.json'), JSON.stringify(old));
    const { state } = loadState(dir, COOLDOWN);
    assert.equal(state.tasks.a?.state, 'dead');
    assert.equal(state.tasks.a?.issue, null);
    assert.equal(state.tasks.a?.prUrl, null);
    assert.equal(state.pause.disk, null);
    assert.equal(state.breaker.phase, 'open');
  });

  test('a state file written before cost accounting existed loads with zero cost and no worker pauses', () => {
    const dir = freshDir();
    const record = {
      attempt: 1,
      startedAt: 1,
      endedAt: 2,
      outcome: 'exit_nonzero',
      exitCode: 1,
      signal: null,
      durationMs: 1,
      detail: 'exit 1',
    };
    const old = {
      version: 1,
      tasks: {
        a: {
          id: 'a',
          source: 'local',
          issue: null,
          prUrl: null,
          promptFile: '/p',
          priority: 2,
          createdAt: 1,
          updatedAt: 1,
          state: 'retry_wait',
          attempts: 1,
          notBefore: 5,
          current: null,
          history: [record],
          note: 'x',
        },
      },
      breaker: { phase: 'closed', recentFailures: [], openedAt: null, cooldownMs: 5, probeTaskId: null, reason: null },
      pause: { manual: null, pressure: null, disk: null },
      lastSpawnAt: 1,
      totalSpawns: 1,
      cleanShutdown: true,
    };
    writeFileSync(join(dir, 'state.json'), JSON.stringify(old));
    const { state } = loadState(dir, COOLDOWN);
    assert.deepEqual([state.tasks.a?.costUsd, state.tasks.a?.turns, state.tasks.a?.sessionId], [0, 0, null]);
    assert.deepEqual(
      [state.tasks.a?.history[0]?.costUsd, state.tasks.a?.history[0]?.turns, state.tasks.a?.history[0]?.sessionId],
      [null, null, null],
    );
    assert.deepEqual([state.pause.workerAuth, state.pause.usageLimit, state.pause.budget], [null, null, null]);
    assert.deepEqual(state.spend, { day: '', usd: 0 });
  });
});
