// The dead man's switch's heartbeat: one small file, `<state_dir>/fleet/heartbeat`, holding the
// moment (in centiseconds of /proc/uptime) after which every worker of this node must be dead.
// warden moves it forward at each lease renewal that succeeds; each attempt's wrapper reads it
// (src/executors/process-info.ts, WRAPPER_SCRIPT) and kills its attempt once the moment has
// passed, or when the file is missing or unreadable. It does not depend on warden running: a
// warden killed -9 or frozen stops moving it, and its workers die before its lease can expire.
// /proc/uptime is read by both sides, so they share one clock (boot time, never set back).
// Its directory is root's, 0755: with the systemd executor run/ belongs to the worker user, who
// could otherwise replace the file and outlive its lease; a sandboxed worker gets the directory
// bound read-only (src/executors/systemd-service.ts), as its state_dir is hidden.
import { readFileSync, renameSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { ATOMIC_TMP_MARK } from '../host/write-file-atomic.js';

export function heartbeatPath(stateDir: string): string {
  return join(stateDir, 'fleet', 'heartbeat');
}

/** Now, in centiseconds since boot: the clock the wrapper reads with shell builtins. */
export function uptimeCs(procRoot = '/proc'): number {
  const first = readFileSync(join(procRoot, 'uptime'), 'latin1').split(' ')[0] ?? '';
  const m = /^(\d+)\.(\d\d)$/.exec(first);
  if (!m) throw new Error(`unexpected /proc/uptime: ${JSON.stringify(first)}`);
  return Number(m[1]) * 100 + Number(m[2]);
}

/**
 * Workers must be dead by `deadlineCs`. Written whole (temp file, rename) so a reader never sees
 * half a number; not fsynced: after a reboot no worker is left to read it.
 */
export function writeHeartbeat(path: string, deadlineCs: number): void {
  const tmp = `${path}${ATOMIC_TMP_MARK}${process.pid}`;
  writeFileSync(tmp, `${Math.max(0, Math.floor(deadlineCs))}\n`, { mode: 0o644 });
  renameSync(tmp, path);
}
