// Whether a retry continues the worker's previous session, as a pure decision. Only an attempt
// cut short by something outside the work itself (a stall, a transient API error, a usage limit)
// is worth resuming; after any other outcome a fresh session starts clean.
import type { AttemptOutcome, Task } from '../state/types.js';

export const RESUMABLE_OUTCOMES: readonly AttemptOutcome[] = ['stalled', 'api_error', 'usage_limit'];

/** The session to resume for the task's next attempt, or null for a fresh one. */
export function sessionToResume(task: Pick<Task, 'history'>, enabled: boolean): string | null {
  if (!enabled) return null;
  const last = task.history.at(-1);
  if (!last || !RESUMABLE_OUTCOMES.includes(last.outcome) || !last.sessionId) return null;
  return last.sessionId;
}

/** Claude Code's resume flag. */
export function resumeArgs(sessionId: string | null): string[] {
  return sessionId ? ['--resume', sessionId] : [];
}
