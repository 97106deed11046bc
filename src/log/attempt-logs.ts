// Each attempt's stdout and stderr go to state_dir/logs/<task-id>/<attempt>.log. A task's logs
// together are capped at worker.log_max: the oldest attempts' logs are removed first (SD cards
// are small, and a chatty worker retried a few times must not fill one).
import { lstatSync, readdirSync, rmSync } from 'node:fs';
import { checkRealDir } from '../host/safe-open.js';
import { join } from 'node:path';

export function taskLogDir(stateDir: string, taskId: string): string {
  return join(stateDir, 'logs', taskId);
}

export function attemptLogPath(stateDir: string, taskId: string, attempt: number): string {
  return join(taskLogDir(stateDir, taskId), `${attempt}.log`);
}

/** The line left where warden cut a running attempt's log at worker.log_max (src/verdict/log-tail.ts). */
export const CUT_MARKER_PREFIX = '[warden: ';
export function cutMarker(bytes: number): string {
  return `\n${CUT_MARKER_PREFIX}${bytes} bytes of output cut here (worker.log_max)]\n`;
}

/** Attempt numbers with a log, oldest first. */
export function attemptLogs(stateDir: string, taskId: string): number[] {
  try {
    return readdirSync(taskLogDir(stateDir, taskId))
      .map((f) => /^(\d+)\.log$/.exec(f)?.[1])
      .filter((n): n is string => n !== undefined)
      .map(Number)
      .sort((a, b) => a - b);
  } catch {
    return [];
  }
}

/** Removes the oldest attempts' logs until the task's logs fit in `maxBytes`; keeps the newest. */
export function capTaskLogs(stateDir: string, taskId: string, maxBytes: number): number[] {
  try {
    checkRealDir(taskLogDir(stateDir, taskId)); // never remove files where a planted symlink points
  } catch {
    return [];
  }
  const attempts = attemptLogs(stateDir, taskId);
  const sizes = attempts.map((a) => {
    try {
      return lstatSync(attemptLogPath(stateDir, taskId, a)).size;
    } catch {
      return 0;
    }
  });
  let total = sizes.reduce((x, y) => x + y, 0);
  const removed: number[] = [];
  for (let i = 0; i < attempts.length - 1 && total > maxBytes; i++) {
    rmSync(attemptLogPath(stateDir, taskId, attempts[i] as number), { force: true });
    total -= sizes[i] ?? 0;
    removed.push(attempts[i] as number);
  }
  return removed;
}
