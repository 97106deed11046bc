// The supervisor ties the pieces together and holds no policy of its own: it reads the queue and
// the host sample, asks the decision core what to do, writes the state, and then performs the
// effects (spawn, stop, notify). Every state change is written to disk before its effect runs.
import { copyFileSync, mkdirSync, rmSync, statSync, watch, type FSWatcher } from 'node:fs';
import { join } from 'node:path';
import { sampleHost, type HostSample } from './admission/sample.js';
import { diskProblems, readDiskUsage, type DiskLimits, type DiskUsage } from './admission/disk.js';
import { pauseDueNow } from './admission/evaluate.js';
import { decodeThrottled, type ThrottledFlags } from './hardware/throttled.js';
import type { LoadedConfig } from './config/load.js';
import { reloadRefusals } from './config/reload.js';
import { formatDuration, formatSize } from './config/units.js';
import type { AlertSink } from './alerts/dispatcher.js';
import type { WardenEvent } from './alerts/events.js';
import { countEvent, emptyCounts, renderMetrics, type EventCounts } from './control/metrics.js';
import { DaemonAlreadyRunning } from './control/client.js';
import { socketAnswers, startControlServer, type ControlServer } from './control/server.js';
import { buildWorkerArgv } from './executors/worker-command.js';
import { resumeArgs, sessionToResume } from './policy/resume.js';
import type { Executor, WorkerExit, WorkerHandle } from './executors/types.js';
import type { Logger } from './log/logger.js';
import { describeEvent, eventLevel } from './log/events.js';
import type { Completion, ExitReport } from './policy/classify.js';
import {
  addTasks,
  applyCancel,
  applyDiskHealth,
  applyExit,
  applyInterrupted,
  applyManualPause,
  applyResume,
  coreSettingsFrom,
  taskCounts,
  updateRunningAttempt,
  planTick,
  runningCount,
  type CoreEvent,
  type CoreSettings,
  type NewTask,
  type SpawnOrder,
} from './policy/decide.js';
import { ensureStateDir, loadState, saveState, statePath, writeFileAtomic } from './state/store.js';
import { activePauseReasons, type PauseReason, type TaskState, type WardenState } from './state/types.js';
import type { Notifier } from './systemd/notify.js';
import { promptDir, queueDir, readQueue, rejectQueued, removeQueued } from './tasks/local-queue.js';
import { DEFAULT_GH, renderPrompt, type GhOptions, type GhResult, type GithubIssue } from './tasks/github.js';
import { GithubPoller } from './tasks/github-source.js';
import { reconcileGithub } from './tasks/reconcile.js';
import { runOnSchedule } from './jobs/run-on-schedule.js';
import { attemptLogPath, capTaskLogs } from './log/attempt-logs.js';
import { PlainWorkspace, type Workspace } from './worktree/workspace.js';
import { LogTail } from './verdict/log-tail.js';
import type { WorkerVerdict } from './verdict/stream-reader.js';
import { classifyVerdict, localDay } from './policy/verdict.js';

export interface SupervisorDeps {
  loaded: LoadedConfig;
  executor: Executor;
  /** Loud, persistent warnings about the executor (e.g. limits not enforced), from chooseExecutor. */
  executorWarnings?: string[];
  log: Logger;
  notifier: Notifier;
  version: string;
  now?: () => number;
  random?: () => number;
  sample?: (now: number) => HostSample;
  /** Test-only: SIGUSR2 wedges the loop so the watchdog can be shown to fire. */
  debugStallSignal?: boolean;
  /** Alerts: every event is handed over at once; delivery never holds up the loop. */
  alerts?: AlertSink;
  /** Where workers run (plain directory or git worktree); default: plain directories. */
  workspace?: Workspace;
  /** How to run gh (tests put a fake one on PATH). */
  gh?: GhOptions;
}

interface LiveWorker {
  taskId: string;
  attempt: number;
  handle: WorkerHandle;
  timeout: NodeJS.Timeout | null;
  stopReason: 'timeout' | 'stalled' | 'shutdown' | 'cancelled' | null;
  settled: Promise<void>;
  /** Follows the attempt log for the worker's stream-json verdict and its liveness. */
  tail: LogTail;
  stallCheck: NodeJS.Timeout | null;
}

export class Supervisor {
  private state!: WardenState;
  private loaded: LoadedConfig;
  private settings: CoreSettings;
  private readonly workers = new Map<string, LiveWorker>();
  private readonly launching = new Set<Promise<void>>();
  private tickTimer: NodeJS.Timeout | null = null;
  private ticking = false;
  private tickAgain = false;
  private stopping = false;
  private stallRequested = false;
  private lastSample: HostSample | null = null;
  private lastDisks: DiskUsage[] = [];
  private activePauses: readonly PauseReason[] = [];
  private lastPause: { reason: PauseReason; since: number } | null = null;
  private readonly unavailable: string[] = [];
  private heldBy: string | null = null;
  private server: ControlServer | null = null;
  private readonly startedAt = Date.now();
  private readonly warned = new Set<string>();
  private readonly now: () => number;
  private readonly random: () => number;
  private readonly sample: (now: number) => HostSample;
  private readonly counts: EventCounts = emptyCounts();
  private ready = false;
  private lastTickAt = 0;
  private readonly workspace: Workspace;
  private readonly gh: GhOptions;
  private poller: GithubPoller | null = null;
  private pruneJob: { stop(): void } | null = null;
  private ghCause: string | null = null;
  private queueWatcher: FSWatcher | null = null;
  private pressureWatch: NodeJS.Timeout | null = null;
  private costSum: { tasks: WardenState['tasks']; usd: number } | null = null;
  /** A sample the pressure watch took that crossed a threshold: the tick it brings forward decides on it. */
  private watchedSample: HostSample | null = null;

