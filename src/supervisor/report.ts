// What the daemon tells the outside about itself: `warden status`, GET /metrics, /healthz and
// /readyz. Each is built from a read-only snapshot of the supervisor, so control/, jobs/ and cli/
// depend on this module and not on the Supervisor class.
import type { HostSample } from '../admission/evaluate.js';
import type { DiskUsage } from '../admission/disk.js';
import type { LoadedConfig } from '../config/load.js';
import type { Logger } from '../log/logger.js';
import { formatDuration, formatSize } from '../config/units.js';
import { decodeThrottled, type ThrottledFlags } from '../hardware/throttled.js';
import { runningCount, taskCounts } from '../policy/tick.js';
import { localDay } from '../policy/verdict.js';
import { activePauseReasons, describePause, type PauseReason } from '../state/pause-reasons.js';
import type { WriteFault } from '../state/save-retry.js';
import type { TaskState, WardenState } from '../state/types.js';
import type { HistoryEvent } from '../history/records.js';
import { pauseClocks, type PauseClock } from '../policy/pause-clock.js';
import type { WorkerUsage } from '../usage/meter.js';

export interface StatusReport {
  daemon: { pid: number; version: string; startedAt: number; uptimeMs: number };
  config: { path: string; sha256: string };
  /** `sandbox`: `sandbox: off`, `sandbox: on` or `sandbox: partial: <what this host cannot enforce>`. */
  executor: { kind: string; enforcesLimits: boolean; warnings: string[]; sandbox: string };
  settings: { maxConcurrentWorkers: number; minSpawnIntervalMs: number; memoryMax: number; cpuQuota: number; maxAttempts: number };
  summary: string;
  /** `usage`: memory, its peak and cap, CPU % over the last interval (src/usage/); null before the first reading. */
  workers: (WorkerView & { uptimeMs: number; usage: WorkerUsage | null })[];
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
  /** A write to the state directory failed (a full disk); `unsaved`: memory is ahead of the state file. */
  stateWriteFault: WriteFault | null;
  /** When each pause in force may lift: the hysteresis clock of pressure, heat and power, the breaker's cooldown. */
  pauseClocks: PauseClock[];
  /** The admission and breaker thresholds in force (after the last reload), and when that config was loaded. */
  thresholds: {
    loadedAt: number;
    minAvailableMemory: number;
    maxLoadPerCpu: number;
    maxMemoryPressure: number;
    maxTemperature: number;
    recoverAfterMs: number;
    breaker: { failures: number; windowMs: number; cooldownMs: number };
  };
  /** The latest pauses, breaker changes, spawns and exits, newest last (src/history/). */
  recentEvents: HistoryEvent[];
}

/** A live worker as status shows it. */
export interface WorkerView {
  taskId: string;
  attempt: number;
  pid: number;
  unit: string | null;
  startedAt: number;
}

/** Everything the reports read, captured from the supervisor at one moment. */
export interface SupervisorSnapshot {
  now: number;
  pid: number;
  version: string;
  startedAt: number;
  loaded: LoadedConfig;
  executor: { kind: string; enforcesLimits: boolean; warnings: readonly string[]; sandbox: string };
  state: WardenState;
  workers: readonly WorkerView[];
  heldBy: string | null;
  lastSample: HostSample | null;
  disks: readonly DiskUsage[];
  notAvailable: readonly string[];
  lastPause: { reason: PauseReason; since: number } | null;
  stateWriteFault: WriteFault | null;
  usage: (taskId: string, pid: number) => WorkerUsage | null;
  configLoadedAt: number;
  recentEvents: readonly HistoryEvent[];
}

/** The one line systemd shows as the unit's status, and `warden status` as its summary. */
export function statusLine(state: WardenState, maxConcurrentWorkers: number, heldBy: string | null): string {
  const counts = taskCounts(state);
  const reasons = activePauseReasons(state);
  const head = `${runningCount(state)}/${maxConcurrentWorkers} workers, ${counts.pending + counts.retry_wait} queued`;
  if (reasons.length === 0) return heldBy ? `${head}, ${heldBy}` : head;
  const why = reasons.map((r) => describePause(state, r)).join(', ');
  return `${head}, paused: ${why}`;
}

