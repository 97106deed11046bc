// Pure admission decisions: which thresholds a sample crosses, and the pressure pause with its
// hysteresis (enter at once, leave only after `recover_after` continuously under every threshold,
// like the kubelet's eviction transition period).
import { formatSize } from '../config/units.js';
import type { PressureState } from '../state/types.js';
import type { HostSample } from './sample.js';

export interface AdmissionSettings {
  minAvailableMemory: number;
  maxLoadPerCpu: number;
  maxMemoryPressure: number;
  recoverAfter: number;
}

/** Human-readable reasons the sample refuses a new worker of `memoryMax` bytes; empty = admit. */
export function admissionViolations(sample: HostSample, s: AdmissionSettings, memoryMax: number): string[] {
  const out: string[] = [];
  if (sample.memAvailable === null) {
    out.push('memory: MemAvailable could not be read (failing closed)');
  } else if (sample.memAvailable - memoryMax < s.minAvailableMemory) {
    out.push(
      `memory: MemAvailable ${formatSize(sample.memAvailable)} minus worker memory_max ${formatSize(memoryMax)} is under min_available_memory ${formatSize(s.minAvailableMemory)}`,
    );
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
