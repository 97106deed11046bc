// The systemd executor: each attempt runs in its own transient scope `warden-<task>.scope` in
// `warden-workers.slice`, with MemoryMax, MemorySwapMax=0, CPUQuota and a RuntimeMaxSec backstop
// (warden enforces max_runtime itself; the backstop holds if warden is down). systemd-run execs
// the command itself, so the child we spawn is the worker wrapper inside its scope. The unit name
// is deterministic: a scope of that name left over from an earlier attempt of the task (one of
// warden's, by its description) is stopped before the next attempt; any other unit of that name
// makes systemd refuse the scope, and the spawn fails. An attempt is its whole scope: it is over
// only when no process is left in the scope's cgroup, whatever the wrapper did.
import { spawn, execFile } from 'node:child_process';
import { chownSync, closeSync, mkdirSync, readFileSync, watch } from 'node:fs';
import { basename, dirname } from 'node:path';
import { promisify } from 'node:util';
import { reserveRunFiles } from './run-files.js';
import { exitFrom, watchAdopted } from './worker-exit.js';
import { isSameProcessAlive, processStartTime, readPidFile, WRAPPER_SCRIPT } from './process-info.js';
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
/** How long systemd-run may take to create the scope and exec the wrapper. */
export const SCOPE_START_TIMEOUT_MS = 15_000;

export function unitName(taskId: string): string {
  return `warden-${taskId}.scope`;
}

/** The description warden gives its scopes; how a leftover scope is told from someone else's unit. */
export function scopeDescription(taskId: string, attempt: number): string {
  return `${descriptionPrefix(taskId)}${attempt})`;
}

function descriptionPrefix(taskId: string): string {
  return `warden worker for task ${taskId} (attempt `;
}

/** A unit of this name that warden made for an attempt of this task (not someone else's). */
export function isWardenScope(taskId: string, description: string | undefined): boolean {
  return description !== undefined && description.startsWith(descriptionPrefix(taskId));
}

