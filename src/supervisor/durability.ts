// The supervisor's side of a full disk at start and at shutdown. At start: load the state, remove
// the temporary files a crash or a full disk left, and apply the shutdown note of a previous stop
// that could not save its state. At a shutdown whose final save fails: write that note into its
// reserved file, so the workers warden stopped are recorded as interrupted at the next start.
import type { Logger } from '../log/logger.js';
import { openState } from '../state/store.js';
import { readShutdownNote, reserveShutdownNote, writeShutdownNote, type StoppedAttempt } from '../state/shutdown-note.js';
import { removeStaleTemps } from '../state/stale-temps.js';
import type { WardenState } from '../state/types.js';
import type { CoreEvent } from '../events/catalog.js';
import { applyNotedStops } from '../policy/attempt-end.js';

/** `noted`: the loaded state with the shutdown note applied (to be saved), and its events. */
export function openDurably(
  stateDir: string,
  cooldownMs: number,
  log: Logger,
  now: number,
): { state: WardenState; unclean: boolean; noted: { state: WardenState; events: CoreEvent[] } } {
  const { state, unclean, backupError } = openState(stateDir, cooldownMs);
  const removed = removeStaleTemps(stateDir);
  if (removed.length) log.info('removed temporary files left by a crash or a full disk', { files: removed.join(' ') });
  if (backupError) log.warn('could not refresh state.json.bak; the previous copy is kept', { error: backupError });
  const note = readShutdownNote(stateDir);
  if (note) log.warn('the previous run stopped but could not save its state; recording the workers it stopped as interrupted');
  // a note means the last stop was orderly: its workers were stopped, not lost
  const noted = note ? applyNotedStops(state, note, now) : { state, events: [] };
  return { state, unclean: unclean && note === null, noted };
}

/** After the state that applied the note (or none) is saved: reserve an empty note for this run's shutdown. */
export function reserveNote(stateDir: string, log: Logger): void {
  const error = reserveShutdownNote(stateDir);
  if (error)
    log.warn(
      'no room to reserve the shutdown note; a shutdown on a full disk would leave its stopped workers to be classified from their exit files',
      {
        error,
      },
    );
}

/** The shutdown's last word when the state was saved. */
export function logStopped(log: Logger, keptWorkers: boolean, count: number): void {
  if (keptWorkers) log.info('warden stopped; workers left running (executor.keep_workers_on_stop)', { workers: count });
  else log.info('warden stopped cleanly', { stopped_workers: count });
}

/** The shutdown's last word when the state could not be saved: one clear line, and the note. */
export function noteUnsavedShutdown(stateDir: string, stopped: StoppedAttempt[], now: number, log: Logger, error: string): void {
  try {
    writeShutdownNote(stateDir, { stoppedAt: now, attempts: stopped });
  } catch (err) {
    throw new Error(
      `warden stopped ${stopped.length} worker(s) but could neither save the state (${error}) nor write its shutdown note (${(err as Error).message}); free disk space before the next start`,
    );
  }
  log.error(
    `warden stopped ${stopped.length} worker(s) but could not save the state (${error}); the shutdown note records them, and the next start marks them interrupted (no attempt charged)`,
  );
}
