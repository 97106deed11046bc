// Builders for the decision core's inputs: tasks, states, exit reports and host samples.
import type { HostSample } from '../../src/admission/evaluate.ts';
import type { ExitReport } from '../../src/policy/classify.ts';
import { addTask } from '../../src/policy/task-changes.ts';
import { type CoreSettings } from '../../src/policy/settings.ts';
import { emptyState, type AttemptRecord, type Task, type WardenState } from '../../src/state/types.ts';
import { DEFAULT_SETTINGS } from './settings.ts';
import { GiB, MiB, MINUTE } from './units.ts';

/** A local task, pending, never tried; a running one gets a current attempt. */
export function task(id: string, over: Partial<Task> = {}): Task {
  const base: Task = {
    id,
    source: 'local',
    issue: null,
    prUrl: null,
    promptFile: `/prompts/${id}.md`,
    priority: 2,
    createdAt: 0,
    updatedAt: 0,
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
  const t = { ...base, ...over };
  if (t.state === 'running' && !t.current)
    t.current = {
      attempt: Math.max(1, t.attempts),
      claimedAt: 0,
      pid: null,
      pidStartTime: null,
      unit: null,
      executor: 'direct',
      probe: false,
    };
  return t;
}

/** A state holding exactly these tasks, as they are (no index built, nothing decided). */
export function stateOf(tasks: Task[], s: CoreSettings = DEFAULT_SETTINGS): WardenState {
  return { ...emptyState(s.breaker.cooldown), tasks: Object.fromEntries(tasks.map((t) => [t.id, t])) };
}

/** A state with these tasks added the way `warden task add` adds them (prompt /prompts/<id>.md, priority 2). */
export function stateWith(tasks: { id: string; priority?: number; createdAt?: number }[], s: CoreSettings = DEFAULT_SETTINGS): WardenState {
  let state = emptyState(s.breaker.cooldown);
  for (const t of tasks)
    state = addTask(state, { id: t.id, promptFile: `/prompts/${t.id}.md`, priority: t.priority ?? 2, createdAt: t.createdAt ?? 0 }).state;
  return state;
}

/** One pending task, gh-1: the state of most admission tests. */
export const oneTask = (s: CoreSettings = DEFAULT_SETTINGS): WardenState => stateWith([{ id: 'gh-1' }], s);

/** A worker exit: by default a clean exit 0 after five minutes, well past any startup window. */
export function exitReport(over: Partial<ExitReport> = {}): ExitReport {
  return {
    spawnError: null,
    worktreeError: null,
    exitCode: 0,
    signal: null,
    durationMs: 5 * MINUTE,
    timedOut: false,
    oomKilled: false,
    lost: false,
    ...over,
  };
}

/** A worker that exited 1 well past the startup window (exit_nonzero), and one that succeeded. */
export const FAILED_EXIT = exitReport({ exitCode: 1 });
export const SUCCEEDED_EXIT = exitReport({ exitCode: 0 });

/** The `random` of applyExit's backoff jitter, fixed in the middle of its range. */
export const halfRandom = (): number => 0.5;

/** One finished attempt in a task's history. */
export function attemptRecord(over: Partial<AttemptRecord> = {}): AttemptRecord {
  return {
    attempt: 1,
    startedAt: 0,
    endedAt: 1,
    outcome: 'exit_nonzero',
    exitCode: null,
    signal: null,
    durationMs: 1,
    detail: null,
    costUsd: null,
    turns: null,
    sessionId: null,
    ...over,
  };
}

/** A host sample of a quiet 4-CPU, 8 GiB machine with PSI and no thermal or throttle signal. */
export function hostSample(over: Partial<HostSample> = {}): HostSample {
  return {
    at: 0,
    memAvailable: 6 * GiB,
    memTotal: 8 * GiB,
    load1: 0.3,
    cpus: 4,
    memoryPressure: 0,
    psiAvailable: true,
    errors: [],
    temperatureC: null,
    thermalZone: null,
    throttled: null,
    ...over,
  };
}

/** A host under memory pressure on every signal admission reads. */
export const PRESSURED_SAMPLE = hostSample({ memAvailable: 64 * MiB, load1: 9, memoryPressure: 50 });