  constructor(private readonly deps: SupervisorDeps) {
    this.loaded = deps.loaded;
    this.gh = deps.gh ?? DEFAULT_GH;
    this.workspace = deps.workspace ?? new PlainWorkspace(deps.loaded.config.supervisor.state_dir, this.gh, deps.log);
    this.settings = coreSettingsFrom(deps.loaded.config);
    this.now = deps.now ?? Date.now;
    this.random = deps.random ?? Math.random;
    this.sample = deps.sample ?? ((now) => sampleHost(now));
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
    log.info('warden starting', {
      version: this.deps.version,
      config: this.loaded.path,
      config_sha256: this.loaded.sha256,
      max_concurrent_workers: c.supervisor.max_concurrent_workers,
      min_spawn_interval: formatDuration(c.supervisor.min_spawn_interval),
      poll_interval: formatDuration(c.supervisor.poll_interval),
      memory_max: formatSize(c.worker.memory_max),
      cpu_quota: `${c.worker.cpu_quota}%`,
      max_runtime: formatDuration(c.worker.max_runtime),
      max_attempts: c.worker.max_attempts,
      breaker: `${c.breaker.failures} in ${formatDuration(c.breaker.window)}, cooldown ${formatDuration(c.breaker.cooldown)}`,
      executor: executor.kind,
      state_dir: this.stateDir,
    });
    for (const w of this.deps.executorWarnings ?? []) log.error(`LIMITS: ${w}`);
    // Refuse before reading or writing the state: it belongs to the running daemon (one writer),
    // and recovery here would adopt that daemon's workers.
    if (await socketAnswers(c.control.socket)) {
      throw new DaemonAlreadyRunning(
        `another warden daemon is already running on ${c.control.socket}; not starting a second one on the same state`,
      );
    }
    ensureStateDir(this.stateDir);
    const { state, fresh } = loadState(this.stateDir, c.breaker.cooldown);
    if (!fresh) copyFileSync(statePath(this.stateDir), `${statePath(this.stateDir)}.bak`);
    if (!fresh && !state.cleanShutdown)
      log.warn('the previous warden run did not shut down cleanly (crash, kill or watchdog); recovering its workers');
    this.state = state;
    this.commit({ ...state, cleanShutdown: false }, []);
    if (!fresh && !state.cleanShutdown) this.observe({ type: 'unclean_restart', runningTasks: runningCount(state) });
    if (state.breaker.phase !== 'closed') log.warn('breaker is still open from the previous run', { reason: state.breaker.reason });

    await this.recover();
    this.server = await startControlServer({
      socket: c.control.socket,
      group: c.control.group,
      port: c.control.port,
      address: c.control.address,
      configPath: this.loaded.path,
      log,
      handlers: {
        status: () => this.status(),
        pause: () => this.pause(),
        resume: () => this.resume(),
        tasks: () => this.tasks(),
        metrics: () => this.metrics(),
        liveness: () => this.liveness(),
        readiness: () => this.readiness(),
      },
      // the one shutdown path: on SIGTERM/SIGINT terminus runs this, then closes the socket and exits
      onSignal: (signal) => this.shutdown(signal),
    });
    if (this.deps.debugStallSignal) {
      process.on('SIGUSR2', () => {
        log.warn('debug: SIGUSR2 received, wedging the supervisor loop (test trigger)');
        this.stallRequested = true;
      });
    }
    // a queued task wakes the loop at once (inotify), rather than waiting for the next poll
    mkdirSync(queueDir(this.stateDir), { recursive: true, mode: 0o750 });
    this.queueWatcher = watch(queueDir(this.stateDir), () => this.requestTick());
    this.queueWatcher.on('error', (err) =>
      log.warn('cannot watch the queue directory; tasks are picked up on the next poll', { error: err.message }),
    );
    const gh = c.source.github;
    if (gh) {
      this.poller = new GithubPoller(gh, this.gh, (r) => this.onGithubPoll(r), log);
      this.poller.start();
    }
    if (c.worktree)
      this.pruneJob = runOnSchedule(c.worktree.prune, () => this.workspace.prune(this.state, this.now()), log, 'worktree-prune');
    this.deps.notifier.ready(this.statusLine());
    this.ready = true;
    log.info('warden ready', {
      control_socket: c.control.socket,
      control_port: this.server.tcpPort ?? undefined,
      tasks: Object.keys(this.state.tasks).length,
      running: this.workers.size,
    });
    this.requestTick();
  }

