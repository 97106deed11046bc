// GET /metrics in the Prometheus text exposition format (version 0.0.4), written by hand: the
// whole format warden needs is HELP, TYPE and `name{label="value"} number` lines. prom-client
// would add a histogram engine and an OpenTelemetry dependency to a daemon capped at 256 MB on a
// Pi, to print about forty lines.
import type { ChannelStats } from '../alerts/dispatcher.js';
import type { FleetGauges } from '../fleet/claims.js';
import { EVENTS, type WardenEvent } from '../events/catalog.js';
import { FAILURE_KINDS, type FailureKind } from '../policy/failure-kind.js';
import { PAUSE_REASONS } from '../state/pause-reasons.js';
import { BREAKER_STATES, TASK_STATES } from '../state/types.js';
import type { StatusReport } from '../supervisor/report.js';

/** Counts of events since the daemon started (Prometheus counters restart with the process). */
export interface EventCounts {
  succeeded: number;
  dead: number;
  blocked: number;
  breakerOpened: number;
  failures: Record<FailureKind, number>;
}

export function emptyCounts(): EventCounts {
  return {
    succeeded: 0,
    dead: 0,
    blocked: 0,
    breakerOpened: 0,
    failures: Object.fromEntries(FAILURE_KINDS.map((k) => [k, 0])) as Record<FailureKind, number>,
  };
}

/** Adds one event to the counts (in place), as its row in the event table says. */
export function countEvent(c: EventCounts, e: WardenEvent): void {
  for (const counter of EVENTS[e.type].counts) {
    if (counter !== 'failures') c[counter]++;
    // the table lets only events that carry a failure kind count one
    else if ('kind' in e) c.failures[e.kind]++;
  }
}

export interface MetricsInput {
  status: StatusReport;
  counts: Readonly<EventCounts>;
  ready: boolean;
  alerts: { channels: Record<string, ChannelStats>; suppressed: number } | null;
  /** [fleet] only. */
  fleet?: FleetGauges | null;
}

type Labels = Record<string, string>;

class Exposition {
  private readonly lines: string[] = [];

  metric(name: string, type: 'gauge' | 'counter', help: string, samples: [Labels, number][]): void {
    if (samples.length === 0) return; // a family with no samples is legal but confuses some scrapers
    this.lines.push(`# HELP ${name} ${help.replace(/\\/g, '\\\\').replace(/\n/g, '\\n')}`, `# TYPE ${name} ${type}`);
    for (const [labels, value] of samples) this.lines.push(`${name}${formatLabels(labels)} ${formatValue(value)}`);
  }

  text(): string {
    return this.lines.join('\n') + '\n';
  }
}

function formatLabels(labels: Labels): string {
  const parts = Object.entries(labels).map(([k, v]) => `${k}="${v.replace(/\\/g, '\\\\').replace(/"/g, '\\"').replace(/\n/g, '\\n')}"`);
  return parts.length ? `{${parts.join(',')}}` : '';
}

function formatValue(v: number): string {
  if (Number.isNaN(v)) return 'NaN';
  if (v === Infinity) return '+Inf';
  if (v === -Infinity) return '-Inf';
  return String(v);
}

