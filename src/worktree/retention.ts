// Which worktrees to remove, as a pure decision. Succeeded and cancelled tasks: at once. Dead and
// blocked ones are kept for inspection, at most `keepFailed` of them and none older than
// `keepFailedFor`; the newest are kept. A directory no task owns is never removed here: the
// pruner reports it, and removes it only when git says it is clean.
import type { TaskState } from '../state/types.js';

export interface RetentionSettings {
  keepFailed: number;
  keepFailedFor: number;
}

export interface WorktreeOwner {
  taskId: string;
  state: TaskState;
  /** When the task reached its current state. */
  since: number;
}

export function worktreesToRemove(owners: readonly WorktreeOwner[], now: number, s: RetentionSettings): string[] {
  const remove: string[] = [];
  const failed: WorktreeOwner[] = [];
  for (const o of owners) {
    switch (o.state) {
      case 'succeeded':
      case 'cancelled':
        remove.push(o.taskId);
        break;
      case 'dead':
      case 'blocked':
        failed.push(o);
        break;
      case 'pending':
      case 'running':
      case 'retry_wait':
        break;
    }
  }
  failed.sort((a, b) => b.since - a.since);
  failed.forEach((o, i) => {
    if (i >= s.keepFailed || now - o.since > s.keepFailedFor) remove.push(o.taskId);
  });
  return remove;
}