  /** Re-attaches workers of tasks marked running, and reports strays. Never spawns. */
  private async recover(): Promise<void> {
    const { executor, log } = this.deps;
    for (const task of Object.values(this.state.tasks)) {
      if (task.state !== 'running' || !task.current) continue;
      const cur = task.current;
      const runBase = this.runBase(task.id, cur.attempt);
      const result = await executor.adopt({
        taskId: task.id,
        attempt: cur.attempt,
        pid: cur.pid,
        pidStartTime: cur.pidStartTime,
        unit: cur.unit,
        runBase,
        startedAt: cur.claimedAt,
      });
      if (result.kind === 'adopted') {
        const h = result.handle;
        log.info('adopted running worker', { task: task.id, attempt: cur.attempt, pid: h.pid, unit: h.unit ?? undefined });
        if (h.pid !== cur.pid || h.pidStartTime !== cur.pidStartTime) {
          this.commit(this.withCurrent(task.id, { pid: h.pid, pidStartTime: h.pidStartTime, unit: h.unit }), []);
        }
        this.watch(task.id, cur.attempt, h);
      } else {
        log.warn('worker of a running task is gone; classifying its attempt', {
          task: task.id,
          attempt: cur.attempt,
          pid: cur.pid ?? undefined,
        });
        this.finish(task.id, cur.claimedAt, result.exit, null);
      }
    }
    const strays = await executor.strays(
      new Set(
        Object.values(this.state.tasks)
          .filter((t) => t.state === 'running')
          .map((t) => t.id),
      ),
    );
    for (const name of strays) {
      log.warn('stopping a stray worker that belongs to no running task', { unit: name });
      await executor.stopStray(name, this.config.worker.stop_grace);
    }
  }

  requestTick(): void {
    if (this.stopping) return;
    if (this.ticking) {
      this.tickAgain = true;
      return;
    }
    if (this.tickTimer) clearTimeout(this.tickTimer);
    this.tickTimer = setTimeout(() => void this.tick(), 0);
  }

  private async tick(): Promise<void> {
    if (this.stopping || this.ticking) return;
    this.ticking = true;
    this.tickTimer = null;
    let wakeAt: number | null = null;
    try {
      if (this.stallRequested) await new Promise<never>(() => {}); // wedged on purpose: no heartbeat
      this.ingestQueue();
      const now = this.now();
      const sample = this.watchedSample ?? this.sample(now);
      this.watchedSample = null;
      const d = applyDiskHealth(this.state, diskProblems(this.readDisks()), now);
      this.commit(d.state, d.events);
      this.lastSample = sample;
      this.warnHardwareUnavailable(sample);
      if (!sample.psiAvailable)
        this.warnOnce(
          'psi',
          'PSI is not available (/proc/pressure/memory missing): memory pressure is not part of admission. On a Raspberry Pi add psi=1 to /boot/firmware/cmdline.txt and reboot.',
        );
      for (const e of sample.errors) this.warnOnce(`sample:${e}`, `host sample: ${e}`);
      const r = planTick(this.state, now, sample, this.settings);
      this.commit(r.state, r.events);
      this.trackPauses(now);
      this.heldBy = r.heldBy;
      wakeAt = r.wakeAt;
      for (const order of r.spawns) {
        const p = this.launch(order).finally(() => this.launching.delete(p));
        this.launching.add(p);
        await p;
      }
    } catch (err) {
      this.deps.log.error('supervisor tick failed; no spawn happens until a tick succeeds', { error: (err as Error).message });
    } finally {
      this.ticking = false;
      this.lastTickAt = Date.now();
    }
    if (this.stopping) return;
    this.deps.notifier.watchdog();
    this.deps.notifier.status(this.statusLine());
    if (this.tickAgain) {
      this.tickAgain = false;
      this.requestTick();
      return;
    }
    this.schedule(wakeAt);
  }

  private schedule(wakeAt: number | null): void {
    const now = this.now();
    let delay = this.config.supervisor.poll_interval;
    const wd = this.deps.notifier.watchdogIntervalMs;
    if (wd !== null) delay = Math.min(delay, wd);
    if (wakeAt !== null) delay = Math.min(delay, Math.max(0, wakeAt - now) + 5);
    if (this.tickTimer) clearTimeout(this.tickTimer);
    this.tickTimer = setTimeout(() => void this.tick(), delay);
  }

  /**
   * While workers run, sample the host every admission.watch_interval between ticks: workers are
   * what use memory up, so a threshold crossed pauses within about that interval (and alerts),
   * not at the next tick, which may be 15 s or poll_interval away. With no worker, nothing runs
   * here: an idle warden wakes only for its tick.
   */
  private updatePressureWatch(restart = false): void {
    const every = this.config.admission.watch_interval;
    const wanted = every > 0 && this.workers.size > 0 && !this.stopping;
    if (this.pressureWatch && (!wanted || restart)) {
      clearInterval(this.pressureWatch);
      this.pressureWatch = null;
    }
    if (wanted && !this.pressureWatch) this.pressureWatch = setInterval(() => this.watchPressure(), every);
  }

