// Free space and inodes of one filesystem, for the disk check (src/admission/disk.ts judges them).
import { statfsSync } from 'node:fs';
import type { DiskUsage } from '../admission/disk.js';

/** One statfs call; spawns nothing. Throws when the path cannot be read. */
export function readDiskUsage(role: string, path: string): DiskUsage {
  const s = statfsSync(path);
  return { role, path, freeBytes: s.bavail * s.bsize, freeInodes: s.files > 0 ? s.ffree : null };
}
