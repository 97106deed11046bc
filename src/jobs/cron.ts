// Scheduled jobs (the daily digest, and whatever else runs on a calendar) on node-cron. Each job
// runs with `noOverlap`, so a slow run is skipped rather than stacked, and node-cron's own logger
// is routed into warden's log: by default it prints coloured warnings to stderr, which journald
// would store as unreadable escape codes. A job's failure is logged and never reaches the loop.
import cron, { type ScheduledTask, type Logger as CronLogger } from 'node-cron';
import type { Logger } from '../log/logger.js';

/** Why `expression` is not a cron expression node-cron accepts, or null when it is. */
export function cronProblem(expression: string): string | null {
  const v = cron.validateDetailed(expression);
  if (v.valid) return null;
  const first = v.errors[0];
  const why = first ? (first.field === 'expression' ? first.message : `${first.field}: ${first.message}`) : 'invalid';
  return `expected a cron expression like "0 8 * * *" (minute hour day month weekday, optional seconds first), got ${JSON.stringify(expression)}: ${why}`;
}

export interface Job {
  name: string;
  /** A cron expression, already checked with cronProblem at config load. */
  schedule: string;
  run(): void | Promise<void>;
}

/** node-cron's logger, routed into warden's log. */
export function cronLogger(log: Logger, job: string): CronLogger {
  const text = (m: string | Error) => (m instanceof Error ? m.message : m);
  return {
    info: (m) => log.debug(`cron: ${m}`, { job }),
    warn: (m) => log.warn(`cron: ${m}`, { job }),
    error: (m, err) => log.error(`cron: ${text(m)}`, { job, error: err?.message }),
    debug: (m, err) => log.debug(`cron: ${text(m)}`, { job, error: err?.message }),
  };
}

/** The running set of jobs. `replace` swaps them all (config reload); `stop` ends them. */
export class CronJobs {
  private tasks: ScheduledTask[] = [];

  constructor(private readonly log: Logger) {}

  replace(jobs: Job[]): void {
    this.stop();
    for (const job of jobs) {
      const run = async () => {
        const started = Date.now();
        try {
          await job.run();
          this.log.debug('job finished', { job: job.name, ms: Date.now() - started });
        } catch (err) {
          this.log.error('job failed', { job: job.name, error: (err as Error).message });
        }
      };
      const task = cron.schedule(job.schedule, run, { name: job.name, noOverlap: true, logger: cronLogger(this.log, job.name) });
      this.tasks.push(task);
      this.log.info('job scheduled', { job: job.name, schedule: job.schedule, next: task.getNextRun()?.toISOString() });
    }
  }

  stop(): void {
    for (const t of this.tasks.splice(0)) void t.destroy();
  }

  get size(): number {
    return this.tasks.length;
  }
}