  private watchPressure(): void {
    if (this.ticking || this.watchedSample) return;
    const sample = this.sample(this.now());
    if (!pauseDueNow(this.state.pause, sample, this.settings.admission, this.settings.memoryMax)) return;
    this.watchedSample = sample;
    this.requestTick();
  }

  private ingestQueue(): void {
    const entries = readQueue(this.stateDir);
    if (entries.length === 0) return;
    const state = this.state;
    const accepted: string[] = [];
    const fresh: NewTask[] = [];
    for (const e of entries) {
      if (!e.request) {
        const dest = rejectQueued(this.stateDir, e.file);
        this.deps.log.error('rejected an unreadable task request', { file: e.file, moved_to: dest, error: e.error });
        continue;
      }
      const req = e.request;
      const existing = state.tasks[req.id];
      if (existing) {
        if (existing.createdAt === req.addedAt) {
          removeQueued(e.file); // already ingested before a restart
          continue;
        }
        const dest = rejectQueued(this.stateDir, e.file);
        this.deps.log.error('rejected a task request: a task with this ID already exists', {
          task: req.id,
          state: existing.state,
          moved_to: dest,
        });
        continue;
      }
      const promptFile = join(promptDir(this.stateDir), `${req.id}.prompt`);
      writeFileAtomic(promptFile, req.prompt);
      fresh.push({ id: req.id, promptFile, priority: req.priority, createdAt: req.addedAt });
      accepted.push(e.file);
      this.deps.log.info('task added', { task: req.id, priority: req.priority });
    }
    // one copy of the task map for the whole batch (adding one by one is quadratic)
    if (fresh.length) this.commit(addTasks(state, fresh).state, []);
    for (const f of accepted) removeQueued(f);
  }

  private runBase(taskId: string, attempt: number): string {
    return join(this.stateDir, 'run', `${taskId}.${attempt}`);
  }

  private async launch(order: SpawnOrder): Promise<void> {
    const { executor } = this.deps;
    const task = this.state.tasks[order.taskId];
    if (!task) return;
    const claimedAt = task.current?.claimedAt ?? this.now();
    const failed = (field: 'spawnError' | 'worktreeError', message: string) =>
      this.finish(
        task.id,
        claimedAt,
        { spawnError: null, exitCode: null, signal: null, oomKilled: false, lost: false, endedAt: this.now() },
        null,
        null,
        { [field]: message },
      );
    let worktree: string;
    try {
      worktree = await this.workspace.prepare(task.id);
      rmSync(join(worktree, 'BLOCKED.md'), { force: true }); // a verdict from an earlier attempt is stale
    } catch (err) {
      return failed('worktreeError', (err as Error).message);
    }
    const logFile = attemptLogPath(this.stateDir, task.id, order.attempt);
    const logOffset = fileSize(logFile); // a refunded attempt number appends to its earlier log
    let handle: WorkerHandle;
    try {
      handle = await executor.spawn({
        taskId: task.id,
        attempt: order.attempt,
        argv: [
          ...buildWorkerArgv(this.config.worker.command, {
            promptFile: task.promptFile,
            taskId: task.id,
            worktree,
            permissionMode: this.config.worker.permission_mode,
          }),
          ...resumeArgs(sessionToResume(task, this.config.worker.resume_sessions)),
        ],
        cwd: worktree,
        stdinFile: task.promptFile,
        logFile,
        runBase: this.runBase(task.id, order.attempt),
        memoryMax: this.config.worker.memory_max,
        cpuQuota: this.config.worker.cpu_quota,
        env: {
          ...stringEnv(process.env),
          WARDEN_TASK_ID: task.id,
          WARDEN_ATTEMPT: String(order.attempt),
          WARDEN_WORKTREE: worktree,
          WARDEN_PROMPT_FILE: task.promptFile,
        },
      });
    } catch (err) {
      return failed('spawnError', (err as Error).message);
    }
    this.commit(
      this.withCurrent(task.id, { pid: handle.pid, pidStartTime: handle.pidStartTime, unit: handle.unit, executor: executor.kind }),
      [],
    );
    this.deps.log.info('worker started', {
      task: task.id,
      attempt: order.attempt,
      pid: handle.pid,
      unit: handle.unit ?? undefined,
      probe: order.probe || undefined,
    });
    this.watch(task.id, order.attempt, handle, logOffset);
  }

  private withCurrent(taskId: string, patch: Partial<NonNullable<WardenState['tasks'][string]['current']>>): WardenState {
    return updateRunningAttempt(this.state, taskId, patch);
  }

