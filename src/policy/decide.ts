// The decision core: pure functions of (state, sample, clock). They say which tasks to spawn,
// how an ended attempt changes a task, and when the supervisor should look again. No I/O here;
// the supervisor performs what these return. Everything is tested on a fake clock.
import { admissionViolations, powerViolations, thermalViolations, updatePressure, type AdmissionSettings } from '../admission/evaluate.js';
import type { HostSample } from '../admission/sample.js';
import type { BackoffSettings } from '../config/schema.js';
import { formatDuration, formatSize } from '../config/units.js';
import { HISTORY_LIMIT, type AttemptRecord, type RunningAttempt, type Task, type TaskState, type WardenState } from '../state/types.js';
import { backoffDelay } from './backoff.js';
import {
  advanceBreaker,
  breakerGate,
  breakerOnFailure,
  breakerOnSuccess,
  breakerProbeAbandoned,
  closedBreaker,
  recordProbeSpawn,
  type BreakerSettings,
} from './breaker.js';
import { classifyExit, describeExit, type ExitReport } from './classify.js';
import type { FailureKind } from './failure-kind.js';
import { localDay, nextLocalMidnight, usageLimitUntil } from './verdict.js';
import { nextSpawnAllowedAt } from './rate-limit.js';
import {
  compareTasks,
  countDue,
  dueAt,
  firstOfBoth,
  rebuildTaskIndex,
  stillIndexed,
  taskIndex,
  withChangedTasks,
  type TaskIndex,
} from './task-index.js';

export interface CoreSettings {
  maxConcurrentWorkers: number;
  minSpawnInterval: number;
  maxAttempts: number;
  startupWindow: number;
  memoryMax: number;
  backoff: Record<FailureKind, BackoffSettings>;
  breaker: BreakerSettings;
  admission: AdmissionSettings;
  /** How long spawning waits after a usage limit that names no reset time. */
  usageLimitWait: number;
  /** Spending per local day that pauses spawning (reason `budget`); null: no limit. */
  maxDailyCostUsd: number | null;
}

/** Pauses that come from what workers report (not from the host or the operator). */
export type WorkerPauseReason = 'worker_auth' | 'usage_limit' | 'budget';

/** Pauses that come from the hardware: heat and under-voltage (admission.max_temperature, get_throttled). */
export type HardwarePauseReason = 'thermal' | 'power';

export type CoreEvent =
  | { type: 'breaker_opened'; reason: string; cooldownMs: number }
  | { type: 'breaker_half_open' }
  | { type: 'breaker_closed'; by: 'probe' | 'resume' }
  | { type: 'pressure_entered'; reasons: string[] }
  | { type: 'pressure_recovering'; recoverAfterMs: number }
  | { type: 'pressure_left' }
  | { type: 'paused'; by: 'manual' }
  | { type: 'resumed'; by: 'manual' }
  | { type: 'task_spawn'; taskId: string; attempt: number; probe: boolean }
  | { type: 'task_succeeded'; taskId: string; attempt: number }
  | { type: 'task_retry'; taskId: string; kind: FailureKind; attempt: number; delayMs: number; detail: string }
  | { type: 'task_dead'; taskId: string; kind: FailureKind; attempts: number; detail: string }
  | { type: 'task_interrupted'; taskId: string; detail: string }
  | { type: 'task_blocked'; taskId: string; reason: string }
  | { type: 'task_cancelled'; taskId: string; reason: string }
  /** The SoC is too hot (`thermal`) or the firmware reports under-voltage now (`power`). */
  | { type: 'hardware_paused'; reason: HardwarePauseReason; reasons: string[] }
  | { type: 'hardware_recovering'; reason: HardwarePauseReason; recoverAfterMs: number }
  | { type: 'hardware_resumed'; reason: HardwarePauseReason }
  | { type: 'disk_paused'; reason: string }
  | { type: 'disk_resumed' }
  | { type: 'worker_paused'; reason: WorkerPauseReason; detail: string; until: number | null }
  | { type: 'worker_resumed'; reason: WorkerPauseReason };

export interface SpawnOrder {
  taskId: string;
  attempt: number;
  probe: boolean;
}

export interface TickResult {
  state: WardenState;
  spawns: SpawnOrder[];
  events: CoreEvent[];
  /** The earliest time something may change without outside input; null when nothing is scheduled. */
  wakeAt: number | null;
  /** Why nothing was spawned although work was waiting, for status; null if not held back. */
  heldBy: string | null;
}

export function runningCount(state: WardenState): number {
  return taskIndex(state.tasks).counts.running;
}

/** How many tasks are in each state, from the index (no walk over the tasks once it exists). */
export function taskCounts(state: WardenState): Record<TaskState, number> {
  return { ...taskIndex(state.tasks).counts };
}

