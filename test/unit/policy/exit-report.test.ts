// buildExitReport: how an ended attempt is described to the decision core. Which stop is a
// timeout, and when the worker's own words count, are decided here.
import assert from 'node:assert/strict';
import { describe, test } from 'node:test';
import type { WorkerExit } from '../../../src/executors/types.ts';
import { buildExitReport, type EndedAttempt } from '../../../src/policy/exit-report.ts';
import type { WorkerVerdict } from '../../../src/policy/verdict.ts';
import { emptyVerdict } from '../../../src/verdict/stream-reader.ts';

const MAX_RUNTIME = 60_000;
const T0 = 1_000_000;

function exit(over: Partial<WorkerExit> = {}): WorkerExit {
  return { spawnError: null, exitCode: 0, signal: null, oomKilled: false, lost: false, endedAt: T0 + 5_000, ...over };
}

function ended(over: Partial<EndedAttempt> = {}): EndedAttempt {
  return { startedAt: T0, exit: exit(), stopReason: null, completion: null, verdict: null, ...over };
}

const authFailure: WorkerVerdict = {
  ...emptyVerdict(),
  sawResult: true,
  isError: true,
  resultText: 'Invalid API key · Please run /login',
  sessionId: 's1',
  totalCostUsd: 0.25,
  numTurns: 3,
};

describe('timeouts', () => {
  test('a worker warden stopped for max_runtime timed out, however long it ran', () => {
    assert.equal(buildExitReport(ended({ stopReason: 'timeout', exit: exit({ signal: 'SIGTERM' }) }), T0, MAX_RUNTIME).timedOut, true);
  });

  test('a worker whose status was lost across a restart timed out only if it outlived max_runtime (systemd backstop)', () => {
    const lostAt = (ms: number) =>
      buildExitReport(ended({ exit: exit({ lost: true, exitCode: null, endedAt: T0 + ms }) }), T0, MAX_RUNTIME);
    assert.equal(lostAt(MAX_RUNTIME).timedOut, true);
    assert.equal(lostAt(MAX_RUNTIME - 1).timedOut, false);
    assert.equal(lostAt(MAX_RUNTIME - 1).lost, true);
  });

  test('other stops are not timeouts: stalled says so itself, shutdown and cancel are neither', () => {
    for (const stopReason of ['stalled', 'shutdown', 'cancelled', 'fenced'] as const) {
      const r = buildExitReport(ended({ stopReason, exit: exit({ endedAt: T0 + 10 * MAX_RUNTIME }) }), T0, MAX_RUNTIME);
      assert.equal(r.timedOut, false, stopReason);
      assert.equal(r.stalled, stopReason === 'stalled', stopReason);
    }
  });
});

describe("the worker's own words", () => {
  test('count when the worker ended on its own', () => {
    const r = buildExitReport(ended({ exit: exit({ exitCode: 1 }), verdict: authFailure }), T0, MAX_RUNTIME);
    assert.equal(r.verdict?.kind, 'auth_failed');
  });

  test('do not count when warden stopped it: a timeout is a timeout, whatever the log said', () => {
    const r = buildExitReport(ended({ stopReason: 'timeout', exit: exit({ signal: 'SIGTERM' }), verdict: authFailure }), T0, MAX_RUNTIME);
    assert.equal(r.verdict, null);
  });

  test('what the worker spent is kept either way, with its session', () => {
    for (const stopReason of [null, 'timeout'] as const) {
      const r = buildExitReport(ended({ stopReason, verdict: authFailure }), T0, MAX_RUNTIME);
      assert.deepEqual(r.usage, { costUsd: 0.25, turns: 3, sessionId: 's1' });
    }
    assert.equal(buildExitReport(ended(), T0, MAX_RUNTIME).usage, null);
  });
});

describe('the facts are passed through', () => {
  test('duration, exit code, signal, OOM and memory peak', () => {
    const r = buildExitReport(
      ended({ exit: exit({ exitCode: null, signal: 'SIGKILL', oomKilled: true, memoryPeak: 64 * 2 ** 20 }) }),
      T0,
      MAX_RUNTIME,
    );
    assert.deepEqual(
      { durationMs: r.durationMs, exitCode: r.exitCode, signal: r.signal, oomKilled: r.oomKilled, memoryPeak: r.memoryPeak },
      { durationMs: 5_000, exitCode: null, signal: 'SIGKILL', oomKilled: true, memoryPeak: 64 * 2 ** 20 },
    );
    assert.equal(buildExitReport(ended(), T0, MAX_RUNTIME).memoryPeak, null, 'an unknown peak is null, not undefined');
  });

  test("a spawn error of the attempt wins over the executor's; a worktree error is kept", () => {
    assert.equal(
      buildExitReport(ended({ spawnError: 'log dir is a symlink', exit: exit({ spawnError: 'exec failed' }) }), T0, MAX_RUNTIME).spawnError,
      'log dir is a symlink',
    );
    assert.equal(buildExitReport(ended({ exit: exit({ spawnError: 'exec failed' }) }), T0, MAX_RUNTIME).spawnError, 'exec failed');
    assert.equal(
      buildExitReport(ended({ worktreeError: 'git worktree add failed' }), T0, MAX_RUNTIME).worktreeError,
      'git worktree add failed',
    );
  });

  test('the completion (BLOCKED.md, a pull request) is passed as found', () => {
    const completion = { kind: 'blocked', reason: 'needs a key' } as const;
    assert.deepEqual(buildExitReport(ended({ completion }), T0, MAX_RUNTIME).completion, completion);
  });
});
