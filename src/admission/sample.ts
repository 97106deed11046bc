// One pre-spawn sample of the host: MemAvailable, the 1-minute load, PSI memory pressure, the SoC
// temperature and the Pi firmware's throttled flags.
// It reads three small /proc files synchronously and spawns no process (systeminformation's
// currentLoad() runs a shell command and blocks for ~19 ms; this takes well under 1 ms).
import { readFileSync } from 'node:fs';
import { availableParallelism } from 'node:os';
import { join } from 'node:path';
import { findCpuThermalZone, parseMillidegrees, type ThermalZone } from '../hardware/thermal.js';
import { parseThrottled, THROTTLED_SYSFS_PATH } from '../hardware/throttled.js';
import type { HostSample } from './evaluate.js';

export interface SampleSource {
  procRoot: string;
  cpus: number;
  /** Where sysfs is (tests use a fake tree); without it the hardware signals are not read. */
  sysRoot?: string;
}

export const hostProc: SampleSource = { procRoot: '/proc', cpus: availableParallelism(), sysRoot: '/sys' };

// The CPU zone is looked up once per sysfs root: zone numbers do not change while the system runs.
const zoneCache = new Map<string, ThermalZone | null>();
// Likewise the firmware's get_throttled: a kernel without it does not grow it at run time.
const noThrottledFile = new Set<string>();

export function sampleHost(now: number, src: SampleSource = hostProc): HostSample {
  const errors: string[] = [];
  let memAvailable: number | null = null;
  let memTotal: number | null = null;
  let load1: number | null = null;
  let memoryPressure: number | null = null;
  let psiAvailable = true;

  try {
    const meminfo = readFileSync(join(src.procRoot, 'meminfo'), 'latin1');
    memAvailable = meminfoField(meminfo, 'MemAvailable');
    memTotal = meminfoField(meminfo, 'MemTotal');
    if (memAvailable === null) errors.push('no MemAvailable line in meminfo');
  } catch (err) {
    errors.push(`cannot read meminfo: ${(err as Error).message}`);
  }

  try {
    const loadavg = readFileSync(join(src.procRoot, 'loadavg'), 'latin1');
    const v = Number(loadavg.split(' ')[0]);
    if (Number.isFinite(v)) load1 = v;
    else errors.push('cannot parse loadavg');
  } catch (err) {
    errors.push(`cannot read loadavg: ${(err as Error).message}`);
  }

  try {
    const psi = readFileSync(join(src.procRoot, 'pressure', 'memory'), 'latin1');
    const m = /^some avg10=(\d+(?:\.\d+)?)/m.exec(psi);
    if (m) memoryPressure = Number(m[1]);
    else errors.push('cannot parse pressure/memory');
  } catch (err) {
    const code = (err as NodeJS.ErrnoException).code;
    // Pi kernels build PSI in but leave it off until `psi=1` is on the kernel command line;
    // EOPNOTSUPP is what a disabled PSI returns on read.
    if (code === 'ENOENT' || code === 'EOPNOTSUPP' || code === 'ENOTSUP') psiAvailable = false;
    else errors.push(`cannot read pressure/memory: ${(err as Error).message}`);
  }

  // Hardware signals: a missing sensor or file is "not available", never an error (a VM, an x86
  // box without a thermal zone, a Pi kernel without the firmware driver).
  let temperatureC: number | null = null;
  let thermalZone: string | null = null;
  let throttled: number | null = null;
  if (src.sysRoot !== undefined) {
    let zone = zoneCache.get(src.sysRoot);
    if (zone === undefined) {
      zone = findCpuThermalZone(src.sysRoot);
      zoneCache.set(src.sysRoot, zone);
    }
    if (zone) {
      thermalZone = zone.type;
      try {
        temperatureC = parseMillidegrees(readFileSync(zone.path, 'latin1'));
        if (temperatureC === null) errors.push(`cannot parse ${zone.type} temperature`);
      } catch (err) {
        errors.push(`cannot read ${zone.type} temperature: ${(err as Error).message}`);
      }
    }
    if (!noThrottledFile.has(src.sysRoot)) {
      try {
        throttled = parseThrottled(readFileSync(join(src.sysRoot, THROTTLED_SYSFS_PATH), 'latin1'));
      } catch (err) {
        // not a Raspberry Pi kernel (or no firmware driver): power is simply not part of admission,
        // and the file is not looked for again (a failed read costs an exception on every sample)
        if ((err as NodeJS.ErrnoException).code === 'ENOENT') noThrottledFile.add(src.sysRoot);
      }
    }
  }

  return {
    at: now,
    memAvailable,
    memTotal,
    load1,
    cpus: src.cpus,
    memoryPressure,
    psiAvailable,
    temperatureC,
    thermalZone,
    throttled,
    errors,
  };
}

/** A /proc/meminfo field in bytes, or null when the line is missing. */
export function meminfoField(text: string, field: string): number | null {
  const m = new RegExp(`^${field}:\\s+(\\d+) kB`, 'm').exec(text);
  return m ? Number(m[1]) * 1024 : null;
}