// compareTasks moved to task-index.ts with the index that keeps tasks in its order; re-exported here.
export { compareTasks };

export function planTick(prev: WardenState, now: number, sample: HostSample | null, s: CoreSettings): TickResult {
  return plan(prev, now, sample, s, taskIndex(prev.tasks), false);
}

/**
 * planTick with the index of prev.tasks given. The index comes from a cache that trusts states
 * never to be edited in place; the tasks a tick acts on are checked against the map first, and if
 * one is not what the index says, the tick is planned again on a rebuilt index (`rebuilt`).
 */
function plan(prev: WardenState, now: number, sample: HostSample | null, s: CoreSettings, index: TaskIndex, rebuilt: boolean): TickResult {
  const events: CoreEvent[] = [];
  let state = prev;
  let wakeAt: number | null = null;
  const wakeBy = (t: number) => {
    wakeAt = wakeAt === null ? t : Math.min(wakeAt, t);
  };
  const stale = (entries: readonly Task[], expected: TaskState) => !rebuilt && !stillIndexed(prev.tasks, entries, expected);
  const replan = () => plan(prev, now, sample, s, rebuildTaskIndex(prev.tasks), true);

  // 1. breaker: open -> half-open once the cooldown has passed
  const advanced = advanceBreaker(state.breaker, now);
  if (advanced !== state.breaker) {
    state = { ...state, breaker: advanced };
    events.push({ type: 'breaker_half_open' });
  }
  if (state.breaker.phase === 'open' && state.breaker.openedAt !== null) wakeBy(state.breaker.openedAt + state.breaker.cooldownMs);

  // 2. admission: enter the pressure pause at once, leave it after recover_after below thresholds
  if (sample !== null) {
    const violations = admissionViolations(sample, s.admission, s.memoryMax);
    const { pressure, transition } = updatePressure(state.pause.pressure, violations, now, s.admission.recoverAfter);
    if (pressure !== state.pause.pressure) state = { ...state, pause: { ...state.pause, pressure } };
    if (transition === 'entered') events.push({ type: 'pressure_entered', reasons: violations });
    if (transition === 'recovering') events.push({ type: 'pressure_recovering', recoverAfterMs: s.admission.recoverAfter });
    if (transition === 'left') events.push({ type: 'pressure_left' });
  }
  if (state.pause.pressure?.clearSince != null) wakeBy(state.pause.pressure.clearSince + s.admission.recoverAfter);
  // the same hysteresis for heat and under-voltage, each its own pause reason
  if (sample !== null) {
    for (const [reason, violations] of [
      ['thermal', thermalViolations(sample, s.admission)],
      ['power', powerViolations(sample)],
    ] as const) {
      const prevPause = state.pause[reason] ?? null; // a state built before these reasons existed lacks the key
      const { pressure: pause, transition } = updatePressure(prevPause, violations, now, s.admission.recoverAfter);
      if (pause !== prevPause) state = { ...state, pause: { ...state.pause, [reason]: pause } };
      if (transition === 'entered') events.push({ type: 'hardware_paused', reason, reasons: violations });
      if (transition === 'recovering') events.push({ type: 'hardware_recovering', reason, recoverAfterMs: s.admission.recoverAfter });
      if (transition === 'left') events.push({ type: 'hardware_resumed', reason });
    }
  }
  for (const p of [state.pause.thermal, state.pause.power]) if (p?.clearSince != null) wakeBy(p.clearSince + s.admission.recoverAfter);

  // 2b. a usage-limit or budget pause lifts at its time
  for (const [key, reason] of [
    ['usageLimit', 'usage_limit'],
    ['budget', 'budget'],
  ] as const) {
    const p = state.pause[key];
    if (!p) continue;
    if (now >= p.until) {
      state = { ...state, pause: { ...state.pause, [key]: null } };
      events.push({ type: 'worker_resumed', reason });
    } else wakeBy(p.until);
  }

  // 3. retry_wait tasks whose backoff has passed become pending again. They are the head of the
  //    index's retry list; the next one after them is the next wake-up.
  const due = index.retryWait.slice(0, countDue(index, now));
  if (stale(due, 'retry_wait')) return replan();
  const nextDue = index.retryWait[due.length];
  if (nextDue) wakeBy(dueAt(nextDue));
  const woken: Task[] = due.map((t) => ({ ...t, state: 'pending', notBefore: null, updatedAt: now }));
  woken.sort(compareTasks);
  const pendingCount = index.pending.length + woken.length;

  // The task map is copied once, here, and only if a task changed: a held tick copies nothing.
  const finish = (changed: Task[], spawns: SpawnOrder[], heldBy: string | null): TickResult => {
    if (changed.length > 0) state = { ...state, tasks: withChangedTasks(state.tasks, changed) };
    return { state, spawns, events, wakeAt, heldBy: pendingCount > spawns.length ? heldBy : null };
  };
  const hold = (heldBy: string | null) => finish(woken, [], heldBy);
  if (pendingCount === 0) return hold(null);

  // 4. gates, in the order a human would want to read them
  if (state.pause.manual) return hold('paused: manual');
  if (state.pause.pressure) return hold(`paused: pressure (${state.pause.pressure.reasons.join('; ')})`);
  if (state.pause.thermal) return hold(`paused: thermal (${state.pause.thermal.reasons.join('; ')})`);
  if (state.pause.power) return hold(`paused: power (${state.pause.power.reasons.join('; ')})`);
  if (state.pause.disk) return hold(`paused: disk (${state.pause.disk.reason})`);
  if (state.pause.workerAuth) return hold(`paused: worker_auth (${state.pause.workerAuth.reason})`);
  if (state.pause.usageLimit)
    return hold(`paused: usage_limit until ${new Date(state.pause.usageLimit.until).toISOString()} (${state.pause.usageLimit.reason})`);
  if (state.pause.budget) return hold(`paused: budget (${state.pause.budget.reason})`);
  const gate = breakerGate(state.breaker);
  if (gate.allow === 'none')
    return hold(
      state.breaker.phase === 'open' ? `paused: breaker (${state.breaker.reason ?? 'open'})` : 'breaker half-open: probe running',
    );
  const slots = s.maxConcurrentWorkers - index.counts.running;
  if (slots <= 0) return hold(`at max_concurrent_workers (${s.maxConcurrentWorkers})`);
  const allowedAt = nextSpawnAllowedAt(state.lastSpawnAt, s.minSpawnInterval);
  if (now < allowedAt) {
    wakeBy(allowedAt);
    return hold(`rate limit: next spawn in ${formatDuration(allowedAt - now)}`);
  }

  // 5. claim: one spawn per tick when a spawn interval is set (the rate limit), else fill slots
  const budget = gate.allow === 'probe' ? 1 : s.minSpawnInterval > 0 ? 1 : slots;
  if (stale(index.pending.slice(0, budget), 'pending')) return replan();
  const probe = gate.allow === 'probe';
  const claimed = firstOfBoth(index.pending, woken, budget, compareTasks).map((t) => claimTask(t, now, probe));
  const spawns: SpawnOrder[] = [];
  let breaker = state.breaker;
  for (const t of claimed) {
    const attempt = t.attempts;
    if (probe) breaker = recordProbeSpawn(breaker, t.id);
    spawns.push({ taskId: t.id, attempt, probe });
    events.push({ type: 'task_spawn', taskId: t.id, attempt, probe });
  }
  state = { ...state, breaker, lastSpawnAt: now, totalSpawns: state.totalSpawns + spawns.length };
  if (s.minSpawnInterval > 0) wakeBy(now + s.minSpawnInterval);
  return finish([...woken, ...claimed], spawns, pendingCount > spawns.length ? 'waiting for the next spawn slot' : null);
}

