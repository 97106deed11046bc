// The pauses the operator and the disk decide: `warden pause`, `warden resume` (which also closes
// the breaker and clears worker pauses) and the disk health pause. Pressure and hardware pauses are
// measured in the tick; usage-limit and budget pauses are set when an attempt ends.
import type { CoreEvent } from '../events/catalog.js';
import type { WardenState } from '../state/types.js';
import { closedBreaker } from './breaker.js';
import type { CoreSettings } from './settings.js';

export function applyManualPause(prev: WardenState, now: number): { state: WardenState; events: CoreEvent[] } {
  if (prev.pause.manual) return { state: prev, events: [] };
  return { state: { ...prev, pause: { ...prev.pause, manual: { since: now } } }, events: [{ type: 'paused', by: 'manual' }] };
}

/** `warden resume`: clears a manual pause and closes an open breaker. Pressure stays measured. */
export function applyResume(prev: WardenState, s: CoreSettings): { state: WardenState; events: CoreEvent[] } {
  const events: CoreEvent[] = [];
  let state = prev;
  if (state.pause.manual) {
    state = { ...state, pause: { ...state.pause, manual: null } };
    events.push({ type: 'resumed', by: 'manual' });
  }
  if (state.breaker.phase !== 'closed') {
    state = { ...state, breaker: closedBreaker(s.breaker) };
    events.push({ type: 'breaker_closed', by: 'resume' });
  }
  // after `claude /login` (or waiting out a limit by hand) the owner resumes; the budget stays
  if (state.pause.workerAuth) {
    state = { ...state, pause: { ...state.pause, workerAuth: null } };
    events.push({ type: 'worker_resumed', reason: 'worker_auth' });
  }
  if (state.pause.usageLimit) {
    state = { ...state, pause: { ...state.pause, usageLimit: null } };
    events.push({ type: 'worker_resumed', reason: 'usage_limit' });
  }
  return { state, events };
}

/**
 * The disk pause from every problem found (space or inodes, on the state and worktree
 * filesystems; src/admission/disk.ts): any problem pauses with reason `disk`, none resumes.
 * A different problem while paused updates the reason without a new event.
 */
export function applyDiskHealth(prev: WardenState, problems: readonly string[], now: number): { state: WardenState; events: CoreEvent[] } {
  const reason = problems.join('; ');
  if (problems.length > 0 && !prev.pause.disk) {
    return { state: { ...prev, pause: { ...prev.pause, disk: { since: now, reason } } }, events: [{ type: 'disk_paused', reason }] };
  }
  if (problems.length > 0 && prev.pause.disk && prev.pause.disk.reason !== reason) {
    return { state: { ...prev, pause: { ...prev.pause, disk: { ...prev.pause.disk, reason } } }, events: [] };
  }
  if (problems.length === 0 && prev.pause.disk)
    return { state: { ...prev, pause: { ...prev.pause, disk: null } }, events: [{ type: 'disk_resumed' }] };
  return { state: prev, events: [] };
}
