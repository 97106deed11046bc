// Per-worker usage as status and `warden top` show it: memory now, its peak and its cap, and the
// CPU share over the last interval. CPU % needs two readings, so while workers run the meter reads
// every USAGE_INTERVAL_MS (one timer, off when no worker runs: an idle warden does not wake for
// it). A status request gets the latest reading, at most one interval old.
import { readCgroupUsage, type CgroupUsage } from './cgroup.js';
import { readGroupUsage, type GroupUsage } from './process-group.js';

/** How often the meter reads while workers run: CPU % is over this interval. */
export const USAGE_INTERVAL_MS = 2000;

/** One reading of a worker's usage, from its cgroup or its process group. */
export type RawUsage = CgroupUsage | GroupUsage;

/** A worker's usage in `warden status --json` (the field `usage` of each worker). */
export interface WorkerUsage {
  /** Where the figures come from: the scope's cgroup files, or /proc summed over the process group. */
  source: RawUsage['source'];
  memoryBytes: number | null;
  /** The cgroup's own peak (v1 max_usage_in_bytes, v2 memory.peak), else the largest warden has seen. */
  peakBytes: number | null;
  /** The cap the kernel enforces; null when none (the direct executor, or unlimited). */
  limitBytes: number | null;
  /** Percent of one CPU over the interval before sampledAt (100 = one core busy); null until two readings. */
  cpuPercent: number | null;
  intervalMs: number | null;
  /** The scope's own memory PSI, some avg10 percent (cgroup v2, or hybrid with PSI on). */
  pressureSome10: number | null;
  sampledAt: number;
}

interface Previous {
  pid: number;
  at: number;
  cpuNs: number | null;
  peakSeen: number;
  usage: WorkerUsage;
}

/** CPU % of one core between two readings; null when either lacks CPU time or no time passed. */
export function cpuPercent(prev: { at: number; cpuNs: number | null } | undefined, at: number, cpuNs: number | null): number | null {
  if (!prev || prev.cpuNs === null || cpuNs === null || at <= prev.at) return null;
  return Math.max(0, ((cpuNs - prev.cpuNs) / 1e6 / (at - prev.at)) * 100);
}

/** Folds one raw reading into the view, given the worker's previous one (pure). */
export function nextUsage(prev: Previous | undefined, pid: number, raw: RawUsage, at: number): Previous {
  const samePrev = prev?.pid === pid ? prev : undefined;
  const peakSeen = Math.max(samePrev?.peakSeen ?? 0, raw.memoryBytes ?? 0, raw.peakBytes ?? 0);
  const cgroup = raw.source !== 'proc';
  return {
    pid,
    at,
    cpuNs: raw.cpuNs,
    peakSeen,
    usage: {
      source: raw.source,
      memoryBytes: raw.memoryBytes,
      peakBytes: cgroup ? (raw.peakBytes ?? (peakSeen || null)) : peakSeen || null,
      limitBytes: cgroup ? raw.limitBytes : null,
      cpuPercent: cpuPercent(samePrev, at, raw.cpuNs),
      intervalMs: samePrev ? at - samePrev.at : null,
      pressureSome10: cgroup ? raw.pressureSome10 : null,
      sampledAt: at,
    },
  };
}

export interface MeteredWorker {
  taskId: string;
  pid: number;
}

export class UsageMeter {
  private readonly last = new Map<string, Previous>();
  private timer: NodeJS.Timeout | null = null;

  constructor(
    private readonly deps: {
      now: () => number;
      workers: () => readonly MeteredWorker[];
      /** The direct executor's workers lead their process group; systemd's sit in a scope. */
      read?: (pid: number) => RawUsage | null;
      executorKind: 'direct' | 'systemd';
    },
  ) {}

  /** Reads while `wanted` (workers run); stops the timer otherwise. */
  run(wanted: boolean): void {
    if (wanted && !this.timer) {
      this.sample();
      this.timer = setInterval(() => this.sample(), USAGE_INTERVAL_MS);
      this.timer.unref();
    } else if (!wanted && this.timer) {
      clearInterval(this.timer);
      this.timer = null;
    }
  }

  /** One reading of every live worker; workers that are gone are forgotten. */
  sample(): void {
    const read = this.deps.read ?? (this.deps.executorKind === 'systemd' ? (pid: number) => readCgroupUsage(pid) : readGroupUsage);
    const now = this.deps.now();
    const live = new Set<string>();
    for (const w of this.deps.workers()) {
      live.add(w.taskId);
      const raw = read(w.pid);
      if (raw) this.last.set(w.taskId, nextUsage(this.last.get(w.taskId), w.pid, raw, now));
    }
    for (const id of this.last.keys()) if (!live.has(id)) this.last.delete(id);
  }

  /** The latest usage of a worker, or null before its first reading (or when nothing could be read). */
  usage(taskId: string, pid: number): WorkerUsage | null {
    const p = this.last.get(taskId);
    return p && p.pid === pid ? p.usage : null;
  }
}
