// What the benchmark ran on, read from /proc and node:os (no child process).
import { readFileSync } from 'node:fs';
import { availableParallelism, hostname, loadavg, machine, release, totalmem } from 'node:os';

export interface MachineInfo {
  hostname: string;
  arch: string;
  cpuModel: string;
  nproc: number;
  ramBytes: number;
  kernel: string;
  node: string;
  loadavgAtStart: number[];
}

export function cpuModel(): string {
  try {
    const text = readFileSync('/proc/cpuinfo', 'latin1');
    // x86: "model name"; Raspberry Pi (arm64) has no model name per core but a "Model" line
    for (const key of ['model name', 'Model', 'Hardware', 'cpu model']) {
      const m = new RegExp(`^${key}\\s*:\\s*(.+)$`, 'm').exec(text);
      if (m?.[1]) return m[1].trim();
    }
  } catch {
    /* not Linux */
  }
  return 'unknown';
}

export function machineInfo(): MachineInfo {
  return {
    hostname: hostname(),
    arch: machine(),
    cpuModel: cpuModel(),
    nproc: availableParallelism(),
    ramBytes: totalmem(),
    kernel: release(),
    node: process.version,
    loadavgAtStart: loadavg().map((x) => Math.round(x * 100) / 100),
  };
}

/** The filesystem type holding `path`, from /proc/self/mounts (longest matching mount point). */
export function filesystemOf(path: string): string {
  try {
    let best = { point: '', type: 'unknown' };
    for (const line of readFileSync('/proc/self/mounts', 'latin1').split('\n')) {
      const [, point, type] = line.split(' ');
      if (!point || !type) continue;
      const p = point.replace(/\\040/g, ' ');
      if ((path === p || path.startsWith(p.endsWith('/') ? p : `${p}/`)) && p.length >= best.point.length) best = { point: p, type };
    }
    return `${best.type} (mounted at ${best.point})`;
  } catch {
    return 'unknown';
  }
}
