// Runs a job on a config Schedule: node-cron for an expression (noOverlap, its logger routed to
// warden's log), or a plain interval where the next run is timed from the end of the last one,
// so runs never overlap either. A failing job is logged and runs again next time.
import cron from 'node-cron';
import type { Schedule } from '../config/schema.js';
import type { Logger } from '../log/logger.js';
import { cronLogger } from './cron.js';

export interface ScheduledJob {
  stop(): void;
}

export function runOnSchedule(schedule: Schedule, job: () => unknown, log: Logger, name: string): ScheduledJob {
  const run = async () => {
    try {
      await job();
    } catch (err) {
      log.error(`scheduled job ${name} failed`, { error: (err as Error).message });
    }
  };
  switch (schedule.kind) {
    case 'every': {
      let timer: NodeJS.Timeout | null = null;
      let stopped = false;
      const loop = async () => {
        await run();
        if (!stopped) timer = setTimeout(() => void loop(), schedule.ms);
      };
      timer = setTimeout(() => void loop(), schedule.ms);
      return {
        stop: () => {
          stopped = true;
          if (timer) clearTimeout(timer);
        },
      };
    }
    case 'cron': {
      const task = cron.schedule(schedule.expression, run, { name, noOverlap: true, logger: cronLogger(log, name) });
      return { stop: () => void task.destroy() };
    }
  }
}
