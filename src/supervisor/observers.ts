// What the daemon observes for people rather than for decisions: each worker's usage (src/usage/),
// the history of host points and events (src/history/), and when the config in force was loaded.
// The supervisor feeds it each tick's sample and every committed event, and reads it for status
// and GET /history; nothing here decides anything.
import type { HostSample } from '../admission/evaluate.js';
import type { LoadedConfig } from '../config/load.js';
import type { CoreEvent } from '../events/catalog.js';
import { History } from '../history/history.js';
import type { HistoryReport } from '../history/records.js';
import type { HistoryEvent } from '../history/records.js';
import type { Logger } from '../log/logger.js';
import { UsageMeter, type WorkerUsage } from '../usage/meter.js';
import type { WorkerView } from './report.js';

export interface ObserversDeps {
  stateDir: string;
  log: Logger;
  now: () => number;
  version: string;
  executor: { kind: 'direct' | 'systemd' };
  workers: () => readonly WorkerView[];
  loaded: () => LoadedConfig;
}

export class Observers {
  private readonly meter: UsageMeter;
  private readonly history: History;
  private opened = false;
  private loaded: LoadedConfig;
  private loadedAt: number;

  constructor(private readonly deps: ObserversDeps) {
    this.meter = new UsageMeter({ now: deps.now, workers: deps.workers, executorKind: deps.executor.kind });
    this.history = new History({ stateDir: deps.stateDir, log: deps.log, now: deps.now });
    this.loaded = deps.loaded();
    this.loadedAt = deps.now();
  }

  /**
   * Each tick: the host sample joins the history, the usage meter runs while workers do (its
   * timer stops with the last worker), and a config reloaded since the last tick is noted (a
   * reload brings a tick forward at once).
   */
  tick(sample: HostSample): void {
    this.open().sample(sample);
    this.meter.run(this.deps.workers().length > 0);
    this.noteReload();
  }

  /** Committed events (EventSink passes them on). */
  events(events: readonly CoreEvent[]): void {
    if (events.length) this.open().events(events);
  }

  /** What status adds to its snapshot. */
  forStatus(): {
    usage: (taskId: string, pid: number) => WorkerUsage | null;
    configLoadedAt: number;
    recentEvents: readonly HistoryEvent[];
  } {
    this.noteReload();
    // a worker spawned since the last reading gets one now (its CPU % follows at the next)
    const workers = this.deps.workers();
    if (workers.some((w) => this.meter.usage(w.taskId, w.pid) === null)) this.meter.sample();
    this.meter.run(workers.length > 0);
    return { usage: (id, pid) => this.meter.usage(id, pid), configLoadedAt: this.loadedAt, recentEvents: this.open().recent() };
  }

  /** GET /history: points and events since `since`. */
  read(since: number): HistoryReport {
    return this.open().read(since);
  }

  private open(): History {
    if (!this.opened) {
      this.opened = true;
      this.history.open(this.deps.version);
    }
    return this.history;
  }

  private noteReload(): void {
    const now = this.deps.loaded();
    if (now === this.loaded) return;
    this.loaded = now;
    this.loadedAt = this.deps.now();
    this.open().note('config_reloaded', `config reloaded (sha256 ${now.sha256.slice(0, 12)})`);
  }
}
