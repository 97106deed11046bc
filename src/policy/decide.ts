// The decision core: pure functions of (state, sample, clock). They say which tasks to spawn,
// how an ended attempt changes a task, and when the supervisor should look again. No I/O here;
// the supervisor performs what these return. Everything is tested on a fake clock.
import { admissionViolations, updatePressure, type AdmissionSettings } from '../admission/evaluate.js';
import type { HostSample } from '../admission/sample.js';
import type { BackoffSettings } from '../config/schema.js';
import { formatDuration } from '../config/units.js';
import { HISTORY_LIMIT, type AttemptRecord, type Task, type WardenState } from '../state/types.js';
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
import { nextSpawnAllowedAt } from './rate-limit.js';

export interface CoreSettings {
  maxConcurrentWorkers: number;
  minSpawnInterval: number;
  maxAttempts: number;
  startupWindow: number;
  memoryMax: number;
  backoff: Record<FailureKind, BackoffSettings>;
  breaker: BreakerSettings;
  admission: AdmissionSettings;
}

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
  | { type: 'task_interrupted'; taskId: string; detail: string };

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
  let n = 0;
  for (const t of Object.values(state.tasks)) if (t.state === 'running') n++;
  return n;
}

/** Orders runnable tasks: lower priority number first, then oldest, then by ID (stable). */
export function compareTasks(a: Task, b: Task): number {
  return a.priority - b.priority || a.createdAt - b.createdAt || (a.id < b.id ? -1 : a.id > b.id ? 1 : 0);
}

export function planTick(prev: WardenState, now: number, sample: HostSample | null, s: CoreSettings): TickResult {
  const events: CoreEvent[] = [];
  let state = prev;
  const wake: number[] = [];

  // 1. breaker: open -> half-open once the cooldown has passed
  const advanced = advanceBreaker(state.breaker, now);
  if (advanced !== state.breaker) {
    state = { ...state, breaker: advanced };
    events.push({ type: 'breaker_half_open' });
  }
  if (state.breaker.phase === 'open' && state.breaker.openedAt !== null) wake.push(state.breaker.openedAt + state.breaker.cooldownMs);

  // 2. admission: enter the pressure pause at once, leave it after recover_after below thresholds
  if (sample !== null) {
    const violations = admissionViolations(sample, s.admission, s.memoryMax);
    const { pressure, transition } = updatePressure(state.pause.pressure, violations, now, s.admission.recoverAfter);
    if (pressure !== state.pause.pressure) state = { ...state, pause: { ...state.pause, pressure } };
    if (transition === 'entered') events.push({ type: 'pressure_entered', reasons: violations });
    if (transition === 'recovering') events.push({ type: 'pressure_recovering', recoverAfterMs: s.admission.recoverAfter });
    if (transition === 'left') events.push({ type: 'pressure_left' });
  }
  if (state.pause.pressure?.clearSince != null) wake.push(state.pause.pressure.clearSince + s.admission.recoverAfter);

  // 3. retry_wait tasks whose backoff has passed become pending again
  let tasks = state.tasks;
  for (const t of Object.values(state.tasks)) {
    if (t.state !== 'retry_wait') continue;
    if (t.notBefore === null || t.notBefore <= now) {
      if (tasks === state.tasks) tasks = { ...tasks };
      tasks[t.id] = { ...t, state: 'pending', notBefore: null, updatedAt: now };
    } else {
      wake.push(t.notBefore);
    }
  }
  if (tasks !== state.tasks) state = { ...state, tasks };

  const pending = Object.values(state.tasks).filter((t) => t.state === 'pending');
  const result = (spawns: SpawnOrder[], heldBy: string | null): TickResult => ({
    state,
    spawns,
    events,
    wakeAt: wake.length ? Math.min(...wake) : null,
    heldBy: pending.length > spawns.length ? heldBy : null,
  });
  if (pending.length === 0) return result([], null);

  // 4. gates, in the order a human would want to read them
  if (state.pause.manual) return result([], 'paused: manual');
  if (state.pause.pressure) return result([], `paused: pressure (${state.pause.pressure.reasons.join('; ')})`);
  const gate = breakerGate(state.breaker);
  if (gate.allow === 'none') return result([], state.breaker.phase === 'open' ? `paused: breaker (${state.breaker.reason ?? 'open'})` : 'breaker half-open: probe running');
  const slots = s.maxConcurrentWorkers - runningCount(state);
  if (slots <= 0) return result([], `at max_concurrent_workers (${s.maxConcurrentWorkers})`);
  const allowedAt = nextSpawnAllowedAt(state.lastSpawnAt, s.minSpawnInterval);
  if (now < allowedAt) {
    wake.push(allowedAt);
    return result([], `rate limit: next spawn in ${formatDuration(allowedAt - now)}`);
  }

  // 5. claim: one spawn per tick when a spawn interval is set (the rate limit), else fill slots
  const budget = gate.allow === 'probe' ? 1 : s.minSpawnInterval > 0 ? 1 : slots;
  const chosen = pending.sort(compareTasks).slice(0, budget);
  const spawns: SpawnOrder[] = [];
  tasks = { ...state.tasks };
  let breaker = state.breaker;
  for (const t of chosen) {
    const attempt = t.attempts + 1;
    const probe = gate.allow === 'probe';
    tasks[t.id] = {
      ...t,
      state: 'running',
      attempts: attempt,
      notBefore: null,
      updatedAt: now,
      current: { attempt, claimedAt: now, pid: null, pidStartTime: null, unit: null, executor: 'direct', probe },
    };
    if (probe) breaker = recordProbeSpawn(breaker, t.id);
    spawns.push({ taskId: t.id, attempt, probe });
    events.push({ type: 'task_spawn', taskId: t.id, attempt, probe });
  }
  state = { ...state, tasks, breaker, lastSpawnAt: now, totalSpawns: state.totalSpawns + spawns.length };
  if (s.minSpawnInterval > 0) wake.push(now + s.minSpawnInterval);
  return result(spawns, pending.length > spawns.length ? 'waiting for the next spawn slot' : null);
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
  };
  const events: CoreEvent[] = [];
  const base: Task = { ...task, current: null, history: pushHistory(task, record), updatedAt: now };

  if (outcome === 'succeeded') {
    const { breaker, transition } = breakerOnSuccess(prev.breaker, s.breaker, taskId);
    if (transition === 'closed') events.push({ type: 'breaker_closed', by: 'probe' });
    events.push({ type: 'task_succeeded', taskId, attempt });
    const next: Task = { ...base, state: 'succeeded', attempts: 0, notBefore: null, note: detail };
    return { state: { ...prev, breaker, tasks: { ...prev.tasks, [taskId]: next } }, events, outcome };
  }

  const { breaker, transition } = breakerOnFailure(prev.breaker, now, s.breaker, taskId, `${taskId}: ${outcome}`);
  if (transition === 'opened' || transition === 'reopened') events.push({ type: 'breaker_opened', reason: breaker.reason ?? outcome, cooldownMs: breaker.cooldownMs });
  let next: Task;
  if (task.attempts >= s.maxAttempts) {
    next = { ...base, state: 'dead', notBefore: null, note: `${outcome} on attempt ${attempt}/${s.maxAttempts}: ${detail}` };
    events.push({ type: 'task_dead', taskId, kind: outcome, attempts: task.attempts, detail });
  } else {
    const delayMs = backoffDelay(s.backoff[outcome], task.attempts, random);
    next = { ...base, state: 'retry_wait', notBefore: now + delayMs, note: `${outcome}: ${detail}` };
    events.push({ type: 'task_retry', taskId, kind: outcome, attempt, delayMs, detail });
  }
  return { state: { ...prev, breaker, tasks: { ...prev.tasks, [taskId]: next } }, events, outcome };
}

