// The worker's own verdict: the stream-json reader (chunks split anywhere, noise, unknown events,
// huge lines), the log tail on a real file, and the pure decisions it feeds, on a fake clock.
import assert from 'node:assert/strict';
import { appendFileSync, readFileSync, writeFileSync } from 'node:fs';

import { join } from 'node:path';
import { setTimeout as sleep } from 'node:timers/promises';
import { describe, test } from 'node:test';
import fc from 'fast-check';

import { classifyExit, type ExitReport } from '../../../src/policy/classify.ts';
import { addSpend } from '../../../src/policy/spend.ts';
import { addTask } from '../../../src/policy/task-changes.ts';
import { applyExit } from '../../../src/policy/attempt-end.ts';
import { applyResume } from '../../../src/policy/pauses.ts';
import { planTick } from '../../../src/policy/tick.ts';
import { type CoreEvent } from '../../../src/events/catalog.ts';
import { type CoreSettings } from '../../../src/policy/settings.ts';
import { classifyVerdict, nextLocalMidnight, nextWallClock, parseLimitReset, usageLimitUntil } from '../../../src/policy/verdict.ts';
import { emptyState, type WardenState } from '../../../src/state/types.ts';
import { LogTail } from '../../../src/verdict/log-tail.ts';
import { StreamVerdictReader } from '../../../src/verdict/stream-reader.ts';
import type { WorkerVerdict } from '../../../src/policy/verdict.ts';
import { DEFAULT_SETTINGS } from '../../helpers/settings.ts';
import { exitReport, stateWith } from '../../helpers/tasks.ts';
import { HOUR, MINUTE, SECOND } from '../../helpers/units.ts';
import { tempRoot } from '../../helpers/tmp.ts';

const STREAMS = new URL('../../fixtures/streams/', import.meta.url).pathname;
const fixture = (name: string) => readFileSync(join(STREAMS, `${name}.jsonl`));
const NOW = Date.UTC(2026, 10, 27, 22, 0, 0); // a fixed fake clock

const tmp = tempRoot('verdict-test');

function read(bytes: Uint8Array, chunks: number[] = []): WorkerVerdict {
  const r = new StreamVerdictReader();
  let at = 0;
  for (const c of chunks) {
    r.push(bytes.subarray(at, Math.min(bytes.length, at + c)));
    at = Math.min(bytes.length, at + c);
  }
  r.push(bytes.subarray(at));
  r.end();
  return r.result();
}

// ---- the reader -----------------------------------------------------------------------------------

describe('stream-json reader', () => {
  test('the real unauthenticated run: session, turns, cost, is_error, the error field and the result text', () => {
    const v = read(fixture('auth'));
    assert.equal(v.sessionId, '0b6c3f0e-5d2a-4a55-9f61-2f7d0c1e9a01');
    assert.equal(v.subtype, 'success');
    assert.equal(v.isError, true);
    assert.equal(v.numTurns, 1);
    assert.equal(v.totalCostUsd, 0);
    assert.equal(v.durationMs, 41);
    assert.equal(v.error, 'authentication_failed');
    assert.equal(v.resultText, 'Not logged in · Please run /login');
    assert.equal(v.events, 3);
  });

  test('a success with cost and turns', () => {
    const v = read(fixture('success'));
    assert.deepEqual([v.isError, v.numTurns, v.totalCostUsd, v.durationMs, v.error], [false, 3, 0.0421, 18234, null]);
  });

  test('noise, unknown event types and a cut-off line are skipped; the result still counts', () => {
    const v = read(fixture('garbage'));
    assert.equal(v.sawResult, true);
    assert.equal(v.totalCostUsd, 0.0105);
    assert.equal(v.unknownEvents, 1, 'some_future_event');
    assert.ok(v.noiseLines >= 5, `noise lines: ${v.noiseLines}`);
    assert.equal(v.sessionId, 'b1f20314-1212-4182-a394-c5d6e7f8091a');
  });

  test('chunks split at arbitrary byte boundaries (inside UTF-8 characters too) give the same verdict (property)', () => {
    const whole = Buffer.concat([fixture('garbage'), fixture('auth'), fixture('success')]);
    const expected = read(whole);
    fc.assert(
      fc.property(fc.array(fc.integer({ min: 0, max: 300 }), { maxLength: 60 }), (chunks) => {
        assert.deepStrictEqual(read(whole, chunks), expected);
      }),
      { numRuns: 300, seed: 8 },
    );
    // the · of "Not logged in · Please run /login" is two bytes: split between them
    const at = whole.indexOf(Buffer.from('·')) + 1;
    assert.deepStrictEqual(read(whole, [at]), expected);
  });

  test('a last line without a newline counts at the end of the stream', () => {
    const v = read(Buffer.from('{"type":"result","subtype":"success","is_error":false,"num_turns":2}'));
    assert.equal(v.numTurns, 2);
  });

  test('a line longer than the limit is dropped, not buffered, and the next line still parses', () => {
    const r = new StreamVerdictReader(1024);
    const huge = Buffer.alloc(10 * 1024 * 1024, 'x');
    r.push(Buffer.from('{"type":"assistant","message":{"content":"'));
    for (let i = 0; i < 10; i++) r.push(huge.subarray(i * 1024 * 1024, (i + 1) * 1024 * 1024));
    r.push(Buffer.from('"}}\n{"type":"result","subtype":"success","is_error":false,"num_turns":4}\n'));
    const v = r.result();
    assert.equal(v.droppedLongLines, 1);
    assert.equal(v.numTurns, 4);
  });

  test('bad constructor argument is a RangeError', () => {
    assert.throws(() => new StreamVerdictReader(0), RangeError);
  });
});

