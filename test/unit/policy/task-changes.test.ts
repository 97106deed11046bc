// Adding tasks in a batch and patching a running attempt give what the one-by-one and spread
// versions gave, with the task index kept correct.
import assert from 'node:assert/strict';
import { describe, test } from 'node:test';
import { addTask, addTasks, updateRunningAttempt, type NewTask } from '../../../src/policy/task-changes.ts';
import { taskIndex } from '../../../src/policy/task-index.ts';
import { expectedIndex } from '../../helpers/policy.ts';
import { stateOf, task } from '../../helpers/tasks.ts';

describe('batch and patch helpers', () => {
  test('addTasks gives the same state as addTask one by one, duplicates included', () => {
    const start = stateOf([task('x')]);
    const list: NewTask[] = [
      { id: 'a', promptFile: '/p/a', priority: 2, createdAt: 1 },
      { id: 'x', promptFile: '/p/x', priority: 1, createdAt: 2 },
      { id: 'b', promptFile: '/p/b', priority: 1, createdAt: 3 },
      { id: 'a', promptFile: '/p/a2', priority: 3, createdAt: 4 },
    ];
    let oneByOne = start;
    const addedOneByOne = list.map((t) => {
      const r = addTask(oneByOne, t);
      oneByOne = r.state;
      return r.added;
    });
    const batch = addTasks(start, list);
    assert.deepEqual(batch.added, addedOneByOne);
    assert.deepEqual(batch.added, [true, false, true, false]);
    assert.deepStrictEqual(batch.state, oneByOne);
    assert.deepEqual(Object.keys(batch.state.tasks), Object.keys(oneByOne.tasks));
    assert.deepEqual(taskIndex(batch.state.tasks), expectedIndex(batch.state.tasks));
  });

  test('updateRunningAttempt gives what the supervisor spread gave, with the index kept', () => {
    const state = stateOf([task('a', { state: 'running', attempts: 1 }), task('b')]);
    const patch = { pid: 4242, pidStartTime: '777', unit: 'warden-a-1.scope' };
    const t = state.tasks.a!;
    const spread = { ...state, tasks: { ...state.tasks, a: { ...t, current: { ...t.current!, ...patch } } } };
    const next = updateRunningAttempt(state, 'a', patch);
    assert.deepStrictEqual(next, spread);
    assert.deepEqual(taskIndex(next.tasks), expectedIndex(next.tasks));
    assert.equal(updateRunningAttempt(state, 'b', patch), state, 'a task without a current attempt is left as it is');
  });
});
