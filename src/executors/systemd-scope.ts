// The systemd executor: each attempt runs in its own transient scope `warden-<task>.scope` in
// `warden-workers.slice`, with MemoryMax, MemorySwapMax=0, CPUQuota and a RuntimeMaxSec backstop
// (warden enforces max_runtime itself; the backstop holds if warden is down). systemd-run execs
// the command itself, so the child we spawn is the worker wrapper inside its scope. The unit name
// is deterministic: systemd refuses a second unit of that name, and warden then adopts the
// running one; it never starts the task under another name.
import { spawn, execFile } from 'node:child_process';
import { chownSync, closeSync, mkdirSync, readFileSync, watch } from 'node:fs';
import { basename, dirname } from 'node:path';
import { setTimeout as sleep } from 'node:timers/promises';
import { promisify } from 'node:util';
import { reserveRunFiles } from './run-files.js';
import { exitFrom, watchAdopted } from './worker-exit.js';
import { isSameProcessAlive, processStartTime, readPidFile, WRAPPER_SCRIPT } from './process-info.js';
import { openWorkerStdio } from './worker-stdio.js';
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
      `--description=warden worker for task ${spec.taskId} (attempt ${spec.attempt})`,
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
      // the wrapper writes its pid and exit files as the worker user, in its own directory
      chownSync(runDir, this.opts.user.uid, this.opts.user.gid);
      chownSync(spec.cwd, this.opts.user.uid, this.opts.user.gid);
    }
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
      throw new SpawnError(`systemd-run did not start the worker within ${SCOPE_START_TIMEOUT_MS / 1000}s`);
    }
    if (started === 'exited') {
      const why = tail(spec.logFile);
      if (/already loaded|already exists|has a fragment file/.test(why)) {
        // A scope for this task already runs (another warden, or one the state lost). Adopt it;
        // never start the task under another name.
        const existing = await this.adoptUnit(spec.taskId, null, null, spec.runBase, startedAt);
        if (existing) return existing;
      }
      throw new SpawnError(`systemd-run refused the scope: ${why || 'no message'}`);
    }
    const pid = child.pid as number;
    const exited = childExit.then(({ code, signal }) => exitFrom(spec.runBase, code, signal, false, this.enforcesLimits));
    return this.handle(spec.taskId, pid, processStartTime(pid), startedAt, exited);
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

  private handle(taskId: string, pid: number, pidStartTime: string | null, startedAt: number, exited: Promise<WorkerExit>): WorkerHandle {
    const unit = unitName(taskId);
    let done = false;
    void exited.then(() => (done = true));
    return {
      pid,
      pidStartTime,
      unit,
      startedAt,
      exited,
      async stop(graceMs: number) {
        if (done) return;
        await killUnit(unit, 'SIGTERM');
        const gone = await Promise.race([exited.then(() => true), sleep(graceMs).then(() => false)]);
        if (!gone) {
          await killUnit(unit, 'SIGKILL');
          await exited;
        }
      },
    };
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

  async stopStray(unit: string): Promise<void> {
    // the scope carries its own TimeoutStopSec (stop_grace), after which systemd SIGKILLs it
    await run('systemctl', ['stop', unit]).catch(() => undefined);
  }
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
  if (!controlGroup) return null;
  for (const base of ['/sys/fs/cgroup/systemd', '/sys/fs/cgroup/unified', '/sys/fs/cgroup']) {
    try {
      const pids = readFileSync(`${base}${controlGroup}/cgroup.procs`, 'latin1').split('\n').filter(Boolean).map(Number);
      if (pids.length === 0) continue;
      return pids.sort((a, b) => Number(processStartTime(a) ?? 0) - Number(processStartTime(b) ?? 0))[0] ?? null;
    } catch {
      continue;
    }
  }
  return null;
}

function tail(file: string, bytes = 400): string {
  try {
    const text = readFileSync(file, 'utf8');
    return text.slice(-bytes).trim().split('\n').slice(-3).join(' | ');
  } catch {
    return '';
  }
}
