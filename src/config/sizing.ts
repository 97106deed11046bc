// Config values sized to a machine's memory, for small Pis (1 and 2 GB are common: Pi 3, Pi 4 and
// Pi 5 2GB, Zero 2 W). install.sh writes a new config with them (`warden config suggest`), and
// `warden config check` and `warden doctor` name them when a config can never admit a worker here.
// Pure: the caller reads MemTotal.
import { neverFits } from '../admission/fit.js';
import { formatSize } from './units.js';

const MiB = 1024 ** 2;
const GiB = 1024 ** 3;

/**
 * What sizing leaves to the system besides the workers: a headless Pi OS or Debian holds about
 * 150-250M idle, warden about 60M; the rest is slack for what else the owner runs. More than
 * admission's certain minimum (MIN_SYSTEM_MEMORY), so a sized config admits on a real idle host.
 */
export const TYPICAL_SYSTEM_MEMORY = 384 * MiB;
/** The default memory_max: claude typically uses about 400M; runaway growth beyond 2G is cut. */
const LARGEST_MEMORY_MAX = 2 * GiB;
const SMALLEST_MEMORY_MAX = 64 * MiB;
/** warden-workers.slice caps all workers together at 70% of RAM. */
const WORKERS_SLICE_SHARE = 0.7;
/** A Pi has 4 cores and each worker gets one (cpu_quota 100%); raise it by hand on bigger machines. */
const MOST_WORKERS = 4;
/** Below this per worker, claude (about 400M) is likely OOM-killed. */
const CLAUDE_NEEDS = 512 * MiB;

export interface Sizing {
  memTotal: number;
  memoryMax: number;
  minAvailableMemory: number;
  maxConcurrentWorkers: number;
  /** A warning for hosts too small for the default worker; null when none. */
  note: string | null;
}

const roundDown = (bytes: number, step: number) => Math.floor(bytes / step) * step;
const roundNearest = (bytes: number, step: number) => Math.round(bytes / step) * step;
const clamp = (v: number, lo: number, hi: number) => Math.min(hi, Math.max(lo, v));

/**
 * memory_max, min_available_memory and max_concurrent_workers for a host with `memTotal` bytes:
 * - min_available_memory: an eighth of RAM (to the nearest 64M), between 128M and the default 768M;
 * - memory_max: what is left after the system (TYPICAL_SYSTEM_MEMORY) and that headroom, in 64M
 *   steps, at most the default 2G;
 * - max_concurrent_workers: as many workers at memory_max as fit both in that room and in
 *   warden-workers.slice (70% of RAM), from 1 to 4.
 * A 1 GB Pi gets one worker of 384M; 2 GB: one of 1.25G; 4 GB: one of 2G; 8 GB: two of 2G.
 */
export function sizeForHost(memTotal: number): Sizing {
  const minAvailableMemory = clamp(roundNearest(memTotal / 8, 64 * MiB), 128 * MiB, 768 * MiB);
  const room = memTotal - TYPICAL_SYSTEM_MEMORY - minAvailableMemory;
  let memoryMax = clamp(roundDown(room, 64 * MiB), SMALLEST_MEMORY_MAX, LARGEST_MEMORY_MAX);
  // a host smaller than the typical system: admission's certain minimum decides what can still fit
  if (neverFits(memTotal, memoryMax, minAvailableMemory)) memoryMax = SMALLEST_MEMORY_MAX;
  const workers = Math.floor(Math.min(room, memTotal * WORKERS_SLICE_SHARE) / memoryMax);
  const maxConcurrentWorkers = clamp(workers, 1, MOST_WORKERS);
  let note: string | null = null;
  if (neverFits(memTotal, memoryMax, minAvailableMemory))
    note = `this host (MemTotal ${formatSize(memTotal)}) is too small to admit any worker`;
  else if (memoryMax < CLAUDE_NEEDS)
    note = `memory_max ${tomlSize(memoryMax)} is below the ${tomlSize(CLAUDE_NEEDS)} the claude worker needs to work well: expect oom_killed attempts`;
  return { memTotal, memoryMax, minAvailableMemory, maxConcurrentWorkers, note };
}