export function renderMetrics(m: MetricsInput): string {
  const s = m.status;
  const x = new Exposition();
  x.metric('warden_build_info', 'gauge', 'Always 1; the version is in the label.', [[{ version: s.daemon.version }, 1]]);
  x.metric('warden_start_time_seconds', 'gauge', 'When this daemon started, in seconds since the epoch.', [
    [{}, s.daemon.startedAt / 1000],
  ]);
  x.metric('warden_ready', 'gauge', '1 once the daemon has started and recovered its workers, 0 while starting or stopping.', [
    [{}, m.ready ? 1 : 0],
  ]);
  x.metric('warden_workers', 'gauge', 'Workers running now.', [[{}, s.workers.length]]);
  x.metric('warden_max_workers', 'gauge', 'supervisor.max_concurrent_workers.', [[{}, s.settings.maxConcurrentWorkers]]);
  x.metric(
    'warden_tasks',
    'gauge',
    'Tasks by state.',
    TASK_STATES.map((st) => [{ state: st }, s.tasks[st] ?? 0]),
  );
  x.metric('warden_spawns_total', 'counter', 'Worker spawns, over the life of the state file.', [[{}, s.totalSpawns]]);
  x.metric(
    'warden_attempt_failures_total',
    'counter',
    'Failed worker attempts by failure kind, since the daemon started.',
    FAILURE_KINDS.map((k) => [{ kind: k }, m.counts.failures[k]]),
  );
  x.metric('warden_tasks_succeeded_total', 'counter', 'Tasks that succeeded, since the daemon started.', [[{}, m.counts.succeeded]]);
  x.metric('warden_tasks_dead_total', 'counter', 'Tasks that ran out of attempts, since the daemon started.', [[{}, m.counts.dead]]);
  x.metric('warden_tasks_blocked_total', 'counter', 'Tasks a worker reported blocked, since the daemon started.', [[{}, m.counts.blocked]]);
  x.metric(
    'warden_breaker_state',
    'gauge',
    'The circuit breaker: 1 for its current state, 0 for the others.',
    BREAKER_STATES.map((b) => [{ state: b }, s.breaker.phase === b ? 1 : 0]),
  );
  x.metric(
    'warden_breaker_opened_total',
    'counter',
    'Times the breaker opened (or reopened after a failed probe), since the daemon started.',
    [[{}, m.counts.breakerOpened]],
  );
  x.metric(
    'warden_paused',
    'gauge',
    'Spawning paused, by reason (1 = active).',
    PAUSE_REASONS.map((r) => [{ reason: r }, s.pause.reasons.includes(r) ? 1 : 0]),
  );
  if (s.cost) {
    x.metric('warden_cost_usd_today', 'gauge', 'What the workers reported spending (total_cost_usd) on the current local day.', [
      [{}, s.cost.todayUsd],
    ]);
    x.metric('warden_cost_usd_tasks', 'gauge', 'What the workers reported spending, summed over the tasks in the state file.', [
      [{}, s.cost.totalUsd],
    ]);
    if (s.cost.maxDailyCostUsd !== null)
      x.metric('warden_max_daily_cost_usd', 'gauge', 'supervisor.max_daily_cost_usd.', [[{}, s.cost.maxDailyCostUsd]]);
  }
  const h = s.lastSample;
  if (h) {
    x.metric('warden_host_sample_timestamp_seconds', 'gauge', 'When the last pressure sample was taken.', [[{}, h.at / 1000]]);
    x.metric('warden_host_cpus', 'gauge', 'CPUs counted for the load threshold.', [[{}, h.cpus]]);
    if (h.memAvailable !== null)
      x.metric('warden_host_memory_available_bytes', 'gauge', 'MemAvailable from /proc/meminfo at the last sample.', [
        [{}, h.memAvailable],
      ]);
    if (h.memTotal !== null) x.metric('warden_host_memory_total_bytes', 'gauge', 'MemTotal from /proc/meminfo.', [[{}, h.memTotal]]);
    if (h.load1 !== null) x.metric('warden_host_load1', 'gauge', '1-minute load average at the last sample.', [[{}, h.load1]]);
    x.metric('warden_host_psi_available', 'gauge', '1 when /proc/pressure/memory exists (PSI on).', [[{}, h.psiAvailable ? 1 : 0]]);
    if (h.memoryPressure !== null)
      x.metric('warden_host_memory_pressure_some_avg10', 'gauge', 'PSI memory "some avg10", percent, at the last sample.', [
        [{}, h.memoryPressure],
      ]);
  }
  const hw = s.hardware; // absent in a status from an older daemon
  if (hw && hw.temperatureC !== null)
    x.metric('warden_host_temperature_celsius', 'gauge', 'SoC temperature at the last sample, from the CPU thermal zone.', [
      [{ zone: hw.thermalZone ?? '' }, hw.temperatureC],
    ]);
  if (hw) x.metric('warden_host_max_temperature_celsius', 'gauge', 'admission.max_temperature.', [[{}, hw.maxTemperature]]);
  if (hw && hw.throttled !== null) {
    const t = hw.throttled;
    x.metric(
      'warden_host_throttled',
      'gauge',
      'Raspberry Pi firmware throttled flags (get_throttled): 1 when set, "now" or "since_boot".',
      [
        ...(['now', 'sinceBoot'] as const).flatMap((when) =>
          (Object.keys(t[when]) as (keyof typeof t.now)[]).map((flag): [Record<string, string>, number] => [
            { flag, when: when === 'now' ? 'now' : 'since_boot' },
            t[when][flag] ? 1 : 0,
          ]),
        ),
      ],
    );
  }
  x.metric(
    'warden_disk_free_bytes',
    'gauge',
    'Free bytes (for unprivileged users) on the filesystems of state_dir and the worktrees.',
    (s.disk ?? []).map((d) => [{ role: d.role, path: d.path }, d.freeBytes]),
  );
  x.metric(
    'warden_disk_free_inodes',
    'gauge',
    'Free inodes on the filesystems of state_dir and the worktrees.',
    (s.disk ?? []).flatMap((d): [Record<string, string>, number][] =>
      d.freeInodes === null ? [] : [[{ role: d.role, path: d.path }, d.freeInodes]],
    ),
  );
  if (s.lastPause)
    x.metric(
      'warden_last_pause_start_seconds',
      'gauge',
      'When the pause reason that began last began (the reason is the label; it may be over).',
      [[{ reason: s.lastPause.reason }, s.lastPause.since / 1000]],
    );
  if (m.alerts) {
    const ch = Object.entries(m.alerts.channels);
    x.metric(
      'warden_alerts_sent_total',
      'counter',
      'Alert deliveries that succeeded, by channel.',
      ch.map(([name, c]) => [{ channel: name }, c.sent]),
    );
    x.metric(
      'warden_alerts_failed_total',
      'counter',
      'Alert delivery attempts that failed, by channel.',
      ch.map(([name, c]) => [{ channel: name }, c.failed]),
    );
    x.metric(
      'warden_alerts_dropped_total',
      'counter',
      'Alerts given up on after their retries, by channel.',
      ch.map(([name, c]) => [{ channel: name }, c.dropped]),
    );
    x.metric('warden_alerts_suppressed_total', 'counter', 'Alerts not sent because the same key was sent within alerts.repeat_after.', [
      [{}, m.alerts.suppressed],
    ]);
  }
  if (m.fleet) fleetMetrics(x, m.fleet);
  return x.text();
}

function fleetMetrics(x: Exposition, f: FleetGauges): void {
  x.metric('warden_fleet_lease_ok', 'gauge', '1 while this node holds a sound etcd lease (renewed within 0.6 lease_ttl) and may claim.', [
    [{}, f.leaseOk ? 1 : 0],
  ]);
  x.metric('warden_fleet_claims', 'gauge', 'Task claims in etcd: held by this node, and by the whole fleet at the last read.', [
    [{ scope: 'node' }, f.claimsHere],
    ...(f.claimsFleet === null ? [] : [[{ scope: 'fleet' }, f.claimsFleet] as [Labels, number]]),
  ]);
  if (f.nodes !== null)
    x.metric('warden_fleet_nodes', 'gauge', 'Live fleet nodes (nodes/ keys on a lease) at the last read.', [[{}, f.nodes]]);
  x.metric('warden_fleet_poller', 'gauge', '1 while this node is the elected GitHub poller of the fleet.', [[{}, f.poller ? 1 : 0]]);
}
