// The hardware report of `warden doctor`: Pi model and revision, RAM, SoC temperature, the
// firmware's throttled history, the boot device (SD card or not) and the swap type. Off the hot
// path: it runs once per `warden doctor`. Reading goes under a sysroot so tests use fixture trees.
//
// Why not the systeminformation package: everything here is one of six small files in /proc and
// /sys, which take well under a millisecond to read. systeminformation's Pi detection reads the
// same /proc/cpuinfo, but several of its calls run child processes (currentLoad() execSync()s,
// processes() runs ps; see FACTS), and it would be one more dependency in the offline bundle for
// a handful of lines. vcgencmd (a child process) is used only where sysfs lacks get_throttled.
import { execFile } from 'node:child_process';
import { join } from 'node:path';
import { formatSize } from '../config/units.js';
import type { Check } from '../doctor/check.js';
import { findCpuThermalZone, parseMillidegrees } from './thermal.js';
import { decodeThrottled, describeThrottled, parseThrottled, THROTTLED_SYSFS_PATH } from './throttled.js';
import { readOrNull } from '../host/read-file.js';

export interface HardwareFacts {
  /** /proc/device-tree/model, e.g. "Raspberry Pi 5 Model B Rev 1.0"; null on x86. */
  model: string | null;
  /** The "Revision" line of /proc/cpuinfo (a Pi's board revision code, e.g. "d04170"). */
  revision: string | null;
  memTotal: number | null;
  temperatureC: number | null;
  thermalZone: string | null;
  throttled: number | null;
  /** Where `throttled` came from. */
  throttledSource: 'sysfs' | 'vcgencmd' | null;
  /** The device mounted at /, from /proc/mounts. */
  rootDevice: string | null;
  /** Active swap: its type ("zram", "file", "partition") and where. */
  swaps: { type: 'zram' | 'file' | 'partition'; name: string; size: number }[];
}

/** Reads the facts under `sysroot`; `vcgencmd` is asked only when sysfs has no get_throttled. */
export async function readHardware(sysroot = '/', vcgencmd: () => Promise<string | null> = runVcgencmd): Promise<HardwareFacts> {
  const at = (p: string) => join(sysroot, p);
  const model = readOrNull(at('proc/device-tree/model'))?.replace(/\0/g, '').trim() || null;
  const cpuinfo = readOrNull(at('proc/cpuinfo')) ?? '';
  const revision = /^Revision\s*:\s*(\S+)/m.exec(cpuinfo)?.[1] ?? null;
  const kb = /^MemTotal:\s+(\d+) kB/m.exec(readOrNull(at('proc/meminfo')) ?? '');
  const zone = findCpuThermalZone(at('sys'));
  const temperatureC = zone ? parseMillidegrees(readOrNull(zone.path) ?? '') : null;
  let throttled = parseThrottled(readOrNull(at(join('sys', THROTTLED_SYSFS_PATH))) ?? '');
  let throttledSource: HardwareFacts['throttledSource'] = throttled === null ? null : 'sysfs';
  if (throttled === null && model?.startsWith('Raspberry Pi')) {
    throttled = parseThrottled((await vcgencmd()) ?? '');
    if (throttled !== null) throttledSource = 'vcgencmd';
  }
  const root = (readOrNull(at('proc/mounts')) ?? '')
    .split('\n')
    .map((l) => l.split(' '))
    .find((f) => f[1] === '/');
  return {
    model,
    revision,
    memTotal: kb ? Number(kb[1]) * 1024 : null,
    temperatureC,
    thermalZone: zone?.type ?? null,
    throttled,
    throttledSource,
    rootDevice: root?.[0] ?? null,
    swaps: parseSwaps(readOrNull(at('proc/swaps')) ?? ''),
  };
}

/** /proc/swaps: "Filename Type Size Used Priority", sizes in KiB. zram devices show as partitions. */
export function parseSwaps(text: string): HardwareFacts['swaps'] {
  return text
    .split('\n')
    .slice(1)
    .map((l) => l.trim().split(/\s+/))
    .filter((f) => f.length >= 3 && f[0])
    .map(([name, type, size]) => ({
      type: name!.startsWith('/dev/zram') ? 'zram' : type === 'file' ? 'file' : 'partition',
      name: name!,
      size: Number(size) * 1024,
    }));
}

