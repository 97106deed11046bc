// What the benchmark ran on, read from /proc and node:os (no child process).
import { spawnSync } from 'node:child_process';
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
    loadavgAtStart: loadNow(),
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

/** The load averages now, to two decimals (the machine is shared: every results file records them). */
export function loadNow(): number[] {
  return loadavg().map((x) => Math.round(x * 100) / 100);
}

/** When a run started and how long it took, as every results file opens. */
export function runSpan(startedAt: Date): { date: string; startedAt: string; durationMs: number } {
  return { date: startedAt.toISOString().slice(0, 10), startedAt: startedAt.toISOString(), durationMs: Date.now() - startedAt.getTime() };
}

/** Which code ran: the checkout's commit and any uncommitted changes under src/ (built into dist/). */
export function gitInfo(root: string): { commit: string | null; srcChanges: string[] } {
  const g = (...args: string[]) => spawnSync('git', ['-c', `safe.directory=${root}`, '-C', root, ...args], { encoding: 'utf8' });
  const head = g('rev-parse', 'HEAD');
  const st = g('status', '--porcelain', '--', 'src');
  return {
    commit: head.status === 0 ? head.stdout.trim() : null,
    srcChanges: st.status === 0 ? st.stdout.split('\n').filter(Boolean) : [],
  };
}

/** One line naming the machine, as every benchmark prints it first. */
export function machineLine(m: MachineInfo): string {
  return `machine: ${m.hostname}, ${m.arch}, ${m.cpuModel}, nproc ${m.nproc}, RAM ${(m.ramBytes / 1024 ** 3).toFixed(1)} GiB, kernel ${m.kernel}, node ${m.node}`;
}