/** warden stopped the attempt itself (shutdown, restart): back to pending, the attempt refunded. */
export function applyInterrupted(prev: WardenState, taskId: string, now: number, detail: string, durationMs: number): { state: WardenState; events: CoreEvent[] } {
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
    state: { ...prev, breaker: breakerProbeAbandoned(prev.breaker, taskId), tasks: { ...prev.tasks, [taskId]: next } },
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
  return { state, events };
}

export interface NewTask {
  id: string;
  promptFile: string;
  priority: number;
  createdAt: number;
}

export function addTask(prev: WardenState, t: NewTask): { state: WardenState; added: boolean } {
  if (prev.tasks[t.id]) return { state: prev, added: false };
  const task: Task = {
    id: t.id,
    source: 'local',
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
  };
  return { state: { ...prev, tasks: { ...prev.tasks, [t.id]: task } }, added: true };
}

export function coreSettingsFrom(config: {
  supervisor: { maxConcurrentWorkers: number; minSpawnInterval: number };
  worker: { maxAttempts: number; startupWindow: number; memoryMax: number };
  backoff: Record<FailureKind, BackoffSettings>;
  breaker: BreakerSettings;
  admission: AdmissionSettings;
}): CoreSettings {
  return {
    maxConcurrentWorkers: config.supervisor.maxConcurrentWorkers,
    minSpawnInterval: config.supervisor.minSpawnInterval,
    maxAttempts: config.worker.maxAttempts,
    startupWindow: config.worker.startupWindow,
    memoryMax: config.worker.memoryMax,
    backoff: config.backoff,
    breaker: config.breaker,
    admission: config.admission,
  };
}
