// The supervisor ties the pieces together and holds no policy of its own: it reads the queue and
// the host sample, asks the decision core what to do, writes the state, and then performs the
// effects (spawn, stop, notify). Every state change is written to disk before its effect runs.
// Intake, the live workers, the host watch, recovery, the loop's timing and the reports each live
// in their own module beside this one.
import { pauseDueNow } from '../admission/evaluate.js';
import { sampleHost } from '../admission/sample.js';
import type { CoreEvent } from '../events/catalog.js';
import type { LoadedConfig } from '../config/load.js';
import { reloadRefusals } from '../config/reload.js';
import { renderMetrics, type EventCounts } from '../control/metrics.js';
import { startControlServer, type ControlHandlers } from '../control/server.js';
import { runOnSchedule } from '../jobs/run-on-schedule.js';
import { applyEnded, applyLaunchFailure } from '../policy/attempt-end.js';
import { applyDiskHealth, applyManualPause, applyResume } from '../policy/pauses.js';
import { coreSettingsFrom, type CoreSettings } from '../policy/settings.js';
import { applyCancel, updateRunningAttempt } from '../policy/task-changes.js';
import { planTick, runningCount, type SpawnOrder } from '../policy/tick.js';
import type { EndedAttempt } from '../policy/exit-report.js';
import type { StoppedAttempt } from '../state/shutdown-note.js';
import { activePauseReasons } from '../state/pause-reasons.js';
import type { WardenState } from '../state/types.js';
import { DEFAULT_GH } from '../tasks/github.js';
import { PlainWorkspace, type Workspace } from '../worktree/workspace.js';
import { logStopped, noteUnsavedShutdown, openDurably, reserveNote } from './durability.js';
import { EventSink } from './event-sink.js';
import { Observers } from './observers.js';
import { HostWatch } from './host-watch.js';
import { Intake } from './intake.js';
import { onStallSignal, TickLoop } from './loop.js';
import * as report from './report.js';
import { Workers } from './workers.js';
import { claimsOf, type SupervisorDeps } from './ports.js';
import type { ReloadResult } from './config-reload.js';
import { StateKeeper } from './state-keeper.js';
import { TaskCommands } from './task-commands.js';
/** What a stop may take beyond stop_grace (exit records, the final save, the alert flush): told to systemd. */
const STOP_MARGIN_MS = 30_000;

export class Supervisor implements ControlHandlers {
  private readonly keeper: StateKeeper;
  private readonly stoppedAtShutdown: StoppedAttempt[] = [];
  private loaded: LoadedConfig;
  private settings: CoreSettings;
  private readonly now: () => number;
  private readonly random: () => number;
  private readonly startedAt: number;
  private readonly workspace: Workspace;
  private readonly loop: TickLoop;
  private readonly workers: Workers;
  private readonly host: HostWatch;
  private readonly intake: Intake;
  readonly taskCommands: TaskCommands;
  private readonly launching = new Set<Promise<void>>();
  private readonly events: EventSink;
  private pruneJob: { stop(): void } | null = null;
  private ready = false;
  private stopping = false;
  private stallRequested = false;
  private heldBy: string | null = null;
  private readonly pauses = new report.PauseTracker();
  private readonly seen: Observers; // usage, history, config load time (for people, not decisions)
  private readonly claims;

