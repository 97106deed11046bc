// The tick: a pure function of (state, sample, clock) that says which tasks to spawn, why nothing
// was spawned, and when the supervisor should look again. No I/O here; the supervisor performs
// what it returns. Tested on a fake clock.
import { powerViolations, thermalViolations, updatePressure } from '../admission/evaluate.js';
import type { HostSample } from '../admission/evaluate.js';
import { formatDuration } from '../config/units.js';
import type { CoreEvent } from '../events/catalog.js';
import type { Task, TaskState, WardenState } from '../state/types.js';
import { advanceBreaker, breakerGate, recordProbeSpawn } from './breaker.js';
import { nextPressure } from './pressure.js';
import { nextSpawnAllowedAt } from './rate-limit.js';
import type { CoreSettings } from './settings.js';
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
    const next = nextPressure(state.pause.pressure, sample, now, s);
    if (next.pressure !== state.pause.pressure) state = { ...state, pause: { ...state.pause, pressure: next.pressure } };
    events.push(...next.events);
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
  const pressure = state.pause.pressure;
  if (pressure) return hold(`paused: pressure (${pressure.stuck ? `cannot lift: ${pressure.stuck.why}` : pressure.reasons.join('; ')})`);
  if (state.pause.thermal) return hold(`paused: thermal (${state.pause.thermal.reasons.join('; ')})`);
  if (state.pause.power) return hold(`paused: power (${state.pause.power.reasons.join('; ')})`);
  if (state.pause.disk) return hold(`paused: disk (${state.pause.disk.reason})`);
  if (state.pause.workerAuth) return hold(`paused: worker_auth (${state.pause.workerAuth.reason})`);
  if (state.pause.usageLimit)
    return hold(`paused: usage_limit until ${new Date(state.pause.usageLimit.until).toISOString()} (${state.pause.usageLimit.reason})`);
  if (state.pause.budget) return hold(`paused: budget (${state.pause.budget.reason})`);
  if (state.pause.fleet) return hold(`paused: fleet (${state.pause.fleet.reason})`);
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
