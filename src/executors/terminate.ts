// Ending every process of an attempt: SIGTERM, then SIGKILL after the grace period, until none is
// left. The executors supply the target (a process group, a systemd scope); the sequence and its
// timing are the same for both. It polls only while a stop is under way, every STOP_POLL_MS.
import { setTimeout as sleep } from 'node:timers/promises';
import type { WorkerExit } from './types.js';

export interface StopTarget {
  /** Sends `signal` to every process of the attempt. */
  signal(signal: 'SIGTERM' | 'SIGKILL'): Promise<void> | void;
  /** How many processes of the attempt are still alive (0: it is over). */
  left(): Promise<number> | number;
}

/**
 * `gone`: nothing was left to signal; `term`: all gone within the grace; `killed`: SIGKILL was
 * needed; `stuck`: processes were still there `killWaitMs` after SIGKILL (uninterruptible sleep).
 */
export type StopOutcome = 'gone' | 'term' | 'killed' | 'stuck';

export const STOP_POLL_MS = 200;
/** How long SIGKILLed processes may take to disappear (a process in D state on a slow SD card). */
export const KILL_WAIT_MS = 10_000;

export async function terminate(
  t: StopTarget,
  graceMs: number,
  { pollMs = STOP_POLL_MS, killWaitMs = KILL_WAIT_MS }: { pollMs?: number; killWaitMs?: number } = {},
): Promise<StopOutcome> {
  if ((await t.left()) === 0) return 'gone';
  await t.signal('SIGTERM');
  if (await waitGone(t, graceMs, pollMs)) return 'term';
  await t.signal('SIGKILL');
  const deadline = Date.now() + killWaitMs;
  for (;;) {
    if ((await t.left()) === 0) return 'killed';
    if (Date.now() >= deadline) return 'stuck';
    await sleep(pollMs);
    await t.signal('SIGKILL'); // a process forked between the scan and the signal gets its own
  }
}

async function waitGone(t: StopTarget, ms: number, pollMs: number): Promise<boolean> {
  const deadline = Date.now() + ms;
  for (;;) {
    if ((await t.left()) === 0) return true;
    const left = deadline - Date.now();
    if (left <= 0) return false;
    await sleep(Math.min(pollMs, left));
  }
}

/**
 * The end of an attempt as a handle reports it. `leaderExit` is the worker's own exit; `exited`
 * resolves only after whatever the worker left running has been ended too (TERM, then KILL after
 * `graceMs`), and counts it in `leftBehind` when nobody had asked the attempt to stop. `stop`
 * runs the same sequence at once, and both share one run of it.
 */
export function attemptEnd(
  target: StopTarget,
  leaderExit: Promise<WorkerExit>,
  graceMs: number,
): { exited: Promise<WorkerExit>; stop: (graceMs: number) => Promise<void> } {
  let ending: Promise<StopOutcome> | null = null;
  let done = false;
  const end = (ms: number) => (ending ??= terminate(target, ms));
  const exited = leaderExit.then(async (exit) => {
    const asked = ending !== null;
    const left = asked ? 0 : await target.left();
    if (asked || left > 0) await end(graceMs);
    done = true;
    return left > 0 ? { ...exit, leftBehind: left } : exit;
  });
  return {
    exited,
    stop: async (ms: number) => {
      if (done) return;
      await end(ms);
      await exited;
    },
  };
}
