// Every way a worker attempt can fail. The incident began with a failure type that was referenced
// but not declared: here the union is closed and every switch over it ends in `assertNever`, so
// adding a member fails the build wherever it is not handled.

export const FAILURE_KINDS = [
  'spawn_failed',
  'startup_error',
  'oom_killed',
  'timeout',
  'crashed',
  'exit_nonzero',
  'worktree_error',
  'no_pr',
  // from the worker's own stream-json verdict (src/policy/verdict.ts)
  'auth_failed',
  'usage_limit',
  'max_turns',
  'api_error',
  'stalled',
  'unknown',
] as const;

export type FailureKind = (typeof FAILURE_KINDS)[number];

export function assertNever(value: never, what = 'value'): never {
  throw new Error(`unhandled ${what}: ${JSON.stringify(value)}`);
}

/** One line a human reads in `warden status` and alerts. */
export function describeFailureKind(kind: FailureKind): string {
  switch (kind) {
    case 'spawn_failed':
      return 'the worker could not be started';
    case 'startup_error':
      return 'the worker exited within its startup window';
    case 'oom_killed':
      return 'the worker was killed for exceeding its memory limit';
    case 'timeout':
      return 'the worker ran past max_runtime and was stopped';
    case 'crashed':
      return 'the worker was killed by a signal';
    case 'exit_nonzero':
      return 'the worker exited with a nonzero code';
    case 'worktree_error':
      return 'the worktree for the task could not be prepared';
    case 'no_pr':
      return 'the worker exited 0 but opened no pull request from the task branch';
    case 'auth_failed':
      return 'claude is not logged in / API key invalid';
    case 'usage_limit':
      return 'the worker hit a usage or rate limit';
    case 'max_turns':
      return 'the worker stopped at its maximum number of turns';
    case 'api_error':
      return 'the worker ended on an API error';
    case 'stalled':
      return 'the worker printed no stream event for worker.stall_after and was stopped';
    case 'unknown':
      return 'the attempt ended in a way warden could not classify';
    default:
      return assertNever(kind, 'failure kind');
  }
}
