// What the direct executor's workers use, from /proc: the direct executor runs no cgroup of its own,
// so the figures are sums over the worker's process group (or the session it leads), like
// groupMembers in src/executors/process-info.ts. Memory is resident memory (VmRSS), not what a
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

/** Sums over the live members of the process group (or session) `pgid`; null when none is left. */
export function readGroupUsage(pgid: number, procRoot = '/proc'): GroupUsage | null {
  let names: string[];
  try {
    names = readdirSync(procRoot);
  } catch {
    return null;
  }
  let [processes, memoryBytes, peakBytes, ticks] = [0, 0, 0, 0];
  for (const name of names) {
    if (name.charCodeAt(0) > 57) continue; // not a PID (self, sys, ...)
    const text = readOrNull(join(procRoot, name, 'stat'));
    const st = text === null ? null : parseStatUsage(text);
    if (st === null || st.state === 'Z' || st.state === 'X' || (st.pgrp !== pgid && st.session !== pgid)) continue;
    const status = readOrNull(join(procRoot, name, 'status'));
    const mem = status === null ? { rss: null, hwm: null } : parseStatusMemory(status);
    processes++;
    memoryBytes += mem.rss ?? 0;
    peakBytes = Math.max(peakBytes, mem.hwm ?? 0);
    ticks += st.cpuTicks;
  }
  if (processes === 0) return null;
  return { source: 'proc', processes, memoryBytes, peakBytes, cpuNs: (ticks * 1e9) / USER_HZ };
}
