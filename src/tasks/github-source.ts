// Polls GitHub on the configured schedule: a node-cron expression (with noOverlap) or a plain
// interval (the next poll is scheduled when the last one has finished, so polls never overlap).
import cron from 'node-cron';
import type { GithubSettings } from '../config/schema.js';
import type { Logger } from '../log/logger.js';
import { listLabelledIssues, type GhOptions, type GhResult, type GithubIssue } from './github.js';

export class GithubPoller {
  private timer: NodeJS.Timeout | null = null;
  private task: { stop(): void } | null = null;
  private stopped = false;

  constructor(
    private readonly settings: GithubSettings,
    private readonly gh: GhOptions,
    private readonly onResult: (r: GhResult<GithubIssue[]>) => void | Promise<void>,
    private readonly log: Logger,
  ) {}

  start(): void {
    const poll = this.settings.poll;
    switch (poll.kind) {
      case 'every':
        void this.loop(poll.ms);
        break;
      case 'cron': {
        void this.pollOnce();
        const logger = {
          info: (m: string) => this.log.debug(`cron github: ${m}`),
          warn: (m: string) => this.log.warn(`cron github: ${m}`),
          error: (m: string | Error) => this.log.error(`cron github: ${String(m)}`),
          debug: (m: string) => this.log.debug(`cron github: ${m}`),
        };
        this.task = cron.schedule(poll.expression, () => this.pollOnce(), { name: 'github-poll', noOverlap: true, logger } as Parameters<typeof cron.schedule>[2]);
        break;
      }
    }
  }

  private async loop(ms: number): Promise<void> {
    if (this.stopped) return;
    await this.pollOnce();
    if (!this.stopped) this.timer = setTimeout(() => void this.loop(ms), ms);
  }

  async pollOnce(): Promise<void> {
    const s = this.settings;
    const r = await listLabelledIssues(s.repo, s.label, s.limit, this.gh);
    if (!this.stopped) await this.onResult(r);
  }

  stop(): void {
    this.stopped = true;
    if (this.timer) clearTimeout(this.timer);
    this.task?.stop();
  }
}
