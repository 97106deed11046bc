// Temporary files a crash or a full disk left in the state directory, removed at the daemon's
// start: `<file>.tmp-<pid>` from an atomic write (the state, prompts, the alert memory) whose
// writer is gone, and a queue request `.<ID>.json.tmp` that `warden task add` left more than
// QUEUE_TMP_STALE_MS ago (a command that is writing one right now is left alone).
import { readdirSync, rmSync, statSync } from 'node:fs';
import { join } from 'node:path';
import { isSameProcessAlive } from '../executors/process-info.js';
import { ATOMIC_TMP_MARK } from '../host/write-file-atomic.js';
import { promptDir, QUEUE_TMP_STALE_MS, queueDir } from '../tasks/local-queue.js';

/** The PID in an atomic write's temporary name (`<file>.tmp-<pid>`), or null for another name. */
export function atomicTmpPid(name: string): number | null {
  const i = name.lastIndexOf(ATOMIC_TMP_MARK);
  if (i < 0) return null;
  const pid = name.slice(i + ATOMIC_TMP_MARK.length);
  return /^\d+$/.test(pid) ? Number(pid) : null;
}

export function isQueueTmp(name: string): boolean {
  return name.startsWith('.') && name.endsWith('.json.tmp');
}

/** Removes stale temporary files; returns the paths removed. Never throws. */
export function removeStaleTemps(stateDir: string, now = Date.now()): string[] {
  const removed: string[] = [];
  const sweep = (dir: string, stale: (name: string, path: string) => boolean) => {
    let names: string[];
    try {
      names = readdirSync(dir);
    } catch {
      return;
    }
    for (const name of names) {
      const path = join(dir, name);
      try {
        if (!stale(name, path)) continue;
        rmSync(path, { force: true });
        removed.push(path);
      } catch {
        /* gone already, or not ours to remove */
      }
    }
  };
  // the state and the prompts have one writer, this daemon (a second one refuses to start), so
  // every such file of another PID is stale; the alert memory may also be written by `alert test`
  const daemonOnly = (name: string) => {
    const pid = atomicTmpPid(name);
    return pid !== null && pid !== process.pid && (name.startsWith('state.json') || !isSameProcessAlive(pid, null));
  };
  sweep(stateDir, daemonOnly);
  sweep(promptDir(stateDir), (name) => atomicTmpPid(name) !== null && atomicTmpPid(name) !== process.pid);
  sweep(queueDir(stateDir), (name, path) => isQueueTmp(name) && now - statSync(path).mtimeMs > QUEUE_TMP_STALE_MS);
  return removed;
}
