// A daemon's /status and /history answers for tests of what the CLI draws from them, built by the
// daemon's own code (buildStatus) from warden's defaults, so a renamed field fails the build.
import type { HistoryReport } from '../../src/history/records.ts';
import { buildStatus, type StatusReport, type SupervisorSnapshot } from '../../src/supervisor/report.ts';
import { emptyState } from '../../src/state/types.ts';
import type { WorkerUsage } from '../../src/usage/meter.ts';
import { defaultConfig } from './settings.ts';
import { hostSample } from './tasks.ts';
import { GiB, MINUTE } from './units.ts';

/** The time every status fixture is taken at. */
export const STATUS_NOW = new Date(2026, 10, 29, 14, 5, 0).getTime();

export function statusReport(over: Partial<SupervisorSnapshot> = {}, usage: WorkerUsage | null = null): StatusReport {
  const config = defaultConfig();
  return buildStatus({
    now: STATUS_NOW,
    pid: 4242,
    version: '0.1.0',
    startedAt: STATUS_NOW - 10 * MINUTE,
    loaded: { config, path: '/etc/warden/config.toml', sha256: 'a'.repeat(64) },
    executor: { kind: 'systemd', enforcesLimits: true, warnings: [], sandbox: 'sandbox: off' },
    state: emptyState(config.breaker.cooldown),
    workers: [],
    heldBy: null,
    lastSample: hostSample({ at: STATUS_NOW, memTotal: 8 * GiB }),
    disks: [],
    notAvailable: [
      'SoC temperature: not available (no CPU thermal zone under /sys/class/thermal); max_temperature is not part of admission',
    ],
    lastPause: null,
    stateWriteFault: null,
    usage: () => usage,
    configLoadedAt: STATUS_NOW - 3 * MINUTE,
    recentEvents: [{ at: STATUS_NOW - MINUTE, type: 'task_spawn', text: 'spawning t1 attempt 1' }],
    ...over,
  });
}

/** A worker's usage as a systemd scope on cgroup v1 reports it. */
export function scopeUsage(over: Partial<WorkerUsage> = {}): WorkerUsage {
  return {
    source: 'cgroup-v1',
    memoryBytes: 300 * 1024 ** 2,
    peakBytes: 400 * 1024 ** 2,
    limitBytes: 2 * GiB,
    cpuPercent: 43,
    intervalMs: 2000,
    pressureSome10: 0,
    sampledAt: STATUS_NOW,
    ...over,
  };
}

/** Six hours of points a minute, MemAvailable falling. */
export function historyReport(): HistoryReport {
  const points = [];
  for (let m = 360; m > 0; m--) {
    const at = STATUS_NOW - m * MINUTE;
    points.push({ at, memAvailable: (2 + m / 100) * GiB, memoryPressure: m % 60 === 0 ? 20 : 0, load1: 1, temperatureC: null });
  }
  return {
    since: STATUS_NOW - 360 * MINUTE,
    until: STATUS_NOW,
    pointIntervalMs: MINUTE,
    points,
    events: [],
    disk: { dir: '/var/lib/warden/history', bytes: 30_000, maxBytes: 786_432 },
    written: { day: '2026-11-29', bytes: 20_000 },
    problem: null,
  };
}

/** A /status answer written by hand: two workers allowed, one running, the breaker open. */
export function statusFixture(over: Partial<StatusReport> = {}): StatusReport {
  return {
    daemon: { pid: 42, version: '0.1.0', startedAt: 1_700_000_000_000, uptimeMs: 5000 },
    config: { path: '/etc/warden/config.toml', sha256: 'ab' },
    executor: { kind: 'systemd', enforcesLimits: true, warnings: [] },
    settings: { maxConcurrentWorkers: 2, minSpawnIntervalMs: 10_000, memoryMax: 2 ** 31, cpuQuota: 100, maxAttempts: 3 },
    summary: '1/2 workers, 1 queued',
    workers: [{ taskId: 'gh-1', attempt: 1, pid: 100, unit: 'warden-gh-1.scope', startedAt: 1, uptimeMs: 2 }],
    tasks: { pending: 1, running: 1, succeeded: 4, retry_wait: 0, dead: 1, blocked: 0, cancelled: 0 },
    pause: { paused: true, reasons: ['breaker'], manual: null, pressure: null },
    breaker: {
      phase: 'open',
      recentFailures: [1, 2, 3],
      openedAt: 3,
      cooldownMs: 900_000,
      probeTaskId: null,
      reason: '3 failures in 600s, last: gh-"9": startup_error\\x',
    },
    heldBy: null,
    lastSample: hostSample({ at: 1_700_000_001_000, memAvailable: 4 * GiB, load1: 0.42, memoryPressure: 1.5 }),
    totalSpawns: 17,
    ...over,
  } as StatusReport;
}
