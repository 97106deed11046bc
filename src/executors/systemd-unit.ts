// What both systemd executors share: each attempt is one transient unit `warden-<task>.<type>` in
// `warden-workers.slice` (a scope for `systemd-scope.ts`, a sandboxed service for
// `systemd-service.ts`) that runs the worker wrapper (WRAPPER_SCRIPT). The unit name is
// deterministic: a unit of that name left over from an earlier attempt of the task (one of
// warden's, by its description) is stopped before the next attempt; any other unit of that name
// makes systemd refuse the new one, and the spawn fails. An attempt is its whole unit: it is over
// only when no process is left in the unit's cgroup, whatever the wrapper did. The subclasses say
// only how systemd-run is called and where the worker's PID comes from.
import { spawn, execFile, type ChildProcess } from 'node:child_process';
import { chownSync, closeSync, mkdirSync, readFileSync, watch } from 'node:fs';
import { basename, dirname } from 'node:path';
import { promisify } from 'node:util';
import { reserveRunFiles } from './run-files.js';
import { exitFrom, watchAdopted } from './worker-exit.js';
import { isSameProcessAlive, processStartTime, readPidFile } from './process-info.js';
import { attemptEnd, terminate, type StopTarget } from './terminate.js';
import { openWorkerStdio } from './worker-stdio.js';
import { checkRealDir, readRegularText } from '../host/safe-open.js';
import {
  SpawnError,
  type AdoptRecord,
  type AdoptResult,
  type Executor,
  type WorkerExit,
  type WorkerHandle,
  type WorkerSpec,
} from './types.js';
import type { UserIds } from '../host/users.js';

const run = promisify(execFile);

export const WORKER_SLICE = 'warden-workers.slice';
/** How long systemd-run may take to create the unit and start the wrapper. */
export const UNIT_START_TIMEOUT_MS = 15_000;

export type UnitType = 'scope' | 'service';

export function unitName(taskId: string, type: UnitType = 'scope'): string {
  return `warden-${taskId}.${type}`;
}

/** The description warden gives its units; how a leftover unit is told from someone else's. */
export function unitDescription(taskId: string, attempt: number): string {
  return `${descriptionPrefix(taskId)}${attempt})`;
}

function descriptionPrefix(taskId: string): string {
  return `warden worker for task ${taskId} (attempt `;
}

/** A unit of this name that warden made for an attempt of this task (not someone else's). */
export function isWardenUnit(taskId: string, description: string | undefined): boolean {
  return description !== undefined && description.startsWith(descriptionPrefix(taskId));
}

export function taskIdOfUnit(unit: string): string | null {
  const m = /^warden-(.+)\.(scope|service)$/.exec(unit);
  return m ? (m[1] ?? null) : null;
}

export interface SystemdExecutorOptions {
  /** The worker user; null runs workers as root (only when the config says "root"). */
  user: UserIds | null;
  maxRuntimeMs: number;
  stopGraceMs: number;
  /** false when the kernel's memory controller is off: MemoryMax would do nothing. */
  memoryEnforced: boolean;
  slice?: string;
}

export abstract class SystemdUnitExecutor implements Executor {
  readonly kind = 'systemd' as const;
  readonly enforcesLimits: boolean;
  abstract readonly sandbox: string;
  protected abstract readonly unitType: UnitType;
  protected readonly slice: string;

  constructor(protected readonly opts: SystemdExecutorOptions) {
    this.enforcesLimits = opts.memoryEnforced;
    this.slice = opts.slice ?? WORKER_SLICE;
  }

  /** systemd-run's arguments for one attempt. */
  abstract unitArgs(spec: WorkerSpec): string[];

  /** Done before the unit starts, as root (directories the worker needs). */
  protected prepare(_spec: WorkerSpec): void {}

  /** The worker wrapper's PID, once it wrote its pid file. */
  protected abstract workerPid(child: ChildProcess, runBase: string): number;