  private watch(taskId: string, attempt: number, handle: WorkerHandle, logOffset = 0): void {
    const remaining = this.config.worker.max_runtime - (this.now() - handle.startedAt);
    const tail = new LogTail(attemptLogPath(this.stateDir, taskId, attempt), { fromOffset: logOffset });
    const live: LiveWorker = {
      taskId,
      attempt,
      handle,
      timeout: null,
      stopReason: null,
      settled: Promise.resolve(),
      tail,
      stallCheck: null,
    };
    // liveness: a worker whose stream stays silent for stall_after is stopped and classified `stalled`
    const stallAfter = this.config.worker.stall_after;
    // one timer per worker, due when the stream would have been silent for stall_after: a worker
    // that prints wakes warden once per stall_after, an idle one once
    const checkStall = () => {
      tail.drain();
      if (live.stopReason !== null) return;
      const silentFor = Date.now() - tail.lastEventAt;
      if (silentFor < stallAfter) {
        live.stallCheck = setTimeout(checkStall, stallAfter - silentFor);
        return;
      }
      live.stallCheck = null;
      live.stopReason = 'stalled';
      this.deps.log.warn('worker printed no stream event for stall_after; stopping it', {
        task: taskId,
        stall_after: formatDuration(stallAfter),
      });
      void handle.stop(this.config.worker.stop_grace);
    };
    live.stallCheck = setTimeout(checkStall, stallAfter);
    live.timeout = setTimeout(
      () => {
        live.stopReason = 'timeout';
        this.deps.log.warn('worker ran past max_runtime; stopping it', {
          task: taskId,
          max_runtime: formatDuration(this.config.worker.max_runtime),
        });
        void handle.stop(this.config.worker.stop_grace);
      },
      Math.max(0, remaining),
    );
    live.settled = handle.exited.then(async (exit) => {
      if (live.timeout) clearTimeout(live.timeout);
      if (live.stallCheck) clearTimeout(live.stallCheck);
      const verdict = tail.finish();
      // the worker's own verdict (BLOCKED.md, a pull request) counts only if it ended on its own
      const task = this.state.tasks[taskId];
      const ownEnd = live.stopReason === null && !exit.lost && exit.spawnError === null && task !== undefined;
      const completion = ownEnd ? await this.workspace.completion(task, exit.exitCode).catch(() => null) : null;
      this.workers.delete(taskId);
      this.updatePressureWatch();
      this.finish(taskId, handle.startedAt, exit, live.stopReason, completion, {}, verdict);
      capTaskLogs(this.stateDir, taskId, this.config.worker.log_max);
      this.requestTick();
    });
    this.workers.set(taskId, live);
    this.updatePressureWatch();
  }

  private finish(
    taskId: string,
    startedAt: number,
    exit: WorkerExit,
    stopReason: LiveWorker['stopReason'],
    completion: Completion | null = null,
    errors: Partial<Pick<ExitReport, 'spawnError' | 'worktreeError'>> = {},
    verdict: WorkerVerdict | null = null,
  ): void {
    const durationMs = exit.endedAt - startedAt;
    if (stopReason === 'shutdown' || stopReason === 'cancelled') {
      const r = applyInterrupted(
        this.state,
        taskId,
        this.now(),
        stopReason === 'shutdown' ? 'warden was stopped' : 'its issue lost the label',
        durationMs,
      );
      this.commit(r.state, r.events);
      if (stopReason === 'cancelled') this.cancel(taskId, 'the issue no longer has the label (worker stopped)');
      return;
    }
    const report: ExitReport = {
      spawnError: errors.spawnError ?? exit.spawnError,
      worktreeError: errors.worktreeError ?? null,
      exitCode: exit.exitCode,
      signal: exit.signal,
      durationMs,
      // a worker found gone after a warden restart, having outlived max_runtime, hit systemd's backstop
      timedOut: stopReason === 'timeout' || (exit.lost && durationMs >= this.config.worker.max_runtime),
      oomKilled: exit.oomKilled,
      lost: exit.lost,
      completion,
      stalled: stopReason === 'stalled',
      // the worker's own words count only when it ended on its own
      verdict: stopReason === null ? classifyVerdict(verdict, this.now()) : null,
      usage: verdict ? { costUsd: verdict.totalCostUsd, turns: verdict.numTurns, sessionId: verdict.sessionId } : null,
    };
    const r = applyExit(this.state, taskId, report, this.now(), this.settings, this.random);
    this.commit(r.state, r.events);
    this.releaseIfDone(taskId);
  }

  private cancel(taskId: string, reason: string): void {
    const r = applyCancel(this.state, taskId, this.now(), reason);
    this.commit(r.state, r.events);
    this.releaseIfDone(taskId);
  }

  /** Terminal tasks give back their workspace (succeeded, cancelled; failed ones wait for pruning). */
  private releaseIfDone(taskId: string): void {
    const task = this.state.tasks[taskId];
    if (!task || (task.state !== 'succeeded' && task.state !== 'cancelled')) return;
    void this.workspace
      .release(task)
      .catch((err: Error) => this.deps.log.warn('could not remove the worktree', { task: taskId, error: err.message }));
  }

