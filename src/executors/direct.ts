// The direct executor: each worker is a plain process group (no systemd). It exists for machines
// without systemd and for development. It cannot cap memory or CPU, and says so.
import { spawn } from 'node:child_process';
import { closeSync, mkdirSync } from 'node:fs';
import { dirname } from 'node:path';
import { setTimeout as sleep } from 'node:timers/promises';
import { isSameProcessAlive, processStartTime, readPidFile, WRAPPER_SCRIPT } from './process-info.js';
import { reserveRunFiles } from './run-files.js';
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

export class DirectExecutor implements Executor {
  readonly kind = 'direct' as const;
  readonly enforcesLimits = false;

  async spawn(spec: WorkerSpec): Promise<WorkerHandle> {
    mkdirSync(dirname(spec.logFile), { recursive: true });
    mkdirSync(dirname(spec.runBase), { recursive: true });
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
    return makeHandle(pid, processStartTime(pid), startedAt, exited);
  }

  async adopt(rec: AdoptRecord): Promise<AdoptResult> {
    const pid = rec.pid ?? readPidFile(rec.runBase);
    if (pid !== null && isSameProcessAlive(pid, rec.pid === null ? null : rec.pidStartTime)) {
      const startTime = rec.pidStartTime ?? processStartTime(pid);
      return { kind: 'adopted', handle: makeHandle(pid, startTime, rec.startedAt, watchAdopted(pid, startTime, rec.runBase, false)) };
    }
    return { kind: 'gone', exit: exitFrom(rec.runBase, null, null, true, false) };
  }

  async strays(): Promise<string[]> {
    return []; // plain process groups carry no name warden could find them by
  }

  async stopStray(): Promise<void> {}
}

function makeHandle(pid: number, pidStartTime: string | null, startedAt: number, exited: Promise<WorkerExit>): WorkerHandle {
  let done = false;
  void exited.then(() => (done = true));
  return {
    pid,
    pidStartTime,
    unit: null,
    startedAt,
    exited,
    async stop(graceMs: number) {
      if (done) return;
      signalGroup(pid, 'SIGTERM');
      const killed = await Promise.race([exited.then(() => true), sleep(graceMs).then(() => false)]);
      if (!killed) {
        signalGroup(pid, 'SIGKILL');
        await exited;
      }
    },
  };
}

function signalGroup(pgid: number, signal: NodeJS.Signals): void {
  try {
    process.kill(-pgid, signal);
  } catch (err) {
    if ((err as NodeJS.ErrnoException).code !== 'ESRCH') throw err;
  }
}
