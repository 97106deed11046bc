// What warden does when it cannot write to its state directory (a full disk: no space or no
// inodes). Pure: the retry timing and the text of the disk problem that holds spawning. The
// I/O is in src/supervisor/state-keeper.ts.

/** A write to the state directory failed and has not yet been followed by a successful save. */
export interface WriteFault {
  since: number;
  /** Failed writes in a row (saves and other writes); drives the retry delay. */
  failures: number;
  /** The latest error, e.g. "ENOSPC: no space left on device, write". */
  error: string;
  /** The state in memory is ahead of the state file (an outcome or a claim is not yet on disk). */
  unsaved: boolean;
}

export const SAVE_RETRY_FIRST_MS = 500;
export const SAVE_RETRY_MAX_MS = 10_000;

/** Delay before the next save attempt after `failures` failed writes in a row (0 after a good write): 0.5 s doubling, capped at 10 s. */
export function saveRetryDelay(failures: number): number {
  const n = Math.max(1, Math.floor(failures));
  return Math.min(SAVE_RETRY_MAX_MS, SAVE_RETRY_FIRST_MS * 2 ** Math.min(n - 1, 30));
}

/** A failed write: starts a fault or adds to it. `alert`: a new fault (the owner is told once per fault). */
export function noteWriteFailure(
  prev: WriteFault | null,
  now: number,
  error: string,
  unsaved: boolean,
): { fault: WriteFault; alert: boolean } {
  if (prev === null) return { fault: { since: now, failures: 1, error, unsaved }, alert: true };
  return { fault: { ...prev, failures: prev.failures + 1, error, unsaved: prev.unsaved || unsaved }, alert: false };
}

/**
 * A successful save. An ordinary commit only brings the file up to date; the fault (and with it
 * the disk pause) ends only when the retry's own save succeeds, so that one lucky small write
 * between failures does not let a spawn through onto a disk that is still full.
 */
export function noteSaved(prev: WriteFault | null, byRetry: boolean): WriteFault | null {
  if (prev === null || byRetry) return null;
  // the disk took a write again: the confirming retry comes after the shortest delay
  return { ...prev, unsaved: false, failures: 0 };
}

/** The disk problem a fault adds to the free-space checks (pause reason `disk`); null without one. */
export function writeFaultProblem(fault: WriteFault | null): string | null {
  if (fault === null) return null;
  const held = fault.unsaved ? '; the latest state is held in memory and the save is retried' : '; retrying';
  return `cannot write to the state directory (${fault.error})${held}`;
}
