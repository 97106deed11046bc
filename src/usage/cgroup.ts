// What a worker's own cgroup says it uses: memory now, its peak and its cap, CPU time, and the
// scope's memory pressure. One reader for both hierarchies, found from /proc/PID/cgroup of the
// worker's process (no systemctl call):
//   cgroup v2 (Pi OS Bookworm): memory.current, memory.peak (kernel 5.19+), memory.max,
//     cpu.stat usage_usec, memory.pressure, all under /sys/fs/cgroup<path>.
//   cgroup v1 / hybrid (systemd's old default, this test host): memory.usage_in_bytes,
//     memory.max_usage_in_bytes and memory.limit_in_bytes under /sys/fs/cgroup/memory<path>,
//     cpuacct.usage (ns) under /sys/fs/cgroup/cpuacct<path>; in hybrid mode the scope's
//     memory.pressure is in the empty v2 tree at /sys/fs/cgroup/unified<path> when PSI is on.
// The parsing is pure (unit-tested on fixture text); readCgroupUsage is the edge.
import { join } from 'node:path';
import { readOrNull } from '../host/read-file.js';

/** The cgroup paths of one process, by hierarchy (null: not in that hierarchy). */
export interface ProcCgroups {
  /** The unified (v2) hierarchy's path, from the `0::` line. */
  unified: string | null;
  /** The v1 memory controller's path. */
  memory: string | null;
  /** The v1 cpuacct controller's path (often co-mounted as cpu,cpuacct). */
  cpuacct: string | null;
}

export interface CgroupUsage {
  source: 'cgroup-v1' | 'cgroup-v2';
  /** Bytes charged to the cgroup now (page cache included, as the kernel counts it against the cap). */
  memoryBytes: number | null;
  /** The cgroup's high-water mark; null where the kernel has none (v2 before 5.19). */
  peakBytes: number | null;
  /** The cap the kernel enforces; null when unlimited. */
  limitBytes: number | null;
  /** CPU time used since the cgroup began, in nanoseconds. */
  cpuNs: number | null;
  /** The scope's own memory PSI, `some avg10` percent; null where PSI is off or not per cgroup. */
  pressureSome10: number | null;
}

/** Parses /proc/PID/cgroup: `hierarchy-ID:controller-list:path`, one line per hierarchy. */
export function parseProcCgroup(text: string): ProcCgroups {
  const out: ProcCgroups = { unified: null, memory: null, cpuacct: null };
  for (const line of text.split('\n')) {
    const m = /^(\d+):([^:]*):(.*)$/.exec(line.trim());
    if (!m) continue;
    const [, id, controllers = '', path = ''] = m;
    if (id === '0' && controllers === '') out.unified = path;
    const list = controllers.split(',');
    if (list.includes('memory')) out.memory = path;
    if (list.includes('cpuacct')) out.cpuacct = path;
  }
  return out;
}

/** A plain number file; null when absent or not a number. */
export function parseCount(text: string | null): number | null {
  if (text === null) return null;
  const t = text.trim();
  return /^\d+$/.test(t) ? Number(t) : null;
}

/**
 * A memory cap: v2 writes `max` when unlimited; v1 writes a huge number (PAGE_COUNTER_MAX pages,
 * 9223372036854771712 on 64-bit) that no machine has. Anything from 2^60 on is "unlimited".
 */
export function parseLimit(text: string | null): number | null {
  if (text === null || text.trim() === 'max') return null;
  const n = parseCount(text);
  return n === null || n >= 2 ** 60 ? null : n;
}

/** cpu.stat (v2): `usage_usec N`, converted to nanoseconds. */
export function parseCpuStatUsageNs(text: string | null): number | null {
  const m = text === null ? null : /^usage_usec (\d+)$/m.exec(text);
  return m ? Number(m[1]) * 1000 : null;
}

/** A PSI file (system-wide or a cgroup's): the `some avg10=` percent. */
export function parsePressureSome10(text: string | null): number | null {
  const m = text === null ? null : /^some avg10=(\d+(?:\.\d+)?)/m.exec(text);
  return m ? Number(m[1]) : null;
}

/** File contents by name, for the pure decision below (null: absent or unreadable). */
export type CgroupReader = (path: string) => string | null;

/**
 * The usage of the cgroup a process is in. v2 when the unified tree holds the memory controller's
 * files; else the v1 memory and cpuacct hierarchies. null when neither has the files (the process
 * is gone, or no memory controller: a Pi kernel without cgroup_enable=memory).
 */
export function cgroupUsageOf(cg: ProcCgroups, read: CgroupReader, root = '/sys/fs/cgroup'): CgroupUsage | null {
  if (cg.unified !== null) {
    const dir = join(root, cg.unified);
    const current = parseCount(read(join(dir, 'memory.current')));
    if (current !== null) {
      return {
        source: 'cgroup-v2',
        memoryBytes: current,
        peakBytes: parseCount(read(join(dir, 'memory.peak'))),
        limitBytes: parseLimit(read(join(dir, 'memory.max'))),
        cpuNs: parseCpuStatUsageNs(read(join(dir, 'cpu.stat'))),
        pressureSome10: parsePressureSome10(read(join(dir, 'memory.pressure'))),
      };
    }
  }
  if (cg.memory === null) return null;
  const mem = join(root, 'memory', cg.memory);
  const usage = parseCount(read(join(mem, 'memory.usage_in_bytes')));
  if (usage === null) return null;
  return {
    source: 'cgroup-v1',
    memoryBytes: usage,
    peakBytes: parseCount(read(join(mem, 'memory.max_usage_in_bytes'))),
    limitBytes: parseLimit(read(join(mem, 'memory.limit_in_bytes'))),
    cpuNs: cg.cpuacct === null ? null : parseCount(read(join(root, 'cpuacct', cg.cpuacct, 'cpuacct.usage'))),
    pressureSome10: cg.unified === null ? null : parsePressureSome10(read(join(root, 'unified', cg.unified, 'memory.pressure'))),
  };
}

/** The edge: the cgroup usage of the process `pid` (a worker's wrapper, inside its scope). */
export function readCgroupUsage(pid: number, procRoot = '/proc', cgroupRoot = '/sys/fs/cgroup'): CgroupUsage | null {
  const text = readOrNull(join(procRoot, String(pid), 'cgroup'));
  return text === null ? null : cgroupUsageOf(parseProcCgroup(text), (p) => readOrNull(p), cgroupRoot);
}
