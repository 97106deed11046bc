// Adding, cancelling and updating tasks in the state, keeping the task index warm.
import type { RunningAttempt, Task, WardenState } from '../state/types.js';
import type { CoreEvent } from '../events/catalog.js';
import { withChangedTasks } from './task-index.js';

export interface NewTask {
  id: string;
  promptFile: string;
  priority: number;
  createdAt: number;
  /** For tasks from GitHub: the issue behind it. */
  issue?: Task['issue'];
}

/**
 * Cancels a task that has not started or is waiting to retry (its label was removed, say).
 * A running task is left alone: the caller decides whether to stop its worker. Terminal tasks
 * stay as they are.
 */
export function applyCancel(prev: WardenState, taskId: string, now: number, reason: string): { state: WardenState; events: CoreEvent[] } {
  const task = prev.tasks[taskId];
  if (!task || (task.state !== 'pending' && task.state !== 'retry_wait')) return { state: prev, events: [] };
  const next: Task = { ...task, state: 'cancelled', notBefore: null, updatedAt: now, note: `cancelled: ${reason}` };
  return { state: { ...prev, tasks: withChangedTasks(prev.tasks, [next]) }, events: [{ type: 'task_cancelled', taskId, reason }] };
}

export function addTask(prev: WardenState, t: NewTask): { state: WardenState; added: boolean } {
  if (prev.tasks[t.id]) return { state: prev, added: false };
  return { state: { ...prev, tasks: withChangedTasks(prev.tasks, [newTask(t)]) }, added: true };
}

/**
 * addTask for many tasks at once, with the same result as adding them one by one (a task whose ID
 * exists, or came earlier in the list, is not added). The task map is copied once, not once per
 * task: ingesting N queued requests with addTask copies N maps and is O(N^2).
 */
export function addTasks(prev: WardenState, list: readonly NewTask[]): { state: WardenState; added: boolean[] } {
  const fresh = new Map<string, Task>();
  const added = list.map((t) => {
    if (prev.tasks[t.id] || fresh.has(t.id)) return false;
    fresh.set(t.id, newTask(t));
    return true;
  });
  if (fresh.size === 0) return { state: prev, added };
  return { state: { ...prev, tasks: withChangedTasks(prev.tasks, [...fresh.values()]) }, added };
}

/** A new task as added: pending, never tried. */
export function newTask(t: NewTask): Task {
  return {
    id: t.id,
    source: t.issue ? 'github' : 'local',
    issue: t.issue ?? null,
    prUrl: null,
    promptFile: t.promptFile,
    priority: t.priority,
    createdAt: t.createdAt,
    updatedAt: t.createdAt,
    state: 'pending',
    attempts: 0,
    notBefore: null,
    current: null,
    history: [],
    note: null,
    costUsd: 0,
    turns: 0,
    sessionId: null,
  };
}

/**
 * Merges `patch` into a running task's current attempt (its pid, unit, executor once the worker
 * exists). Returns prev unchanged if the task has no current attempt. Unlike a spread in the
 * caller, this keeps the task index warm for the next tick.
 */
export function updateRunningAttempt(prev: WardenState, taskId: string, patch: Partial<RunningAttempt>): WardenState {
  const t = prev.tasks[taskId];
  if (!t || !t.current) return prev;
  return { ...prev, tasks: withChangedTasks(prev.tasks, [{ ...t, current: { ...t.current, ...patch } }]) };
}
