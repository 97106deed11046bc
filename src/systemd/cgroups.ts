// Whether this kernel can cap a worker's memory at all. Raspberry Pi kernels ship the memory
// controller disabled until `cgroup_enable=memory` (older images also `cgroup_memory=1`) is on
// the kernel command line; systemd then accepts MemoryMax= and silently enforces nothing.
import { readFileSync } from 'node:fs';

export type MemoryControllerState = { enabled: true } | { enabled: false; why: string };

export const PI_CMDLINE_HINT =
  'add "cgroup_enable=memory cgroup_memory=1" to the single line in /boot/firmware/cmdline.txt (older images: /boot/cmdline.txt) and reboot';

export function memoryController(procCgroups = '/proc/cgroups'): MemoryControllerState {
  let text: string;
  try {
    text = readFileSync(procCgroups, 'latin1');
  } catch (err) {
    return { enabled: false, why: `cannot read ${procCgroups}: ${(err as Error).message}` };
  }
  const line = text.split('\n').find((l) => l.startsWith('memory\t') || l.startsWith('memory '));
  if (!line) return { enabled: false, why: 'the kernel has no memory cgroup controller' };
  const enabled = line.trim().split(/\s+/)[3];
  if (enabled !== '1') return { enabled: false, why: 'the memory cgroup controller is disabled on the kernel command line' };
  return { enabled: true };
}
