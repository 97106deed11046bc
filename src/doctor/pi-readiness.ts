// Host readiness for capped workers, above all on a Raspberry Pi: is this a Pi, is the memory
// cgroup controller usable (so MemoryMax does something), is PSI on (so memory pressure can gate
// spawns), and does swap undermine MemorySwapMax=0. Pi kernels ship both the memory controller
// and PSI off; the fix is one edit of the single line in cmdline.txt and a reboot.
//
// Everything here is a pure function of file contents. host-files.ts reads them; install.sh's
// --fix-cmdline applies planCmdlineFix's edit in bash, and a unit test holds the two to the same
// result on the same fixtures.
import {
  cgroupMode,
  describeCgroupMode,
  memoryControllerFrom,
  type CgroupFiles,
  type CgroupMode,
  type MemoryControllerState,
} from '../systemd/cgroups.js';
import { formatSize } from '../config/units.js';
import type { Check } from './check.js';

export interface HostFiles {
  /** /proc/device-tree/model (NUL-terminated on a Pi); null when absent (not a device-tree board). */
  model: string | null;
  cgroups: CgroupFiles;
  /** /proc/pressure/memory exists: the kernel runs with PSI on. */
  psi: boolean;
  /** /proc/meminfo */
  meminfo: string | null;
  /** The kernel accounts swap per cgroup: v2 memory.swap.max, v1 memory.memsw.limit_in_bytes. */
  swapAccounting: boolean;
  /** /boot/firmware/cmdline.txt (Bookworm and later) and /boot/cmdline.txt (older images). */
  firmwareCmdlineTxt: string | null;
  bootCmdlineTxt: string | null;
  /** /proc/cmdline: what the running kernel was booted with. */
  procCmdline: string | null;
}

/** What must be on the kernel command line: the memory controller (both spellings Pi kernels
 * have used) and PSI. */
export const REQUIRED_CMDLINE = ['cgroup_enable=memory', 'cgroup_memory=1', 'psi=1'] as const;

export const FIRMWARE_CMDLINE_TXT = '/boot/firmware/cmdline.txt';
export const BOOT_CMDLINE_TXT = '/boot/cmdline.txt';

export interface CmdlinePlan {
  /** The first line as it is, and as it must become (equal when nothing changes). */
  before: string;
  after: string;
  added: string[];
  removed: string[];
  changed: boolean;
}

function listHas(token: string, prefix: string, item: string): boolean {
  return token.startsWith(prefix) && token.slice(prefix.length).split(',').includes(item);
}

/**
 * The edit `install.sh --fix-cmdline` makes to the (single) line of cmdline.txt: drop what turns
 * the memory controller or PSI off (`cgroup_disable=memory`, `cgroup_memory=0`, `psi=0`), then
 * append each of REQUIRED_CMDLINE that is missing. An unchanged line is returned byte for byte;
 * a changed one is rejoined with single spaces.
 */
export function planCmdlineFix(line: string): CmdlinePlan {
  const words = line.split(/\s+/).filter(Boolean);
  const out: string[] = [];
  const added: string[] = [];
  const removed: string[] = [];
  for (const w of words) {
    if (w.startsWith('cgroup_disable=') && listHas(w, 'cgroup_disable=', 'memory')) {
      removed.push(w);
      const rest = w
        .slice('cgroup_disable='.length)
        .split(',')
        .filter((x) => x !== 'memory' && x !== '');
      if (rest.length > 0) out.push(`cgroup_disable=${rest.join(',')}`);
    } else if ((w.startsWith('psi=') && w !== 'psi=1') || (w.startsWith('cgroup_memory=') && w !== 'cgroup_memory=1')) {
      removed.push(w);
    } else {
      out.push(w);
    }
  }
  for (const t of REQUIRED_CMDLINE) {
    const present = t === 'cgroup_enable=memory' ? out.some((w) => listHas(w, 'cgroup_enable=', 'memory')) : out.includes(t);
    if (!present) {
      out.push(t);
      added.push(t);
    }
  }
  const changed = added.length > 0 || removed.length > 0;
  return { before: line, after: changed ? out.join(' ') : line, added, removed, changed };
}

/** Which cmdline.txt the Pi's firmware reads. On Bookworm /boot/cmdline.txt is a stub that only
 * says the file has moved, so /boot/firmware wins whenever it exists. */
