// How an ended attempt changes its task, the breaker and the pause state: the worker exited
// (applyExit) or warden stopped it itself (applyInterrupted). Pure; tested on a fake clock.
import type { CoreEvent } from '../events/catalog.js';
import type { AttemptRecord, Task, WardenState } from '../state/types.js';
import { HISTORY_LIMIT } from '../state/types.js';
import { backoffDelay } from './backoff.js';
import { breakerOnFailure, breakerOnSuccess, breakerProbeAbandoned } from './breaker.js';
import { classifyExit, describeExit, type ExitReport } from './classify.js';
import { buildExitReport, type EndedAttempt } from './exit-report.js';
import type { CoreSettings } from './settings.js';
import { addSpend } from './spend.js';
import { withChangedTasks } from './task-index.js';
import { usageLimitUntil } from './verdict.js';

function pushHistory(task: Task, record: AttemptRecord): AttemptRecord[] {
  const history = [...task.history, record];
  return history.length > HISTORY_LIMIT ? history.slice(history.length - HISTORY_LIMIT) : history;
}

/** Applies a finished attempt to its task, the breaker and the pause state. */
export function applyExit(
  prev: WardenState,
  taskId: string,
  report: ExitReport,
  now: number,
  s: CoreSettings,
  random: () => number,
): { state: WardenState; events: CoreEvent[]; outcome: ReturnType<typeof classifyExit> | null } {
  const task = prev.tasks[taskId];
  if (!task || task.state !== 'running' || !task.current) return { state: prev, events: [], outcome: null };
  const outcome = classifyExit(report, { startupWindow: s.startupWindow });
  const detail = describeExit(report);
  const attempt = task.current.attempt;
  const record: AttemptRecord = {
    attempt,
    startedAt: task.current.claimedAt,
    endedAt: now,
    outcome,
    exitCode: report.exitCode,
    signal: report.signal,
    durationMs: Math.max(0, Math.round(report.durationMs)),
    detail,
    costUsd: report.usage?.costUsd ?? null,
    turns: report.usage?.turns ?? null,
    sessionId: report.usage?.sessionId ?? null,
    ...(report.memoryPeak != null ? { memoryPeak: report.memoryPeak } : {}),
  };
  const events: CoreEvent[] = [];
  const base: Task = {
    ...task,
    current: null,
    history: pushHistory(task, record),
    updatedAt: now,
    costUsd: task.costUsd + (record.costUsd ?? 0),
    turns: task.turns + (record.turns ?? 0),
    sessionId: record.sessionId ?? task.sessionId,
  };
  // spending counts whatever the outcome; reaching the daily budget pauses spawning
  prev = addSpend(prev, record.costUsd ?? 0, now, s, events);

  if (outcome === 'auth_failed' || outcome === 'usage_limit') {
    // No spawn can work until this clears, so pause everything at once. Not the task's fault:
    // the attempt is refunded and the breaker counts nothing (as for an interrupted attempt).
    const reason = report.verdict?.message || describeExitShort(outcome);
    const next: Task = {
      ...base,
      state: 'pending',
      attempts: Math.max(0, task.attempts - 1),
      notBefore: null,
      note: `${outcome}: ${detail}`,
    };
    let pause = prev.pause;
    let until: number | null = null;
    if (outcome === 'auth_failed') pause = { ...pause, workerAuth: pause.workerAuth ?? { since: now, reason } };
    else {
      until = usageLimitUntil(report.verdict?.kind === 'usage_limit' ? report.verdict.resetAt : null, now, s.usageLimitWait);
      pause = {
        ...pause,
        usageLimit: { since: pause.usageLimit?.since ?? now, until: Math.max(until, pause.usageLimit?.until ?? 0), reason },
      };
    }
    if (!prev.pause.workerAuth && outcome === 'auth_failed')
      events.push({ type: 'worker_paused', reason: 'worker_auth', detail: reason, until: null });
    if (outcome === 'usage_limit' && (!prev.pause.usageLimit || (until ?? 0) > prev.pause.usageLimit.until))
      events.push({ type: 'worker_paused', reason: 'usage_limit', detail: reason, until });
    events.push({ type: 'task_interrupted', taskId, detail: `${outcome}; attempt not counted` });
    return {
      state: { ...prev, pause, breaker: breakerProbeAbandoned(prev.breaker, taskId), tasks: withChangedTasks(prev.tasks, [next]) },
      events,
      outcome,
    };
  }

  if (outcome === 'succeeded') {
    const { breaker, transition } = breakerOnSuccess(prev.breaker, s.breaker, taskId);
    if (transition === 'closed') events.push({ type: 'breaker_closed', by: 'probe' });
    events.push({ type: 'task_succeeded', taskId, attempt });
    const prUrl = report.completion?.kind === 'pr' ? report.completion.url : task.prUrl;
    const next: Task = { ...base, state: 'succeeded', attempts: 0, notBefore: null, note: detail, prUrl };
    return { state: { ...prev, breaker, tasks: withChangedTasks(prev.tasks, [next]) }, events, outcome };
  }

  if (outcome === 'blocked') {
    // the worker ran and reported sensibly: for the breaker that is a working worker
    const { breaker, transition } = breakerOnSuccess(prev.breaker, s.breaker, taskId);
    if (transition === 'closed') events.push({ type: 'breaker_closed', by: 'probe' });
    const reason = report.completion?.kind === 'blocked' ? report.completion.reason : detail;
    events.push({ type: 'task_blocked', taskId, reason });
    const next: Task = { ...base, state: 'blocked', notBefore: null, note: `blocked: ${reason}` };
    return { state: { ...prev, breaker, tasks: withChangedTasks(prev.tasks, [next]) }, events, outcome };
  }

  const { breaker, transition } = breakerOnFailure(prev.breaker, now, s.breaker, taskId, `${taskId}: ${outcome}`);
  if (transition === 'opened' || transition === 'reopened')
    events.push({ type: 'breaker_opened', reason: breaker.reason ?? outcome, cooldownMs: breaker.cooldownMs });
  let next: Task;
  if (task.attempts >= s.maxAttempts) {
    next = { ...base, state: 'dead', notBefore: null, note: `${outcome} on attempt ${attempt}/${s.maxAttempts}: ${detail}` };
    events.push({ type: 'task_dead', taskId, kind: outcome, attempts: task.attempts, detail });
  } else {
    const delayMs = backoffDelay(s.backoff[outcome], task.attempts, random);
    next = { ...base, state: 'retry_wait', notBefore: now + delayMs, note: `${outcome}: ${detail}` };
    events.push({ type: 'task_retry', taskId, kind: outcome, attempt, delayMs, detail });
  }
  return { state: { ...prev, breaker, tasks: withChangedTasks(prev.tasks, [next]) }, events, outcome };
}

