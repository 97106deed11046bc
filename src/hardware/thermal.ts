// SoC temperature from the kernel's thermal zones: /sys/class/thermal/thermal_zone*/temp, in
// millidegrees Celsius. The zone is chosen by its `type`: `cpu-thermal` on a Raspberry Pi, the
// CPU package zone on x86. Finding it reads every zone's `type` once; each sample after that is
// one small file read, no child process.
import { readdirSync, readFileSync } from 'node:fs';
import { join } from 'node:path';

/** Zone types that measure the CPU/SoC, best first. Other zones (battery, wifi, acpitz) are not it. */
const CPU_ZONE_TYPES = [/^cpu[-_]thermal$/i, /^soc[-_]thermal$/i, /^x86_pkg_temp$/i, /^(k10temp|coretemp|cpu)/i, /cpu|soc/i];

export interface ThermalZone {
  path: string;
  type: string;
}

/** The CPU/SoC thermal zone under `sysRoot`, or null when there is none (a VM, a container). */
export function findCpuThermalZone(sysRoot: string): ThermalZone | null {
  const dir = join(sysRoot, 'class', 'thermal');
  let names: string[];
  try {
    names = readdirSync(dir)
      .filter((n) => n.startsWith('thermal_zone'))
      .sort();
  } catch {
    return null;
  }
  const zones: ThermalZone[] = [];
  for (const n of names) {
    try {
      zones.push({ path: join(dir, n, 'temp'), type: readFileSync(join(dir, n, 'type'), 'latin1').trim() });
    } catch {
      // a zone without a readable type is not one we can identify
    }
  }
  for (const re of CPU_ZONE_TYPES) {
    const z = zones.find((zone) => re.test(zone.type));
    if (z) return z;
  }
  return null;
}

/** Degrees Celsius from a zone's `temp` text (millidegrees); null if it does not parse. */
export function parseMillidegrees(text: string): number | null {
  const v = Number(text.trim());
  return text.trim() !== '' && Number.isFinite(v) ? v / 1000 : null;
}
