// Pure admission decisions: which thresholds a sample crosses, and the pressure pause with its
// hysteresis (enter at once, leave only after `recover_after` continuously under every threshold,
// like the kubelet's eviction transition period).
import { formatSize } from '../config/units.js';
import type { PauseState, PressureState } from '../state/types.js';
import { decodeThrottled } from '../hardware/throttled.js';

/** One reading of the host (src/admission/sample.ts takes it). */
export interface HostSample {
  at: number;
  /** Bytes, from /proc/meminfo MemAvailable; null when it could not be read. */
  memAvailable: number | null;
  memTotal: number | null;
  load1: number | null;
  cpus: number;
  /** PSI memory "some avg10" percent; null when /proc/pressure/memory is missing (PSI off). */
  memoryPressure: number | null;
  psiAvailable: boolean;
  /** SoC temperature in degrees C from the CPU thermal zone; null when there is none (not a failure). */
  temperatureC: number | null;
  /** The thermal zone's type (cpu-thermal on a Pi); null when there is none. */
  thermalZone: string | null;
  /** The Raspberry Pi firmware's throttled word (src/hardware/throttled.ts); null when not a Pi. */
  throttled: number | null;
  errors: string[];
}

export interface AdmissionSettings {
  minAvailableMemory: number;
  maxLoadPerCpu: number;
  maxMemoryPressure: number;
  recoverAfter: number;
  /** Degrees C; the SoC temperature above it pauses with reason `thermal`. */
  maxTemperature: number;
}

/** Human-readable reasons the sample refuses a new worker of `memoryMax` bytes; empty = admit. */
export function admissionViolations(sample: HostSample, s: AdmissionSettings, memoryMax: number): string[] {
  const out: string[] = [];
  if (sample.memAvailable === null) {
    out.push('memory: MemAvailable could not be read (failing closed)');
  } else {
    const memory = memoryViolation(sample.memAvailable, memoryMax, s.minAvailableMemory);
    if (memory !== null) out.push(memory);
  }
  if (sample.load1 === null) {
    out.push('load: loadavg could not be read (failing closed)');
  } else {
    const perCpu = sample.load1 / Math.max(1, sample.cpus);
    if (perCpu > s.maxLoadPerCpu) out.push(`load: ${perCpu.toFixed(2)} per CPU is over max_load_per_cpu ${s.maxLoadPerCpu}`);
  }
  if (sample.memoryPressure !== null && sample.memoryPressure > s.maxMemoryPressure) {
    out.push(`memory pressure: PSI some avg10 ${sample.memoryPressure}% is over max_memory_pressure ${s.maxMemoryPressure}%`);
  }
  return out;
}

/**
 * The memory rule of admission, on its own: a new worker of `memoryMax` bytes is admitted only if
 * `memAvailable` still leaves `minAvailableMemory` once it reaches its cap. src/admission/fit.ts
 * asks the same rule about the best case a host can ever offer.
 */
export function memoryViolation(memAvailable: number, memoryMax: number, minAvailableMemory: number): string | null {
  if (memAvailable - memoryMax >= minAvailableMemory) return null;
  return `memory: MemAvailable ${formatSize(memAvailable)} minus worker memory_max ${formatSize(memoryMax)} is under min_available_memory ${formatSize(minAvailableMemory)}`;
}

export type PressureTransition = 'entered' | 'recovering' | 'left' | null;

export function updatePressure(
  prev: PressureState | null,
  violations: string[],
  now: number,
  recoverAfter: number,
): { pressure: PressureState | null; transition: PressureTransition } {
  if (violations.length > 0) {
    if (prev === null) return { pressure: { since: now, reasons: violations, clearSince: null }, transition: 'entered' };
    return { pressure: { ...prev, reasons: violations, clearSince: null }, transition: null };
  }
  if (prev === null) return { pressure: null, transition: null };
  if (prev.clearSince === null) {
    if (recoverAfter <= 0) return { pressure: null, transition: 'left' };
    return { pressure: { ...prev, clearSince: now }, transition: 'recovering' };
  }
  if (now - prev.clearSince >= recoverAfter) return { pressure: null, transition: 'left' };
  return { pressure: prev, transition: null };
}

/**
 * Reasons the SoC is too hot for another worker (pause reason `thermal`); empty = admit. No
 * thermal zone means no verdict: a machine without the sensor is not failed closed.
 */
export function thermalViolations(sample: HostSample, s: AdmissionSettings): string[] {
  const t = sample.temperatureC;
  if (t == null || !(t > s.maxTemperature)) return [];
  return [`thermal: ${sample.thermalZone ?? 'SoC'} at ${t.toFixed(1)} °C is over max_temperature ${s.maxTemperature} °C`];
}

/**
 * Reasons the power supply refuses another worker (pause reason `power`): the firmware reports
 * under-voltage right now. Under-voltage earlier since boot is reported, not a pause.
 */
export function powerViolations(sample: HostSample): string[] {
  if (sample.throttled == null) return [];
  const f = decodeThrottled(sample.throttled);
  return f.now.underVoltage
    ? [`power: the firmware reports under-voltage now (throttled=0x${f.raw.toString(16)}); check the power supply`]
    : [];
}

/**
 * Whether a sample taken between ticks (the pressure watch, while workers run) must bring the tick
 * forward: it crosses a threshold whose pause is not in force, or is only recovering. A pause already
 * in force needs nothing: it holds spawning until the tick that ends it.
 */
export function pauseDueNow(
  pause: Pick<PauseState, 'pressure' | 'thermal' | 'power'>,
  sample: HostSample,
  s: AdmissionSettings,
  memoryMax: number,
): boolean {
  const notInForce = (p: PressureState | null | undefined) => p == null || p.clearSince !== null;
  return (
    (notInForce(pause.pressure) && admissionViolations(sample, s, memoryMax).length > 0) ||
    (notInForce(pause.thermal) && thermalViolations(sample, s).length > 0) ||
    (notInForce(pause.power) && powerViolations(sample).length > 0)
  );
}
