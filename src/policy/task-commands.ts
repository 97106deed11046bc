// What the owner's per-task commands (`warden task retry|cancel|remove|priority`) may do to a task
// in each state, as one table, and the change each makes. Pure: the daemon applies the result
// (src/supervisor/task-commands.ts), and the CLI pre-checks a queued command against the state
// file with the same table when the daemon is down.
import type { CoreEvent } from '../events/catalog.js';
import { activePauseReasons } from '../state/pause-reasons.js';
import type { Task, TaskState, WardenState } from '../state/types.js';
import { applyCancel } from './task-changes.js';
import { withChangedTasks, withoutTerminalTask } from './task-index.js';

export const TASK_COMMANDS = ['retry', 'cancel', 'remove', 'priority'] as const;
export type TaskCommand = (typeof TASK_COMMANDS)[number];

export type TaskCommandRequest = { command: 'retry' | 'cancel' | 'remove' } | { command: 'priority'; priority: number };

/**
 * `apply`: the change is made at once. `stop_first`: a running task's worker is stopped (TERM,
 * then KILL after stop_grace) and the task is cancelled once its exit is recorded; only the daemon
 * can do that. `refuse`: the command changes nothing, and `why` ends its one-line refusal.
 */
export type CommandRule = { readonly do: 'apply' } | { readonly do: 'stop_first' } | { readonly do: 'refuse'; readonly why: string };

const apply: CommandRule = { do: 'apply' };
const refuse = (why: string): CommandRule => ({ do: 'refuse', why });

/**
 * Every command against every task state. The types make it exhaustive: a new task state fails the
 * build here until each command has decided what it does to it.
 * - retry: a task that stopped short of success runs again from a clean slate (attempts reset,
 *   history kept). A pending or running task needs no retry; a succeeded one is done.
 * - cancel: only what has not finished; a running task's worker is stopped first.
 * - remove: only what has finished, so no worker or claim can refer to a task that is gone.
 * - priority: only what may still run (a running task's priority counts for its next attempt).
 */
export const TASK_COMMAND_RULES: { readonly [C in TaskCommand]: { readonly [S in TaskState]: CommandRule } } = {
  retry: {
    pending: refuse('it is already waiting to run'),
    running: refuse('it is running now (cancel it first to start over)'),
    succeeded: refuse('it has succeeded; add a new task to run it again'),
    retry_wait: apply,
    dead: apply,
    blocked: apply,
    cancelled: apply,
  },
  cancel: {
    pending: apply,
    retry_wait: apply,
    running: { do: 'stop_first' },
    succeeded: refuse('it has already ended'),
    dead: refuse('it has already ended'),
    blocked: refuse('it has already ended'),
    cancelled: refuse('it is already cancelled'),
  },
  remove: {
    pending: refuse('cancel it first'),
    retry_wait: refuse('cancel it first'),
    running: refuse('cancel it first'),
    succeeded: apply,
    dead: apply,
    blocked: apply,
    cancelled: apply,
  },
  priority: {
    pending: apply,
    retry_wait: apply,
    running: apply,
    succeeded: refuse('it has ended and will not run again'),
    dead: refuse('it will not run again (retry it first)'),
    blocked: refuse('it will not run again (retry it first)'),
    cancelled: refuse('it will not run again (retry it first)'),
  },
};

/** How a command reads in a refusal: `cannot <verb> <state> task <id>: <why>`. */
const VERB: { readonly [C in TaskCommand]: string } = {
  retry: 'retry',
  cancel: 'cancel',
  remove: 'remove',
  priority: 'change the priority of',
};

/** The reason a cancel by the owner gives (the task's note, the interrupted attempt's detail). */
export const OWNER_CANCEL_REASON = 'by the owner (warden task cancel)';

export type CommandCheck = { ok: true; rule: 'apply' | 'stop_first' } | { ok: false; line: string };

/** The table's answer for one task (undefined: no such task), with the refusal line. */
export function checkTaskCommand(task: Task | undefined, id: string, command: TaskCommand): CommandCheck {
  if (!task) return { ok: false, line: `no task ${id} (warden tasks lists them)` };
  const rule = TASK_COMMAND_RULES[command][task.state];
  if (rule.do === 'refuse') return { ok: false, line: `cannot ${VERB[command]} ${task.state} task ${id}: ${rule.why}` };
  return { ok: true, rule: rule.do };
}

export type CommandDecision =
  /** The state after the command (unchanged if there was nothing to change), and one line saying what changed. */
  | { kind: 'changed'; state: WardenState; events: CoreEvent[]; line: string; removed: Task | null }
  /** cancel of a running task: the daemon stops the worker, then decides again. */
  | { kind: 'stop_first'; task: Task }
  | { kind: 'refused'; line: string };

/** Decides and makes one command's change. */
export function decideTaskCommand(prev: WardenState, id: string, req: TaskCommandRequest, now: number): CommandDecision {
  const task = prev.tasks[id];
  const check = checkTaskCommand(task, id, req.command);
  if (!check.ok) return { kind: 'refused', line: check.line };
  if (!task) throw new Error('unreachable: checked above');
  if (check.rule === 'stop_first') return { kind: 'stop_first', task };
  const unchanged = (line: string): CommandDecision => ({ kind: 'changed', state: prev, events: [], line, removed: null });
  switch (req.command) {
    case 'retry': {
      const runs = task.history.length;
      const next: Task = {
        ...task,
        state: 'pending',
        attempts: 0,
        notBefore: null,
        updatedAt: now,
        note: `retry by the owner (was ${task.state})`,
      };
      const state = { ...prev, tasks: withChangedTasks(prev.tasks, [next]) };
      const line = `retried ${id}: ${task.state} -> pending, attempts reset to 0 (history of ${runs} attempt${runs === 1 ? '' : 's'} kept)${pausedNote(state)}`;
      return { kind: 'changed', state, events: [], line, removed: null };
    }
    case 'cancel': {
      const r = applyCancel(prev, id, now, OWNER_CANCEL_REASON);
      return { kind: 'changed', state: r.state, events: r.events, line: `cancelled ${id} (was ${task.state})`, removed: null };
    }
    case 'remove': {
      const state = { ...prev, tasks: withoutTerminalTask(prev.tasks, id) };
      const line = `removed ${task.state} task ${id}${task.source === 'github' ? ' (the next poll adds it anew while its issue has the label)' : ''}`;
      return { kind: 'changed', state, events: [], line, removed: task };
    }
    case 'priority': {
      if (task.priority === req.priority) return unchanged(`${id} already has priority ${req.priority}; nothing changed`);
      const next: Task = { ...task, priority: req.priority, updatedAt: now };
      const state = { ...prev, tasks: withChangedTasks(prev.tasks, [next]) };
      return { kind: 'changed', state, events: [], line: `priority of ${id}: ${task.priority} -> ${req.priority}`, removed: null };
    }
  }
}

/** A retried task waits while spawning is paused: say so, or the owner wonders why nothing runs. */
function pausedNote(state: WardenState): string {
  const reasons = activePauseReasons(state);
  return reasons.length ? `; spawning is paused (${reasons.join(', ')}), so it waits` : '';
}
