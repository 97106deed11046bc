// Can this host ever admit a worker? The memory rule of admission (memoryViolation) asked about
// the best case the host can ever offer: MemTotal minus the least an idle system running warden
// holds. A config that fails it pauses with reason `pressure` at its first tick and never
// resumes, however idle the machine (seen on a 2 GB Pi with the default memory_max = "2G").
import { formatSize } from '../config/units.js';
import { memoryViolation } from './evaluate.js';

const MiB = 1024 ** 2;

/**
 * The least memory in use on any host that runs warden, with no worker: the kernel's own
 * unreclaimable memory, systemd, journald, sshd and warden itself (about 60M). Measured idle
 * systems hold more (a Debian 12 VM with 2 GB: MemTotal 1.9G, MemAvailable 1.7G), so a verdict
 * of "never" made with this figure is certain. Sizing leaves more (src/config/sizing.ts).
 */
export const MIN_SYSTEM_MEMORY = 128 * MiB;

export interface NeverFit {
  memTotal: number;
  /** The most MemAvailable this host can ever show: MemTotal minus MIN_SYSTEM_MEMORY. */
  bestAvailable: number;
  memoryMax: number;
  minAvailableMemory: number;
  /** One line: what does not fit, in numbers. */
  why: string;
}

/** Why a worker of `memoryMax` can never be admitted on a host of `memTotal` bytes; null when it can. */
export function neverFits(memTotal: number, memoryMax: number, minAvailableMemory: number): NeverFit | null {
  const bestAvailable = Math.max(0, memTotal - MIN_SYSTEM_MEMORY);
  if (memoryViolation(bestAvailable, memoryMax, minAvailableMemory) === null) return null;
  return {
    memTotal,
    bestAvailable,
    memoryMax,
    minAvailableMemory,
    why:
      `memory_max ${formatSize(memoryMax)} + min_available_memory ${formatSize(minAvailableMemory)} ` +
      `exceed what this host can ever have available (MemTotal ${formatSize(memTotal)} minus ${formatSize(MIN_SYSTEM_MEMORY)} for the system)`,
  };
}