  /** One GitHub poll: new labelled issues become tasks, unlabelled ones are cancelled. */
  private onGithubPoll(r: GhResult<GithubIssue[]>): void {
    const gh = this.config.source.github;
    if (!gh || this.stopping) return;
    if (!r.ok) {
      // once per distinct cause: a network outage must not flood the journal every poll
      if (this.ghCause !== r.cause)
        this.deps.log.error('GitHub poll failed; tasks are unchanged and the next poll retries', { cause: r.cause, error: r.message });
      this.ghCause = r.cause;
      return;
    }
    if (this.ghCause !== null) this.deps.log.info('GitHub poll works again', { after: this.ghCause });
    this.ghCause = null;
    const plan = reconcileGithub(this.state, r.value, {
      repo: gh.repo,
      priorityLabels: gh.priority_labels,
      cancelRunning: gh.cancel_running,
    });
    for (const n of plan.refused) this.warnOnce(`refused:${n}`, `GitHub issue ${n} does not make a valid task ID; ignored`);
    const now = this.now();
    const fresh: NewTask[] = plan.add.map((t) => {
      const promptFile = join(promptDir(this.stateDir), `${t.id}.prompt`);
      writeFileAtomic(promptFile, renderPrompt(gh.prompt_template, gh.repo, t.issue, t.id));
      const issue = {
        repo: gh.repo,
        number: t.issue.number,
        url: t.issue.url ?? `https://github.com/${gh.repo}/issues/${t.issue.number}`,
        title: t.issue.title,
      };
      this.deps.log.info('task added from GitHub', { task: t.id, priority: t.priority, issue: issue.url });
      return { id: t.id, promptFile, priority: t.priority, createdAt: now, issue };
    });
    if (fresh.length) this.commit(addTasks(this.state, fresh).state, []);
    for (const id of plan.cancel) this.cancel(id, 'the issue no longer has the label');
    for (const id of plan.stop) {
      const live = this.workers.get(id);
      if (!live || live.stopReason) continue;
      live.stopReason = 'cancelled';
      this.deps.log.warn('stopping a running worker: its issue lost the label (source.github.cancel_running)', { task: id });
      void live.handle.stop(this.config.worker.stop_grace);
    }
    if (fresh.length || plan.cancel.length) this.requestTick();
  }

  /** Saves first; only a saved state becomes the state in memory. */
  private commit(next: WardenState, events: CoreEvent[]): void {
    if (next !== this.state) saveState(this.stateDir, next);
    this.state = next;
    for (const e of events) {
      this.deps.log[eventLevel(e)](describeEvent(e), { event: e.type });
      this.observe(e);
    }
  }

  /** Metrics count every event; the alerts decide which ones reach the owner. */
  private observe(e: WardenEvent): void {
    countEvent(this.counts, e);
    this.deps.alerts?.emit(e);
  }

  /**
   * Free space and inodes where the state file and the worktrees live. The state_dir needs the
   * same 256M that `warden doctor` fails below; the worktrees need worktree.min_free_disk.
   */
  private readDisks(): { usage: DiskUsage; limits: DiskLimits }[] {
    const minFreeInodes = this.config.admission.min_free_inodes;
    const targets: { role: string; path: string; limits: DiskLimits }[] = [
      {
        role: 'state_dir',
        path: this.stateDir,
        limits: { minFree: STATE_DIR_MIN_FREE, minFreeKey: 'the state_dir minimum', minFreeInodes },
      },
    ];
    const wt = this.workspace.diskTarget();
    if (wt)
      targets.push({ role: 'worktrees', path: wt.path, limits: { minFree: wt.min, minFreeKey: 'worktree.min_free_disk', minFreeInodes } });
    const out: { usage: DiskUsage; limits: DiskLimits }[] = [];
    for (const t of targets) {
      try {
        out.push({ usage: readDiskUsage(t.role, t.path), limits: t.limits });
      } catch (err) {
        this.warnOnce(`statfs:${t.path}`, `cannot read free disk space of ${t.path}: ${(err as Error).message}`);
      }
    }
    this.lastDisks = out.map((c) => c.usage);
    return out;
  }

  /** A machine without a sensor is not failed closed; it is said once, in the log and in status. */
  private warnHardwareUnavailable(sample: HostSample): void {
    const missing: [string, boolean, string][] = [
      [
        'thermal',
        sample.thermalZone == null,
        'SoC temperature: not available (no CPU thermal zone under /sys/class/thermal); max_temperature is not part of admission',
      ],
      [
        'throttled',
        sample.throttled == null,
        'throttled/under-voltage flags: not available (no /sys/devices/platform/soc/soc:firmware/get_throttled; not a Raspberry Pi kernel); power is not part of admission',
      ],
    ];
    for (const [key, isMissing, msg] of missing) {
      if (!isMissing || this.warned.has(`hw:${key}`)) continue;
      this.unavailable.push(msg);
      this.warnOnce(`hw:${key}`, msg);
    }
  }

  /** Remembers the pause reason that came last, for status and /metrics. */
  private trackPauses(now: number): void {
    const active = activePauseReasons(this.state);
    for (const r of active) if (!this.activePauses.includes(r)) this.lastPause = { reason: r, since: now };
    this.activePauses = active;
  }

  private warnOnce(key: string, msg: string): void {
    if (this.warned.has(key)) return;
    this.warned.add(key);
    this.deps.log.warn(msg);
  }

  /** SIGHUP: validate the file first; an invalid config keeps the running one. */
  reload(next: LoadedConfig): { ok: true } | { ok: false; error: string } {
    const fixed = reloadRefusals(this.config, next.config);
    if (fixed.length) return { ok: false, error: `${fixed.join(', ')} cannot change on reload; restart warden to apply` };
    this.loaded = next;
    this.settings = coreSettingsFrom(next.config);
    this.updatePressureWatch(true); // watch_interval may have changed
    this.deps.log.info('config reloaded', {
      config: next.path,
      config_sha256: next.sha256,
      max_concurrent_workers: next.config.supervisor.max_concurrent_workers,
      memory_max: formatSize(next.config.worker.memory_max),
      cpu_quota: `${next.config.worker.cpu_quota}%`,
    });
    this.requestTick();
    return { ok: true };
  }

