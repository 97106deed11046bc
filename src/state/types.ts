// warden's durable state. Everything that must survive a restart lives here: each task's state,
// attempt count and failure history, the breaker, the pause reasons and the last spawn time.
// The incident's state file dropped terminal tasks and re-read running ones wrongly, so every
// field here round-trips exactly (tested as a property) and terminal states are stored.
import { z } from 'zod';
import { FAILURE_KINDS } from '../policy/failure-kind.js';

export const TASK_STATES = ['pending', 'running', 'succeeded', 'retry_wait', 'dead', 'blocked', 'cancelled'] as const;
export type TaskState = (typeof TASK_STATES)[number];

export const BREAKER_STATES = ['closed', 'open', 'half_open'] as const;

/** How many finished attempts a task keeps in its history. */
export const HISTORY_LIMIT = 20;
/** The priority of a task added without one (higher runs first). */
export const DEFAULT_PRIORITY = 2;

// `interrupted`: warden itself stopped the attempt (shutdown, restart); it is not the worker's
// failure, so it costs no attempt and does not count towards the breaker.
const outcomeSchema = z.enum(['succeeded', 'blocked', 'interrupted', ...FAILURE_KINDS]);
export type AttemptOutcome = z.infer<typeof outcomeSchema>;

export const attemptRecordSchema = z.strictObject({
  attempt: z.number().int().min(1),
  startedAt: z.number(),
  endedAt: z.number(),
  outcome: outcomeSchema,
  exitCode: z.number().int().nullable(),
  signal: z.string().nullable(),
  durationMs: z.number().min(0),
  detail: z.string().nullable(),
  /** From the worker's stream-json result; null when it reported none. Defaults let older files load. */
  costUsd: z.number().min(0).nullable().default(null),
  turns: z.number().int().min(0).nullable().default(null),
  sessionId: z.string().nullable().default(null),
  /**
   * The worker cgroup's peak memory use in bytes, as the wrapper read it when the worker exited
   * (cgroup v2 memory.peak, v1 memory.max_usage_in_bytes); absent when unknown (direct executor,
   * an adopted worker whose record was lost, a kernel before 5.19 on v2).
   */
  memoryPeak: z.number().int().min(0).optional(),
});
export type AttemptRecord = z.infer<typeof attemptRecordSchema>;

const runningAttemptSchema = z.strictObject({
  attempt: z.number().int().min(1),
  claimedAt: z.number(),
  /** Set once the worker process exists. A claim without a pid means warden stopped between
   * claiming and spawning; recovery then looks for the worker by its pid file or unit name. */
  pid: z.number().int().positive().nullable(),
  /** /proc/PID/stat start time, so a recycled PID is never mistaken for the worker. */
  pidStartTime: z.string().nullable(),
  unit: z.string().nullable(),
  executor: z.enum(['direct', 'systemd']),
  probe: z.boolean(),
  /** [fleet]: the revision of this attempt's claim in etcd, given to the worker as WARDEN_FENCING_TOKEN. */
  fencingToken: z.string().optional(),
});
export type RunningAttempt = z.infer<typeof runningAttemptSchema>;

export const taskSchema = z.strictObject({
  id: z.string(),
  source: z.enum(['local', 'github']),
  /** The GitHub issue behind a `github` task. New fields default so older state files load. */
  issue: z.strictObject({ repo: z.string(), number: z.number().int(), url: z.string(), title: z.string() }).nullable().default(null),
  /** The pull request that completed the task. */
  prUrl: z.string().nullable().default(null),
  promptFile: z.string(),
  /** Higher runs first; DEFAULT_PRIORITY when none is given. */
  priority: z.number().int(),
  createdAt: z.number(),
  updatedAt: z.number(),
  state: z.enum(TASK_STATES),
  /** Attempts used since the last success; reaching max_attempts makes the task `dead`. */
  attempts: z.number().int().min(0),
  notBefore: z.number().nullable(),
  current: runningAttemptSchema.nullable(),
  history: z.array(attemptRecordSchema),
  /** Why the task is where it is: the blocked reason, the last failure, who cancelled it. */
  note: z.string().nullable(),
  /** Summed over every attempt the worker reported on (its stream-json result). */
  costUsd: z.number().min(0).default(0),
  turns: z.number().int().min(0).default(0),
  /** The last session the worker reported, for resuming it. */
  sessionId: z.string().nullable().default(null),
  /** [fleet]: the mod revision of the shared record (`<prefix>tasks/<id>`) this task last synced with;
   * absent: not published yet, or a single node (src/fleet/task-merge.ts). */
  fleetRev: z.string().optional(),
});
export type Task = z.infer<typeof taskSchema>;

