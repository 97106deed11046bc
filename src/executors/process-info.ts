// Small /proc helpers shared by the executors: a PID's start time (to tell a recycled PID from
// our worker), liveness, signal names, and the exit-status file the worker wrapper writes.
import { readFileSync } from 'node:fs';
import { constants } from 'node:os';

/** Field 22 of /proc/PID/stat: start time in clock ticks since boot; null if the PID is gone. */
export function processStartTime(pid: number): string | null {
  try {
    const stat = readFileSync(`/proc/${pid}/stat`, 'latin1');
    // comm (field 2) may contain spaces and parentheses: split after the last ')'
    const rest = stat.slice(stat.lastIndexOf(')') + 2).split(' ');
    return rest[19] ?? null;
  } catch {
    return null;
  }
}

/** True when `pid` runs and is the same process that was recorded (same start time). */
export function isSameProcessAlive(pid: number, startTime: string | null): boolean {
  const now = processStartTime(pid);
  if (now === null) return false;
  if (isZombie(pid)) return false;
  return startTime === null || now === startTime;
}

function isZombie(pid: number): boolean {
  try {
    const stat = readFileSync(`/proc/${pid}/stat`, 'latin1');
    return stat.slice(stat.lastIndexOf(')') + 2, stat.lastIndexOf(')') + 3) === 'Z';
  } catch {
    return false;
  }
}

const SIGNAL_NAMES = new Map<number, string>(Object.entries(constants.signals).map(([name, num]) => [num as number, name]));

export function signalName(num: number): string {
  return SIGNAL_NAMES.get(num) ?? `SIG${num}`;
}

/** A shell reports a child killed by signal N as 128+N. */
export function decodeShellStatus(rc: number): { exitCode: number | null; signal: string | null } {
  if (rc > 128 && rc < 128 + 65) return { exitCode: null, signal: signalName(rc - 128) };
  return { exitCode: rc, signal: null };
}

export function readExitFile(runBase: string): number | null {
  try {
    const text = readFileSync(`${runBase}.exit`, 'latin1').trim();
    return /^\d+$/.test(text) ? Number(text) : null;
  } catch {
    return null;
  }
}

export function readPidFile(runBase: string): number | null {
  try {
    const text = readFileSync(`${runBase}.pid`, 'latin1').trim();
    return /^\d+$/.test(text) ? Number(text) : null;
  } catch {
    return null;
  }
}

/**
 * The worker wrapper: a POSIX sh that records its PID, runs the worker as its child and records
 * the exit status in a file. That file is how a restarted warden learns how an adopted worker
 * ended, since it is no longer the worker's parent. sh costs ~1 MB, not a second Node.
 */
export const WRAPPER_SCRIPT = 'echo $$ > "$0.pid"; "$@"; rc=$?; echo $rc > "$0.exit"; exit $rc';