  pause(): unknown {
    const r = applyManualPause(this.state, this.now());
    this.commit(r.state, r.events);
    this.requestTick();
    return { paused: activePauseReasons(this.state) };
  }

  resume(): unknown {
    const r = applyResume(this.state, this.settings);
    this.commit(r.state, r.events);
    this.requestTick();
    return { paused: activePauseReasons(this.state) };
  }

  statusLine(): string {
    const counts = this.taskCounts();
    const reasons = activePauseReasons(this.state);
    const head = `${runningCount(this.state)}/${this.config.supervisor.max_concurrent_workers} workers, ${counts.pending + counts.retry_wait} queued`;
    if (reasons.length === 0) return this.heldBy ? `${head}, ${this.heldBy}` : head;
    const why = reasons
      .map((r) =>
        r === 'breaker'
          ? `breaker (${this.state.breaker.reason ?? 'open'})`
          : r === 'pressure'
            ? `pressure (${this.state.pause.pressure?.reasons[0] ?? ''})`
            : r === 'thermal' || r === 'power'
              ? `${r} (${this.state.pause[r]?.reasons[0] ?? ''})`
              : r,
      )
      .join(', ');
    return `${head}, paused: ${why}`;
  }

  private taskCounts(): Record<TaskState, number> {
    return taskCounts(this.state);
  }

  status(): StatusReport {
    const now = this.now();
    const c = this.config;
    return {
      daemon: { pid: process.pid, version: this.deps.version, startedAt: this.startedAt, uptimeMs: Date.now() - this.startedAt },
      config: { path: this.loaded.path, sha256: this.loaded.sha256 },
      executor: {
        kind: this.deps.executor.kind,
        enforcesLimits: this.deps.executor.enforcesLimits,
        warnings: this.deps.executorWarnings ?? [],
      },
      settings: {
        maxConcurrentWorkers: c.supervisor.max_concurrent_workers,
        minSpawnIntervalMs: c.supervisor.min_spawn_interval,
        memoryMax: c.worker.memory_max,
        cpuQuota: c.worker.cpu_quota,
        maxAttempts: c.worker.max_attempts,
      },
      summary: this.statusLine(),
      workers: [...this.workers.values()].map((w) => ({
        taskId: w.taskId,
        attempt: w.attempt,
        pid: w.handle.pid,
        unit: w.handle.unit,
        startedAt: w.handle.startedAt,
        uptimeMs: now - w.handle.startedAt,
      })),
      tasks: this.taskCounts(),
      pause: {
        paused: activePauseReasons(this.state).length > 0,
        reasons: activePauseReasons(this.state),
        manual: this.state.pause.manual,
        pressure: this.state.pause.pressure,
      },
      breaker: this.state.breaker,
      heldBy: this.heldBy,
      lastSample: this.lastSample,
      hardware: {
        temperatureC: this.lastSample?.temperatureC ?? null,
        thermalZone: this.lastSample?.thermalZone ?? null,
        maxTemperature: c.admission.max_temperature,
        throttled: this.lastSample?.throttled != null ? decodeThrottled(this.lastSample.throttled) : null,
        notAvailable: [...this.unavailable],
      },
      disk: this.lastDisks,
      lastPause: this.lastPause,
      totalSpawns: this.state.totalSpawns,
      cost: {
        day: this.state.spend.day,
        todayUsd: this.state.spend.day === localDay(now) ? this.state.spend.usd : 0,
        maxDailyCostUsd: c.supervisor.max_daily_cost_usd,
        totalUsd: this.totalCostUsd(),
      },
      workerPause: { workerAuth: this.state.pause.workerAuth, usageLimit: this.state.pause.usageLimit, budget: this.state.pause.budget },
    };
  }

  /** Spend over all tasks, summed once per task map (a status request at 10,000 tasks was 93 % this sum). */
  private totalCostUsd(): number {
    const tasks = this.state.tasks;
    if (this.costSum?.tasks !== tasks) {
      let usd = 0;
      for (const id in tasks) usd += tasks[id]!.costUsd;
      this.costSum = { tasks, usd };
    }
    return this.costSum.usd;
  }

  /** GET /healthz: the loop must have turned recently. A wedged loop fails it, as it fails the watchdog. */
  liveness(): string | null {
    if (this.stopping) return 'stopping';
    const since = Date.now() - this.lastTickAt;
    // the loop turns at least every poll_interval; three missed turns (at least 10 s) is a wedge
    const limit = Math.max(3 * this.config.supervisor.poll_interval, 10_000);
    return this.lastTickAt === 0 || since <= limit ? null : `the supervisor loop has not turned for ${formatDuration(since)}`;
  }

