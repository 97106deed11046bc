// Polls GitHub on the configured schedule (see jobs/run-on-schedule.ts: node-cron with noOverlap
// for an expression, a chained timer for a duration; polls never overlap either way), and once
// at start so a fresh daemon does not wait a whole period for its first tasks.
import type { Config } from '../config/schema.js';
import { runOnSchedule, type ScheduledJob } from '../jobs/run-on-schedule.js';
import type { Logger } from '../log/logger.js';
import { listLabelledIssues, type GhOptions, type GhResult } from './github.js';
import type { GithubIssue } from './github-issue.js';

export type GithubSettings = NonNullable<Config['source']['github']>;

/** Where a node's GitHub tasks come from: its own poll (GithubPoller), or the fleet's one poller (src/fleet/poller.ts). */
export interface IssueSource {
  start(): void;
  stop(): void;
}

export class GithubPoller implements IssueSource {
  private job: ScheduledJob | null = null;
  private stopped = false;
  private polling = false;

  constructor(
    private readonly settings: GithubSettings,
    private readonly gh: GhOptions,
    private readonly onResult: (r: GhResult<GithubIssue[]>) => void | Promise<void>,
    private readonly log: Logger,
  ) {}

  start(): void {
    void this.pollOnce();
    this.job = runOnSchedule(this.settings.poll, () => this.pollOnce(), this.log, 'github-poll');
  }

  /** One poll; skipped while the previous one (the start-up poll, say) is still running. */
  async pollOnce(): Promise<void> {
    if (this.polling || this.stopped) return;
    this.polling = true;
    try {
      const s = this.settings;
      const r = await listLabelledIssues(s.repo, s.label, s.limit, this.gh);
      if (!this.stopped) await this.onResult(r);
    } finally {
      this.polling = false;
    }
  }

  stop(): void {
    this.stopped = true;
    this.job?.stop();
  }
}