describe('log tail (a real file, appended while it is followed)', () => {
  test('reads events as they are written, from the given offset, and tracks the last event time', async () => {
    const dir = tmp.fresh('tail');
    const log = join(dir, '1.log');
    writeFileSync(log, '{"type":"result","num_turns":99}\n'); // an earlier run of the same attempt number
    const offset = readFileSync(log).length;
    let clock = 1000;
    const tail = new LogTail(log, { fromOffset: offset, pollMs: 20, now: () => clock });
    const lines = fixture('success').toString().split('\n');
    appendFileSync(log, lines[0]!.slice(0, 50));
    clock = 2000;
    await sleep(60);
    assert.equal(tail.lastEventAt, 1000, 'half a line is not an event');
    appendFileSync(log, lines[0]!.slice(50) + '\n');
    await sleep(60);
    assert.equal(tail.lastEventAt, 2000);
    clock = 3000;
    appendFileSync(log, lines.slice(1).join('\n'));
    const v = tail.finish();
    assert.equal(v.numTurns, 3, 'the earlier run before the offset is not read');
    assert.equal(v.totalCostUsd, 0.0421);
    assert.equal(tail.lastEventAt, 3000);
  });
});

// ---- classification -------------------------------------------------------------------------------

describe('classifying the verdict', () => {
  test('each fixture leads to its kind', () => {
    const kinds = Object.fromEntries(
      ['auth', 'usage-limit', 'usage-limit-clock', 'max-turns', 'api-error', 'stalled', 'garbage', 'success'].map((n) => [
        n,
        classifyVerdict(read(fixture(n)), NOW)?.kind ?? null,
      ]),
    );
    assert.deepEqual(kinds, {
      auth: 'auth_failed',
      'usage-limit': 'usage_limit',
      'usage-limit-clock': 'usage_limit',
      'max-turns': 'max_turns',
      'api-error': 'api_error',
      stalled: null, // no verdict: the exit code (or the stall timer) decides
      garbage: null,
      success: null,
    });
  });

  test('usage limit forms and their reset times', () => {
    assert.equal(parseLimitReset('Claude AI usage limit reached|1755615600', NOW), 1755615600_000);
    // 22:00 UTC = 23:00 in Rome (CET): the next 4:50am there is 03:50 UTC the next day
    assert.equal(parseLimitReset("You've hit your limit · resets 4:50am (Europe/Rome)", NOW), Date.UTC(2026, 10, 28, 3, 50));
    assert.equal(
      parseLimitReset('Claude usage limit reached. Your limit will reset at 5pm (Europe/Warsaw).', NOW),
      Date.UTC(2026, 10, 28, 16, 0),
    );
    assert.equal(parseLimitReset("You've hit your limit - resets Feb 7, 11am (Asia/Seoul)", NOW), null, 'a date form is not guessed');
    assert.equal(parseLimitReset('resets 4am (Not/AZone)', NOW), null);
    assert.equal(nextWallClock(NOW, 23, 30, 'UTC'), Date.UTC(2026, 10, 27, 23, 30));
  });

  test('pause-until: the reset time when given, capped; else the configured wait', () => {
    assert.equal(usageLimitUntil(NOW + 2 * HOUR, NOW, HOUR), NOW + 2 * HOUR);
    assert.equal(usageLimitUntil(null, NOW, HOUR), NOW + HOUR);
    assert.equal(usageLimitUntil(NOW - 1, NOW, HOUR), NOW + HOUR, 'a reset in the past');
    assert.equal(usageLimitUntil(NOW + 365 * 24 * HOUR, NOW, HOUR), NOW + 8 * 24 * HOUR);
  });

  test('the verdict beats the startup window: a 1.6 s unauthenticated exit is auth_failed, not startup_error', () => {
    const r: ExitReport = {
      spawnError: null,
      worktreeError: null,
      exitCode: 1,
      signal: null,
      durationMs: 1600,
      timedOut: false,
      oomKilled: false,
      lost: false,
    };
    assert.equal(classifyExit(r, { startupWindow: 10 * SECOND }), 'startup_error');
    assert.equal(
      classifyExit({ ...r, verdict: classifyVerdict(read(fixture('auth')), NOW) }, { startupWindow: 10 * SECOND }),
      'auth_failed',
    );
    assert.equal(classifyExit({ ...r, stalled: true, durationMs: HOUR, signal: 'SIGTERM' }, { startupWindow: 10 * SECOND }), 'stalled');
  });
});