/** A size as the config writes it, exactly: "2G", "1280M" (never rounded, unlike formatSize). */
export function tomlSize(bytes: number): string {
  if (bytes % GiB === 0) return `${bytes / GiB}G`;
  if (bytes % MiB === 0) return `${bytes / MiB}M`;
  return `${bytes}`;
}

/** The sized keys as TOML assignments, in the order of the config file. */
function assignments(s: Sizing): { table: string; key: string; value: string }[] {
  return [
    { table: 'supervisor', key: 'max_concurrent_workers', value: String(s.maxConcurrentWorkers) },
    { table: 'worker', key: 'memory_max', value: `"${tomlSize(s.memoryMax)}"` },
    { table: 'admission', key: 'min_available_memory', value: `"${tomlSize(s.minAvailableMemory)}"` },
  ];
}

/** One line: what was chosen, for install.sh's output and the config's header. */
export function sizingSummary(s: Sizing): string {
  const keys = assignments(s)
    .map((a) => `${a.key} = ${a.value}`)
    .join(', ');
  return `MemTotal ${formatSize(s.memTotal)}: ${keys}${s.note ? ` (warning: ${s.note})` : ''}`;
}

/** The marker of the header line sizedConfigText writes (install.sh prints what follows it). */
export const SIZED_MARKER = '# sized for this machine by warden config suggest: ';

/** The sized keys alone, as a config fragment. */
export function sizedFragment(s: Sizing): string {
  const lines = [`${SIZED_MARKER}${sizingSummary(s)}`];
  for (const a of assignments(s)) lines.push('', `[${a.table}]`, `${a.key} = ${a.value}`);
  return lines.join('\n') + '\n';
}

/**
 * A config template (examples/config.toml) with the sized keys set: each one's line in its table,
 * commented out or not, becomes the assignment; a key the table lacks is added under its header,
 * and a missing table at the end. Everything else is kept byte for byte, and the summary goes on
 * top as a comment.
 */
export function sizedConfigText(template: string, s: Sizing): string {
  const lines = template.split('\n');
  for (const a of assignments(s)) {
    const header = lines.findIndex((l) => new RegExp(`^\\s*\\[${a.table}\\]\\s*(#.*)?$`).test(l));
    const line = `${a.key} = ${a.value}`;
    if (header < 0) {
      if (lines.at(-1) === '') lines.pop();
      lines.push('', `[${a.table}]`, line, '');
      continue;
    }
    let end = lines.findIndex((l, i) => i > header && /^\s*\[/.test(l));
    if (end < 0) end = lines.length;
    const keyLine = new RegExp(`^\\s*#?\\s*${a.key}\\s*=\\s*\\S+\\s*(#.*)?$`);
    const at = lines.findIndex((l, i) => i > header && i < end && keyLine.test(l));
    if (at >= 0) {
      const comment = keyLine.exec(lines[at]!)?.[1];
      lines[at] = comment ? `${line.padEnd(37)}${comment}` : line;
    } else lines.splice(header + 1, 0, line);
  }
  return `${SIZED_MARKER}${sizingSummary(s)}\n${lines.join('\n')}`;
}

/** A config that can never admit a worker here: what does not fit, and which values would. */
export interface FitProblem {
  why: string;
  fix: string;
}

export function fitProblem(memTotal: number, memoryMax: number, minAvailableMemory: number): FitProblem | null {
  const f = neverFits(memTotal, memoryMax, minAvailableMemory);
  if (f === null) return null;
  const s = sizeForHost(memTotal);
  return {
    why: f.why,
    fix: `memory_max = "${tomlSize(s.memoryMax)}" and min_available_memory = "${tomlSize(s.minAvailableMemory)}" would fit (sized for this host by \`warden config suggest\`)`,
  };
}