export function taskIdOfUnit(unit: string): string | null {
  const m = /^warden-(.+)\.scope$/.exec(unit);
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

export class SystemdExecutor implements Executor {
  readonly kind = 'systemd' as const;
  readonly enforcesLimits: boolean;
  private readonly slice: string;

  constructor(private readonly opts: SystemdExecutorOptions) {
    this.enforcesLimits = opts.memoryEnforced;
    this.slice = opts.slice ?? WORKER_SLICE;
  }

  scopeArgs(spec: WorkerSpec): string[] {
    const runtimeBackstopSec = Math.ceil((this.opts.maxRuntimeMs + this.opts.stopGraceMs) / 1000) + 60;
    return [
      '--scope',
      '--quiet',
      '--collect',
      `--unit=${unitName(spec.taskId)}`,
      `--slice=${this.slice}`,
      `--description=${scopeDescription(spec.taskId, spec.attempt)}`,
      '-p',
      `MemoryMax=${spec.memoryMax}`,
      '-p',
      'MemorySwapMax=0',
      '-p',
      `CPUQuota=${spec.cpuQuota}%`,
      '-p',
      `RuntimeMaxSec=${runtimeBackstopSec}`,
      '-p',
      `TimeoutStopSec=${Math.max(1, Math.ceil(this.opts.stopGraceMs / 1000))}`,
      ...(this.opts.user ? [`--uid=${this.opts.user.uid}`, `--gid=${this.opts.user.gid}`] : []),
      '/bin/sh',
      '-c',
      WRAPPER_SCRIPT,
      spec.runBase,
      ...spec.argv,
    ];
  }

  async spawn(spec: WorkerSpec): Promise<WorkerHandle> {
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
    const replaced = await this.stopLeftover(spec.taskId);
    // reserved (spaces) and owned by the worker user; "started" below means a PID was written
    reserveRunFiles(spec.runBase, this.opts.user);
    const { stdin, out } = openWorkerStdio(spec);
    const startedAt = Date.now();
    const pidFile = `${spec.runBase}.pid`;
    const wrote = () => readPidFile(spec.runBase) !== null;
    const watcher = watch(runDir);
    const child = spawn('systemd-run', this.scopeArgs(spec), { cwd: spec.cwd, stdio: [stdin, out, out], env: spec.env });
    closeSync(stdin);
    closeSync(out);
    const childExit = new Promise<{ code: number | null; signal: NodeJS.Signals | null }>((resolve) =>
      child.once('exit', (code, signal) => resolve({ code, signal })),
    );
    // Wait until the wrapper runs inside the scope (it writes its pid file first), or until
    // systemd-run gives up (unit refused, bad property, no systemd).
    const started = await new Promise<'started' | 'exited' | 'timeout' | Error>((resolve) => {
      const timer = setTimeout(() => resolve('timeout'), SCOPE_START_TIMEOUT_MS);
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
      // the scope may exist by now: none of the attempt may outlive its failed spawn
      if (await this.isOurs(spec.taskId)) await stopScope(unitName(spec.taskId), this.opts.stopGraceMs);
      throw new SpawnError(`systemd-run did not start the worker within ${SCOPE_START_TIMEOUT_MS / 1000}s`);
    }
    if (started === 'exited') {
      // systemd refused the scope (a unit of that name that is not a leftover of ours, a bad
      // property, no systemd): the attempt never ran. Nothing is adopted under this name.
      throw new SpawnError(`systemd-run refused the scope ${unitName(spec.taskId)}: ${tail(spec.logFile) || 'no message'}`);
    }
    const pid = child.pid as number;
    const exited = childExit.then(({ code, signal }) => exitFrom(spec.runBase, code, signal, false, this.enforcesLimits));
    const h = this.handle(spec.taskId, pid, processStartTime(pid), startedAt, exited);
    return replaced ? { ...h, replacedLeftover: true } : h;
  }

  private async isOurs(taskId: string): Promise<boolean> {
    const p = await showUnit(unitName(taskId), ['LoadState', 'Description']);
    return p.LoadState !== undefined && p.LoadState !== 'not-found' && isWardenScope(taskId, p.Description);
  }

  /**
   * A scope of this task's name that warden made for an earlier attempt (its processes outlived
   * that attempt, or warden lost track of it) is stopped, its whole cgroup, before the next
   * attempt. Someone else's unit of that name is left alone: systemd then refuses the new scope.
   */
  private async stopLeftover(taskId: string): Promise<boolean> {
    if (!(await this.isOurs(taskId))) return false;
    await stopScope(unitName(taskId), this.opts.stopGraceMs);
    return true;
  }

  async adopt(rec: AdoptRecord): Promise<AdoptResult> {
    const handle = await this.adoptUnit(rec.taskId, rec.pid, rec.pidStartTime, rec.runBase, rec.startedAt);
    if (handle) return { kind: 'adopted', handle };
    return { kind: 'gone', exit: exitFrom(rec.runBase, null, null, true, this.enforcesLimits) };
  }

  private async adoptUnit(
    taskId: string,
    pid: number | null,
    pidStartTime: string | null,
    runBase: string,
    startedAt: number,
  ): Promise<WorkerHandle | null> {
    const unit = unitName(taskId);
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
    return this.handle(taskId, workerPid, startTime, startedAt, exited);
  }

  private handle(
    taskId: string,
    pid: number,
    pidStartTime: string | null,
    startedAt: number,
    leaderExit: Promise<WorkerExit>,
  ): WorkerHandle {
    const unit = unitName(taskId);
    const { exited, stop } = attemptEnd(scopeTarget(unit), leaderExit, this.opts.stopGraceMs);
    return { pid, pidStartTime, unit, startedAt, exited, stop };
  }

  async strays(knownTaskIds: ReadonlySet<string>): Promise<string[]> {
    const { stdout } = await run('systemctl', [
      'list-units',
      '--type=scope',
      '--all',
      '--plain',
      '--no-legend',
      '--no-pager',
      'warden-*.scope',
    ]);
    return stdout
      .split('\n')
      .map((l) => l.trim().split(/\s+/)[0] ?? '')
      .filter((u) => u.endsWith('.scope'))
      .filter((u) => {
        const id = taskIdOfUnit(u);
        return id !== null && !knownTaskIds.has(id);
      });
  }

  async stopStray(unit: string, graceMs: number): Promise<void> {
    await stopScope(unit, graceMs);
  }
}

const ACTIVE_STATES = new Set(['active', 'activating', 'deactivating', 'reloading']);

/**
 * Every process of a scope: `systemctl kill` signals its whole cgroup; the scope is over when it
 * is no longer active or its cgroup holds no live process (systemd marks an emptied scope
 * inactive a moment later).
 */
function scopeTarget(unit: string): StopTarget {
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

/** TERM, KILL after the grace, to the whole scope; then the unit itself is stopped and unloaded. */
async function stopScope(unit: string, graceMs: number): Promise<void> {
  await terminate(scopeTarget(unit), graceMs);
  await run('systemctl', ['stop', unit]).catch(() => undefined);
  await run('systemctl', ['reset-failed', unit]).catch(() => undefined);
}

async function showUnit(unit: string, props: string[]): Promise<Record<string, string>> {
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

/** The oldest process of a scope's cgroup (the wrapper, which started first). */
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

function tail(file: string, bytes = 400): string {
  try {
    const text = readRegularText(file);
    return text.slice(-bytes).trim().split('\n').slice(-3).join(' | ');
  } catch {
    return '';
  }
}