/** warden stopped the attempt itself (shutdown, restart): back to pending, the attempt refunded. */
export function applyInterrupted(
  prev: WardenState,
  taskId: string,
  now: number,
  detail: string,
  durationMs: number,
): { state: WardenState; events: CoreEvent[] } {
  const task = prev.tasks[taskId];
  if (!task || task.state !== 'running' || !task.current) return { state: prev, events: [] };
  const record: AttemptRecord = {
    attempt: task.current.attempt,
    startedAt: task.current.claimedAt,
    endedAt: now,
    outcome: 'interrupted',
    exitCode: null,
    signal: null,
    durationMs: Math.max(0, Math.round(durationMs)),
    detail,
    costUsd: null,
    turns: null,
    sessionId: null,
  };
  const next: Task = {
    ...task,
    state: 'pending',
    attempts: Math.max(0, task.attempts - 1),
    current: null,
    notBefore: null,
    history: pushHistory(task, record),
    updatedAt: now,
    note: `interrupted: ${detail}`,
  };
  return {
    state: { ...prev, breaker: breakerProbeAbandoned(prev.breaker, taskId), tasks: withChangedTasks(prev.tasks, [next]) },
    events: [{ type: 'task_interrupted', taskId, detail }],
  };
}

function describeExitShort(kind: 'auth_failed' | 'usage_limit'): string {
  return kind === 'auth_failed' ? 'claude is not logged in / API key invalid' : 'usage limit reached';
}

