// Policy shortcuts that only tests use.
import { formatSize } from '../../src/config/units.ts';
import type { CoreEvent } from '../../src/events/catalog.ts';
import { applyDiskHealth } from '../../src/policy/pauses.ts';
import { compareRetries, compareTasks } from '../../src/policy/task-index.ts';
import { TASK_STATES, type WardenState } from '../../src/state/types.ts';

/**
 * Free disk space on the worktree filesystem: under `minFree` pauses spawning with reason `disk`;
 * back above it resumes. No hysteresis: space comes back only when someone frees it.
 */
export function applyDiskCheck(
  prev: WardenState,
  free: number,
  minFree: number,
  path: string,
  now: number,
): { state: WardenState; events: CoreEvent[] } {
  return applyDiskHealth(
    prev,
    free < minFree ? [`${formatSize(free)} free on ${path}, under min_free_disk ${formatSize(minFree)}`] : [],
    now,
  );
}

/** What the index must say, computed the slow way from the tasks themselves. */
export function expectedIndex(tasks: WardenState['tasks']) {
  const all = Object.values(tasks);
  const counts = Object.fromEntries(TASK_STATES.map((s) => [s, all.filter((t) => t.state === s).length]));
  return {
    pending: all.filter((t) => t.state === 'pending').sort(compareTasks),
    retryWait: all.filter((t) => t.state === 'retry_wait').sort(compareRetries),
    counts,
  };
}
