// The supervisor ties the pieces together and holds no policy of its own: it reads the queue and
// the host sample, asks the decision core what to do, writes the state, and then performs the
// effects (spawn, stop, notify). Every state change is written to disk before its effect runs.
import { copyFileSync, existsSync, mkdirSync, rmSync } from 'node:fs';
import type { Server } from 'node:http';
import { join } from 'node:path';
import { sampleHost, type HostSample } from './admission/sample.js';
import type { LoadedConfig } from './config/load.js';
import { formatDuration, formatSize } from './config/units.js';
import { DaemonAlreadyRunning, socketAnswers, startControlServer } from './control/server.js';
import { buildWorkerArgv } from './executors/worker-command.js';
import type { Executor, WorkerExit, WorkerHandle } from './executors/types.js';
import type { Logger } from './log/logger.js';
import { describeEvent, eventLevel } from './log/events.js';
import type { ExitReport } from './policy/classify.js';
import {
  addTask,
  applyExit,
  applyInterrupted,
  applyManualPause,
  applyResume,
  coreSettingsFrom,
  planTick,
  runningCount,
  type CoreEvent,
  type CoreSettings,
  type SpawnOrder,
} from './policy/decide.js';
import { ensureStateDir, loadState, saveState, statePath, writeFileAtomic } from './state/store.js';
import { activePauseReasons, TASK_STATES, type TaskState, type WardenState } from './state/types.js';
import type { Notifier } from './systemd/notify.js';
import { promptDir, readQueue, rejectQueued, removeQueued } from './tasks/local-queue.js';

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
}

interface LiveWorker {
  taskId: string;
  attempt: number;
  handle: WorkerHandle;
  timeout: NodeJS.Timeout | null;
  stopReason: 'timeout' | 'shutdown' | null;
  settled: Promise<void>;
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
  private heldBy: string | null = null;
  private server: Server | null = null;
  private readonly startedAt = Date.now();
  private readonly warned = new Set<string>();
  private readonly now: () => number;
  private readonly random: () => number;
  private readonly sample: (now: number) => HostSample;

  constructor(private readonly deps: SupervisorDeps) {
    this.loaded = deps.loaded;
    this.settings = coreSettingsFrom(deps.loaded.config);
    this.now = deps.now ?? Date.now;
    this.random = deps.random ?? Math.random;
    this.sample = deps.sample ?? ((now) => sampleHost(now));
  }

  private get config() {
    return this.loaded.config;
  }

  private get stateDir() {
    return this.config.supervisor.stateDir;
  }

  /** Loads state (fatal if unreadable), adopts surviving workers, opens the control socket. */
  async start(): Promise<void> {
    const { log, executor } = this.deps;
    const c = this.config;
    log.info('warden starting', {
      version: this.deps.version,
      config: this.loaded.path,
      config_sha256: this.loaded.sha256,
      max_concurrent_workers: c.supervisor.maxConcurrentWorkers,
      min_spawn_interval: formatDuration(c.supervisor.minSpawnInterval),
      poll_interval: formatDuration(c.supervisor.pollInterval),
      memory_max: formatSize(c.worker.memoryMax),
      cpu_quota: `${c.worker.cpuQuota}%`,
      max_runtime: formatDuration(c.worker.maxRuntime),
      max_attempts: c.worker.maxAttempts,
      breaker: `${c.breaker.failures} in ${formatDuration(c.breaker.window)}, cooldown ${formatDuration(c.breaker.cooldown)}`,
      executor: executor.kind,
      state_dir: this.stateDir,
    });
    for (const w of this.deps.executorWarnings ?? []) log.error(`LIMITS: ${w}`);
    // Refuse before reading or writing the state: it belongs to the running daemon (one writer),
    // and recovery here would adopt that daemon's workers.
    if (await socketAnswers(c.control.socket)) {
      throw new DaemonAlreadyRunning(`another warden daemon is already running on ${c.control.socket}; not starting a second one on the same state`);
    }
    ensureStateDir(this.stateDir);
    const { state, fresh } = loadState(this.stateDir, c.breaker.cooldown);
    if (!fresh) copyFileSync(statePath(this.stateDir), `${statePath(this.stateDir)}.bak`);
    if (!fresh && !state.cleanShutdown) log.warn('the previous warden run did not shut down cleanly (crash, kill or watchdog); recovering its workers');
    this.state = state;
    this.commit({ ...state, cleanShutdown: false }, []);
    if (state.breaker.phase !== 'closed') log.warn('breaker is still open from the previous run', { reason: state.breaker.reason });

    await this.recover();
    this.server = await startControlServer(c.control.socket, {
      status: () => this.status(),
      pause: () => this.pause(),
      resume: () => this.resume(),
      tasks: () => this.tasks(),
    });
    if (this.deps.debugStallSignal) {
      process.on('SIGUSR2', () => {
        log.warn('debug: SIGUSR2 received, wedging the supervisor loop (test trigger)');
        this.stallRequested = true;
      });
    }
    this.deps.notifier.ready(this.statusLine());
    log.info('warden ready', { control_socket: c.control.socket, tasks: Object.keys(this.state.tasks).length, running: this.workers.size });
    this.requestTick();
  }

