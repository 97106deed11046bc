// The owner's per-task commands as a table over every task state: which state may go where, the
// one-line refusal that names the state, and the change each command makes to the state.
import assert from 'node:assert/strict';
import { describe, test } from 'node:test';
import { applyManualPause } from '../../../src/policy/pauses.ts';
import {
  checkTaskCommand,
  decideTaskCommand,
  OWNER_CANCEL_REASON,
  TASK_COMMAND_RULES,
  TASK_COMMANDS,
  type TaskCommand,
  type TaskCommandRequest,
} from '../../../src/policy/task-commands.ts';
import { taskIndex } from '../../../src/policy/task-index.ts';
import { TASK_STATES, type AttemptRecord, type TaskState } from '../../../src/state/types.ts';
import { stateOf, task } from '../../helpers/tasks.ts';

const request = (command: TaskCommand): TaskCommandRequest => (command === 'priority' ? { command, priority: 7 } : { command });

/** The whole table, written out: what each command does to a task in each state. */
const EXPECTED: Record<TaskCommand, Record<TaskState, 'apply' | 'stop_first' | 'refuse'>> = {
  retry: {
    pending: 'refuse',
    running: 'refuse',
    succeeded: 'refuse',
    retry_wait: 'apply',
    dead: 'apply',
    blocked: 'apply',
    cancelled: 'apply',
  },
  cancel: {
    pending: 'apply',
    running: 'stop_first',
    succeeded: 'refuse',
    retry_wait: 'apply',
    dead: 'refuse',
    blocked: 'refuse',
    cancelled: 'refuse',
  },
  remove: {
    pending: 'refuse',
    running: 'refuse',
    succeeded: 'apply',
    retry_wait: 'refuse',
    dead: 'apply',
    blocked: 'apply',
    cancelled: 'apply',
  },
  priority: {
    pending: 'apply',
    running: 'apply',
    succeeded: 'refuse',
    retry_wait: 'apply',
    dead: 'refuse',
    blocked: 'refuse',
    cancelled: 'refuse',
  },
};

const failed = (attempt: number): AttemptRecord => ({
  attempt,
  startedAt: 0,
  endedAt: 1,
  outcome: 'exit_nonzero',
  exitCode: 1,
  signal: null,
  durationMs: 1,
  detail: 'exit 1',
  costUsd: null,
  turns: null,
  sessionId: null,
});

describe('the task command table', () => {
  for (const command of TASK_COMMANDS)
    for (const state of TASK_STATES)
      test(`${command} of a ${state} task: ${EXPECTED[command][state]}`, () => {
        assert.equal(TASK_COMMAND_RULES[command][state].do, EXPECTED[command][state]);
        const t = task('gh-12', { state, attempts: state === 'running' ? 1 : 0 });
        const d = decideTaskCommand(stateOf([t]), 'gh-12', request(command), 100);
        const kind = { apply: 'changed', stop_first: 'stop_first', refuse: 'refused' }[EXPECTED[command][state]];
        assert.equal(d.kind, kind);
        if (d.kind === 'refused') {
          // one line that names the state and the task
          assert.doesNotMatch(d.line, /\n/);
          assert.match(d.line, new RegExp(`^cannot .* ${state} task gh-12: `));
        }
      });

  test('the refusal reads as the issue words it', () => {
    const c = checkTaskCommand(task('gh-12', { state: 'running', attempts: 1 }), 'gh-12', 'remove');
    assert.deepEqual(c, { ok: false, line: 'cannot remove running task gh-12: cancel it first' });
  });

  test('a command for an unknown task is refused with its ID', () => {
    for (const command of TASK_COMMANDS) {
      const d = decideTaskCommand(stateOf([]), 'nope', request(command), 0);
      assert.deepEqual(d, { kind: 'refused', line: 'no task nope (warden tasks lists them)' });
    }
  });
});

