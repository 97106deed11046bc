// Every event warden reports, declared once: what each carries (EventFields) and what it always
// means for the log, /metrics and alerts (EVENTS). The decision core's events are logged and
// forwarded; a few only the supervisor and the daemon see (a restart after an unclean stop, a
// failed reload, the digest). The unions derive from the table, and the compiler holds the two
// declarations to the same keys. A new event is a line in each, plus what must be decided anew:
// its log text (log/events.ts) and, if it raises an alert, the alert's text (alerts/alert.ts).
import type { FailureKind } from '../policy/failure-kind.js';
import type { HardwarePauseReason, PauseReason, WorkerPauseReason } from '../state/pause-reasons.js';
import type { TaskState } from '../state/types.js';

/** The numbers a digest reports, over the period since the previous digest (or the daemon's start). */
export interface DigestSummary {
  periodMs: number;
  spawns: number;
  succeeded: number;
  dead: number;
  failures: Partial<Record<FailureKind, number>>;
  tasks: Record<TaskState, number>;
  workers: number;
  maxWorkers: number;
  breaker: string;
  paused: PauseReason[];
  statusLine: string;
}

/** What each event carries besides its type. */
interface EventFields {
  breaker_opened: { reason: string; cooldownMs: number };
  breaker_half_open: object;
  breaker_closed: { by: 'probe' | 'resume' };
  pressure_entered: { reasons: string[] };
  /** A memory pause that can never lift on this host with this config (src/policy/pressure.ts). */
  pressure_stuck: { reasons: string[]; why: string; fix: string };
  pressure_recovering: { recoverAfterMs: number };
  pressure_left: object;
  paused: { by: 'manual' };
  resumed: { by: 'manual' };
  task_spawn: { taskId: string; attempt: number; probe: boolean };
  task_succeeded: { taskId: string; attempt: number };
  task_retry: { taskId: string; kind: FailureKind; attempt: number; delayMs: number; detail: string };
  task_dead: { taskId: string; kind: FailureKind; attempts: number; detail: string };
  task_interrupted: { taskId: string; detail: string };
  task_blocked: { taskId: string; reason: string };
  task_cancelled: { taskId: string; reason: string };
  /** The SoC is too hot (`thermal`) or the firmware reports under-voltage now (`power`). */
  hardware_paused: { reason: HardwarePauseReason; reasons: string[] };
  hardware_recovering: { reason: HardwarePauseReason; recoverAfterMs: number };
  hardware_resumed: { reason: HardwarePauseReason };
  disk_paused: { reason: string };
  disk_resumed: object;
  fleet_paused: { reason: string };
  fleet_resumed: object;
  worker_paused: { reason: WorkerPauseReason; detail: string; until: number | null };
  worker_resumed: { reason: WorkerPauseReason };
  /** The state file says the previous run did not shut down cleanly (crash, kill -9, watchdog). */
  unclean_restart: { runningTasks: number };
  /** SIGHUP with a config that does not validate (or cannot be applied); the old one stays. */
  config_reload_failed: { error: string };
  digest: { summary: DigestSummary };
  /** `warden alert test`. */
  alert_test: object;
}

/** The counters of /metrics an event adds one to (control/metrics.ts); `failures` by the event's failure kind. */
type EventCounter = 'succeeded' | 'dead' | 'blocked' | 'breakerOpened' | 'failures';

/**
 * `core`: decided by src/policy, and logged at `level` as it is committed. `supervisor`: raised
 * outside the decision core, and not logged from here.
 */
type EventRow<F> = {
  /** Only an event that carries a failure kind can count a failure. */
  counts: readonly (F extends { kind: FailureKind } ? EventCounter : Exclude<EventCounter, 'failures'>)[];
  /** The kind of alert it raises (alerts/alert.ts), or null for a routine event. */
  alert: string | null;
} & ({ source: 'core'; level: 'error' | 'warn' | 'info' } | { source: 'supervisor' });

export const EVENTS = {
  breaker_opened: { source: 'core', level: 'error', counts: ['breakerOpened'], alert: 'breaker_opened' },
  breaker_half_open: { source: 'core', level: 'info', counts: [], alert: null },
  breaker_closed: { source: 'core', level: 'info', counts: [], alert: 'breaker_closed' },
  pressure_entered: { source: 'core', level: 'error', counts: [], alert: 'paused' },
  // not the host under load but a config that does not fit it: only the owner can change it
  pressure_stuck: { source: 'core', level: 'error', counts: [], alert: 'paused' },
  pressure_recovering: { source: 'core', level: 'info', counts: [], alert: null },
  pressure_left: { source: 'core', level: 'info', counts: [], alert: 'resumed' },
  paused: { source: 'core', level: 'warn', counts: [], alert: 'paused' },
  resumed: { source: 'core', level: 'info', counts: [], alert: 'resumed' },
  task_spawn: { source: 'core', level: 'info', counts: [], alert: null },
  task_succeeded: { source: 'core', level: 'info', counts: ['succeeded'], alert: null },
  // every failed attempt, retried or final, counts once
  task_retry: { source: 'core', level: 'warn', counts: ['failures'], alert: null },
  task_dead: { source: 'core', level: 'error', counts: ['failures', 'dead'], alert: 'task_dead' },
  task_interrupted: { source: 'core', level: 'warn', counts: [], alert: null },
  task_blocked: { source: 'core', level: 'warn', counts: ['blocked'], alert: 'task_blocked' },
  // a cancel is the owner's own doing (the label was removed): not news for the phone
  task_cancelled: { source: 'core', level: 'warn', counts: [], alert: null },
  hardware_paused: { source: 'core', level: 'error', counts: [], alert: 'paused' },
  hardware_recovering: { source: 'core', level: 'info', counts: [], alert: null },
  hardware_resumed: { source: 'core', level: 'info', counts: [], alert: 'resumed' },
  disk_paused: { source: 'core', level: 'error', counts: [], alert: 'paused' },
  disk_resumed: { source: 'core', level: 'info', counts: [], alert: 'resumed' },
  fleet_paused: { source: 'core', level: 'error', counts: [], alert: 'paused' },
  fleet_resumed: { source: 'core', level: 'info', counts: [], alert: 'resumed' },
  worker_paused: { source: 'core', level: 'error', counts: [], alert: 'paused' },
  worker_resumed: { source: 'core', level: 'info', counts: [], alert: 'resumed' },
  unclean_restart: { source: 'supervisor', counts: [], alert: 'unclean_restart' },
  config_reload_failed: { source: 'supervisor', counts: [], alert: 'config_reload_failed' },
  digest: { source: 'supervisor', counts: [], alert: 'digest' },
  alert_test: { source: 'supervisor', counts: [], alert: 'test' },
} as const satisfies { [K in keyof EventFields]: EventRow<EventFields[K]> };

export type EventType = keyof typeof EVENTS;

type Row<K extends EventType> = (typeof EVENTS)[K];
type EventOf<K extends EventType> = K extends EventType ? { type: K } & EventFields[K] : never;
type TypesWhere<P> = { [K in EventType]: Row<K> extends P ? K : never }[EventType];

export type WardenEvent = EventOf<EventType>;
/** The decision core's events. */
export type CoreEvent = EventOf<TypesWhere<{ source: 'core' }>>;
/** Events that raise an alert (their row names its kind). */
export type AlertingEvent = EventOf<TypesWhere<{ alert: string }>>;

export type AlertKind = NonNullable<Row<EventType>['alert']>;

export function raisesAlert(e: WardenEvent): e is AlertingEvent {
  return EVENTS[e.type].alert !== null;
}