export function cmdlineTxtOf(f: HostFiles): { path: string; text: string } | null {
  if (f.firmwareCmdlineTxt !== null) return { path: FIRMWARE_CMDLINE_TXT, text: f.firmwareCmdlineTxt };
  if (f.bootCmdlineTxt !== null) return { path: BOOT_CMDLINE_TXT, text: f.bootCmdlineTxt };
  return null;
}

export function firstLine(text: string): string {
  const nl = text.indexOf('\n');
  return nl === -1 ? text : text.slice(0, nl);
}

export function piModel(model: string | null): string | null {
  if (model === null) return null;
  const m = model.replace(/\0/g, '').trim();
  return m.startsWith('Raspberry Pi') ? m : null;
}

/** SwapTotal from /proc/meminfo, in bytes; null when unreadable. */
export function swapTotal(meminfo: string | null): number | null {
  const m = meminfo === null ? null : /^SwapTotal:\s+(\d+)\s*kB/m.exec(meminfo);
  return m ? Number(m[1]) * 1024 : null;
}

export interface PiReadiness {
  /** The model when this is a Raspberry Pi, else null. */
  pi: string | null;
  mode: CgroupMode;
  memory: MemoryControllerState;
  psi: boolean;
  swap: { total: number | null; accounted: boolean };
  /** The cmdline.txt edit that turns the memory controller and PSI on; null when both are on
   * already, or there is no cmdline.txt (not a Pi boot partition). */
  cmdline: ({ path: string; pendingReboot: boolean } & CmdlinePlan) | null;
}

export function assessPiReadiness(f: HostFiles): PiReadiness {
  const memory = memoryControllerFrom(f.cgroups);
  const txt = cmdlineTxtOf(f);
  let cmdline: PiReadiness['cmdline'] = null;
  if (txt !== null && (!memory.enabled || !f.psi)) {
    const plan = planCmdlineFix(firstLine(txt.text));
    // the file already asks for it, but the running kernel was booted without: a reboot is due
    const booted = (f.procCmdline ?? '').split(/\s+/);
    const pendingReboot = !plan.changed && !REQUIRED_CMDLINE.every((t) => booted.includes(t));
    cmdline = { path: txt.path, pendingReboot, ...plan };
  }
  return {
    pi: piModel(f.model),
    mode: cgroupMode(f.cgroups),
    memory,
    psi: f.psi,
    swap: { total: swapTotal(f.meminfo), accounted: f.swapAccounting },
    cmdline,
  };
}

/** The one thing to do about the kernel command line, or null. */
export function cmdlineFix(r: PiReadiness, installer = 'install.sh'): string | null {
  const c = r.cmdline;
  if (c === null) return null;
  if (!c.changed) return `${c.path} already has ${REQUIRED_CMDLINE.join(' ')}: reboot to apply it (sudo reboot)`;
  const what = [c.added.length ? `add "${c.added.join(' ')}" to` : '', c.removed.length ? `remove "${c.removed.join(' ')}" from` : '']
    .filter(Boolean)
    .join(' and ');
  return `${what} the single line in ${c.path} (or run: sudo ${installer} --fix-cmdline), then reboot; the line becomes: ${c.after}`;
}

function noCmdlineFix(what: string, param: string, r: PiReadiness): string {
  if (r.pi !== null) return `add "${param}" to the single line in ${FIRMWARE_CMDLINE_TXT} (older images: ${BOOT_CMDLINE_TXT}), then reboot`;
  return `boot the kernel with ${what} on: add "${param}" to the kernel command line (e.g. GRUB_CMDLINE_LINUX in /etc/default/grub, then update-grub) and reboot`;
}

export interface PiReadinessOptions {
  /** `[executor] allow_unenforced_limits`, or the direct executor: a missing memory controller is
   * then a warning, since warden will run anyway (loudly). */
  memoryOptional?: boolean;
  installer?: string;
}

