// How an attempt ended, from the wrapper's exit record (see WRAPPER_SCRIPT) and the child status.
import { decodeShellStatus, isSameProcessAlive, readExitFile, type ExitRecord } from './process-info.js';
import type { WorkerExit } from './types.js';

export const ADOPTED_CHECK_MS = 1000;

/**
 * The wrapper's exit file is the worker's own status; the child's status is the fallback.
 * `memoryCapped`: only in a capped cgroup does the wrapper's OOM record describe this worker.
 */
export function exitFrom(
  runBase: string,
  code: number | null,
  signal: NodeJS.Signals | null,
  adopted = false,
  memoryCapped = false,
): WorkerExit {
  const rec = readExitFile(runBase);
  const endedAt = Date.now();
  const base = { spawnError: null, oomKilled: false, lost: false, endedAt };
  if (rec !== null) {
    const status = decodeShellStatus(rec.rc);
    return { ...base, ...status, oomKilled: memoryCapped && oomFromRecord(rec, status.signal), memoryPeak: rec.peak };
  }
  if (signal) return { ...base, exitCode: null, signal };
  if (code !== null) return { ...base, ...decodeShellStatus(code) };
  return { ...base, exitCode: null, signal: null, lost: adopted };
}

/**
 * OOM-killed: the cgroup's OOM counter moved (v2 memory.events, v1 memory.oom_control), or, on
 * kernels without that counter, a SIGKILL while peak usage had reached the limit.
 */
export function oomFromRecord(rec: ExitRecord, signal: string | null): boolean {
  if (rec.rc === 0) return false; // a subprocess was OOM-killed but the worker itself succeeded
  if (rec.oomKill !== null) return rec.oomKill > 0;
  return signal === 'SIGKILL' && rec.peak !== null && rec.limit !== null && rec.peak >= rec.limit;
}

/** An adopted worker is no longer our child: check its liveness once a second (one /proc read). */
export function watchAdopted(pid: number, startTime: string | null, runBase: string, memoryCapped: boolean): Promise<WorkerExit> {
  return new Promise((resolve) => {
    const timer = setInterval(() => {
      if (!isSameProcessAlive(pid, startTime)) {
        clearInterval(timer);
        resolve(exitFrom(runBase, null, null, true, memoryCapped));
      }
    }, ADOPTED_CHECK_MS);
  });
}