// ---- decisions on a fake clock --------------------------------------------------------------------

const S: CoreSettings = { ...DEFAULT_SETTINGS, minSpawnInterval: 0, breaker: { failures: 1, window: 10 * MINUTE, cooldown: 15 * MINUTE } };

function running(ids: string[], now: number, s = S): WardenState {
  const state = stateWith(
    ids.map((id) => ({ id })),
    s,
  );
  const tick = planTick(state, now, null, { ...s, maxConcurrentWorkers: ids.length });
  assert.equal(tick.spawns.length, ids.length);
  return tick.state;
}

function exitWith(name: string, over: Partial<ExitReport> = {}, now = NOW): ExitReport {
  const v = read(fixture(name));
  return exitReport({
    exitCode: 1,
    durationMs: 1600,
    verdict: classifyVerdict(v, now),
    usage: { costUsd: v.totalCostUsd, turns: v.numTurns, sessionId: v.sessionId },
    ...over,
  });
}

describe('decisions', () => {
  test('auth_failed: pauses all spawning at once, the task is pending with its attempt refunded, the breaker counts nothing', () => {
    const state = running(['a', 'b'], NOW);
    const r = applyExit(state, 'a', exitWith('auth'), NOW + 2 * SECOND, S, () => 0.5);
    assert.equal(r.outcome, 'auth_failed');
    const a = r.state.tasks.a!;
    assert.deepEqual(
      [a.state, a.attempts, a.history.at(-1)?.outcome, a.sessionId],
      ['pending', 0, 'auth_failed', '0b6c3f0e-5d2a-4a55-9f61-2f7d0c1e9a01'],
    );
    assert.equal(r.state.breaker.phase, 'closed', 'a breaker of 1 failure would have opened');
    assert.deepEqual(r.state.breaker.recentFailures, []);
    assert.equal(r.state.pause.workerAuth?.reason, 'Not logged in · Please run /login');
    assert.ok(r.events.some((e: CoreEvent) => e.type === 'worker_paused' && e.reason === 'worker_auth'));
    const tick = planTick(r.state, NOW + HOUR, null, S);
    assert.equal(tick.spawns.length, 0);
    assert.match(tick.heldBy ?? '', /paused: worker_auth/);
    // a second worker failing the same way does not raise a second alert
    const r2 = applyExit(r.state, 'b', exitWith('auth'), NOW + 3 * SECOND, S, () => 0.5);
    assert.equal(r2.events.filter((e) => e.type === 'worker_paused').length, 0);
    // `warden resume` after logging in lifts it
    const resumed = applyResume(r2.state, S);
    assert.equal(resumed.state.pause.workerAuth, null);
    assert.equal(planTick(resumed.state, NOW + HOUR, null, S).spawns.length, 1);
  });

  test('usage_limit: pauses until the reset time, then resumes by itself; no attempt is lost', () => {
    const reset = Math.floor((NOW + 90 * MINUTE) / 1000);
    const v = read(Buffer.from(fixture('usage-limit').toString().replaceAll('{reset_epoch}', String(reset))));
    const state = running(['a'], NOW);
    const r = applyExit(state, 'a', exitWith('usage-limit', { verdict: classifyVerdict(v, NOW) }), NOW, S, () => 0.5);
    assert.equal(r.outcome, 'usage_limit');
    assert.deepEqual([r.state.tasks.a!.state, r.state.tasks.a!.attempts], ['pending', 0]);
    assert.equal(r.state.pause.usageLimit?.until, reset * 1000);
    const held = planTick(r.state, reset * 1000 - 1, null, S);
    assert.equal(held.spawns.length, 0);
    assert.equal(held.wakeAt, reset * 1000);
    const later = planTick(r.state, reset * 1000, null, S);
    assert.equal(later.spawns.length, 1);
    assert.ok(later.events.some((e) => e.type === 'worker_resumed' && e.reason === 'usage_limit'));
  });

  test('usage_limit without a reset time waits worker.usage_limit_wait', () => {
    const state = running(['a'], NOW);
    const r = applyExit(
      state,
      'a',
      exitWith('usage-limit', { verdict: { kind: 'usage_limit', message: 'rate limited', resetAt: null } }),
      NOW,
      S,
      () => 0.5,
    );
    assert.equal(r.state.pause.usageLimit?.until, NOW + S.usageLimitWait);
  });

  test('max_turns and api_error are ordinary failures with their own backoff', () => {
    for (const [name, kind] of [
      ['max-turns', 'max_turns'],
      ['api-error', 'api_error'],
    ] as const) {
      const state = running(['a'], NOW);
      const r = applyExit(
        state,
        'a',
        exitWith(name, { durationMs: 5 * MINUTE }),
        NOW,
        { ...S, breaker: { ...S.breaker, failures: 100 } },
        () => 0.5,
      );
      assert.equal(r.outcome, kind);
      assert.equal(r.state.tasks.a!.state, 'retry_wait');
      assert.equal(r.state.tasks.a!.attempts, 1, 'the attempt counts');
      assert.equal(r.state.tasks.a!.notBefore, NOW + S.backoff[kind].base * 0.5);
      assert.deepEqual(r.state.pause, state.pause, 'no pause');
    }
  });

  test('cost, turns and session are recorded per attempt and summed per task', () => {
    let state = running(['a'], NOW);
    state = applyExit(
      state,
      'a',
      exitWith('max-turns', { durationMs: 5 * MINUTE }),
      NOW,
      { ...S, breaker: { ...S.breaker, failures: 100 } },
      () => 0,
    ).state;
    state = planTick(state, NOW + 1, null, S).state;
    state = applyExit(state, 'a', exitWith('success', { exitCode: 0, durationMs: 5 * MINUTE }), NOW + 2, S, () => 0).state;
    const a = state.tasks.a!;
    assert.equal(a.state, 'succeeded');
    assert.deepEqual(
      a.history.map((h) => [h.costUsd, h.turns]),
      [
        [0.3112, 31],
        [0.0421, 3],
      ],
    );
    assert.ok(Math.abs(a.costUsd - 0.3533) < 1e-9);
    assert.equal(a.turns, 34);
    assert.equal(a.sessionId, '5f1e2d3c-aaaa-4b5c-8d6e-7f8091a2b3c4');
    assert.ok(Math.abs(state.spend.usd - 0.3533) < 1e-9);
  });

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
});