  /** The settings both unit types share: the name, the slice and the limits. */
  protected commonArgs(spec: WorkerSpec): string[] {
    const runtimeBackstopSec = Math.ceil((this.opts.maxRuntimeMs + this.opts.stopGraceMs) / 1000) + 60;
    return [
      '--quiet',
      '--collect',
      `--unit=${unitName(spec.taskId, this.unitType)}`,
      `--slice=${this.slice}`,
      `--description=${unitDescription(spec.taskId, spec.attempt)}`,
      ...[
        `MemoryMax=${spec.memoryMax}`,
        'MemorySwapMax=0',
        `CPUQuota=${spec.cpuQuota}%`,
        `TasksMax=${spec.tasksMax}`,
        `RuntimeMaxSec=${runtimeBackstopSec}`,
        `TimeoutStopSec=${Math.max(1, Math.ceil(this.opts.stopGraceMs / 1000))}`,
      ].flatMap((p) => ['-p', p]),
      ...(this.opts.user ? [`--uid=${this.opts.user.uid}`, `--gid=${this.opts.user.gid}`] : []),
    ];
  }

  unitName(taskId: string): string {
    return unitName(taskId, this.unitType);
  }

  async spawn(spec: WorkerSpec): Promise<WorkerHandle> {
    const unit = this.unitName(spec.taskId);
    const runDir = dirname(spec.runBase);
    mkdirSync(dirname(spec.logFile), { recursive: true });
    mkdirSync(runDir, { recursive: true, mode: 0o700 });
    if (this.opts.user) {
      // the wrapper writes its pid and exit files as the worker user, in its own directory;
      // chown follows symlinks, so both must be real directories (never chown what a link points at)
      checkRealDir(runDir);
      checkRealDir(spec.cwd);
      chownSync(runDir, this.opts.user.uid, this.opts.user.gid);
      chownSync(spec.cwd, this.opts.user.uid, this.opts.user.gid);
    }
    this.prepare(spec);
    const replaced = await this.stopLeftover(spec.taskId);
    // reserved (spaces) and owned by the worker user; "started" below means a PID was written
    reserveRunFiles(spec.runBase, this.opts.user);
    const { stdin, out } = openWorkerStdio(spec);
    const startedAt = Date.now();
    const pidFile = `${spec.runBase}.pid`;
    const wrote = () => readPidFile(spec.runBase) !== null;
    const watcher = watch(runDir);
    const child = spawn('systemd-run', this.unitArgs(spec), { cwd: spec.cwd, stdio: [stdin, out, out], env: spec.env });
    closeSync(stdin);
    closeSync(out);
    const childExit = new Promise<{ code: number | null; signal: NodeJS.Signals | null }>((resolve) =>
      child.once('exit', (code, signal) => resolve({ code, signal })),
    );
    // Wait until the wrapper runs inside the unit (it writes its pid file first), or until
    // systemd-run gives up (unit refused, bad property, no systemd).
    const started = await new Promise<'started' | 'exited' | 'timeout' | Error>((resolve) => {
      const timer = setTimeout(() => resolve('timeout'), UNIT_START_TIMEOUT_MS);
      const finish = (v: 'started' | 'exited' | 'timeout' | Error) => {
        clearTimeout(timer);
        resolve(v);
      };
      watcher.on('change', (_e, name) => {
        if (name === basename(pidFile) && wrote()) finish('started');
      });
      if (wrote()) finish('started');
      child.once('error', (err) => finish(err));
      void childExit.then(() => finish(wrote() ? 'started' : 'exited'));
    });
    watcher.close();
    if (started instanceof Error) throw new SpawnError(`cannot run systemd-run: ${started.message}`);
    if (started === 'timeout') {
      child.kill('SIGKILL');
      // the unit may exist by now: none of the attempt may outlive its failed spawn
      if (await this.isOurs(spec.taskId)) await stopUnit(unit, this.opts.stopGraceMs);
      throw new SpawnError(`systemd-run did not start the worker within ${UNIT_START_TIMEOUT_MS / 1000}s`);
    }
    if (started === 'exited') {
      // systemd refused the unit (a unit of that name that is not a leftover of ours, a bad
      // property, no systemd): the attempt never ran. Nothing is adopted under this name.
      throw new SpawnError(`systemd-run refused the ${this.unitType} ${unit}: ${logTail(spec.logFile) || 'no message'}`);
    }
    const pid = this.workerPid(child, spec.runBase);
    const exited = childExit.then(({ code, signal }) => exitFrom(spec.runBase, code, signal, false, this.enforcesLimits));
    const h = this.handle(unit, pid, processStartTime(pid), startedAt, exited);
    return replaced ? { ...h, replacedLeftover: true } : h;
  }

