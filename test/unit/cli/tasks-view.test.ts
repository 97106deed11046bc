// How `warden tasks` and `warden task show` print: columns that survive 64-character IDs, RUNS and
// FAILS instead of the reset attempt count, and the state filters.
import assert from 'node:assert/strict';
import { describe, test } from 'node:test';
import { FAILED_STATES, renderTasksTable, renderTaskShow, stateFilter } from '../../../src/cli/tasks-view.ts';
import type { AttemptRecord } from '../../../src/state/types.ts';
import { TaskInputError } from '../../../src/tasks/task-input.ts';
import { task } from '../../helpers/tasks.ts';

const record = (attempt: number, outcome: AttemptRecord['outcome'], over: Partial<AttemptRecord> = {}): AttemptRecord => ({
  attempt,
  startedAt: 0,
  endedAt: 1,
  outcome,
  exitCode: outcome === 'succeeded' ? 0 : 1,
  signal: null,
  durationMs: 1500,
  detail: null,
  costUsd: null,
  turns: null,
  sessionId: null,
  ...over,
});

describe('the tasks table', () => {
  test('a 64-character ID widens the TASK column; every column still starts at the same place on every line', () => {
    const long = 'a'.repeat(64);
    const text = renderTasksTable([task('x'), task(long, { state: 'retry_wait' })]);
    const lines = text.trimEnd().split('\n');
    assert.equal(lines.length, 3);
    for (const col of ['STATE', 'PRIO', 'RUNS', 'FAILS', 'COST', 'TURNS']) {
      // right edge of each column: the header word ends where each row's cell ends
      const end = lines[0]!.indexOf(col) + col.length;
      for (const l of lines.slice(1)) assert.notEqual(l[end - 1], ' ', `${col} column in ${JSON.stringify(l)}`);
    }
    assert.ok(lines[1]!.startsWith(`${'x'.padEnd(64)} pending `), lines[1]);
  });

  test('a task that succeeded on its first run shows RUNS 1 and FAILS 0 (its attempt count is reset to 0)', () => {
    const text = renderTasksTable([task('ok', { state: 'succeeded', attempts: 0, history: [record(1, 'succeeded')] })]);
    assert.match(text.split('\n')[1]!, /^ok +succeeded +2 +1 +0 +\$0\.00 +0$/);
  });

  test('RUNS counts the running attempt too; FAILS counts failures, not interruptions', () => {
    const t = task('r', { state: 'running', attempts: 2, history: [record(1, 'exit_nonzero'), record(1, 'interrupted')] });
    assert.match(renderTasksTable([t]).split('\n')[1]!, /^r +running +2 +3 +1 /);
  });

  test('on a terminal, a line longer than the width is cut with an ellipsis', () => {
    const text = renderTasksTable([task('x', { note: 'n'.repeat(200) })], 80);
    for (const l of text.trimEnd().split('\n')) assert.ok(l.length <= 80, l);
    assert.match(text, /…\n$/);
  });
});

describe('--state and --failed', () => {
  test('no filter: null (every task)', () => {
    assert.equal(stateFilter(undefined, false), null);
  });
  test('--state takes a comma-separated list; --failed adds dead, blocked and retry_wait', () => {
    assert.deepEqual([...stateFilter('pending,running', false)!], ['pending', 'running']);
    assert.deepEqual([...stateFilter(undefined, true)!], [...FAILED_STATES]);
    assert.deepEqual([...stateFilter('cancelled', true)!].sort(), ['blocked', 'cancelled', 'dead', 'retry_wait']);
  });
  test('an unknown state is a usage error naming the valid ones', () => {
    assert.throws(
      () => stateFilter('runing', false),
      (e: unknown) => e instanceof TaskInputError && /unknown task state "runing" .*pending, running/.test(e.message),
    );
  });
});

describe('task show', () => {
  test('every attempt with outcome, exit or signal, duration, cost, turns and log; the PR URL and the blocked reason', () => {
    const t = task('gh-7', {
      state: 'blocked',
      note: 'blocked: needs a database password',
      prUrl: 'https://github.com/o/r/pull/9',
      history: [
        record(1, 'crashed', {
          exitCode: null,
          signal: 'SIGSEGV',
          durationMs: 65_000,
          costUsd: 0.25,
          turns: 4,
          detail: 'killed by SIGSEGV after 65.0s',
        }),
        record(2, 'blocked', { exitCode: 0 }),
      ],
    });
    const text = renderTaskShow(t, '/var/lib/warden', 10_000);
    assert.match(text, /^task gh-7: blocked, priority 2/);
    assert.match(text, /^blocked: +needs a database password$/m);
    assert.match(text, /^pr: +https:\/\/github\.com\/o\/r\/pull\/9$/m);
    assert.match(text, /#1 crashed: signal SIGSEGV, ran 1m5s, \$0\.25, 4 turns, started /);
    assert.match(text, /killed by SIGSEGV after 65\.0s/);
    assert.match(text, /#2 blocked: exit 0, ran 2s/);
    assert.match(text, /log \/var\/lib\/warden\/logs\/gh-7\/1\.log \(removed: worker\.log_max keeps the newest\)/);
  });
});
