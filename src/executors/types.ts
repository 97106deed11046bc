// The interface every executor implements. The supervisor decides; an executor only starts,
// watches and stops worker processes. `direct` runs plain process groups (no limits); `systemd`
// runs each attempt in a capped transient scope, or in a sandboxed transient service.

export interface WorkerSpec {
  taskId: string;
  attempt: number;
  argv: string[];
  cwd: string;
  /** The prompt file, given to the worker on stdin. */
  stdinFile: string;
  logFile: string;
  /** Base path for the attempt's pid and exit-status files (`<base>.pid`, `<base>.exit`). */
  runBase: string;
  memoryMax: number;
  cpuQuota: number;
  /** TasksMax= of the attempt's unit (systemd executors): processes and threads together. */
  tasksMax: number;
  env: Record<string, string>;
}

export interface WorkerExit {
  /** The worker never started: why (unit refused, exec failed). */
  spawnError: string | null;
  exitCode: number | null;
  signal: string | null;
  oomKilled: boolean;
  /** Peak memory use of the worker's cgroup in bytes (the wrapper's exit record); null or absent: unknown. */
  memoryPeak?: number | null;
  /** The exit status could not be recovered. */
  lost: boolean;
  endedAt: number;
  /**
   * Processes of the attempt still running when the worker itself exited on its own (not asked
   * to stop): the executor ended them (TERM, KILL after the grace) before reporting the exit.
   */
  leftBehind?: number;
}

export interface WorkerHandle {
  pid: number;
  pidStartTime: string | null;
  unit: string | null;
  startedAt: number;
  /** A leftover scope of an earlier attempt of this task had to be stopped before this one started. */
  replacedLeftover?: boolean;
  /**
   * Resolves once every process of the attempt is gone (its process group, its scope), not only
   * the worker: what the worker leaves behind is ended first (TERM, KILL after the grace).
   */
  exited: Promise<WorkerExit>;
  /**
   * SIGTERM to every process of the attempt, SIGKILL after `graceMs` to whatever is left, whatever
   * the worker itself did; resolves when all of them are gone and `exited` has resolved.
   */
  stop(graceMs: number): Promise<void>;
}

export interface AdoptRecord {
  taskId: string;
  attempt: number;
  pid: number | null;
  pidStartTime: string | null;
  unit: string | null;
  runBase: string;
  startedAt: number;
}

export type AdoptResult = { kind: 'adopted'; handle: WorkerHandle } | { kind: 'gone'; exit: WorkerExit };

export class SpawnError extends Error {
  constructor(message: string, options?: { cause?: unknown }) {
    super(message, options);
    this.name = 'SpawnError';
  }
}

export interface Executor {
  readonly kind: 'direct' | 'systemd';
  /** false: memory and CPU caps are NOT enforced, and warden says so loudly. */
  readonly enforcesLimits: boolean;
  /** What confines the workers beyond their limits, one line: `sandbox: off|on|partial: <why>`. */
  readonly sandbox: string;
  spawn(spec: WorkerSpec): Promise<WorkerHandle>;
  /** After a warden restart: take over a worker recorded as running, or report how it ended. */
  adopt(rec: AdoptRecord): Promise<AdoptResult>;
  /** Workers this executor can see that belong to no running task (e.g. stray scopes). */
  strays(knownTaskIds: ReadonlySet<string>): Promise<string[]>;
  stopStray(name: string, graceMs: number): Promise<void>;
}