  private async isOurs(taskId: string): Promise<boolean> {
    const p = await showUnit(this.unitName(taskId), ['LoadState', 'Description']);
    return p.LoadState !== undefined && p.LoadState !== 'not-found' && isWardenUnit(taskId, p.Description);
  }

  /**
   * A unit of this task's name that warden made for an earlier attempt (its processes outlived
   * that attempt, or warden lost track of it) is stopped, its whole cgroup, before the next
   * attempt. Someone else's unit of that name is left alone: systemd then refuses the new unit.
   */
  private async stopLeftover(taskId: string): Promise<boolean> {
    if (!(await this.isOurs(taskId))) return false;
    await stopUnit(this.unitName(taskId), this.opts.stopGraceMs);
    return true;
  }

  /**
   * The unit recorded for the attempt (a scope or a service: the config may have switched
   * `[executor] sandbox` between the two runs of warden), else this executor's name for the task.
   */
  async adopt(rec: AdoptRecord): Promise<AdoptResult> {
    const unit = rec.unit !== null && taskIdOfUnit(rec.unit) === rec.taskId ? rec.unit : this.unitName(rec.taskId);
    const handle = await this.adoptUnit(unit, rec.pid, rec.pidStartTime, rec.runBase, rec.startedAt);
    if (handle) return { kind: 'adopted', handle };
    return { kind: 'gone', exit: exitFrom(rec.runBase, null, null, true, this.enforcesLimits) };
  }

  private async adoptUnit(
    unit: string,
    pid: number | null,
    pidStartTime: string | null,
    runBase: string,
    startedAt: number,
  ): Promise<WorkerHandle | null> {
    const props = await showUnit(unit, ['ActiveState', 'ControlGroup']);
    if (props.ActiveState !== 'active' && props.ActiveState !== 'activating') return null;
    let workerPid = pid !== null && isSameProcessAlive(pid, pidStartTime) ? pid : null;
    if (workerPid === null) {
      const fromFile = readPidFile(runBase);
      if (fromFile !== null && isSameProcessAlive(fromFile, null)) workerPid = fromFile;
    }
    if (workerPid === null) workerPid = oldestProcessIn(props.ControlGroup ?? '');
    if (workerPid === null) return null;
    const startTime = processStartTime(workerPid);
    const exited = watchAdopted(workerPid, startTime, runBase, this.enforcesLimits);
    return this.handle(unit, workerPid, startTime, startedAt, exited);
  }

  private handle(unit: string, pid: number, pidStartTime: string | null, startedAt: number, leaderExit: Promise<WorkerExit>): WorkerHandle {
    const { exited, stop } = attemptEnd(unitTarget(unit), leaderExit, this.opts.stopGraceMs);
    return { pid, pidStartTime, unit, startedAt, exited, stop };
  }

  /**
   * Units of either type that belong to no running task. A `warden-*.scope` is warden's by its
   * name (scopes are made only by programs); a `warden-*.service` only when its description says
   * so, since an owner may well have a service of their own named like that.
   */
  async strays(knownTaskIds: ReadonlySet<string>): Promise<string[]> {
    const { stdout } = await run('systemctl', [
      'list-units',
      '--type=scope,service',
      '--all',
      '--plain',
      '--no-legend',
      '--no-pager',
      'warden-*.scope',
      'warden-*.service',
    ]);
    const out: string[] = [];
    for (const unit of stdout.split('\n').map((l) => l.trim().split(/\s+/)[0] ?? '')) {
      const id = taskIdOfUnit(unit);
      if (id === null || knownTaskIds.has(id)) continue;
      if (unit.endsWith('.service') && !isWardenUnit(id, (await showUnit(unit, ['Description'])).Description)) continue;
      out.push(unit);
    }
    return out;
  }

