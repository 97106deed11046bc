// The state in memory and on disk. Every change is saved before its effect; a save that fails
// (a full disk) never throws: the new state stays in memory, marked unsaved, the save is retried
// on a timer with backoff, and until a retry succeeds the write fault is a disk problem that
// pauses spawning (reason `disk`). An outcome is therefore never lost while warden runs, and no
// worker starts while the state file is behind memory.
import type { Logger } from '../log/logger.js';
import { saveState } from '../state/store.js';
import { noteSaved, noteWriteFailure, saveRetryDelay, writeFaultProblem, type WriteFault } from '../state/save-retry.js';
import type { WardenState } from '../state/types.js';

export interface StateKeeperDeps {
  stateDir: string;
  log: Logger;
  now: () => number;
  /** A new write fault (the first failure since the last good save): alert the owner. */
  faulted: (error: string) => void;
  /** The fault is over (a retry saved the state): spawning may resume. */
  recovered: () => void;
  save?: (stateDir: string, state: WardenState) => void;
}

export class StateKeeper {
  private current: WardenState | null = null;
  private fault: WriteFault | null = null;
  private timer: NodeJS.Timeout | null = null;
  private stopped = false;

  constructor(private readonly deps: StateKeeperDeps) {}

  get state(): WardenState {
    if (this.current === null) throw new Error('state used before it was loaded');
    return this.current;
  }

  /** The current write fault, or null when the disk holds what memory holds. */
  get writeFault(): WriteFault | null {
    return this.fault;
  }

  /** The disk problem that holds spawning while a write fault lasts (see applyDiskHealth). */
  problems(): string[] {
    const p = writeFaultProblem(this.fault);
    return p === null ? [] : [p];
  }

  /** The state as loaded from disk (already saved). */
  load(state: WardenState): void {
    this.current = state;
  }

  /**
   * Makes `next` the state and saves it; true when the disk has it. `discardIfUnsaved`: a failed
   * save drops `next` (memory keeps the previous state), for changes that are only worth anything
   * with their effect, such as a spawn's claim.
   */
  commit(next: WardenState, discardIfUnsaved = false): boolean {
    const prev = this.current;
    if (next === prev && !this.fault?.unsaved) return true;
    this.current = next;
    if (this.trySave(false)) return true;
    if (discardIfUnsaved) this.current = prev;
    return false;
  }

  /** Another write to the state directory failed (a prompt, a worker's run files): hold spawning too. */
  noteWriteFailure(what: string, error: string): void {
    this.failed(`${what}: ${error}`, false);
  }

  /**
   * At shutdown, before the workers are stopped: no more retries, alerts or log lines about the
   * fault (the shutdown's own last line says what could not be saved).
   */
  stop(): void {
    this.stopped = true;
    this.stopTimer();
  }

  /** The shutdown's last save; false when the disk still refuses it. */
  finalSave(next: WardenState): boolean {
    this.current = next;
    return this.trySave(true);
  }

  private trySave(byRetry: boolean): boolean {
    try {
      (this.deps.save ?? saveState)(this.deps.stateDir, this.state);
    } catch (err) {
      this.failed((err as Error).message, true);
      return false;
    }
    const had = this.fault;
    this.fault = noteSaved(had, byRetry);
    this.stopTimer();
    if (this.fault)
      this.arm(); // sooner: the disk took this write
    else if (had && !this.stopped) {
      this.deps.log.info('the state file is saved again; the write fault is over', { since: new Date(had.since).toISOString() });
      this.deps.recovered();
    }
    return true;
  }

  private failed(error: string, unsaved: boolean): void {
    const r = noteWriteFailure(this.fault, this.deps.now(), error, unsaved);
    this.fault = r.fault;
    if (r.alert && !this.stopped) {
      this.deps.log.error('cannot write to the state directory; spawning is paused until a save succeeds', {
        error,
        unsaved: r.fault.unsaved || undefined,
      });
      this.deps.faulted(error);
    }
    this.arm();
  }

  private arm(): void {
    if (this.stopped || this.timer) return;
    this.timer = setTimeout(
      () => {
        this.timer = null;
        this.trySave(true);
      },
      saveRetryDelay(this.fault?.failures ?? 1),
    );
  }

  private stopTimer(): void {
    if (this.timer) clearTimeout(this.timer);
    this.timer = null;
  }
}
