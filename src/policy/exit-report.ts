// How an ended attempt is described to the decision core. Which stop counts as a timeout, and
// whether the worker's own words count, are policy: they live here, as a pure function, and not in
// the supervisor that gathers the facts.
import type { WorkerExit } from '../executors/types.js';
import type { Completion, ExitReport } from './classify.js';
import { classifyVerdict, type WorkerVerdict } from './verdict.js';

/** Why warden itself stopped a worker; null when it ended on its own. */
/** `fenced`: [fleet] this node's lease was at risk, so warden stopped its workers (docs/fleet.md). */
export type StopReason = 'timeout' | 'stalled' | 'shutdown' | 'cancelled' | 'fenced';

export interface EndedAttempt {
  startedAt: number;
  exit: WorkerExit;
  stopReason: StopReason | null;
  /** For a `cancelled` stop: who cancelled (the owner); absent or null: its issue lost the label. */
  cancelReason?: string | null;
  /** What the worker left behind (BLOCKED.md, a pull request), checked only when it ended on its own. */
  completion: Completion | null;
  /** Set when the attempt failed before the worker could start. */
  spawnError?: string | null;
  worktreeError?: string | null;
  /** The worker's stream-json verdict, if its log had one. */
  verdict: WorkerVerdict | null;
}

export function buildExitReport(a: EndedAttempt, now: number, maxRuntime: number): ExitReport {
  const durationMs = a.exit.endedAt - a.startedAt;
  return {
    spawnError: a.spawnError ?? a.exit.spawnError,
    worktreeError: a.worktreeError ?? null,
    exitCode: a.exit.exitCode,
    signal: a.exit.signal,
    durationMs,
    // a worker found gone after a warden restart, having outlived max_runtime, hit systemd's backstop
    timedOut: a.stopReason === 'timeout' || (a.exit.lost && durationMs >= maxRuntime),
    oomKilled: a.exit.oomKilled,
    memoryPeak: a.exit.memoryPeak ?? null,
    lost: a.exit.lost,
    completion: a.completion,
    stalled: a.stopReason === 'stalled',
    // the worker's own words count only when it ended on its own
    verdict: a.stopReason === null ? classifyVerdict(a.verdict, now) : null,
    usage: a.verdict ? { costUsd: a.verdict.totalCostUsd, turns: a.verdict.numTurns, sessionId: a.verdict.sessionId } : null,
  };
}
