// The direct executor: each worker is a plain process group (no systemd). It exists for machines
// without systemd and for development. It cannot cap memory or CPU, and says so. An attempt is
// its whole process group (and session): the wrapper is started with setsid, and an attempt is
// over only when /proc shows no live process left in that group, whatever the wrapper did.
import { spawn } from 'node:child_process';
import { closeSync, mkdirSync, rmSync } from 'node:fs';
import { dirname } from 'node:path';
import { groupMembers, isSameProcessAlive, processStartTime, readPidFile, WRAPPER_SCRIPT } from './process-info.js';
import { reserveRunFiles } from './run-files.js';
import { attemptEnd, type StopTarget } from './terminate.js';
import { exitFrom, watchAdopted } from './worker-exit.js';
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

export interface DirectExecutorOptions {
  /** The grace between TERM and KILL for what a worker leaves running when it exits on its own. */
  stopGraceMs: number;
}

export class DirectExecutor implements Executor {
  readonly kind = 'direct' as const;
  readonly sandbox = 'sandbox: off';
  readonly enforcesLimits = false;

  constructor(private readonly opts: DirectExecutorOptions) {}

  async spawn(spec: WorkerSpec): Promise<WorkerHandle> {
    mkdirSync(dirname(spec.logFile), { recursive: true });
    mkdirSync(dirname(spec.runBase), { recursive: true });
    rmSync(`${spec.runBase}.exit`, { force: true });
    rmSync(`${spec.runBase}.pid`, { force: true }); // stale, or a planted symlink the wrapper would write through
    reserveRunFiles(spec.runBase);
    const { stdin, out } = openWorkerStdio(spec);
    const startedAt = Date.now();
    const child = spawn('/bin/sh', ['-c', WRAPPER_SCRIPT, spec.runBase, ...spec.argv], {
      cwd: spec.cwd,
      detached: true, // own process group: stop() signals the worker and all its children
      stdio: [stdin, out, out],
      env: spec.env,
    });
    closeSync(stdin);
    closeSync(out);
    const pid = await new Promise<number>((resolve, reject) => {
      child.once('spawn', () => resolve(child.pid as number));
      child.once('error', (err) => reject(new SpawnError(`cannot start /bin/sh for the worker: ${err.message}`)));
    });
    const exited = new Promise<WorkerExit>((resolve) => {
      child.once('exit', (code, signal) => {
        resolve(exitFrom(spec.runBase, code, signal, false, false));
      });
    });
    // the command itself may not exist: the wrapper's sh then exits 127 at once
    return makeHandle(pid, processStartTime(pid), startedAt, exited, this.opts.stopGraceMs);
  }

  async adopt(rec: AdoptRecord): Promise<AdoptResult> {
    const pid = rec.pid ?? readPidFile(rec.runBase);
    if (pid !== null && isSameProcessAlive(pid, rec.pid === null ? null : rec.pidStartTime)) {
      const startTime = rec.pidStartTime ?? processStartTime(pid);
      const exited = watchAdopted(pid, startTime, rec.runBase, false);
      return { kind: 'adopted', handle: makeHandle(pid, startTime, rec.startedAt, exited, this.opts.stopGraceMs) };
    }
    return { kind: 'gone', exit: exitFrom(rec.runBase, null, null, true, false) };
  }

  async strays(): Promise<string[]> {
    return []; // plain process groups carry no name warden could find them by
  }

  async stopStray(): Promise<void> {}
}

function makeHandle(
  pid: number,
  pidStartTime: string | null,
  startedAt: number,
  leaderExit: Promise<WorkerExit>,
  graceMs: number,
): WorkerHandle {
  const { exited, stop } = attemptEnd(processGroup(pid), leaderExit, graceMs);
  return { pid, pidStartTime, unit: null, startedAt, exited, stop };
}

/**
 * The wrapper's process group and session (both `pgid`, from setsid). The kernel does not reuse a
 * PID while a group or session of that ID has a member, so `pgid` names this attempt until the
 * scan finds it empty. Members that left the group but not the session are signalled one by one.
 */
export function processGroup(pgid: number, procRoot = '/proc'): StopTarget {
  return {
    signal(signal) {
      signalGroup(pgid, signal);
      for (const m of groupMembers(pgid, procRoot)) if (m.pgrp !== pgid) signalPid(m.pid, signal);
    },
    left: () => groupMembers(pgid, procRoot).length,
  };
}

function signalGroup(pgid: number, signal: NodeJS.Signals): void {
  signalPid(-pgid, signal);
}

function signalPid(pid: number, signal: NodeJS.Signals): void {
  try {
    process.kill(pid, signal);
  } catch (err) {
    const code = (err as NodeJS.ErrnoException).code;
    if (code !== 'ESRCH' && code !== 'EPERM') throw err;
  }
}