  constructor(private readonly deps: SupervisorDeps) {
    const { log, notifier } = deps;
    this.loaded = deps.loaded;
    this.settings = coreSettingsFrom(deps.loaded.config);
    this.now = deps.now ?? Date.now;
    this.random = deps.random ?? Math.random;
    this.startedAt = this.now();
    const [stateDir, gh, requestTick] = [deps.loaded.config.supervisor.state_dir, deps.gh ?? DEFAULT_GH, () => this.requestTick()];
    this.seen = new Observers({ ...deps, stateDir, now: this.now, workers: () => this.workers.views(), loaded: () => this.loaded });
    this.events = new EventSink({ log, alerts: deps.alerts, trail: this.seen });
    this.keeper = new StateKeeper({ stateDir, log, now: this.now, faulted: requestTick, recovered: requestTick });
    const [state, commit] = [() => this.state, (next: WardenState, events: CoreEvent[]) => this.commit(next, events)];
    const ctx = { log, now: this.now, config: () => this.config, requestTick, state, commit, fleet: () => this.claims }; // fleet: task commands go through it
    this.workspace = deps.workspace ?? new PlainWorkspace(stateDir, gh, log);
    this.loop = new TickLoop({
      now: this.now,
      body: () => this.tick(),
      failed: (err) => log.error('supervisor tick failed; no spawn happens until a tick succeeds', { error: err.message }),
      after: () => {
        notifier.watchdog();
        notifier.status(this.statusLine());
      },
      maxDelay: () => Math.min(this.config.supervisor.poll_interval, notifier.watchdogIntervalMs ?? Infinity),
    });
    this.host = new HostWatch({
      ...ctx,
      workspace: this.workspace,
      sample: deps.sample ?? ((now: number) => sampleHost(now)),
      pauseDue: (s) => pauseDueNow(this.state.pause, s, this.settings.admission, this.settings.memoryMax),
      ticking: () => this.loop.ticking,
    });
    this.workers = new Workers({
      ...ctx,
      executor: deps.executor,
      workspace: this.workspace,
      task: (id) => this.state.tasks[id],
      recordSpawn: (id, patch) => this.commit(updateRunningAttempt(this.state, id, patch), []),
      changed: () => this.updatePressureWatch(),
      onExit: (id, ended) => {
        this.finish(id, ended);
        this.requestTick();
      },
    });
    this.taskCommands = new TaskCommands({ ...ctx, workers: this.workers, released: (id) => this.releaseIfDone(id) });
    this.intake = new Intake({
      ...ctx,
      commands: this.taskCommands,
      gh,
      keeper: this.keeper,
      cancel: (id, reason) => this.cancel(id, reason),
      stopWorker: (id) => this.workers.stopForLabel(id),
      warnOnce: (key, msg) => this.host.warnOnce(key, msg),
      issueSource: (settings, onResult) => this.claims.issueSource?.(settings, gh, onResult) ?? null, // [fleet]: one poller
    });
    this.claims = claimsOf(deps, { ...ctx, workers: this.workers, prompts: this.intake, settings: () => this.settings });
  }

  private get state(): WardenState {
    return this.keeper.state;
  }

  private get config() {
    return this.loaded.config;
  }

  private get stateDir() {
    return this.config.supervisor.state_dir;
  }

  /** Loads state (fatal if unreadable), adopts surviving workers, opens the control socket. */
  async start(): Promise<void> {
    const { log, executor } = this.deps;
    const c = this.config;
    report.logStartup(log, this.loaded, executor, this.deps.version, this.deps.executorWarnings ?? []);
    // One daemon per state: `warden run` holds the state directory's lock (src/state/lock.ts)
    // before it builds the supervisor, so the state read and the adoption below are this daemon's.
    const { state, unclean, noted } = openDurably(this.stateDir, c.breaker.cooldown, log, this.now());
    if (unclean) log.warn('the previous warden run did not shut down cleanly (crash, kill or watchdog); recovering its workers');
    this.keeper.load(state);
    if (this.commit({ ...noted.state, cleanShutdown: false }, noted.events)) reserveNote(this.stateDir, log);
    if (unclean) this.events.observe({ type: 'unclean_restart', runningTasks: runningCount(state) });
    if (state.breaker.phase !== 'closed') log.warn('breaker is still open from the previous run', { reason: state.breaker.reason });
    await this.claims.start(); // [fleet] before adoption: a lease that outlived the restart keeps its claims
    const gone = (id: string, ended: EndedAttempt) => this.finish(id, ended); // a worker that ended while warden was down
    await this.workers.recover(() => this.state, gone);
    const server = await startControlServer({
      ...c.control,
      configPath: this.loaded.path,
      log,
      handlers: this,
      history: (since) => this.seen.read(since),
      // the one shutdown path: on SIGTERM/SIGINT terminus runs this, then closes the socket and exits
      onSignal: (signal) => this.shutdown(signal),
    });
    if (this.deps.debugStallSignal) onStallSignal(log, () => (this.stallRequested = true));
    this.intake.start();
    if (c.worktree)
      this.pruneJob = runOnSchedule(c.worktree.prune, () => this.workspace.prune(this.state, this.now()), log, 'worktree-prune');
    this.deps.notifier.ready(this.statusLine());
    this.ready = true;
    const [tasks, running] = [Object.keys(this.state.tasks).length, this.workers.size];
    log.info('warden ready', { control_socket: c.control.socket, control_port: server.tcpPort ?? undefined, tasks, running });
    this.requestTick();
  }