const breakerSchema = z.strictObject({
  phase: z.enum(BREAKER_STATES),
  /** Times of failures inside the current window. */
  recentFailures: z.array(z.number()),
  openedAt: z.number().nullable(),
  /** The cooldown in force; it doubles each time a half-open probe fails. */
  cooldownMs: z.number().min(0),
  probeTaskId: z.string().nullable(),
  reason: z.string().nullable(),
});
export type BreakerState = z.infer<typeof breakerSchema>;

const pressureSchema = z.strictObject({
  since: z.number(),
  reasons: z.array(z.string()),
  /** When the samples first went back under every threshold; null while still over. */
  clearSince: z.number().nullable(),
  /** A memory pause that cannot lift on this host with this config (src/policy/pressure.ts): why, and
   * which values would fit. Absent otherwise, and in older state files. */
  stuck: z.strictObject({ why: z.string(), fix: z.string() }).optional(),
});
export type PressureState = z.infer<typeof pressureSchema>;

/** [fleet]: the mod revision of the shared record (`<prefix>pauses/...`) a fleet-wide pause mirrors;
 * absent: not published yet, or a single node (src/fleet/shared-merge.ts). */
const fleetRev = z.string().optional();

const pauseSchema = z.strictObject({
  manual: z.strictObject({ since: z.number(), fleetRev }).nullable(),
  pressure: pressureSchema.nullable(),
  /** Too little free disk for worktrees (SD cards are small). Cleared when space is back. */
  disk: z.strictObject({ since: z.number(), reason: z.string() }).nullable().default(null),
  /** The worker said it is not logged in: no spawn can work until someone logs in and resumes. */
  workerAuth: z.strictObject({ since: z.number(), reason: z.string(), fleetRev }).nullable().default(null),
  /** The worker hit a usage limit: spawning waits until `until` (its reset time, or usage_limit_wait). */
  usageLimit: z.strictObject({ since: z.number(), until: z.number(), reason: z.string(), fleetRev }).nullable().default(null),
  /** supervisor.max_daily_cost_usd reached: spawning waits for the next local day. */
  budget: z.strictObject({ since: z.number(), until: z.number(), reason: z.string(), fleetRev }).nullable().default(null),
  /** SoC over admission.max_temperature; left after recover_after below it, like pressure. */
  thermal: pressureSchema.nullable().default(null),
  /** The Pi firmware reports under-voltage now; left after recover_after without it. */
  power: pressureSchema.nullable().default(null),
  /** [fleet]: this node holds no lease, or cannot read etcd: it claims nothing (src/fleet/). */
  fleet: z.strictObject({ since: z.number(), reason: z.string() }).nullable().default(null),
});
export type PauseState = z.infer<typeof pauseSchema>;

export const stateSchema = z.strictObject({
  version: z.literal(1),
  tasks: z.record(z.string(), taskSchema),
  breaker: breakerSchema,
  pause: pauseSchema,
  lastSpawnAt: z.number().nullable(),
  totalSpawns: z.number().int().min(0),
  /** false while a daemon runs; true after a clean shutdown. Detects unclean restarts. */
  cleanShutdown: z.boolean(),
  /** What the workers reported spending on the current local day (max_daily_cost_usd). */
  spend: z.strictObject({ day: z.string(), usd: z.number().min(0) }).default({ day: '', usd: 0 }),
});
export type WardenState = z.infer<typeof stateSchema>;

export function emptyState(cooldownMs: number): WardenState {
  return {
    version: 1,
    tasks: {},
    breaker: { phase: 'closed', recentFailures: [], openedAt: null, cooldownMs, probeTaskId: null, reason: null },
    pause: {
      manual: null,
      pressure: null,
      thermal: null,
      power: null,
      disk: null,
      workerAuth: null,
      usageLimit: null,
      budget: null,
      fleet: null,
    },
    lastSpawnAt: null,
    totalSpawns: 0,
    cleanShutdown: true,
    spend: { day: '', usd: 0 },
  };
}