  async stopStray(unit: string, graceMs: number): Promise<void> {
    await stopUnit(unit, graceMs);
  }
}

const ACTIVE_STATES = new Set(['active', 'activating', 'deactivating', 'reloading']);

/**
 * Every process of a unit: `systemctl kill` signals its whole cgroup; the unit is over when it
 * is no longer active or its cgroup holds no live process (systemd marks an emptied unit
 * inactive a moment later).
 */
function unitTarget(unit: string): StopTarget {
  return {
    signal: (signal) => killUnit(unit, signal),
    async left() {
      const p = await showUnit(unit, ['ActiveState', 'ControlGroup']);
      if (!ACTIVE_STATES.has(p.ActiveState ?? '')) return 0;
      const pids = cgroupProcs(p.ControlGroup ?? '');
      // active with an unreadable cgroup: count it as one process left, so it is stopped
      return pids === null ? 1 : pids.filter((pid) => isSameProcessAlive(pid, null)).length;
    },
  };
}

/** TERM, KILL after the grace, to the whole unit; then the unit itself is stopped and unloaded. */
export async function stopUnit(unit: string, graceMs: number): Promise<void> {
  await terminate(unitTarget(unit), graceMs);
  await run('systemctl', ['stop', unit]).catch(() => undefined);
  await run('systemctl', ['reset-failed', unit]).catch(() => undefined);
}

export async function showUnit(unit: string, props: string[]): Promise<Record<string, string>> {
  try {
    const { stdout } = await run('systemctl', ['show', unit, ...props.map((p) => `-p${p}`)]);
    return Object.fromEntries(
      stdout
        .split('\n')
        .filter(Boolean)
        .map((l) => [l.slice(0, l.indexOf('=')), l.slice(l.indexOf('=') + 1)]),
    );
  } catch {
    return {};
  }
}

async function killUnit(unit: string, signal: 'SIGTERM' | 'SIGKILL'): Promise<void> {
  await run('systemctl', ['kill', `--signal=${signal}`, unit]).catch(() => undefined);
}

/** The oldest process of a unit's cgroup (the wrapper, which started first). */
function oldestProcessIn(controlGroup: string): number | null {
  const pids = cgroupProcs(controlGroup) ?? [];
  return pids.sort((a, b) => Number(processStartTime(a) ?? 0) - Number(processStartTime(b) ?? 0))[0] ?? null;
}

/**
 * The PIDs in a cgroup (v2, or the v1 name=systemd hierarchy in hybrid mode): the first
 * hierarchy where its cgroup.procs is readable and not empty; [] when readable but empty; null
 * when unreadable everywhere (the cgroup is gone, or no path given).
 */
function cgroupProcs(controlGroup: string): number[] | null {
  if (!controlGroup) return null;
  let found: number[] | null = null;
  for (const base of ['/sys/fs/cgroup/systemd', '/sys/fs/cgroup/unified', '/sys/fs/cgroup']) {
    try {
      const pids = readFileSync(`${base}${controlGroup}/cgroup.procs`, 'latin1').split('\n').filter(Boolean).map(Number);
      if (pids.length > 0) return pids;
      found = [];
    } catch {
      continue;
    }
  }
  return found;
}

/** The last lines of the attempt log: what systemd-run said when it refused a unit. */
function logTail(file: string, bytes = 400): string {
  try {
    const text = readRegularText(file);
    return text.slice(-bytes).trim().split('\n').slice(-3).join(' | ');
  } catch {
    return '';
  }
}