  /** Re-attaches workers of tasks marked running, and reports strays. Never spawns. */
  private async recover(): Promise<void> {
    const { executor, log } = this.deps;
    for (const task of Object.values(this.state.tasks)) {
      if (task.state !== 'running' || !task.current) continue;
      const cur = task.current;
      const runBase = this.runBase(task.id, cur.attempt);
      const result = await executor.adopt({ taskId: task.id, attempt: cur.attempt, pid: cur.pid, pidStartTime: cur.pidStartTime, unit: cur.unit, runBase, startedAt: cur.claimedAt });
      if (result.kind === 'adopted') {
        const h = result.handle;
        log.info('adopted running worker', { task: task.id, attempt: cur.attempt, pid: h.pid, unit: h.unit ?? undefined });
        if (h.pid !== cur.pid || h.pidStartTime !== cur.pidStartTime) {
          this.commit(this.withCurrent(task.id, { pid: h.pid, pidStartTime: h.pidStartTime, unit: h.unit }), []);
        }
        this.watch(task.id, cur.attempt, h);
      } else {
        log.warn('worker of a running task is gone; classifying its attempt', { task: task.id, attempt: cur.attempt, pid: cur.pid ?? undefined });
        this.finish(task.id, cur.claimedAt, result.exit, null);
      }
    }
    const strays = await executor.strays(new Set(Object.values(this.state.tasks).filter((t) => t.state === 'running').map((t) => t.id)));
    for (const name of strays) {
      log.warn('stopping a stray worker that belongs to no running task', { unit: name });
      await executor.stopStray(name, this.config.worker.stopGrace);
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
      const sample = this.sample(now);
      this.lastSample = sample;
      if (!sample.psiAvailable) this.warnOnce('psi', 'PSI is not available (/proc/pressure/memory missing): memory pressure is not part of admission. On a Raspberry Pi add psi=1 to /boot/firmware/cmdline.txt and reboot.');
      for (const e of sample.errors) this.warnOnce(`sample:${e}`, `host sample: ${e}`);
      const r = planTick(this.state, now, sample, this.settings);
      this.commit(r.state, r.events);
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
    let delay = this.config.supervisor.pollInterval;
    const wd = this.deps.notifier.watchdogIntervalMs;
    if (wd !== null) delay = Math.min(delay, wd);
    if (wakeAt !== null) delay = Math.min(delay, Math.max(0, wakeAt - now) + 5);
    if (this.tickTimer) clearTimeout(this.tickTimer);
    this.tickTimer = setTimeout(() => void this.tick(), delay);
  }

  private ingestQueue(): void {
    const entries = readQueue(this.stateDir);
    if (entries.length === 0) return;
    let state = this.state;
    const accepted: string[] = [];
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
        this.deps.log.error('rejected a task request: a task with this ID already exists', { task: req.id, state: existing.state, moved_to: dest });
        continue;
      }
      const promptFile = join(promptDir(this.stateDir), `${req.id}.prompt`);
      writeFileAtomic(promptFile, req.prompt);
      state = addTask(state, { id: req.id, promptFile, priority: req.priority, createdAt: req.addedAt }).state;
      accepted.push(e.file);
      this.deps.log.info('task added', { task: req.id, priority: req.priority });
    }
    if (state !== this.state) this.commit(state, []);
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
    const worktree = join(this.stateDir, 'worktrees', task.id);
    const failed = (field: 'spawnError' | 'worktreeError', message: string) =>
      this.finish(task.id, claimedAt, { spawnError: null, exitCode: null, signal: null, oomKilled: false, lost: false, endedAt: this.now() }, null, { [field]: message });
    try {
      mkdirSync(worktree, { recursive: true });
    } catch (err) {
      return failed('worktreeError', (err as Error).message);
    }
    let handle: WorkerHandle;
    try {
      handle = await executor.spawn({
        taskId: task.id,
        attempt: order.attempt,
        argv: buildWorkerArgv(this.config.worker.command, { promptFile: task.promptFile, taskId: task.id, worktree }),
        cwd: worktree,
        stdinFile: task.promptFile,
        logFile: join(this.stateDir, 'logs', task.id, `attempt-${order.attempt}.log`),
        runBase: this.runBase(task.id, order.attempt),
        memoryMax: this.config.worker.memoryMax,
        cpuQuota: this.config.worker.cpuQuota,
        env: { ...stringEnv(process.env), WARDEN_TASK_ID: task.id, WARDEN_ATTEMPT: String(order.attempt), WARDEN_WORKTREE: worktree, WARDEN_PROMPT_FILE: task.promptFile },
      });
    } catch (err) {
      return failed('spawnError', (err as Error).message);
    }
    this.commit(this.withCurrent(task.id, { pid: handle.pid, pidStartTime: handle.pidStartTime, unit: handle.unit, executor: executor.kind }), []);
    this.deps.log.info('worker started', { task: task.id, attempt: order.attempt, pid: handle.pid, unit: handle.unit ?? undefined, probe: order.probe || undefined });
    this.watch(task.id, order.attempt, handle);
  }

  private withCurrent(taskId: string, patch: Partial<NonNullable<WardenState['tasks'][string]['current']>>): WardenState {
    const t = this.state.tasks[taskId];
    if (!t || !t.current) return this.state;
    return { ...this.state, tasks: { ...this.state.tasks, [taskId]: { ...t, current: { ...t.current, ...patch } } } };
  }

  private watch(taskId: string, attempt: number, handle: WorkerHandle): void {
    const remaining = this.config.worker.maxRuntime - (this.now() - handle.startedAt);
    const live: LiveWorker = { taskId, attempt, handle, timeout: null, stopReason: null, settled: Promise.resolve() };
    live.timeout = setTimeout(() => {
      live.stopReason = 'timeout';
      this.deps.log.warn('worker ran past max_runtime; stopping it', { task: taskId, max_runtime: formatDuration(this.config.worker.maxRuntime) });
      void handle.stop(this.config.worker.stopGrace);
    }, Math.max(0, remaining));
    live.settled = handle.exited.then((exit) => {
      if (live.timeout) clearTimeout(live.timeout);
      this.workers.delete(taskId);
      this.finish(taskId, handle.startedAt, exit, live.stopReason);
      this.requestTick();
    });
    this.workers.set(taskId, live);
  }

  private finish(taskId: string, startedAt: number, exit: WorkerExit, stopReason: LiveWorker['stopReason'], errors: Partial<Pick<ExitReport, 'spawnError' | 'worktreeError'>> = {}): void {
    const durationMs = exit.endedAt - startedAt;
    if (stopReason === 'shutdown') {
      const r = applyInterrupted(this.state, taskId, this.now(), 'warden was stopped', durationMs);
      this.commit(r.state, r.events);
      return;
    }
    const report: ExitReport = {
      spawnError: errors.spawnError ?? exit.spawnError,
      worktreeError: errors.worktreeError ?? null,
      exitCode: exit.exitCode,
      signal: exit.signal,
      durationMs,
      // a worker found gone after a warden restart, having outlived max_runtime, hit systemd's backstop
      timedOut: stopReason === 'timeout' || (exit.lost && durationMs >= this.config.worker.maxRuntime),
      oomKilled: exit.oomKilled,
      lost: exit.lost,
    };
    const r = applyExit(this.state, taskId, report, this.now(), this.settings, this.random);
    this.commit(r.state, r.events);
  }

  /** Saves first; only a saved state becomes the state in memory. */
  private commit(next: WardenState, events: CoreEvent[]): void {
    if (next !== this.state) saveState(this.stateDir, next);
    this.state = next;
    for (const e of events) this.deps.log[eventLevel(e)](describeEvent(e), { event: e.type });
  }

  private warnOnce(key: string, msg: string): void {
    if (this.warned.has(key)) return;
    this.warned.add(key);
    this.deps.log.warn(msg);
  }

  /** SIGHUP: validate the file first; an invalid config keeps the running one. */
  reload(next: LoadedConfig): { ok: true } | { ok: false; error: string } {
    const cur = this.config;
    const fixed: string[] = [];
    if (next.config.supervisor.stateDir !== cur.supervisor.stateDir) fixed.push('supervisor.state_dir');
    if (next.config.control.socket !== cur.control.socket) fixed.push('control.socket');
    if (next.config.executor.kind !== cur.executor.kind) fixed.push('executor.kind');
    if (next.config.worker.user !== cur.worker.user) fixed.push('worker.user');
    if (fixed.length) return { ok: false, error: `${fixed.join(', ')} cannot change on reload; restart warden to apply` };
    this.loaded = next;
    this.settings = coreSettingsFrom(next.config);
    this.deps.log.info('config reloaded', {
      config: next.path,
      config_sha256: next.sha256,
      max_concurrent_workers: next.config.supervisor.maxConcurrentWorkers,
      memory_max: formatSize(next.config.worker.memoryMax),
      cpu_quota: `${next.config.worker.cpuQuota}%`,
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
    const head = `${runningCount(this.state)}/${this.config.supervisor.maxConcurrentWorkers} workers, ${counts.pending + counts.retry_wait} queued`;
    if (reasons.length === 0) return this.heldBy ? `${head}, ${this.heldBy}` : head;
    const why = reasons
      .map((r) => (r === 'breaker' ? `breaker (${this.state.breaker.reason ?? 'open'})` : r === 'pressure' ? `pressure (${this.state.pause.pressure?.reasons[0] ?? ''})` : 'manual'))
      .join(', ');
    return `${head}, paused: ${why}`;
  }

  private taskCounts(): Record<TaskState, number> {
    const counts = Object.fromEntries(TASK_STATES.map((s) => [s, 0])) as Record<TaskState, number>;
    for (const t of Object.values(this.state.tasks)) counts[t.state]++;
    return counts;
  }

  status(): StatusReport {
    const now = this.now();
    const c = this.config;
    return {
      daemon: { pid: process.pid, version: this.deps.version, startedAt: this.startedAt, uptimeMs: Date.now() - this.startedAt },
      config: { path: this.loaded.path, sha256: this.loaded.sha256 },
      executor: { kind: this.deps.executor.kind, enforcesLimits: this.deps.executor.enforcesLimits, warnings: this.deps.executorWarnings ?? [] },
      settings: {
        maxConcurrentWorkers: c.supervisor.maxConcurrentWorkers,
        minSpawnIntervalMs: c.supervisor.minSpawnInterval,
        memoryMax: c.worker.memoryMax,
        cpuQuota: c.worker.cpuQuota,
        maxAttempts: c.worker.maxAttempts,
      },
      summary: this.statusLine(),
      workers: [...this.workers.values()].map((w) => ({ taskId: w.taskId, attempt: w.attempt, pid: w.handle.pid, unit: w.handle.unit, startedAt: w.handle.startedAt, uptimeMs: now - w.handle.startedAt })),
      tasks: this.taskCounts(),
      pause: { paused: activePauseReasons(this.state).length > 0, reasons: activePauseReasons(this.state), manual: this.state.pause.manual, pressure: this.state.pause.pressure },
      breaker: this.state.breaker,
      heldBy: this.heldBy,
      lastSample: this.lastSample,
      totalSpawns: this.state.totalSpawns,
    };
  }

  tasks(): unknown {
    return { tasks: Object.values(this.state.tasks) };
  }

  /** SIGTERM/SIGINT: stop admitting, stop workers (TERM, then KILL after the grace), save, close. */
  async shutdown(signal: string): Promise<void> {
    if (this.stopping) return;
    this.stopping = true;
    const { log, notifier } = this.deps;
    log.info('warden stopping', { signal, workers: this.workers.size });
    notifier.stopping(`stopping (${signal})`);
    if (this.tickTimer) clearTimeout(this.tickTimer);
    await Promise.allSettled([...this.launching]);
    const live = [...this.workers.values()];
    if (this.config.executor.keepWorkersOnStop && this.deps.executor.kind === 'systemd') {
      // leave the scopes running; their tasks stay `running` and the next start adopts them
      for (const w of live) if (w.timeout) clearTimeout(w.timeout);
      this.commit({ ...this.state, cleanShutdown: true }, []);
      await new Promise<void>((resolve) => (this.server ? this.server.close(() => resolve()) : resolve()));
      rmSync(this.config.control.socket, { force: true });
      log.info('warden stopped; workers left running (executor.keep_workers_on_stop)', { workers: live.length });
      return;
    }
    for (const w of live) {
      w.stopReason = 'shutdown';
      if (w.timeout) clearTimeout(w.timeout);
    }
    await Promise.all(live.map((w) => w.handle.stop(this.config.worker.stopGrace).then(() => w.settled)));
    this.commit({ ...this.state, cleanShutdown: true }, []);
    await new Promise<void>((resolve) => (this.server ? this.server.close(() => resolve()) : resolve()));
    if (existsSync(this.config.control.socket)) rmSync(this.config.control.socket, { force: true });
    log.info('warden stopped cleanly', { stopped_workers: live.length });
  }
}

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
  totalSpawns: number;
}

function stringEnv(env: NodeJS.ProcessEnv): Record<string, string> {
  const out: Record<string, string> = {};
  for (const [k, v] of Object.entries(env)) if (v !== undefined && k !== 'NOTIFY_SOCKET' && k !== 'WATCHDOG_USEC' && k !== 'WATCHDOG_PID') out[k] = v;
  return out;
}