  requestTick(): void {
    this.loop.request();
  }

  /** One turn: take in new tasks, look at the host, ask the core, save, then spawn what it ordered. */
  private async tick(): Promise<number | null> {
    if (this.stallRequested) await new Promise<never>(() => {}); // wedged on purpose: no heartbeat
    this.intake.ingestQueue();
    const now = this.now();
    const sample = this.host.sampleForTick(now);
    this.seen.tick(sample);
    // a failed write (state, prompt, run files) is a disk problem too, until a retried save succeeds
    const problems = this.host.diskProblems(this.stateDir, this.config.admission.min_free_inodes).concat(this.keeper.problems());
    const d = applyDiskHealth(this.state, problems, now);
    this.commit(d.state, d.events);
    const r = await this.claims.plan((s) => planTick(s, now, sample, this.settings)); // [fleet] etcd first (src/fleet/claims.ts)
    // claims are saved before their spawn; a claim the disk refused is dropped and planned again
    const saved = this.commit(r.state, r.events, true);
    this.pauses.track(activePauseReasons(this.state), now);
    this.heldBy = saved ? r.heldBy : 'paused: disk (the state file cannot be saved)';
    if (!saved) return null;
    for (const order of r.spawns) {
      const p = this.launch(order).finally(() => this.launching.delete(p));
      this.launching.add(p);
      await p;
    }
    return r.wakeAt;
  }

  private updatePressureWatch(restart = false): void {
    this.host.updatePressureWatch(this.config.admission.watch_interval, this.workers.size > 0 && !this.stopping, restart);
  }

  private async launch(order: SpawnOrder): Promise<void> {
    const task = this.state.tasks[order.taskId];
    if (!task) return;
    const failed = await this.workers.launch(task, order.attempt, order.probe);
    if (!failed) return;
    // a full disk is the host's fault, not the task's: not charged (applyLaunchFailure), and spawning holds
    if (failed.diskFull) this.keeper.noteWriteFailure(`cannot start the worker of ${task.id}`, failed.message);
    const r = applyLaunchFailure(this.state, task.id, failed, this.now(), this.settings, this.random);
    if (this.commit(r.state, r.events)) this.releaseIfDone(task.id);
  }

  private finish(taskId: string, ended: EndedAttempt): void {
    const r = applyEnded(this.state, taskId, ended, this.now(), this.settings, this.config.worker.max_runtime, this.random);
    if (r.stopped) this.stoppedAtShutdown.push(r.stopped);
    // the workspace goes only once the outcome is on disk (memory keeps it until a save succeeds)
    const saved = this.commit(r.state, r.events);
    this.claims.released(taskId, this.state);
    if (r.cancel) this.cancel(taskId, ended.cancelReason ?? 'the issue no longer has the label (worker stopped)');
    else if (saved && !r.stopped) this.releaseIfDone(taskId);
  }

  private cancel(taskId: string, reason: string): void {
    const r = applyCancel(this.state, taskId, this.now(), reason);
    if (this.commit(r.state, r.events)) this.releaseIfDone(taskId);
  }

  /** Terminal tasks give back their workspace (the workspace keeps failed ones until pruning). */
  private releaseIfDone(taskId: string): void {
    const task = this.state.tasks[taskId];
    if (task)
      this.workspace
        .release(task)
        .catch((err: Error) => this.deps.log.warn('could not remove the worktree', { task: taskId, error: err.message }));
  }

  /** Saves (never throws: see StateKeeper), then records the events; true when the disk has it. `claim`: dropped if unsaved. */
  private commit(next: WardenState, events: CoreEvent[], claim = false): boolean {
    const saved = this.keeper.commit(next, claim);
    if (saved || !claim) this.events.record(events);
    return saved;
  }

