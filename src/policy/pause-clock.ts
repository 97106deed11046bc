// When each pause in force may lift, for `warden status` and `warden top` (pure). Pressure, heat and
// under-voltage lift after recover_after continuously clear (the hysteresis clock starts at the
// first clear sample); the breaker lets a probe through after its cooldown; a usage limit and the
// budget have their own time; the rest wait for something else (resume, free disk).
import { activePauseReasons, type PauseReason } from '../state/pause-reasons.js';
import type { PressureState, WardenState } from '../state/types.js';
import { assertNever } from './failure-kind.js';

export interface PauseClock {
  reason: PauseReason;
  since: number | null;
  /** When it may lift; null when no clock runs (still over a threshold, or it needs someone). */
  liftsAt: number | null;
  /** What the clock waits for, in words. */
  until: string;
}

export function pauseClocks(state: WardenState, recoverAfterMs: number): PauseClock[] {
  return activePauseReasons(state).map((reason) => clockOf(state, reason, recoverAfterMs));
}

function hysteresis(reason: PauseReason, p: PressureState | null, recoverAfterMs: number): PauseClock {
  if (p == null) return { reason, since: null, liftsAt: null, until: 'unknown' };
  if (p.clearSince === null)
    return { reason, since: p.since, liftsAt: null, until: 'still over the threshold; recover_after starts when clear' };
  return { reason, since: p.since, liftsAt: p.clearSince + recoverAfterMs, until: 'if it stays clear for recover_after' };
}

function clockOf(state: WardenState, reason: PauseReason, recoverAfterMs: number): PauseClock {
  const p = state.pause;
  switch (reason) {
    case 'breaker': {
      const b = state.breaker;
      const liftsAt = b.openedAt === null ? null : b.openedAt + b.cooldownMs;
      return { reason, since: b.openedAt, liftsAt, until: 'cooldown over: one probe spawn (or `warden resume`)' };
    }
    case 'pressure':
      return hysteresis(reason, p.pressure, recoverAfterMs);
    case 'thermal':
      return hysteresis(reason, p.thermal, recoverAfterMs);
    case 'power':
      return hysteresis(reason, p.power, recoverAfterMs);
    case 'disk':
      return { reason, since: p.disk?.since ?? null, liftsAt: null, until: 'free space is back' };
    case 'manual':
      return { reason, since: p.manual?.since ?? null, liftsAt: null, until: '`warden resume`' };
    case 'worker_auth':
      return { reason, since: p.workerAuth?.since ?? null, liftsAt: null, until: 'log in as the worker user, then `warden resume`' };
    case 'usage_limit':
      return { reason, since: p.usageLimit?.since ?? null, liftsAt: p.usageLimit?.until ?? null, until: 'the usage limit resets' };
    case 'budget':
      return { reason, since: p.budget?.since ?? null, liftsAt: p.budget?.until ?? null, until: 'the next local day' };
    case 'fleet':
      return { reason, since: p.fleet?.since ?? null, liftsAt: null, until: 'etcd answers and this node holds its lease again' };
    default:
      return assertNever(reason, 'pause reason');
  }
}
