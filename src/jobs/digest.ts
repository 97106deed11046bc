// The daily digest ([alerts] digest = "0 8 * * *"): one low-priority alert with what happened since
// the previous digest (or since the daemon started) and how things stand now.
import type { AlertSink } from '../alerts/dispatcher.js';
import type { DigestSummary } from '../events/catalog.js';
import type { Config } from '../config/schema.js';
import { FAILURE_KINDS, type FailureKind } from '../policy/failure-kind.js';
import type { EventCounts } from '../control/metrics.js';
import type { PauseReason } from '../state/pause-reasons.js';
import type { StatusReport } from '../supervisor/report.js';
import type { Job } from './cron.js';

export interface DigestSource {
  status(): StatusReport;
  eventCounts(): EventCounts;
}

/** Snapshot of the counters at the previous digest. */
export interface DigestMark {
  at: number;
  spawns: number;
  counts: EventCounts;
}

/** What changed between two marks, and the current picture. Pure. */
export function digestSummary(prev: DigestMark, now: DigestMark, status: StatusReport): DigestSummary {
  const failures: Partial<Record<FailureKind, number>> = {};
  for (const k of FAILURE_KINDS) {
    const n = now.counts.failures[k] - prev.counts.failures[k];
    if (n > 0) failures[k] = n;
  }
  return {
    periodMs: now.at - prev.at,
    spawns: now.spawns - prev.spawns,
    succeeded: now.counts.succeeded - prev.counts.succeeded,
    dead: now.counts.dead - prev.counts.dead,
    failures,
    tasks: status.tasks,
    workers: status.workers.length,
    maxWorkers: status.settings.maxConcurrentWorkers,
    breaker: status.breaker.phase,
    paused: status.pause.reasons as PauseReason[],
    statusLine: status.summary,
  };
}

/** Sends the digest; remembers where the previous one left off (across config reloads too). */
export class DigestReporter {
  private prev: DigestMark;

  /** Construct after the supervisor has started: the first period begins then. */
  constructor(
    private readonly source: DigestSource,
    private readonly alerts: AlertSink,
  ) {
    this.prev = this.mark();
  }

  private mark(): DigestMark {
    return { at: Date.now(), spawns: this.source.status().totalSpawns, counts: this.source.eventCounts() };
  }

  send(): void {
    const now = this.mark();
    this.alerts.emit({ type: 'digest', summary: digestSummary(this.prev, now, this.source.status()) });
    this.prev = now;
  }
}

/** The daemon's scheduled jobs for this config. (Source polling and worktree pruning run elsewhere.) */
export function daemonJobs(config: Config, digest: DigestReporter): Job[] {
  const jobs: Job[] = [];
  if (config.alerts.digest) jobs.push({ name: 'digest', schedule: config.alerts.digest, run: () => digest.send() });
  return jobs;
}
