// Every reason spawning can pause, declared once. The key is the name everywhere: the status and
// readiness text, the `warden_paused{reason}` metric label and the alert's `pause_reason`. The
// unions below derive from this table, so a new reason is a row here plus the places that must
// decide something new about it (its state, when it begins and ends, its alert text).
import { assertNever } from '../policy/failure-kind.js';
import type { PauseState, WardenState } from './types.js';

/**
 * Who or what pauses: the breaker (workers keep failing), the operator (`warden pause`), the host
 * (memory, load, disk), the hardware (heat, under-voltage) or the workers' own reports (login,
 * usage limit, budget).
 */
type PauseGroup = 'breaker' | 'operator' | 'host' | 'hardware' | 'worker' | 'fleet';

interface PauseRow {
  group: PauseGroup;
  /** Where the pause is kept in `state.pause`; null for the breaker, which pauses while open. */
  stateKey: keyof PauseState | null;
  /** The ntfy priority (1 min .. 5 urgent) of the alert sent when the pause begins. */
  alertPriority: 1 | 2 | 3 | 4 | 5;
}

/** In the order status, readiness and /metrics list them. */
export const PAUSES = {
  breaker: { group: 'breaker', stateKey: null, alertPriority: 4 },
  pressure: { group: 'host', stateKey: 'pressure', alertPriority: 4 },
  thermal: { group: 'hardware', stateKey: 'thermal', alertPriority: 4 },
  // under-voltage corrupts SD cards: the one pause that is urgent
  power: { group: 'hardware', stateKey: 'power', alertPriority: 5 },
  disk: { group: 'host', stateKey: 'disk', alertPriority: 4 },
  // the owner did it: not news for the phone
  manual: { group: 'operator', stateKey: 'manual', alertPriority: 2 },
  worker_auth: { group: 'worker', stateKey: 'workerAuth', alertPriority: 4 },
  usage_limit: { group: 'worker', stateKey: 'usageLimit', alertPriority: 4 },
  budget: { group: 'worker', stateKey: 'budget', alertPriority: 4 },
  // [fleet]: no lease or no etcd; no claim can be made, and workers are fenced (docs/fleet.md)
  fleet: { group: 'fleet', stateKey: 'fleet', alertPriority: 4 },
} as const satisfies Record<string, PauseRow>;

export type PauseReason = keyof typeof PAUSES;

type PauseReasonIn<G extends PauseGroup> = { [R in PauseReason]: (typeof PAUSES)[R]['group'] extends G ? R : never }[PauseReason];

/** Pauses that come from what workers report (not from the host or the operator). */
export type WorkerPauseReason = PauseReasonIn<'worker'>;

/** Pauses that come from the hardware: heat and under-voltage (admission.max_temperature, get_throttled). */
export type HardwarePauseReason = PauseReasonIn<'hardware'>;

export const PAUSE_REASONS = Object.keys(PAUSES) as readonly PauseReason[];

export function activePauseReasons(state: WardenState): PauseReason[] {
  return PAUSE_REASONS.filter((r) => {
    const key = PAUSES[r].stateKey;
    // a state built before a reason existed lacks its key: undefined, not null
    return key === null ? state.breaker.phase === 'open' : state.pause[key] != null;
  });
}

/** A pause as the status line shows it: the reason, and for some what caused it. */
export function describePause(state: WardenState, reason: PauseReason): string {
  switch (reason) {
    case 'breaker':
      return `breaker (${state.breaker.reason ?? 'open'})`;
    case 'pressure': {
      const stuck = state.pause.pressure?.stuck;
      return `pressure (${stuck ? `cannot lift: ${stuck.why}` : (state.pause.pressure?.reasons[0] ?? '')})`;
    }
    case 'thermal':
    case 'power':
      return `${reason} (${state.pause[reason]?.reasons[0] ?? ''})`;
    case 'disk':
    case 'fleet':
    case 'manual':
    case 'worker_auth':
    case 'usage_limit':
    case 'budget':
      return reason;
    default:
      return assertNever(reason, 'pause reason');
  }
}
