// The host around the workers: free disk where the state and the worktrees live, the hardware
// sensors this machine lacks (said once), and the pressure watch that samples between ticks while
// workers run. It reads the host and warns; what to do about a reading is the decision core's.
import { diskProblems, type DiskLimits, type DiskUsage } from '../admission/disk.js';
import { readDiskUsage } from '../host/disk-usage.js';
import type { HostSample } from '../admission/evaluate.js';
import type { Logger } from '../log/logger.js';
import type { Workspace } from '../worktree/workspace.js';

/** Free space the state_dir's filesystem keeps (what `warden doctor` fails below without [worktree]). */
const STATE_DIR_MIN_FREE = 256 * 1024 * 1024;

export interface HostWatchDeps {
  log: Logger;
  workspace: Workspace;
  now: () => number;
  sample: (now: number) => HostSample;
  /** Whether a sample taken between ticks crosses a threshold that pauses spawning now. */
  pauseDue: (sample: HostSample) => boolean;
  /** Brings the next tick forward. */
  requestTick: () => void;
  /** While a tick runs, the watch stands aside: the tick samples for itself. */
  ticking: () => boolean;
}

export class HostWatch {
  private readonly warned = new Set<string>();
  private readonly missing: string[] = [];
  private disks: DiskUsage[] = [];
  private last: HostSample | null = null;
  private timer: NodeJS.Timeout | null = null;
  /** A sample the pressure watch took that crossed a threshold: the tick it brings forward decides on it. */
  private crossed: HostSample | null = null;

  constructor(private readonly deps: HostWatchDeps) {}

  /** What status shows of the host: the last sample, the disks and the sensors this machine lacks. */
  view(): { lastSample: HostSample | null; disks: readonly DiskUsage[]; notAvailable: readonly string[] } {
    return { lastSample: this.last, disks: this.disks, notAvailable: this.missing };
  }

  /** The sample a tick decides on: the one the watch saw cross a threshold, or a fresh one. */
  sampleForTick(now: number): HostSample {
    const sample = this.crossed ?? this.deps.sample(now);
    this.crossed = null;
    this.last = sample;
    this.warnUnavailable(sample);
    return sample;
  }

  warnOnce(key: string, msg: string): void {
    if (this.warned.has(key)) return;
    this.warned.add(key);
    this.deps.log.warn(msg);
  }

  /**
   * Free space and inodes where the state file and the worktrees live. The state_dir needs the
   * same 256M that `warden doctor` fails below; the worktrees need worktree.min_free_disk.
   */
  /** What is wrong with free space and inodes on the state and worktree filesystems (empty: nothing). */
  diskProblems(stateDir: string, minFreeInodes: number): string[] {
    return diskProblems(this.readDisks(stateDir, minFreeInodes));
  }

  readDisks(stateDir: string, minFreeInodes: number): { usage: DiskUsage; limits: DiskLimits }[] {
    const targets: { role: string; path: string; limits: DiskLimits }[] = [
      { role: 'state_dir', path: stateDir, limits: { minFree: STATE_DIR_MIN_FREE, minFreeKey: 'the state_dir minimum', minFreeInodes } },
    ];
    const wt = this.deps.workspace.diskTarget();
    if (wt)
      targets.push({ role: 'worktrees', path: wt.path, limits: { minFree: wt.min, minFreeKey: 'worktree.min_free_disk', minFreeInodes } });
    const out: { usage: DiskUsage; limits: DiskLimits }[] = [];
    for (const t of targets) {
      try {
        out.push({ usage: readDiskUsage(t.role, t.path), limits: t.limits });
      } catch (err) {
        this.warnOnce(`statfs:${t.path}`, `cannot read free disk space of ${t.path}: ${(err as Error).message}`);
      }
    }
    this.disks = out.map((c) => c.usage);
    return out;
  }

  /** A machine without a sensor is not failed closed; it is said once, in the log and in status. */
  private warnUnavailable(sample: HostSample): void {
    const missing: [string, boolean, string][] = [
      [
        'thermal',
        sample.thermalZone == null,
        'SoC temperature: not available (no CPU thermal zone under /sys/class/thermal); max_temperature is not part of admission',
      ],
      [
        'throttled',
        sample.throttled == null,
        'throttled/under-voltage flags: not available (no /sys/devices/platform/soc/soc:firmware/get_throttled; not a Raspberry Pi kernel); power is not part of admission',
      ],
    ];
    for (const [key, isMissing, msg] of missing) {
      if (!isMissing || this.warned.has(`hw:${key}`)) continue;
      this.missing.push(msg);
      this.warnOnce(`hw:${key}`, msg);
    }
    if (!sample.psiAvailable)
      this.warnOnce(
        'psi',
        'PSI is not available (/proc/pressure/memory missing): memory pressure is not part of admission. On a Raspberry Pi add psi=1 to /boot/firmware/cmdline.txt and reboot.',
      );
    for (const e of sample.errors) this.warnOnce(`sample:${e}`, `host sample: ${e}`);
  }

  /**
   * While workers run, sample the host every admission.watch_interval between ticks: workers are
   * what use memory up, so a threshold crossed pauses within about that interval (and alerts),
   * not at the next tick, which may be 15 s or poll_interval away. With no worker, nothing runs
   * here: an idle warden wakes only for its tick. `restart` applies a changed interval.
   */
  updatePressureWatch(every: number, wanted: boolean, restart = false): void {
    const on = every > 0 && wanted;
    if (this.timer && (!on || restart)) {
      clearInterval(this.timer);
      this.timer = null;
    }
    if (on && !this.timer) this.timer = setInterval(() => this.watchPressure(), every);
  }

  private watchPressure(): void {
    if (this.deps.ticking() || this.crossed) return;
    const sample = this.deps.sample(this.deps.now());
    if (!this.deps.pauseDue(sample)) return;
    this.crossed = sample;
    this.deps.requestTick();
  }
}