/** The task as a claimed, running attempt (its worker is not started yet). */
function claimTask(t: Task, now: number, probe: boolean): Task {
  const attempt = t.attempts + 1;
  return {
    ...t,
    state: 'running',
    attempts: attempt,
    notBefore: null,
    updatedAt: now,
    current: { attempt, claimedAt: now, pid: null, pidStartTime: null, unit: null, executor: 'direct', probe },
  };
}

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

export function applyManualPause(prev: WardenState, now: number): { state: WardenState; events: CoreEvent[] } {
  if (prev.pause.manual) return { state: prev, events: [] };
  return { state: { ...prev, pause: { ...prev.pause, manual: { since: now } } }, events: [{ type: 'paused', by: 'manual' }] };
}

/** `warden resume`: clears a manual pause and closes an open breaker. Pressure stays measured. */
export function applyResume(prev: WardenState, s: CoreSettings): { state: WardenState; events: CoreEvent[] } {
  const events: CoreEvent[] = [];
  let state = prev;
  if (state.pause.manual) {
    state = { ...state, pause: { ...state.pause, manual: null } };
    events.push({ type: 'resumed', by: 'manual' });
  }
  if (state.breaker.phase !== 'closed') {
    state = { ...state, breaker: closedBreaker(s.breaker) };
    events.push({ type: 'breaker_closed', by: 'resume' });
  }
  // after `claude /login` (or waiting out a limit by hand) the owner resumes; the budget stays
  if (state.pause.workerAuth) {
    state = { ...state, pause: { ...state.pause, workerAuth: null } };
    events.push({ type: 'worker_resumed', reason: 'worker_auth' });
  }
  if (state.pause.usageLimit) {
    state = { ...state, pause: { ...state.pause, usageLimit: null } };
    events.push({ type: 'worker_resumed', reason: 'usage_limit' });
  }
  return { state, events };
}

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

