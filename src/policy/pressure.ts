// The pressure pause, one tick of it: the admission thresholds with their hysteresis
// (src/admission/evaluate.ts), plus one judgment of its own: a memory pause that cannot lift on
// this host with this config. When MemTotal itself, minus the least a system holds, cannot fit
// memory_max + min_available_memory (src/admission/fit.ts), no worker ending and no idle hour
// will ever lift it. That is not host pressure but a config that does not fit the machine: it is
// said once (the event `pressure_stuck`, an ERROR in the log and one alert instead of the
// pressure alert), kept in the state (so a restart does not say it again), shown in status, and
// forgotten when a reload makes the config fit.
import { admissionViolations, memoryViolation, updatePressure } from '../admission/evaluate.js';
import type { HostSample } from '../admission/evaluate.js';
import { fitProblem } from '../config/sizing.js';
import type { CoreEvent } from '../events/catalog.js';
import type { PressureState } from '../state/types.js';
import type { CoreSettings } from './settings.js';

type Stuck = NonNullable<PressureState['stuck']>;

/** Why this sample's memory shortfall can never clear on this host; null when it could. */
export function stuckPressure(sample: HostSample, s: CoreSettings): Stuck | null {
  const { memAvailable, memTotal } = sample;
  if (memAvailable === null || memTotal === null) return null;
  const min = s.admission.minAvailableMemory;
  if (memoryViolation(memAvailable, s.memoryMax, min) === null) return null;
  return fitProblem(memTotal, s.memoryMax, min);
}

export function nextPressure(
  prev: PressureState | null,
  sample: HostSample,
  now: number,
  s: CoreSettings,
): { pressure: PressureState | null; events: CoreEvent[] } {
  const violations = admissionViolations(sample, s.admission, s.memoryMax);
  const updated = updatePressure(prev, violations, now, s.admission.recoverAfter);
  const events: CoreEvent[] = [];
  const inForce = updated.pressure !== null && updated.pressure.clearSince === null;
  const stuck = inForce ? stuckPressure(sample, s) : null;
  const pressure = withStuck(updated.pressure, stuck);
  switch (updated.transition) {
    case 'entered':
      events.push(stuck ? { type: 'pressure_stuck', reasons: violations, ...stuck } : { type: 'pressure_entered', reasons: violations });
      break;
    case 'recovering':
      events.push({ type: 'pressure_recovering', recoverAfterMs: s.admission.recoverAfter });
      break;
    case 'left':
      events.push({ type: 'pressure_left' });
      break;
    case null:
      // a pause already in force that has just become stuck (a reload raised memory_max)
      if (stuck && !prev?.stuck) events.push({ type: 'pressure_stuck', reasons: violations, ...stuck });
      break;
  }
  return { pressure, events };
}

/** The pause with `stuck` set or dropped; the same object when nothing changed (no state write). */
function withStuck(p: PressureState | null, stuck: Stuck | null): PressureState | null {
  if (p === null) return null;
  if (stuck === null) {
    if (p.stuck === undefined) return p;
    const { stuck: _dropped, ...rest } = p;
    return rest;
  }
  if (p.stuck?.why === stuck.why && p.stuck.fix === stuck.fix) return p;
  return { ...p, stuck };
}
