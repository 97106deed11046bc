// The live workers: one entry per running attempt, with its two timers (max_runtime and the stall
// check) and the tail of its log. This module stops a worker when a timer says so and reports the
// exit; the supervisor decides what the exit means.
import { lstatSync, rmSync } from 'node:fs';
import { join } from 'node:path';
import type { Config } from '../config/schema.js';
import { formatDuration } from '../config/units.js';
import { buildWorkerArgv } from '../executors/worker-command.js';
import { ensureDirsUnder } from '../host/safe-open.js';
import type { Executor, WorkerExit, WorkerHandle, WorkerSpec } from '../executors/types.js';
import { isDiskFull } from '../host/write-file-atomic.js';
import { attemptLogPath, capTaskLogs } from '../log/attempt-logs.js';
import type { Logger } from '../log/logger.js';
import type { Completion } from '../policy/classify.js';
import type { EndedAttempt, StopReason } from '../policy/exit-report.js';
import { resumeArgs, sessionToResume } from '../policy/resume.js';
import type { RunningAttempt, Task, WardenState } from '../state/types.js';
import { fleetEnv } from '../fleet/env.js';
import { LogTail } from '../verdict/log-tail.js';
import { recoverWorkers } from './recovery.js';
import type { WorkerView } from './report.js';
import type { Workspace } from '../worktree/workspace.js';

export interface LiveWorker {
  taskId: string;
  attempt: number;
  handle: WorkerHandle;
  stopReason: StopReason | null;
  /** Who cancelled it, for a `cancelled` stop: the owner (`warden task cancel`); null: its issue lost the label. */
  cancelReason: string | null;
  settled: Promise<void>;
  /** Follows the attempt log for the worker's stream-json verdict and its liveness. */
  tail: LogTail;
  timeout: NodeJS.Timeout | null;
  stallCheck: NodeJS.Timeout | null;
}

export interface WorkersDeps {
  log: Logger;
  now: () => number;
  config: () => Config;
  executor: Executor;
  workspace: Workspace;
  task: (taskId: string) => Task | undefined;
  /** Saves what the executor says about a spawned worker (pid, unit) into its running attempt. */
  recordSpawn: (taskId: string, patch: Partial<RunningAttempt>) => void;
  /** A worker joined or left the live set. */
  changed: () => void;
  /** Called once per worker, after it is gone and removed from the live set. */
  onExit: (taskId: string, ended: EndedAttempt) => void;
}

export class Workers {
  private readonly live = new Map<string, LiveWorker>();

  constructor(private readonly deps: WorkersDeps) {}

  get size(): number {
    return this.live.size;
  }

  get(taskId: string): LiveWorker | undefined {
    return this.live.get(taskId);
  }

  list(): LiveWorker[] {
    return [...this.live.values()];
  }

  /**
   * At start: re-attach the workers of tasks the state says are running (recovery.ts). A worker
   * that is gone is reported to `gone` with its exit, as one that ended while watched would be.
   */
  recover(state: () => WardenState, gone: (taskId: string, ended: EndedAttempt) => void): Promise<void> {
    const c = this.deps.config();
    return recoverWorkers({
      executor: this.deps.executor,
      log: this.deps.log,
      state,
      runBase: (id, attempt) => runBase(c.supervisor.state_dir, id, attempt),
      stopGrace: c.worker.stop_grace,
      updateAttempt: this.deps.recordSpawn,
      adopted: (id, attempt, handle) => this.watch(id, attempt, handle),
      gone: (id, claimedAt, exit) => gone(id, { startedAt: claimedAt, exit, stopReason: null, completion: null, verdict: null }),
    });
  }

