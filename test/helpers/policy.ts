// Policy shortcuts that only tests use.
import { formatSize } from '../../src/config/units.ts';
import type { CoreEvent } from '../../src/events/catalog.ts';
import { applyDiskHealth } from '../../src/policy/pauses.ts';
import type { WardenState } from '../../src/state/types.ts';

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
