// The worker's own verdict and the pure decisions it feeds, on a fake clock: which kind each
// recorded stream leads to, usage-limit reset times, and what applyExit does with each kind.
import assert from 'node:assert/strict';
import { describe, test } from 'node:test';
import { classifyExit, type ExitReport } from '../../../src/policy/classify.ts';
import { applyExit } from '../../../src/policy/attempt-end.ts';
import { applyResume } from '../../../src/policy/pauses.ts';
import { planTick } from '../../../src/policy/tick.ts';
import { type CoreEvent } from '../../../src/events/catalog.ts';
import { type CoreSettings } from '../../../src/policy/settings.ts';
import { classifyVerdict, nextWallClock, parseLimitReset, usageLimitUntil } from '../../../src/policy/verdict.ts';
import { type WardenState } from '../../../src/state/types.ts';
import { DEFAULT_SETTINGS } from '../../helpers/settings.ts';
import { readVerdict as read, streamFixture as fixture } from '../../helpers/streams.ts';
import { exitReport, stateWith } from '../../helpers/tasks.ts';
import { HOUR, MINUTE, SECOND } from '../../helpers/units.ts';

const NOW = Date.UTC(2026, 10, 27, 22, 0, 0); // a fixed fake clock

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
});
