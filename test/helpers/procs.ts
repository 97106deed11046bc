// Finding processes by a marker in their command line or environment, as the kernel sees them:
// the fault tests give every descendant a unique marker and count what is left after a stop.
import { readdirSync, readFileSync } from 'node:fs';
import { randomBytes } from 'node:crypto';

/** A marker no other process on the machine carries. */
export function uniqueMarker(label: string): string {
  return `warden-stray-${label}-${process.pid}-${randomBytes(4).toString('hex')}`;
}

function readProc(path: string): string {
  try {
    return readFileSync(path, 'latin1');
  } catch {
    return '';
  }
}

/** Live processes (not zombies) whose cmdline or environ contains `marker`. */
export function processesWithMarker(marker: string): number[] {
  const out: number[] = [];
  for (const name of readdirSync('/proc')) {
    if (!/^\d+$/.test(name) || Number(name) === process.pid) continue;
    if (!readProc(`/proc/${name}/cmdline`).includes(marker) && !readProc(`/proc/${name}/environ`).includes(marker)) continue;
    const stat = readProc(`/proc/${name}/stat`);
    if (stat === '' || stat.slice(stat.lastIndexOf(')') + 2, stat.lastIndexOf(')') + 3) === 'Z') continue;
    out.push(Number(name));
  }
  return out;
}

/** Kills every process that carries `marker` (test cleanup). */
export function killMarked(marker: string): void {
  for (const pid of processesWithMarker(marker)) {
    try {
      process.kill(pid, 'SIGKILL');
    } catch {
      /* gone meanwhile */
    }
  }
}