/** What kind of storage a root device is. An SD card is slow and wears out: worth knowing. */
export function describeBootDevice(dev: string | null): string {
  if (dev === null) return 'unknown';
  if (/mmcblk\d/.test(dev)) return `${dev} (SD card or eMMC)`;
  if (/nvme/.test(dev)) return `${dev} (NVMe)`;
  if (/\/dev\/sd[a-z]/.test(dev)) return `${dev} (USB or SATA disk)`;
  return dev;
}

function runVcgencmd(): Promise<string | null> {
  return new Promise((resolve) => {
    execFile('vcgencmd', ['get_throttled'], { timeout: 3000 }, (err, stdout) => resolve(err ? null : stdout));
  });
}

/** The doctor lines; a missing signal is "not available", never a failure. */
export function hardwareChecks(f: HardwareFacts, maxTemperature: number): Check[] {
  const checks: Check[] = [];
  const board = f.model ?? 'not a Raspberry Pi (no /proc/device-tree/model)';
  checks.push({
    id: 'hardware',
    status: 'info',
    summary: `${board}${f.revision ? `, revision ${f.revision}` : ''}, RAM ${f.memTotal === null ? '?' : formatSize(f.memTotal)}, root on ${describeBootDevice(f.rootDevice)}`,
    data: { model: f.model, revision: f.revision, mem_total: f.memTotal, root_device: f.rootDevice },
  });
  if (f.temperatureC === null) {
    checks.push({
      id: 'temperature',
      status: 'info',
      summary: 'SoC temperature: not available (no CPU thermal zone); max_temperature is not part of admission',
    });
  } else {
    const t = `${f.temperatureC.toFixed(1)} °C (${f.thermalZone})`;
    checks.push(
      f.temperatureC > maxTemperature
        ? {
            id: 'temperature',
            status: 'warn',
            summary: `${t}, over max_temperature ${maxTemperature} °C: warden pauses spawning`,
            fix: 'cooling: a heatsink and fan (the Pi 5 active cooler), airflow around the case',
            data: { celsius: f.temperatureC },
          }
        : {
            id: 'temperature',
            status: 'pass',
            summary: `${t}, under max_temperature ${maxTemperature} °C`,
            data: { celsius: f.temperatureC },
          },
    );
  }
  if (f.throttled === null) {
    checks.push({
      id: 'throttled',
      status: 'info',
      summary: 'throttled/under-voltage flags: not available (no get_throttled in sysfs, no vcgencmd)',
    });
  } else {
    const d = decodeThrottled(f.throttled);
    const words = describeThrottled(d);
    const summary = `throttled=0x${f.throttled.toString(16)} (${f.throttledSource})${words.length ? `: ${words.join(', ')}` : ': never since boot'}`;
    const data = { raw: f.throttled, source: f.throttledSource };
    if (d.now.underVoltage)
      checks.push({
        id: 'throttled',
        status: 'fail',
        summary,
        fix: 'under-voltage now: use the official power supply (5V 3A for a Pi 4, 5V 5A for a Pi 5) and a short, thick cable; warden pauses spawning (reason power)',
        data,
      });
    else if (f.throttled !== 0)
      checks.push({
        id: 'throttled',
        status: 'warn',
        summary,
        fix: d.sinceBoot.underVoltage
          ? 'under-voltage happened since boot: check the power supply and cable'
          : 'throttling or capping since boot: improve cooling',
        data,
      });
    else checks.push({ id: 'throttled', status: 'pass', summary, data });
  }
  const swap = f.swaps.length === 0 ? 'off' : f.swaps.map((s) => `${s.type} ${s.name} ${formatSize(s.size)}`).join(', ');
  const onSd = f.swaps.some((s) => s.type !== 'zram') && /mmcblk/.test(f.rootDevice ?? '');
  checks.push(
    onSd
      ? {
          id: 'swap-type',
          status: 'warn',
          summary: `swap: ${swap}, on the SD card`,
          fix: 'swap on an SD card is slow and wears it out: prefer zram (apt install systemd-zram-generator) and turn the swap file off (dphys-swapfile swapoff)',
        }
      : { id: 'swap-type', status: 'info', summary: `swap: ${swap}` },
  );
  return checks;
}