  /** A reload (config-reload.ts): validate the file first; an invalid config keeps the running one. */
  reload(next: LoadedConfig): { ok: true } | { ok: false; error: string } {
    const fixed = reloadRefusals(this.config, next.config);
    if (fixed.length) return { ok: false, error: `${fixed.join(', ')} cannot change on reload; restart warden to apply` };
    this.loaded = next;
    this.settings = coreSettingsFrom(next.config);
    this.updatePressureWatch(true); // watch_interval may have changed
    this.deps.log.info('config reloaded', report.reloadFields(next));
    this.requestTick();
    return { ok: true };
  }

  reloadConfig(): ReloadResult {
    return this.deps.reloadConfig!(); // run.ts always gives one; a test daemon without it answers 500
  }

  /** `warden pause`/`resume`: in a fleet, for every node or only `node` (src/fleet/shared-pauses.ts). */
  pause(node: string | null = null): Promise<unknown> {
    return this.claims.operator('pause', node, () => this.operatorChange(applyManualPause(this.state, this.now())));
  }

  resume(node: string | null = null): Promise<unknown> {
    return this.claims.operator('resume', node, () => this.operatorChange(applyResume(this.state, this.settings)));
  }

  private operatorChange(r: { state: WardenState; events: CoreEvent[] }): unknown {
    this.commit(r.state, r.events);
    this.requestTick();
    return { paused: activePauseReasons(this.state) };
  }

  tasks(): unknown {
    return { tasks: Object.values(this.state.tasks) };
  }

  statusLine(): string {
    return report.statusLine(this.state, this.config.supervisor.max_concurrent_workers, this.heldBy);
  }

  status(): report.StatusReport {
    const { executor, executorWarnings = [], version } = this.deps;
    return report.buildStatus({
      now: this.now(),
      pid: process.pid,
      version,
      startedAt: this.startedAt,
      loaded: this.loaded,
      executor: { kind: executor.kind, enforcesLimits: executor.enforcesLimits, warnings: executorWarnings, sandbox: executor.sandbox },
      state: this.state,
      workers: this.workers.views(),
      heldBy: this.heldBy,
      ...this.host.view(),
      lastPause: this.pauses.last,
      stateWriteFault: this.keeper.writeFault,
      ...this.seen.forStatus(),
    });
  }

  liveness(): string | null {
    const [lastTickAt, pollInterval] = [this.loop.lastTickAt, this.config.supervisor.poll_interval];
    return report.livenessProblem({ stopping: this.stopping, lastTickAt, now: this.now(), pollInterval });
  }

  readiness(): string | null {
    return report.readinessProblem({ stopping: this.stopping, ready: this.ready, state: this.state });
  }

  metrics(): string {
    const [alerts, fleet] = [this.deps.alerts?.stats() ?? null, this.claims.gauges?.() ?? null];
    return renderMetrics({ status: this.status(), counts: this.events.current, ready: this.ready && !this.stopping, alerts, fleet });
  }

  /** Event counts since the daemon started; the digest reports how they changed over its period. */
  eventCounts(): EventCounts {
    return this.events.totals();
  }

  /**
   * SIGTERM/SIGINT, run by terminus (src/control/server.ts): stop admitting, stop workers (TERM,
   * then KILL after the grace), save, flush alerts. terminus then closes the control socket and exits.
   */
  async shutdown(signal: string): Promise<void> {
    if (this.stopping) return;
    this.stopping = true;
    const { log, notifier, executor } = this.deps;
    log.info('warden stopping', { signal, workers: this.workers.size });
    notifier.stopping(`stopping (${signal})`, this.config.worker.stop_grace + STOP_MARGIN_MS);
    this.loop.stop();
    this.keeper.stop();
    this.updatePressureWatch();
    this.intake.stop();
    this.pruneJob?.stop();
    await Promise.allSettled([...this.launching]);
    const count = this.workers.size;
    // keep_workers_on_stop: leave the scopes running; their tasks stay `running` and the next start adopts them
    const keep = this.config.executor.keep_workers_on_stop && executor.kind === 'systemd';
    if (keep) this.workers.releaseAll();
    else await this.workers.stopAll();
    await this.claims.stop(keep);
    const saved = this.keeper.finalSave({ ...this.state, cleanShutdown: true });
    await this.events.flush();
    if (saved) logStopped(log, keep, count);
    else noteUnsavedShutdown(this.stateDir, this.stoppedAtShutdown, this.now(), log, this.keeper.writeFault?.error ?? '');
  }
}
