// What a GitHub poll means for the task list (pure).
import assert from 'node:assert/strict';
import { describe, test } from 'node:test';
import { addTasks, applyCancel } from '../../../src/policy/task-changes.ts';
import { emptyState, type TaskState, type WardenState } from '../../../src/state/types.ts';
import { reconcileGithub } from '../../../src/tasks/reconcile.ts';

const S = { repo: 'o/r', priorityLabels: ['priority:P0', 'priority:P1', 'priority:P2'], cancelRunning: false };
const gi = (number: number, labels: string[] = ['warden']) => ({ number, title: `t${number}`, body: '', labels, updatedAt: '' });

function withGithubTasks(states: Record<string, TaskState>): WardenState {
  const list = Object.keys(states).map((id) => ({
    id,
    promptFile: `/p/${id}`,
    priority: 2,
    createdAt: 1,
    issue: { repo: 'o/r', number: Number(id.slice(3)), url: 'u', title: 't' },
  }));
  let state = addTasks(emptyState(1000), list).state;
  const tasks = { ...state.tasks };
  for (const [id, st] of Object.entries(states)) tasks[id] = { ...tasks[id]!, state: st };
  state = { ...state, tasks };
  return state;
}

describe('reconcileGithub', () => {
  test('labelled issues without a task become tasks gh-<number>, with priority from labels', () => {
    const plan = reconcileGithub(emptyState(1000), [gi(5, ['warden', 'priority:P1']), gi(6)], S);
    assert.deepEqual(
      plan.add.map((a) => [a.id, a.priority]),
      [
        ['gh-5', 1],
        ['gh-6', 2],
      ],
    );
  });

  test('a finished task is never re-created, whatever the issue does', () => {
    const state = withGithubTasks({ 'gh-1': 'succeeded', 'gh-2': 'dead', 'gh-3': 'cancelled' });
    assert.deepEqual(reconcileGithub(state, [gi(1), gi(2), gi(3)], S).add, []);
  });

  test('a removed label cancels pending and retry_wait tasks; running ones only with cancel_running', () => {
    const state = withGithubTasks({ 'gh-1': 'pending', 'gh-2': 'retry_wait', 'gh-3': 'running', 'gh-4': 'succeeded' });
    const plan = reconcileGithub(state, [], S);
    assert.deepEqual(plan.cancel.sort(), ['gh-1', 'gh-2']);
    assert.deepEqual(plan.stop, []);
    assert.deepEqual(reconcileGithub(state, [], { ...S, cancelRunning: true }).stop, ['gh-3']);
  });

  test('local tasks and tasks of another repository are never touched', () => {
    const state = addTasks(emptyState(1000), [{ id: 'gh-9', promptFile: '/p', priority: 2, createdAt: 1 }]).state;
    assert.deepEqual(reconcileGithub(state, [], S).cancel, []);
  });

  test('applyCancel cancels only what has not started', () => {
    const state = withGithubTasks({ 'gh-1': 'pending', 'gh-3': 'running' });
    assert.equal(applyCancel(state, 'gh-1', 5, 'label removed').state.tasks['gh-1']?.state, 'cancelled');
    assert.equal(applyCancel(state, 'gh-3', 5, 'label removed').state, state);
  });
});
