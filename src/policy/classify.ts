// Turns how a worker attempt ended into an outcome. Never throws: anything it does not recognise
// becomes `unknown`, which has a backoff like every other kind.
import type { FailureKind } from './failure-kind.js';

export type ExitOutcome = 'succeeded' | FailureKind;

/** Everything an executor can tell about an ended attempt. */
export interface ExitReport {
  /** The worker never started (exec failed, unit refused). */
  spawnError: string | null;
  worktreeError: string | null;
  exitCode: number | null;
  signal: string | null;
  durationMs: number;
  /** warden stopped it for running past max_runtime. */
  timedOut: boolean;
  /** The executor saw the kernel's OOM killer act on the worker's cgroup. */
  oomKilled: boolean;
  /** The exit status could not be recovered (e.g. warden restarted and the worker was gone). */
  lost: boolean;
}

export interface ClassifySettings {
  startupWindow: number;
}

export function classifyExit(r: ExitReport, s: ClassifySettings): ExitOutcome {
  try {
    if (r.spawnError !== null) return 'spawn_failed';
    if (r.worktreeError !== null) return 'worktree_error';
    if (r.timedOut) return 'timeout';
    if (r.oomKilled) return 'oom_killed';
    if (r.lost) return 'unknown';
    // An exit inside the startup window is a startup error whatever its code: the incident's
    // workers "succeeded" or failed within seconds, and either way did no work.
    if (Number.isFinite(r.durationMs) && r.durationMs < s.startupWindow) return 'startup_error';
    if (r.signal !== null) return 'crashed';
    if (r.exitCode === 0) return 'succeeded';
    if (r.exitCode !== null && Number.isInteger(r.exitCode)) return 'exit_nonzero';
    return 'unknown';
  } catch {
    return 'unknown';
  }
}

export function describeExit(r: ExitReport): string {
  if (r.spawnError) return `spawn failed: ${r.spawnError}`;
  if (r.worktreeError) return `worktree: ${r.worktreeError}`;
  const how = r.signal ? `killed by ${r.signal}` : r.exitCode !== null ? `exit ${r.exitCode}` : 'exit status unknown';
  const extras = [r.timedOut ? 'timed out' : '', r.oomKilled ? 'OOM-killed' : '', r.lost ? 'status lost across a warden restart' : ''].filter(Boolean);
  return `${how} after ${(r.durationMs / 1000).toFixed(1)}s${extras.length ? ` (${extras.join(', ')})` : ''}`;
}
