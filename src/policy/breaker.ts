// Circuit breaker over worker failures. `failures` failures inside `window` open it: no spawns.
// After the cooldown one probe spawn is allowed (half-open). The probe's success closes the
// breaker and restores the base cooldown; its failure reopens it with the cooldown doubled.
// The state lives in the state file, so a restart (even by the watchdog) never resets it.
import type { BreakerState } from '../state/types.js';

export interface BreakerSettings {
  failures: number;
  window: number;
  cooldown: number;
}

/** The doubled cooldown never exceeds this, so a long-broken worker is still probed daily. */
export const MAX_COOLDOWN_MS = 24 * 3_600_000;

export type BreakerGate = { allow: 'any' } | { allow: 'probe' } | { allow: 'none'; until: number | null };

/** Moves an open breaker whose cooldown has passed to half-open. Pure. */
export function advanceBreaker(b: BreakerState, now: number): BreakerState {
  if (b.phase === 'open' && b.openedAt !== null && now >= b.openedAt + b.cooldownMs) {
    return { ...b, phase: 'half_open', probeTaskId: null };
  }
  return b;
}

/** What the breaker allows now. In half-open, only one probe, and only while none is out. */
export function breakerGate(b: BreakerState): BreakerGate {
  switch (b.phase) {
    case 'closed':
      return { allow: 'any' };
    case 'half_open':
      return b.probeTaskId === null ? { allow: 'probe' } : { allow: 'none', until: null };
    case 'open':
      return { allow: 'none', until: (b.openedAt ?? 0) + b.cooldownMs };
  }
}

export function recordProbeSpawn(b: BreakerState, taskId: string): BreakerState {
  return { ...b, probeTaskId: taskId };
}

export type BreakerTransition = 'opened' | 'reopened' | 'closed' | null;

export function breakerOnFailure(
  b: BreakerState,
  now: number,
  s: BreakerSettings,
  taskId: string,
  reason: string,
): { breaker: BreakerState; transition: BreakerTransition } {
  const recent = [...b.recentFailures.filter((t) => t > now - s.window), now];
  if (b.phase === 'half_open' && b.probeTaskId === taskId) {
    const cooldownMs = Math.min(MAX_COOLDOWN_MS, Math.max(b.cooldownMs * 2, 1));
    return {
      breaker: { phase: 'open', recentFailures: recent, openedAt: now, cooldownMs, probeTaskId: null, reason: `probe failed: ${reason}` },
      transition: 'reopened',
    };
  }
  if (b.phase === 'closed' && recent.length >= s.failures) {
    return {
      breaker: {
        phase: 'open',
        recentFailures: recent,
        openedAt: now,
        cooldownMs: s.cooldown,
        probeTaskId: null,
        reason: `${recent.length} failures in ${Math.round(s.window / 1000)}s, last: ${reason}`,
      },
      transition: 'opened',
    };
  }
  return { breaker: { ...b, recentFailures: recent }, transition: null };
}

export function breakerOnSuccess(
  b: BreakerState,
  s: BreakerSettings,
  taskId: string,
): { breaker: BreakerState; transition: BreakerTransition } {
  if (b.phase === 'half_open' && b.probeTaskId === taskId) {
    return { breaker: closedBreaker(s), transition: 'closed' };
  }
  return { breaker: b, transition: null };
}

/** A probe that ended without an outcome (cancelled, or warden stopped it) frees the probe slot. */
export function breakerProbeAbandoned(b: BreakerState, taskId: string): BreakerState {
  return b.phase === 'half_open' && b.probeTaskId === taskId ? { ...b, probeTaskId: null } : b;
}

export function closedBreaker(s: BreakerSettings): BreakerState {
  return { phase: 'closed', recentFailures: [], openedAt: null, cooldownMs: s.cooldown, probeTaskId: null, reason: null };
}