export function piReadinessChecks(r: PiReadiness, opts: PiReadinessOptions = {}): Check[] {
  const fix = cmdlineFix(r, opts.installer);
  const checks: Check[] = [];
  checks.push({ id: 'raspberry-pi', status: 'info', summary: r.pi ?? 'not a Raspberry Pi' });
  if (r.memory.enabled) {
    checks.push({
      id: 'memory-cgroup',
      status: 'pass',
      summary: `memory controller on (${describeCgroupMode(r.mode)}): MemoryMax is enforced`,
    });
  } else {
    checks.push({
      id: 'memory-cgroup',
      status: opts.memoryOptional ? 'warn' : 'fail',
      summary: `memory controller OFF (${r.memory.why}): worker memory_max would NOT be enforced${opts.memoryOptional ? '' : ', so warden refuses the systemd executor'}`,
      fix: fix ?? noCmdlineFix('the memory controller', 'cgroup_enable=memory', r),
    });
  }
  if (r.psi) checks.push({ id: 'psi', status: 'pass', summary: 'PSI on (/proc/pressure/memory): memory pressure gates spawns' });
  else
    checks.push({
      id: 'psi',
      status: 'warn',
      summary: 'PSI off (/proc/pressure missing): memory pressure is left out of admission',
      fix: fix ?? noCmdlineFix('PSI', 'psi=1', r),
    });
  checks.push(swapCheck(r));
  return checks;
}

// Workers run with MemorySwapMax=0: once a worker reaches memory_max it must be OOM-killed, not
// pushed into swap, where it would thrash the SD card and take sshd down with it.
function swapCheck(r: PiReadiness): Check {
  const { total, accounted } = r.swap;
  if (total === null) return { id: 'swap', status: 'info', summary: 'cannot read SwapTotal from /proc/meminfo' };
  if (total === 0)
    return { id: 'swap', status: 'pass', summary: 'no swap: workers cannot spill past memory_max (MemorySwapMax=0 holds trivially)' };
  if (!r.memory.enabled)
    return {
      id: 'swap',
      status: 'info',
      summary: `swap ${formatSize(total)}; MemorySwapMax=0 needs the memory controller (see memory-cgroup)`,
    };
  // systemd applies MemorySwapMax= on the unified hierarchy only (checked on systemd 252, hybrid
  // and v2): on v1 the same worker spills into swap however the kernel accounts it
  if (r.mode !== 'v2')
    return {
      id: 'swap',
      status: 'warn',
      summary: `swap ${formatSize(total)} is on with ${describeCgroupMode(r.mode)}: systemd ignores MemorySwapMax=0 there, so a worker at memory_max spills into swap instead of being stopped`,
      fix: 'boot with the unified cgroup hierarchy (systemd.unified_cgroup_hierarchy=1 on the kernel command line), or turn swap off',
    };
  if (accounted)
    return {
      id: 'swap',
      status: 'pass',
      summary: `swap ${formatSize(total)}, accounted per cgroup: MemorySwapMax=0 keeps workers out of it`,
    };
  return {
    id: 'swap',
    status: 'warn',
    summary: `swap ${formatSize(total)} is on but not accounted per cgroup: MemorySwapMax=0 is NOT enforced, a worker at memory_max spills into swap instead of being stopped`,
    fix:
      r.mode === 'v2'
        ? 'remove "swapaccount=0" from the kernel command line, or turn swap off (Pi OS: sudo dphys-swapfile swapoff && sudo systemctl disable dphys-swapfile)'
        : 'add "swapaccount=1" to the kernel command line and reboot, or turn swap off (Pi OS: sudo dphys-swapfile swapoff && sudo systemctl disable dphys-swapfile)',
  };
}

/** The installer's single readiness line. */
export function piReadinessLine(r: PiReadiness, installer = 'install.sh'): string {
  const state = [
    r.memory.enabled ? `memory controller on (${describeCgroupMode(r.mode)})` : 'memory controller OFF',
    r.psi ? 'PSI on' : 'PSI OFF',
  ].join(', ');
  const head = `${r.pi ?? 'not a Raspberry Pi'}: ${state}`;
  if (r.memory.enabled && r.psi) return head;
  const c = r.cmdline;
  if (c === null)
    return `${head}: ${noCmdlineFix(r.memory.enabled ? 'PSI' : 'the memory controller', r.memory.enabled ? 'psi=1' : 'cgroup_enable=memory', r)}`;
  if (!c.changed) return `${head}: ${c.path} already has the fix: reboot to apply it`;
  return `${head}: run \`sudo ${installer} --fix-cmdline\` (${c.path}: ${[c.added.length ? `adds ${c.added.join(' ')}` : '', c.removed.length ? `removes ${c.removed.join(' ')}` : ''].filter(Boolean).join(', ')}), then reboot`;
}