/**
 * Free disk space on the worktree filesystem: under `minFree` pauses spawning with reason `disk`;
 * back above it resumes. No hysteresis: space comes back only when someone frees it.
 */
export function applyDiskCheck(
  prev: WardenState,
  free: number,
  minFree: number,
  path: string,
  now: number,
): { state: WardenState; events: CoreEvent[] } {
  return applyDiskHealth(
    prev,
    free < minFree ? [`${formatSize(free)} free on ${path}, under min_free_disk ${formatSize(minFree)}`] : [],
    now,
  );
}

/**
 * The disk pause from every problem found (space or inodes, on the state and worktree
 * filesystems; src/admission/disk.ts): any problem pauses with reason `disk`, none resumes.
 * A different problem while paused updates the reason without a new event.
 */
export function applyDiskHealth(prev: WardenState, problems: readonly string[], now: number): { state: WardenState; events: CoreEvent[] } {
  const reason = problems.join('; ');
  if (problems.length > 0 && !prev.pause.disk) {
    return { state: { ...prev, pause: { ...prev.pause, disk: { since: now, reason } } }, events: [{ type: 'disk_paused', reason }] };
  }
  if (problems.length > 0 && prev.pause.disk && prev.pause.disk.reason !== reason) {
    return { state: { ...prev, pause: { ...prev.pause, disk: { ...prev.pause.disk, reason } } }, events: [] };
  }
  if (problems.length === 0 && prev.pause.disk)
    return { state: { ...prev, pause: { ...prev.pause, disk: null } }, events: [{ type: 'disk_resumed' }] };
  return { state: prev, events: [] };
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

function newTask(t: NewTask): Task {
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

function describeExitShort(kind: 'auth_failed' | 'usage_limit'): string {
  return kind === 'auth_failed' ? 'claude is not logged in / API key invalid' : 'usage limit reached';
}

/**
 * Adds what an attempt cost to the local day's spending; at max_daily_cost_usd spawning pauses
 * (reason `budget`) until the next local day. A new day starts the count again.
 */
export function addSpend(
  prev: WardenState,
  usd: number,
  now: number,
  s: Pick<CoreSettings, 'maxDailyCostUsd'>,
  events: CoreEvent[],
): WardenState {
  const day = localDay(now);
  const spent = (prev.spend.day === day ? prev.spend.usd : 0) + Math.max(0, usd);
  let state: WardenState = spent === prev.spend.usd && day === prev.spend.day ? prev : { ...prev, spend: { day, usd: spent } };
  const limit = s.maxDailyCostUsd;
  if (limit !== null && spent >= limit && !(state.pause.budget && state.pause.budget.until > now)) {
    const until = nextLocalMidnight(now);
    const reason = `spent $${spent.toFixed(2)} today, max_daily_cost_usd is $${limit.toFixed(2)}`;
    state = { ...state, pause: { ...state.pause, budget: { since: now, until, reason } } };
    events.push({ type: 'worker_paused', reason: 'budget', detail: reason, until });
  }
  return state;
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

export function coreSettingsFrom(config: {
  supervisor: { max_concurrent_workers: number; min_spawn_interval: number; max_daily_cost_usd?: number | null };
  worker: { max_attempts: number; startup_window: number; memory_max: number; usage_limit_wait?: number };
  backoff: Record<FailureKind, BackoffSettings>;
  breaker: BreakerSettings;
  admission: {
    min_available_memory: number;
    max_load_per_cpu: number;
    max_memory_pressure: number;
    recover_after: number;
    max_temperature: number;
  };
}): CoreSettings {
  const a = config.admission;
  return {
    maxConcurrentWorkers: config.supervisor.max_concurrent_workers,
    minSpawnInterval: config.supervisor.min_spawn_interval,
    maxAttempts: config.worker.max_attempts,
    startupWindow: config.worker.startup_window,
    memoryMax: config.worker.memory_max,
    backoff: config.backoff,
    breaker: config.breaker,
    admission: {
      minAvailableMemory: a.min_available_memory,
      maxLoadPerCpu: a.max_load_per_cpu,
      maxMemoryPressure: a.max_memory_pressure,
      recoverAfter: a.recover_after,
      maxTemperature: a.max_temperature,
    },
    usageLimitWait: config.worker.usage_limit_wait ?? DEFAULT_USAGE_LIMIT_WAIT,
    maxDailyCostUsd: config.supervisor.max_daily_cost_usd ?? null,
  };
}

/** worker.usage_limit_wait's default: a limit message without a reset time waits this long. */
export const DEFAULT_USAGE_LIMIT_WAIT = 3600_000;
