// What warden reports to the outside (alerts, metrics): the decision core's events plus a few that
// only the supervisor and the daemon see (a restart after an unclean stop, a failed reload, the
// scheduled digest). Alerts are derived from these and nothing else, so the supervisor itself
// holds no alerting policy: it forwards events.
import type { CoreEvent } from '../events/catalog.js';
import type { FailureKind } from '../policy/failure-kind.js';
import type { PauseReason, TaskState } from '../state/types.js';

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

export type SupervisorEvent =
  /** The state file says the previous run did not shut down cleanly (crash, kill -9, watchdog). */
  | { type: 'unclean_restart'; runningTasks: number }
  /** SIGHUP with a config that does not validate (or cannot be applied); the old one stays. */
  | { type: 'config_reload_failed'; error: string }
  | { type: 'digest'; summary: DigestSummary }
  /** `warden alert test`. */
  | { type: 'alert_test' };

export type WardenEvent = CoreEvent | SupervisorEvent;