  /** Starts the timers and the log tail of a worker that was spawned or adopted. */
  watch(taskId: string, attempt: number, handle: WorkerHandle, logOffset = 0): void {
    const { log, now } = this.deps;
    const c = this.deps.config().worker;
    const tail = new LogTail(attemptLogPath(this.deps.config().supervisor.state_dir, taskId, attempt), {
      fromOffset: logOffset,
      now,
      capBytes: c.log_max, // the running attempt is capped too (its head and tail kept), not only old ones
      onFirstCut: (bytes) =>
        log.warn('attempt log passed worker.log_max; cutting its middle, keeping the start and the newest output', {
          task: taskId,
          attempt,
          cut_bytes: bytes,
        }),
    });
    const live: LiveWorker = {
      taskId,
      attempt,
      handle,
      timeout: null,
      stopReason: null,
      cancelReason: null,
      settled: Promise.resolve(),
      tail,
      stallCheck: null,
    };
    // liveness: a worker whose stream stays silent for stall_after is stopped and classified
    // `stalled`. One timer per worker, due when the stream would have been silent for stall_after:
    // a worker that prints wakes warden once per stall_after, an idle one once.
    const checkStall = () => {
      tail.drain();
      if (live.stopReason !== null) return;
      const silentFor = now() - tail.lastEventAt;
      if (silentFor < c.stall_after) {
        live.stallCheck = setTimeout(checkStall, c.stall_after - silentFor);
        return;
      }
      live.stallCheck = null;
      log.warn('worker printed no stream event for stall_after; stopping it', { task: taskId, stall_after: formatDuration(c.stall_after) });
      this.stop(live, 'stalled');
    };
    live.stallCheck = setTimeout(checkStall, c.stall_after);
    live.timeout = setTimeout(
      () => {
        log.warn('worker ran past max_runtime; stopping it', { task: taskId, max_runtime: formatDuration(c.max_runtime) });
        this.stop(live, 'timeout');
      },
      Math.max(0, c.max_runtime - (now() - handle.startedAt)),
    );
    live.settled = handle.exited.then(async (exit) => {
      clearTimers(live);
      if (exit.leftBehind)
        log.warn('worker exited but left processes running; they were stopped before its exit was recorded', {
          task: taskId,
          processes: exit.leftBehind,
        });
      const verdict = tail.finish();
      // asked while the worker still counts as live, so a shutdown waits for it
      const completion = await this.completion(live, exit);
      this.live.delete(taskId);
      this.deps.changed();
      this.deps.onExit(taskId, {
        startedAt: handle.startedAt,
        exit,
        stopReason: live.stopReason,
        cancelReason: live.cancelReason,
        completion,
        verdict,
      });
      capTaskLogs(this.deps.config().supervisor.state_dir, taskId, this.deps.config().worker.log_max);
    });
    this.live.set(taskId, live);
    this.deps.changed();
  }

  /** Spawns one attempt and watches it; a failure to prepare or spawn is returned, never thrown. */
  async launch(task: Task, attempt: number, probe: boolean): Promise<LaunchFailure | null> {
    const { executor, log } = this.deps;
    const r = await launchAttempt({ executor, workspace: this.deps.workspace, config: this.deps.config() }, task, attempt);
    if (r.kind === 'failed') return r;
    const h = r.handle;
    this.deps.recordSpawn(task.id, { pid: h.pid, pidStartTime: h.pidStartTime, unit: h.unit, executor: executor.kind });
    if (h.replacedLeftover)
      log.warn('a scope left over from an earlier attempt of this task was still running; stopped it first', {
        task: task.id,
        unit: h.unit ?? undefined,
      });
    log.info('worker started', { task: task.id, attempt, pid: h.pid, unit: h.unit ?? undefined, probe: probe || undefined });
    this.watch(task.id, attempt, h, r.logOffset);
    return null;
  }

  /** How the worker says it ended (BLOCKED.md, a pull request) counts only if it ended on its own. */
  private async completion(live: LiveWorker, exit: WorkerExit): Promise<Completion | null> {
    const task = this.deps.task(live.taskId);
    const ownEnd = live.stopReason === null && !exit.lost && exit.spawnError === null && task !== undefined;
    return ownEnd ? await this.deps.workspace.completion(task, exit.exitCode).catch(() => null) : null;
  }

  /** What status shows of each live worker. */
  views(): WorkerView[] {
    return this.list().map(({ taskId, attempt, handle: h }) => ({ taskId, attempt, pid: h.pid, unit: h.unit, startedAt: h.startedAt }));
  }

  /** source.github.cancel_running: the issue of a running task lost its label. */
  stopForLabel(taskId: string): void {
    const live = this.live.get(taskId);
    if (!live || live.stopReason) return;
    this.deps.log.warn('stopping a running worker: its issue lost the label (source.github.cancel_running)', { task: taskId });
    this.stop(live, 'cancelled');
  }

  /**
   * `warden task cancel` of a running task: the same stop (TERM, then KILL after stop_grace, every
   * process of the attempt); resolves once the exit is recorded. false: no live worker (not spawned yet).
   */
  async stopForCancel(taskId: string, reason: string): Promise<boolean> {
    const live = this.live.get(taskId);
    if (!live) return false;
    if (!live.stopReason) {
      live.cancelReason = reason;
      this.stop(live, 'cancelled');
    }
    await live.settled;
    return true;
  }

  /** Asks a worker to stop (TERM, then KILL after stop_grace); its exit arrives through onExit. */
  stop(live: LiveWorker, reason: StopReason, graceMs = this.deps.config().worker.stop_grace): void {
    live.stopReason = reason;
    void live.handle.stop(graceMs);
  }

  /** [fleet] The lease is at risk: these workers (or all) stop now, with at most `graceMs` (src/fleet/timings.ts). */
  fence(taskIds: readonly string[] | 'all', graceMs: number): void {
    for (const live of this.list())
      if (taskIds === 'all' || taskIds.includes(live.taskId))
        this.stop(live, 'fenced', Math.min(graceMs, this.deps.config().worker.stop_grace));
  }

