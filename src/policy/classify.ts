// Turns how a worker attempt ended into an outcome. Never throws: anything it does not recognise
// becomes `unknown`, which has a backoff like every other kind.
import type { FailureKind } from './failure-kind.js';
import type { VerdictClass } from './verdict.js';

/** `blocked`: the worker reported it cannot proceed (BLOCKED.md); terminal, not a failure. */
export type ExitOutcome = 'succeeded' | 'blocked' | FailureKind;

/** What the worker left behind, checked by the supervisor after it exits on its own. */
export type Completion =
  | { kind: 'pr'; url: string }
  | { kind: 'no_pr' }
  | { kind: 'blocked'; reason: string }
  /** gh could not answer; the attempt is left `unknown` rather than guessed. */
  | { kind: 'unchecked'; reason: string };

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
  /** Peak memory use of the worker's cgroup in bytes, when the executor knows it. */
  memoryPeak?: number | null;
  /** The exit status could not be recovered (e.g. warden restarted and the worker was gone). */
  lost: boolean;
  /** Set for GitHub tasks (pull request found or not) and whenever BLOCKED.md was written. */
  completion?: Completion | null;
  /** warden stopped it: no stream event for worker.stall_after. */
  stalled?: boolean;
  /** What the worker's own stream said (classifyVerdict); null when it matched no rule. */
  verdict?: VerdictClass | null;
  /** Cost and effort the worker reported (its stream-json result). */
  usage?: WorkerUsage | null;
}

export interface WorkerUsage {
  costUsd: number | null;
  turns: number | null;
  sessionId: string | null;
}

export interface ClassifySettings {
  startupWindow: number;
}

export function classifyExit(r: ExitReport, s: ClassifySettings): ExitOutcome {
  try {
    if (r.spawnError !== null) return 'spawn_failed';
    if (r.worktreeError !== null) return 'worktree_error';
    if (r.stalled) return 'stalled';
    if (r.timedOut) return 'timeout';
    if (r.oomKilled) return 'oom_killed';
    if (r.lost) return 'unknown';
    // the worker's own report beats every exit-code rule below
    if (r.completion?.kind === 'blocked') return 'blocked';
    // then what the worker's stream said: not logged in, a usage limit, ... (a 1.6 s exit of an
    // unauthenticated claude is auth_failed, not a startup error)
    if (r.verdict) return r.verdict.kind;
    // An exit inside the startup window is a startup error whatever its code: the incident's
    // workers "succeeded" or failed within seconds, and either way did no work.
    if (Number.isFinite(r.durationMs) && r.durationMs < s.startupWindow) return 'startup_error';
    if (r.signal !== null) return 'crashed';
    if (r.exitCode === 0) return r.completion?.kind === 'no_pr' ? 'no_pr' : r.completion?.kind === 'unchecked' ? 'unknown' : 'succeeded';
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
  const extras = [
    r.stalled ? 'stalled: no stream event for stall_after' : '',
    r.timedOut ? 'timed out' : '',
    r.oomKilled ? 'OOM-killed' : '',
    r.lost ? 'status lost across a warden restart' : '',
  ].filter(Boolean);
  const done =
    r.completion?.kind === 'pr'
      ? `; pull request ${r.completion.url}`
      : r.completion?.kind === 'no_pr'
        ? '; no pull request from the task branch'
        : r.completion?.kind === 'blocked'
          ? `; blocked: ${r.completion.reason}`
          : r.completion?.kind === 'unchecked'
            ? `; ${r.completion.reason}`
            : '';
  const said = r.verdict ? `; worker said: ${r.verdict.message}` : '';
  return `${how} after ${(r.durationMs / 1000).toFixed(1)}s${extras.length ? ` (${extras.join(', ')})` : ''}${done}${said}`;
}