export function buildStatus(s: SupervisorSnapshot): StatusReport {
  const c = s.loaded.config;
  const reasons = activePauseReasons(s.state);
  return {
    daemon: { pid: s.pid, version: s.version, startedAt: s.startedAt, uptimeMs: s.now - s.startedAt },
    config: { path: s.loaded.path, sha256: s.loaded.sha256 },
    executor: {
      kind: s.executor.kind,
      enforcesLimits: s.executor.enforcesLimits,
      warnings: [...s.executor.warnings],
      sandbox: s.executor.sandbox,
    },
    settings: {
      maxConcurrentWorkers: c.supervisor.max_concurrent_workers,
      minSpawnIntervalMs: c.supervisor.min_spawn_interval,
      memoryMax: c.worker.memory_max,
      cpuQuota: c.worker.cpu_quota,
      maxAttempts: c.worker.max_attempts,
    },
    summary: statusLine(s.state, c.supervisor.max_concurrent_workers, s.heldBy),
    workers: s.workers.map((w) => ({ ...w, uptimeMs: s.now - w.startedAt, usage: s.usage(w.taskId, w.pid) })),
    tasks: taskCounts(s.state),
    pause: { paused: reasons.length > 0, reasons, manual: s.state.pause.manual, pressure: s.state.pause.pressure },
    breaker: s.state.breaker,
    heldBy: s.heldBy,
    lastSample: s.lastSample,
    hardware: {
      temperatureC: s.lastSample?.temperatureC ?? null,
      thermalZone: s.lastSample?.thermalZone ?? null,
      maxTemperature: c.admission.max_temperature,
      throttled: s.lastSample?.throttled != null ? decodeThrottled(s.lastSample.throttled) : null,
      notAvailable: [...s.notAvailable],
    },
    disk: [...s.disks],
    lastPause: s.lastPause,
    totalSpawns: s.state.totalSpawns,
    cost: {
      day: s.state.spend.day,
      todayUsd: s.state.spend.day === localDay(s.now) ? s.state.spend.usd : 0,
      maxDailyCostUsd: c.supervisor.max_daily_cost_usd,
      totalUsd: totalCostUsd(s.state.tasks),
    },
    workerPause: { workerAuth: s.state.pause.workerAuth, usageLimit: s.state.pause.usageLimit, budget: s.state.pause.budget },
    stateWriteFault: s.stateWriteFault,
    pauseClocks: pauseClocks(s.state, c.admission.recover_after),
    thresholds: {
      loadedAt: s.configLoadedAt,
      minAvailableMemory: c.admission.min_available_memory,
      maxLoadPerCpu: c.admission.max_load_per_cpu,
      maxMemoryPressure: c.admission.max_memory_pressure,
      maxTemperature: c.admission.max_temperature,
      recoverAfterMs: c.admission.recover_after,
      breaker: { failures: c.breaker.failures, windowMs: c.breaker.window, cooldownMs: c.breaker.cooldown },
    },
    recentEvents: [...s.recentEvents],
  };
}

// The task map is replaced, never changed in place, so a sum per map object stays right.
const costSums = new WeakMap<WardenState['tasks'], number>();

/** Spend over all tasks, summed once per task map (a status request at 10,000 tasks was 93 % this sum). */
function totalCostUsd(tasks: WardenState['tasks']): number {
  let usd = costSums.get(tasks);
  if (usd === undefined) {
    usd = 0;
    for (const id in tasks) usd += tasks[id]!.costUsd;
    costSums.set(tasks, usd);
  }
  return usd;
}

/** GET /healthz: the loop must have turned recently. A wedged loop fails it, as it fails the watchdog. */
export function livenessProblem(s: { stopping: boolean; lastTickAt: number; now: number; pollInterval: number }): string | null {
  if (s.stopping) return 'stopping';
  const since = s.now - s.lastTickAt;
  // the loop turns at least every poll_interval; three missed turns (at least 10 s) is a wedge
  const limit = Math.max(3 * s.pollInterval, 10_000);
  return s.lastTickAt === 0 || since <= limit ? null : `the supervisor loop has not turned for ${formatDuration(since)}`;
}

/** GET /readyz: started, workers recovered, and not paused for any reason. */
export function readinessProblem(s: { stopping: boolean; ready: boolean; state: WardenState }): string | null {
  if (s.stopping) return 'stopping';
  if (!s.ready) return 'starting';
  const reasons = activePauseReasons(s.state);
  return reasons.length ? `paused: ${reasons.join(', ')}` : null;
}

/** The first lines of a start: the settings, every limit not enforced, and the sandbox (loudly when partial). */
export function logStartup(
  log: Logger,
  loaded: LoadedConfig,
  executor: { kind: string; sandbox: string },
  version: string,
  limitWarnings: readonly string[],
): void {
  log.info('warden starting', startupFields(loaded, executor.kind, version));
  for (const w of limitWarnings) log.error(`LIMITS: ${w}`);
  // once, loudly when the host cannot enforce part of the sandbox (src/executors/sandbox.ts)
  if (executor.sandbox.startsWith('sandbox: partial')) log.error(executor.sandbox);
  else log.info(executor.sandbox);
}

/** The settings the journal shows when warden starts, so a log alone says what was running. */
function startupFields(loaded: LoadedConfig, executorKind: string, version: string): Record<string, string | number> {
  const c = loaded.config;
  return {
    version,
    config: loaded.path,
    config_sha256: loaded.sha256,
    max_concurrent_workers: c.supervisor.max_concurrent_workers,
    min_spawn_interval: formatDuration(c.supervisor.min_spawn_interval),
    poll_interval: formatDuration(c.supervisor.poll_interval),
    memory_max: formatSize(c.worker.memory_max),
    cpu_quota: `${c.worker.cpu_quota}%`,
    max_runtime: formatDuration(c.worker.max_runtime),
    max_attempts: c.worker.max_attempts,
    breaker: `${c.breaker.failures} in ${formatDuration(c.breaker.window)}, cooldown ${formatDuration(c.breaker.cooldown)}`,
    executor: executorKind,
    state_dir: c.supervisor.state_dir,
  };
}

/** What a reload changed, for its journal line. */
export function reloadFields(loaded: LoadedConfig): Record<string, string | number> {
  const c = loaded.config;
  return {
    config: loaded.path,
    config_sha256: loaded.sha256,
    max_concurrent_workers: c.supervisor.max_concurrent_workers,
    memory_max: formatSize(c.worker.memory_max),
    cpu_quota: `${c.worker.cpu_quota}%`,
  };
}

/** Remembers the pause reason that began last (it may be over since), for status and /metrics. */
export class PauseTracker {
  private active: readonly PauseReason[] = [];
  last: { reason: PauseReason; since: number } | null = null;

  track(active: readonly PauseReason[], now: number): void {
    for (const r of active) if (!this.active.includes(r)) this.last = { reason: r, since: now };
    this.active = active;
  }
}
