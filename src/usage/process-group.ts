// What the direct executor's workers use, from /proc: the direct executor runs no cgroup of its own,
// so the figures are sums over the worker's processes: its process tree, or where the kernel lacks
// the `children` lists, its process group (or the session it leads), like groupMembers in
// src/executors/process-info.ts. Memory is resident memory (VmRSS), not what a
// cgroup would charge (no page cache), and there is no cap to compare with: the direct executor
// enforces none. The peak is the larger of the biggest single VmHWM and the largest sum warden has
// sampled; both are lower bounds of the true peak, which /proc does not keep for a group.
import { readdirSync } from 'node:fs';
import { join } from 'node:path';
import { readOrNull } from '../host/read-file.js';

/** USER_HZ: /proc counts CPU time in these ticks; the kernel fixes it at 100 on every architecture. */
export const USER_HZ = 100;

export interface ProcStatUsage {
  state: string;
  pgrp: number;
  session: number;
  /** utime + stime, in clock ticks. */
  cpuTicks: number;
}

/** The fields of /proc/PID/stat this needs; comm may hold spaces and parentheses: split after the last ')'. */
export function parseStatUsage(text: string): ProcStatUsage | null {
  const f = text.slice(text.lastIndexOf(')') + 2).split(' ');
  const [state, , pgrp, session] = f;
  const utime = Number(f[11]);
  const stime = Number(f[12]);
  if (!state || !pgrp || !session || !Number.isFinite(utime) || !Number.isFinite(stime)) return null;
  return { state, pgrp: Number(pgrp), session: Number(session), cpuTicks: utime + stime };
}

/** VmRSS and VmHWM of /proc/PID/status, in bytes (kernel threads have neither). */
export function parseStatusMemory(text: string): { rss: number | null; hwm: number | null } {
  const kb = (field: string) => {
    const m = new RegExp(`^${field}:\\s+(\\d+) kB`, 'm').exec(text);
    return m ? Number(m[1]) * 1024 : null;
  };
  return { rss: kb('VmRSS'), hwm: kb('VmHWM') };
}

export interface GroupUsage {
  source: 'proc';
  processes: number;
  memoryBytes: number;
  /** The largest VmHWM of one member (the sampled sums are added by the meter). */
  peakBytes: number;
  cpuNs: number;
}

/**
 * The worker's process tree, from the kernel's per-thread `children` lists (CONFIG_PROC_CHILDREN,
 * on in Debian's and the Pi's kernels): a few reads instead of a scan of every process, which took
 * 57 ms for 141 processes on the loaded 2-core test machine. null when the kernel has no such file.
 * A descendant that left the tree (double fork) is not counted; it is still in the process group,
 * which the stop scans when the attempt ends.
 */
export function treePids(leader: number, procRoot = '/proc', max = 512): number[] | null {
  if (readOrNull(join(procRoot, String(leader), 'task', String(leader), 'children')) === null) return null;
  const out = [leader];
  for (let i = 0; i < out.length && out.length < max; i++) {
    let tids: string[];
    try {
      tids = readdirSync(join(procRoot, String(out[i]), 'task'));
    } catch {
      continue; // gone meanwhile
    }
    for (const tid of tids) {
      const text = readOrNull(join(procRoot, String(out[i]), 'task', tid, 'children'));
      for (const c of text?.split(' ') ?? []) if (c.trim() !== '') out.push(Number(c));
    }
  }
  return out;
}

/** The PIDs of the process group (or session) `pgid` by a scan of /proc: for kernels without `children`. */
function scanPids(pgid: number, procRoot: string): number[] {
  let names: string[];
  try {
    names = readdirSync(procRoot);
  } catch {
    return [];
  }
  const out: number[] = [];
  for (const name of names) {
    if (name.charCodeAt(0) > 57) continue; // not a PID (self, sys, ...)
    const text = readOrNull(join(procRoot, name, 'stat'));
    const st = text === null ? null : parseStatUsage(text);
    if (st !== null && (st.pgrp === pgid || st.session === pgid)) out.push(Number(name));
  }
  return out;
}

/** Sums over the live processes of the worker's tree (else its process group); null when none is left. */
export function readGroupUsage(pgid: number, procRoot = '/proc'): GroupUsage | null {
  let [processes, memoryBytes, peakBytes, ticks] = [0, 0, 0, 0];
  for (const pid of treePids(pgid, procRoot) ?? scanPids(pgid, procRoot)) {
    const text = readOrNull(join(procRoot, String(pid), 'stat'));
    const st = text === null ? null : parseStatUsage(text);
    if (st === null || st.state === 'Z' || st.state === 'X') continue;
    const status = readOrNull(join(procRoot, String(pid), 'status'));
    const mem = status === null ? { rss: null, hwm: null } : parseStatusMemory(status);
    processes++;
    memoryBytes += mem.rss ?? 0;
    peakBytes = Math.max(peakBytes, mem.hwm ?? 0);
    ticks += st.cpuTicks;
  }
  if (processes === 0) return null;
  return { source: 'proc', processes, memoryBytes, peakBytes, cpuNs: (ticks * 1e9) / USER_HZ };
}
