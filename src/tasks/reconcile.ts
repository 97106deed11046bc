// What a GitHub poll means for the task list, as a pure decision: labelled issues without a task
// become tasks; a task whose issue no longer carries the label is cancelled if it has not started
// (a running worker is left alone unless `cancel_running`). Tasks are never re-created from a
// poll: a finished task stays finished, whatever the issue does.
import { priorityFromLabels, taskIdForIssue, type GithubIssue } from './github-issue.js';
import { checkTaskId } from './task-id.js';
import { DEFAULT_PRIORITY, type WardenState } from '../state/types.js';

export interface ReconcileSettings {
  repo: string;
  priorityLabels: readonly string[];
  cancelRunning: boolean;
}

export interface IssueTask {
  id: string;
  issue: GithubIssue;
  priority: number;
}

export interface ReconcilePlan {
  add: IssueTask[];
  /** Not started (pending, retry_wait): cancel now. */
  cancel: string[];
  /** Running, and cancel_running is set: stop the worker, then cancel. */
  stop: string[];
  /** Issue numbers that make no valid task ID (never happens for real numbers; kept honest). */
  refused: number[];
}

export function reconcileGithub(state: WardenState, issues: readonly GithubIssue[], s: ReconcileSettings): ReconcilePlan {
  const plan: ReconcilePlan = { add: [], cancel: [], stop: [], refused: [] };
  const labelled = new Set<string>();
  for (const issue of issues) {
    const id = taskIdForIssue(issue.number);
    if (!checkTaskId(id).ok) {
      plan.refused.push(issue.number);
      continue;
    }
    labelled.add(id);
    if (!state.tasks[id]) plan.add.push({ id, issue, priority: priorityFromLabels(issue.labels, s.priorityLabels, DEFAULT_PRIORITY) });
  }
  for (const t of Object.values(state.tasks)) {
    if (t.source !== 'github' || t.issue?.repo !== s.repo || labelled.has(t.id)) continue;
    if (t.state === 'pending' || t.state === 'retry_wait') plan.cancel.push(t.id);
    else if (t.state === 'running' && s.cancelRunning) plan.stop.push(t.id);
  }
  return plan;
}