  /** GET /readyz: started, workers recovered, and not paused for any reason. */
  readiness(): string | null {
    if (this.stopping) return 'stopping';
    if (!this.ready) return 'starting';
    const reasons = activePauseReasons(this.state);
    return reasons.length ? `paused: ${reasons.join(', ')}` : null;
  }

  metrics(): string {
    return renderMetrics({
      status: this.status(),
      counts: this.counts,
      ready: this.ready && !this.stopping,
      alerts: this.deps.alerts?.stats() ?? null,
    });
  }

  /** Event counts since the daemon started; the digest reports how they changed over its period. */
  eventCounts(): EventCounts {
    return structuredClone(this.counts);
  }

  /** At shutdown: alerts in flight get a moment (a task that died just before SIGTERM is still reported). */
  private async flushAlerts(): Promise<void> {
    await this.deps.alerts?.drain(ALERT_FLUSH_MS);
    this.deps.alerts?.stop();
  }

  tasks(): unknown {
    return { tasks: Object.values(this.state.tasks) };
  }

  /**
   * SIGTERM/SIGINT, run by terminus (src/control/server.ts): stop admitting, stop workers (TERM,
   * then KILL after the grace), save, flush alerts. terminus then closes the control socket and exits.
   */
  async shutdown(signal: string): Promise<void> {
    if (this.stopping) return;
    this.stopping = true;
    const { log, notifier } = this.deps;
    log.info('warden stopping', { signal, workers: this.workers.size });
    notifier.stopping(`stopping (${signal})`);
    if (this.tickTimer) clearTimeout(this.tickTimer);
    this.updatePressureWatch();
    this.poller?.stop();
    this.pruneJob?.stop();
    this.queueWatcher?.close();
    await Promise.allSettled([...this.launching]);
    const live = [...this.workers.values()];
    if (this.config.executor.keep_workers_on_stop && this.deps.executor.kind === 'systemd') {
      // leave the scopes running; their tasks stay `running` and the next start adopts them
      for (const w of live) {
        if (w.timeout) clearTimeout(w.timeout);
        if (w.stallCheck) clearTimeout(w.stallCheck);
        w.tail.close();
      }
      this.commit({ ...this.state, cleanShutdown: true }, []);
      await this.flushAlerts();
      log.info('warden stopped; workers left running (executor.keep_workers_on_stop)', { workers: live.length });
      return;
    }
    for (const w of live) {
      w.stopReason = 'shutdown';
      if (w.timeout) clearTimeout(w.timeout);
      if (w.stallCheck) clearTimeout(w.stallCheck);
    }
    await Promise.all(live.map((w) => w.handle.stop(this.config.worker.stop_grace).then(() => w.settled)));
    this.commit({ ...this.state, cleanShutdown: true }, []);
    await this.flushAlerts();
    log.info('warden stopped cleanly', { stopped_workers: live.length });
  }
}

/** Free space the state_dir's filesystem keeps (what `warden doctor` fails below without [worktree]). */
const STATE_DIR_MIN_FREE = 256 * 1024 * 1024;

/** How long the shutdown waits for alert deliveries in flight. */
const ALERT_FLUSH_MS = 3000;

export interface StatusReport {
  daemon: { pid: number; version: string; startedAt: number; uptimeMs: number };
  config: { path: string; sha256: string };
  executor: { kind: string; enforcesLimits: boolean; warnings: string[] };
  settings: { maxConcurrentWorkers: number; minSpawnIntervalMs: number; memoryMax: number; cpuQuota: number; maxAttempts: number };
  summary: string;
  workers: { taskId: string; attempt: number; pid: number; unit: string | null; startedAt: number; uptimeMs: number }[];
  tasks: Record<TaskState, number>;
  pause: { paused: boolean; reasons: string[]; manual: WardenState['pause']['manual']; pressure: WardenState['pause']['pressure'] };
  breaker: WardenState['breaker'];
  heldBy: string | null;
  lastSample: HostSample | null;
  /** The hardware signals of the last sample; what this machine lacks is named in notAvailable. */
  hardware: {
    temperatureC: number | null;
    thermalZone: string | null;
    maxTemperature: number;
    throttled: ThrottledFlags | null;
    notAvailable: string[];
  };
  /** Free space and inodes where the state file and the worktrees live, at the last tick. */
  disk: DiskUsage[];
  /** The pause reason that began last (it may be over), and when. */
  lastPause: { reason: PauseReason; since: number } | null;
  totalSpawns: number;
  /** What the workers reported spending (their stream-json results). */
  cost: { day: string; todayUsd: number; maxDailyCostUsd: number | null; totalUsd: number };
  /** Pauses that came from the workers' own reports. */
  workerPause: Pick<WardenState['pause'], 'workerAuth' | 'usageLimit' | 'budget'>;
}

function fileSize(path: string): number {
  try {
    return statSync(path).size;
  } catch {
    return 0;
  }
}

function stringEnv(env: NodeJS.ProcessEnv): Record<string, string> {
  const out: Record<string, string> = {};
  for (const [k, v] of Object.entries(env))
    if (v !== undefined && k !== 'NOTIFY_SOCKET' && k !== 'WATCHDOG_USEC' && k !== 'WATCHDOG_PID') out[k] = v;
  return out;
}
