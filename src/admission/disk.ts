// Disk health for admission: free space and free inodes on the filesystems that hold the state
// file and the worktrees. A full SD card breaks git, the state file and journald alike, and a
// checkout of many small files can run out of inodes with gigabytes still free. The judgement is
// pure; src/host/disk-usage.ts reads the filesystem.
import { formatSize } from '../config/units.js';

export interface DiskUsage {
  /** What the filesystem holds for warden: "state_dir" or "worktrees". */
  role: string;
  path: string;
  freeBytes: number;
  /** null when the filesystem does not count inodes (btrfs and some FUSE filesystems report 0). */
  freeInodes: number | null;
}

export interface DiskLimits {
  /** Bytes that must stay free on this filesystem, and the key that set it (for the message). */
  minFree: number;
  minFreeKey: string;
  minFreeInodes: number;
}

/** Human-readable problems; empty when there is enough space and inodes everywhere. */
export function diskProblems(checks: readonly { usage: DiskUsage; limits: DiskLimits }[]): string[] {
  const out: string[] = [];
  for (const { usage: u, limits: l } of checks) {
    if (u.freeBytes < l.minFree)
      out.push(`${formatSize(u.freeBytes)} free on ${u.path} (${u.role}), under ${l.minFreeKey} ${formatSize(l.minFree)}`);
    if (u.freeInodes !== null && u.freeInodes < l.minFreeInodes)
      out.push(`${u.freeInodes} inodes free on ${u.path} (${u.role}), under admission.min_free_inodes ${l.minFreeInodes}`);
  }
  return out;
}
