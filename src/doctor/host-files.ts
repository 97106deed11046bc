// Reads the files pi-readiness.ts judges, under a sysroot (`/` in production, a fixture tree in tests).
import { existsSync } from 'node:fs';
import { join } from 'node:path';
import { readCgroupFiles } from '../systemd/cgroups.js';
import type { HostFiles } from './pi-readiness.js';
import { readOrNull } from '../host/read-file.js';

export function readHostFiles(sysroot = '/'): HostFiles {
  const at = (p: string) => join(sysroot, p);
  return {
    model: readOrNull(at('proc/device-tree/model')),
    cgroups: readCgroupFiles(sysroot),
    psi: existsSync(at('proc/pressure/memory')),
    meminfo: readOrNull(at('proc/meminfo')),
    // the root cgroup has no swap files of its own: look in a child systemd always creates
    swapAccounting:
      existsSync(at('sys/fs/cgroup/init.scope/memory.swap.max')) ||
      existsSync(at('sys/fs/cgroup/system.slice/memory.swap.max')) ||
      existsSync(at('sys/fs/cgroup/memory/memory.memsw.limit_in_bytes')),
    firmwareCmdlineTxt: readOrNull(at('boot/firmware/cmdline.txt')),
    bootCmdlineTxt: readOrNull(at('boot/cmdline.txt')),
    procCmdline: readOrNull(at('proc/cmdline')),
  };
}
