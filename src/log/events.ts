// How each decision-core event reads in the log; its level is in the event table (src/events/catalog.ts).
import { formatDuration } from '../config/units.js';
import { assertNever } from '../policy/failure-kind.js';
import { EVENTS, type CoreEvent } from '../events/catalog.js';
import type { Level } from './logger.js';

export function describeEvent(e: CoreEvent): string {
  switch (e.type) {
    case 'breaker_opened':
      return `breaker OPEN: spawning paused for ${formatDuration(e.cooldownMs)} (${e.reason})`;
    case 'breaker_half_open':
      return 'breaker half-open: one probe spawn is allowed';
    case 'breaker_closed':
      return e.by === 'probe' ? 'breaker closed: the probe succeeded' : 'breaker closed by resume';
    case 'pressure_entered':
      return `paused: pressure (${e.reasons.join('; ')})`;
    case 'pressure_stuck':
      return `paused: pressure, and it cannot lift: ${e.why}. No worker can start on this host until the config changes: ${e.fix}, then \`systemctl reload warden\``;
    case 'pressure_recovering':
      return `pressure cleared; resuming after ${formatDuration(e.recoverAfterMs)} below every threshold`;
    case 'pressure_left':
      return 'resumed: pressure stayed below every threshold for recover_after';
    case 'paused':
      return 'paused: manual';
    case 'resumed':
      return 'resumed: manual pause cleared';
    case 'task_spawn':
      return `spawning ${e.taskId} attempt ${e.attempt}${e.probe ? ' (breaker probe)' : ''}`;
    case 'task_succeeded':
      return `task ${e.taskId} succeeded on attempt ${e.attempt}`;
    case 'task_retry':
      return `task ${e.taskId} attempt ${e.attempt} failed: ${e.kind} (${e.detail}); retry in ${formatDuration(e.delayMs)}`;
    case 'task_dead':
      return `task ${e.taskId} is dead after ${e.attempts} attempts: ${e.kind} (${e.detail})`;
    case 'task_interrupted':
      return `task ${e.taskId} interrupted (${e.detail}); back to pending, attempt not counted`;
    case 'task_blocked':
      return `task ${e.taskId} is blocked: ${e.reason}`;
    case 'task_cancelled':
      return `task ${e.taskId} cancelled: ${e.reason}`;
    case 'disk_paused':
      return `paused: disk (${e.reason})`;
    case 'fleet_paused':
      return `paused: fleet (${e.reason})`;
    case 'fleet_resumed':
      return 'resumed: this node holds its fleet lease again';
    case 'disk_resumed':
      return 'resumed: free disk space is back above min_free_disk';
    case 'worker_paused':
      return e.reason === 'worker_auth'
        ? `paused: worker_auth: claude is not logged in / API key invalid (${e.detail}); log in as the worker user, then \`warden resume\``
        : `paused: ${e.reason} (${e.detail})${e.until === null ? '' : ` until ${new Date(e.until).toISOString()}`}`;
    case 'worker_resumed':
      return `resumed: the ${e.reason} pause ended`;
    case 'hardware_paused':
      return `paused: ${e.reason} (${e.reasons.join('; ')})`;
    case 'hardware_recovering':
      return `${e.reason} cleared; resuming after ${formatDuration(e.recoverAfterMs)} without it`;
    case 'hardware_resumed':
      return `resumed: ${e.reason} stayed clear for recover_after`;
    default:
      return assertNever(e, 'event');
  }
}

export function eventLevel(e: CoreEvent): Level {
  return EVENTS[e.type].level;
}