/**
 * At start: the attempts a previous shutdown stopped but could not save (its shutdown note, see
 * src/state/shutdown-note.ts) become interrupted, with no attempt charged. An entry matches only
 * the same running attempt (task, attempt number and claim time), so a stale note changes nothing.
 */
export function applyNotedStops(
  prev: WardenState,
  note: { stoppedAt: number; attempts: readonly { taskId: string; attempt: number; claimedAt: number }[] },
  now: number,
): { state: WardenState; events: CoreEvent[]; count: number } {
  let state = prev;
  const events: CoreEvent[] = [];
  let count = 0;
  for (const a of note.attempts) {
    const cur = state.tasks[a.taskId]?.current;
    if (!cur || cur.attempt !== a.attempt || cur.claimedAt !== a.claimedAt) continue;
    const detail = 'warden was stopped (the state could not be saved then; recorded at the next start)';
    const r = applyInterrupted(state, a.taskId, now, detail, note.stoppedAt - a.claimedAt);
    if (r.state !== state) count++;
    state = r.state;
    events.push(...r.events);
  }
  return { state, events, count };
}

const INTERRUPTED_BY = {
  shutdown: 'warden was stopped',
  cancelled: 'its issue lost the label',
  // not the task's fault: the node lost (or was about to lose) its fleet lease; another node may take the task
  fenced: 'fenced: this node could not renew its fleet lease',
} as const;

/**
 * An attempt ended: stopped by warden for a shutdown or a cancel (interrupted, not charged), or on
 * its own or by a timer (its exit applied). `stopped`: the attempt a shutdown stopped, for the
 * shutdown note; `cancel`: the task is to be cancelled next.
 */
export function applyEnded(
  prev: WardenState,
  taskId: string,
  ended: EndedAttempt,
  now: number,
  s: CoreSettings,
  maxRuntime: number,
  random: () => number,
): { state: WardenState; events: CoreEvent[]; stopped: { taskId: string; attempt: number; claimedAt: number } | null; cancel: boolean } {
  const { stopReason } = ended;
  if (stopReason === 'shutdown' || stopReason === 'cancelled' || stopReason === 'fenced') {
    const cur = prev.tasks[taskId]?.current;
    const stopped = stopReason === 'shutdown' && cur ? { taskId, attempt: cur.attempt, claimedAt: cur.claimedAt } : null;
    const detail = stopReason === 'cancelled' && ended.cancelReason ? `cancelled ${ended.cancelReason}` : INTERRUPTED_BY[stopReason];
    const r = applyInterrupted(prev, taskId, now, detail, ended.exit.endedAt - ended.startedAt);
    return { ...r, stopped, cancel: stopReason === 'cancelled' };
  }
  const r = applyExit(prev, taskId, buildExitReport(ended, now, maxRuntime), now, s, random);
  return { state: r.state, events: r.events, stopped: null, cancel: false };
}

/**
 * A worker that could not be started. On a full disk (no room for its worktree, log or run files)
 * that is the host's fault: the attempt is interrupted, not charged. Otherwise it is the spawn or
 * worktree failure it was, classified like any exit.
 */
export function applyLaunchFailure(
  prev: WardenState,
  taskId: string,
  failed: { field: 'spawnError' | 'worktreeError'; message: string; diskFull: boolean },
  now: number,
  s: CoreSettings,
  random: () => number,
): { state: WardenState; events: CoreEvent[] } {
  const claimedAt = prev.tasks[taskId]?.current?.claimedAt ?? now;
  if (failed.diskFull)
    return applyInterrupted(prev, taskId, now, `no room on disk to start the worker: ${failed.message}`, now - claimedAt);
  const exit = { spawnError: null, exitCode: null, signal: null, oomKilled: false, lost: false, endedAt: now };
  const ended = { startedAt: claimedAt, exit, stopReason: null, completion: null, verdict: null, [failed.field]: failed.message };
  return applyExit(prev, taskId, buildExitReport(ended, now, Infinity), now, s, random);
}