  /** Shutdown: stops every worker and waits until each exit has been recorded. */
  async stopAll(): Promise<void> {
    const all = this.list();
    for (const w of all) {
      w.stopReason = 'shutdown';
      clearTimers(w);
    }
    const grace = this.deps.config().worker.stop_grace;
    await Promise.all(all.map((w) => w.handle.stop(grace).then(() => w.settled)));
  }

  /** executor.keep_workers_on_stop: warden lets go of its workers; the next start adopts them. */
  releaseAll(): void {
    for (const w of this.live.values()) {
      clearTimers(w);
      w.tail.close();
    }
  }
}

function clearTimers(w: LiveWorker): void {
  if (w.timeout) clearTimeout(w.timeout);
  if (w.stallCheck) clearTimeout(w.stallCheck);
  w.timeout = null;
  w.stallCheck = null;
}

/** What the executor is asked to run for one attempt: the worker command, its limits and environment. */
export function spawnSpec(
  c: Config,
  task: Task,
  attempt: number,
  paths: { worktree: string; logFile: string; runBase: string },
  env: NodeJS.ProcessEnv,
): WorkerSpec {
  return {
    taskId: task.id,
    attempt,
    argv: [
      ...buildWorkerArgv(c.worker.command, {
        promptFile: task.promptFile,
        taskId: task.id,
        worktree: paths.worktree,
        permissionMode: c.worker.permission_mode,
      }),
      ...resumeArgs(sessionToResume(task, c.worker.resume_sessions)),
    ],
    cwd: paths.worktree,
    stdinFile: task.promptFile,
    logFile: paths.logFile,
    runBase: paths.runBase,
    memoryMax: c.worker.memory_max,
    cpuQuota: c.worker.cpu_quota,
    tasksMax: c.worker.tasks_max,
    env: {
      ...workerEnv(env),
      WARDEN_TASK_ID: task.id,
      WARDEN_ATTEMPT: String(attempt),
      WARDEN_WORKTREE: paths.worktree,
      WARDEN_PROMPT_FILE: task.promptFile,
      ...fleetEnv(c, task),
    },
  };
}

/** warden's environment minus its own systemd notify and watchdog settings, which are not the worker's. */
function workerEnv(env: NodeJS.ProcessEnv): Record<string, string> {
  const out: Record<string, string> = {};
  for (const [k, v] of Object.entries(env))
    if (v !== undefined && k !== 'NOTIFY_SOCKET' && k !== 'WATCHDOG_USEC' && k !== 'WATCHDOG_PID') out[k] = v;
  return out;
}

export interface LaunchFailure {
  kind: 'failed';
  field: 'spawnError' | 'worktreeError';
  message: string;
  /** The disk was full (no space or inodes for the worktree, log or run files): not the task's fault. */
  diskFull: boolean;
}

/** Where an attempt's pid and exit records live (`<base>.pid`, `<base>.exit`). */
export function runBase(stateDir: string, taskId: string, attempt: number): string {
  return join(stateDir, 'run', `${taskId}.${attempt}`);
}

/** Prepares the task's workspace and spawns its worker; a failure is returned, never thrown. */
async function launchAttempt(
  d: { executor: Executor; workspace: Workspace; config: Config },
  task: Task,
  attempt: number,
): Promise<{ kind: 'spawned'; handle: WorkerHandle; logOffset: number } | LaunchFailure> {
  let worktree: string;
  try {
    worktree = await d.workspace.prepare(task.id);
    rmSync(join(worktree, 'BLOCKED.md'), { force: true }); // a BLOCKED.md of an earlier attempt is stale
  } catch (err) {
    return { kind: 'failed', field: 'worktreeError', message: (err as Error).message, diskFull: isDiskFull(err) };
  }
  const stateDir = d.config.supervisor.state_dir;
  const logFile = attemptLogPath(stateDir, task.id, attempt);
  let logOffset: number;
  try {
    // made level by level: a symlink planted as state_dir/logs, logs/<task> or run is refused
    ensureDirsUnder(stateDir, ['logs', task.id]);
    ensureDirsUnder(stateDir, ['run'], 0o700);
    logOffset = fileSize(logFile); // a refunded attempt number appends to its earlier log
    const handle = await d.executor.spawn(
      spawnSpec(d.config, task, attempt, { worktree, logFile, runBase: runBase(stateDir, task.id, attempt) }, process.env),
    );
    return { kind: 'spawned', handle, logOffset };
  } catch (err) {
    return { kind: 'failed', field: 'spawnError', message: (err as Error).message, diskFull: isDiskFull(err) };
  }
}

function fileSize(path: string): number {
  try {
    return lstatSync(path).size;
  } catch {
    return 0;
  }
}
