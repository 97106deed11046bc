// Whether this kernel can cap a worker's memory at all. Raspberry Pi kernels ship the memory
// controller disabled until `cgroup_enable=memory` (older images also `cgroup_memory=1`) is on
// the kernel command line; systemd then accepts MemoryMax= and silently enforces nothing.
//
// The decision is a pure function of a few files' contents (testable with fixture trees); the
// edge reads them under a sysroot, `/` in production.
import { existsSync } from 'node:fs';
import { join } from 'node:path';
import { readOrNull } from '../host/read-file.js';
import { assertNever } from '../policy/failure-kind.js';

export type MemoryControllerState = { enabled: true } | { enabled: false; why: string };

/** v2: the unified hierarchy only (Pi OS Bookworm, Debian 11+); hybrid: v1 controllers plus an
 * empty v2 tree at /sys/fs/cgroup/unified (systemd's old default); v1: controllers only. */
export type CgroupMode = 'v2' | 'hybrid' | 'v1';

export const PI_CMDLINE_HINT =
  'add "cgroup_enable=memory cgroup_memory=1" to the single line in /boot/firmware/cmdline.txt (older images: /boot/cmdline.txt) and reboot';

/** The files the memory-controller decision reads, by content (null: absent or unreadable). */
export interface CgroupFiles {
  /** /sys/fs/cgroup/cgroup.controllers: it exists only when the v2 hierarchy is mounted there. */
  rootControllers: string | null;
  /** /sys/fs/cgroup/unified/cgroup.controllers exists (systemd's hybrid layout). */
  hybridUnified: boolean;
  /** /proc/cgroups */
  procCgroups: string | null;
}

export function cgroupMode(f: CgroupFiles): CgroupMode {
  if (f.rootControllers !== null) return 'v2';
  return f.hybridUnified ? 'hybrid' : 'v1';
}

export function describeCgroupMode(mode: CgroupMode): string {
  switch (mode) {
    case 'v2':
      return 'cgroup v2';
    case 'hybrid':
      return 'cgroup v1, hybrid';
    case 'v1':
      return 'cgroup v1';
    default:
      return assertNever(mode, 'cgroup mode');
  }
}

/**
 * v2: `memory` must be listed in the root's cgroup.controllers. v1 and hybrid: /proc/cgroups must
 * show the memory controller enabled (4th column 1) and mounted (hierarchy not 0).
 */
export function memoryControllerFrom(f: CgroupFiles): MemoryControllerState {
  if (cgroupMode(f) === 'v2') {
    if ((f.rootControllers ?? '').split(/\s+/).includes('memory')) return { enabled: true };
    return {
      enabled: false,
      why: 'cgroup v2: "memory" is not in /sys/fs/cgroup/cgroup.controllers (the kernel command line leaves the memory controller off)',
    };
  }
  if (f.procCgroups === null) return { enabled: false, why: 'cannot read /proc/cgroups' };
  const line = f.procCgroups.split('\n').find((l) => l.startsWith('memory\t') || l.startsWith('memory '));
  if (!line) return { enabled: false, why: 'the kernel has no memory cgroup controller' };
  const [, hierarchy, , enabled] = line.trim().split(/\s+/);
  if (enabled !== '1') return { enabled: false, why: 'the memory cgroup controller is disabled on the kernel command line' };
  if (hierarchy === '0') return { enabled: false, why: 'the memory cgroup controller is enabled but not mounted' };
  return { enabled: true };
}

export function readCgroupFiles(sysroot = '/'): CgroupFiles {
  return {
    rootControllers: readOrNull(join(sysroot, 'sys/fs/cgroup/cgroup.controllers')),
    hybridUnified: existsSync(join(sysroot, 'sys/fs/cgroup/unified/cgroup.controllers')),
    procCgroups: readOrNull(join(sysroot, 'proc/cgroups')),
  };
}