describe('what each command changes', () => {
  test('retry: a dead task becomes pending now, attempts reset, its history kept', () => {
    const dead = task('t', { state: 'dead', attempts: 3, history: [failed(1), failed(2), failed(3)], note: 'exit_nonzero on attempt 3/3' });
    const d = decideTaskCommand(stateOf([dead]), 't', { command: 'retry' }, 500);
    assert.equal(d.kind, 'changed');
    if (d.kind !== 'changed') return;
    const t = d.state.tasks.t!;
    assert.equal(t.state, 'pending');
    assert.equal(t.attempts, 0);
    assert.equal(t.notBefore, null);
    assert.equal(t.updatedAt, 500);
    assert.deepEqual(t.history, dead.history);
    assert.equal(d.line, 'retried t: dead -> pending, attempts reset to 0 (history of 3 attempts kept)');
    assert.deepEqual(
      taskIndex(d.state.tasks).pending.map((x) => x.id),
      ['t'],
      'the index sees it as pending at once',
    );
  });

  test('retry: a retry_wait task runs now, not at its backoff time', () => {
    const d = decideTaskCommand(
      stateOf([task('t', { state: 'retry_wait', attempts: 1, notBefore: 10_000 })]),
      't',
      { command: 'retry' },
      5,
    );
    assert.equal(d.kind === 'changed' && d.state.tasks.t!.notBefore, null);
  });

  test('retry while spawning is paused says that the task waits', () => {
    const paused = applyManualPause(stateOf([task('t', { state: 'cancelled' })]), 0).state;
    const d = decideTaskCommand(paused, 't', { command: 'retry' }, 1);
    assert.match(d.kind === 'changed' ? d.line : '', /spawning is paused \(manual\), so it waits$/);
  });

  test('cancel: a pending task is cancelled by the owner, with the task_cancelled event', () => {
    const d = decideTaskCommand(stateOf([task('t')]), 't', { command: 'cancel' }, 9);
    assert.equal(d.kind, 'changed');
    if (d.kind !== 'changed') return;
    assert.equal(d.state.tasks.t!.state, 'cancelled');
    assert.equal(d.state.tasks.t!.note, `cancelled: ${OWNER_CANCEL_REASON}`);
    assert.deepEqual(d.events, [{ type: 'task_cancelled', taskId: 't', reason: OWNER_CANCEL_REASON }]);
    assert.equal(d.line, 'cancelled t (was pending)');
  });

  test('cancel of a running task asks the daemon to stop its worker first, and changes nothing yet', () => {
    const state = stateOf([task('t', { state: 'running', attempts: 1 })]);
    const d = decideTaskCommand(state, 't', { command: 'cancel' }, 9);
    assert.equal(d.kind, 'stop_first');
  });

  test('remove: the task leaves the state and the index counts it no more', () => {
    const state = stateOf([task('keep'), task('gone', { state: 'dead' })]);
    taskIndex(state.tasks);
    const d = decideTaskCommand(state, 'gone', { command: 'remove' }, 1);
    assert.equal(d.kind, 'changed');
    if (d.kind !== 'changed') return;
    assert.deepEqual(Object.keys(d.state.tasks), ['keep']);
    assert.equal(d.removed?.id, 'gone');
    assert.equal(taskIndex(d.state.tasks).counts.dead, 0);
    assert.equal(taskIndex(d.state.tasks).counts.pending, 1);
    assert.ok(state.tasks.gone, 'the previous state is left alone');
    assert.equal(d.line, 'removed dead task gone');
  });

  test('remove of a GitHub task says that a labelled issue brings it back', () => {
    const d = decideTaskCommand(stateOf([task('gh-3', { state: 'succeeded', source: 'github' })]), 'gh-3', { command: 'remove' }, 1);
    assert.match(d.kind === 'changed' ? d.line : '', /next poll adds it anew while its issue has the label/);
  });

  test('priority: the pending order follows the new priority', () => {
    const state = stateOf([task('a', { createdAt: 1 }), task('b', { createdAt: 2 })]);
    assert.deepEqual(
      taskIndex(state.tasks).pending.map((x) => x.id),
      ['a', 'b'],
    );
    const d = decideTaskCommand(state, 'b', { command: 'priority', priority: -5 }, 3);
    assert.equal(d.kind, 'changed');
    if (d.kind !== 'changed') return;
    assert.equal(d.line, 'priority of b: 2 -> -5');
    assert.deepEqual(
      taskIndex(d.state.tasks).pending.map((x) => x.id),
      ['b', 'a'],
    );
  });

  test('priority to the same value changes nothing and says so', () => {
    const state = stateOf([task('a')]);
    const d = decideTaskCommand(state, 'a', { command: 'priority', priority: 2 }, 3);
    assert.equal(d.kind === 'changed' && d.state, state);
    assert.equal(d.kind === 'changed' && d.line, 'a already has priority 2; nothing changed');
  });
});
