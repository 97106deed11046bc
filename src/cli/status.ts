// `warden status`: what the daemon says about itself, in the manner of `systemctl status`. The
// text is a pure function of the /status and /history answers and the time (renderStatus); the
// edge asks the daemon. Times are local, with a relative form. The "not available" notes of
// missing sensors are said once per daemon start, in its log and in `warden doctor`, not here.
import { readFileSync } from 'node:fs';
import { sha256, type LoadedConfig } from '../config/load.js';
import { formatDuration, formatSize } from '../config/units.js';
import { callDaemon } from '../control/client.js';
import { describeThrottled } from '../hardware/throttled.js';
import type { HistoryReport } from '../history/records.js';
import type { StatusReport } from '../supervisor/report.js';
import { EX_NOT_RUNNING } from './exit-codes.js';
import { daemonOrStateFile, offlineStatus } from './offline-state.js';
import { eventLines, historyLines, pauseLines, thresholdsText, usageText } from './view-parts.js';
import { localTime, when } from './when.js';

/** The sparklines of status: the last 6 hours, 60 columns (6 minutes each). */
const HISTORY_HOURS = 6;
const HISTORY_COLUMNS = 60;

export async function status(socket: string, json: boolean, loaded: () => LoadedConfig, version: string): Promise<number> {
  // with the daemon down: the state file, read-only, under a first line saying so (exit 3)
  const r = await daemonOrStateFile(() => callDaemon<StatusReport>(socket, 'GET', '/status'), loaded);
  const s = r.offline ? await offlineStatus(loaded(), r.offline, version) : r.answer;
  if (r.offline && json) process.stderr.write(r.offline.headline + '\n');
  let onDisk: string | null = null;
  try {
    onDisk = sha256(readFileSync(s.config.path));
  } catch {
    onDisk = null;
  }
  const configChanged = onDisk !== s.config.sha256;
  if (json) {
    const offline = r.offline ? { daemonRunning: false, stateAsOf: r.offline.asOf } : {};
    process.stdout.write(JSON.stringify({ ...s, ...offline, config: { ...s.config, changedOnDisk: configChanged } }, null, 2) + '\n');
    return r.offline ? EX_NOT_RUNNING : 0;
  }
  // a daemon from before GET /history answers 404: status goes on without the sparklines
  const history = r.offline ? null : await callDaemon<HistoryReport>(socket, 'GET', `/history?hours=${HISTORY_HOURS}`).catch(() => null);
  const lines = renderStatus(s, history, Date.now(), configChanged);
  if (r.offline) lines[0] = `${r.offline.headline}: ${s.summary}`;
  process.stdout.write(lines.join('\n') + '\n');
  return r.offline ? EX_NOT_RUNNING : 0;
}

export function renderStatus(s: StatusReport, history: HistoryReport | null, now: number, configChanged: boolean): string[] {
  const loaded = s.thresholds ? `, loaded ${when(s.thresholds.loadedAt, now)}` : '';
  const lines = [
    `warden ${s.daemon.version}, pid ${s.daemon.pid}, up ${formatDuration(s.daemon.uptimeMs)} (since ${localTime(s.daemon.startedAt, now)}): ${s.summary}`,
    `config:   ${s.config.path} sha256 ${s.config.sha256.slice(0, 12)}${loaded}${configChanged ? '  WARNING: the file on disk has changed since the daemon loaded it (restart or reload to apply)' : ''}`,
    `executor: ${s.executor.kind}${s.executor.enforcesLimits ? '' : '  (memory/CPU caps NOT enforced)'}; max_concurrent_workers=${s.settings.maxConcurrentWorkers} memory_max=${formatSize(s.settings.memoryMax)} cpu_quota=${s.settings.cpuQuota}%`,
    ...s.executor.warnings.map((w) => `WARNING:  ${w}`),
    // an older daemon's status has no sandbox line
    ...(s.executor.sandbox
      ? [`${s.executor.sandbox.startsWith('sandbox: partial') ? 'WARNING:  ' : '          '}${s.executor.sandbox}`]
      : []),
  ];
  const thresholds = thresholdsText(s);
  if (thresholds) lines.push(`limits:   ${thresholds}`);
  const pauses = pauseLines(s, now);
  lines.push(`paused:   ${pauses.length ? pauses[0] : 'no'}`, ...pauses.slice(1).map((p) => `          ${p}`));
  lines.push(`breaker:  ${s.breaker.phase}${s.breaker.reason ? ` (${s.breaker.reason})` : ''}`);
  lines.push(
    `tasks:    ${Object.entries(s.tasks)
      .map(([k, v]) => `${k}=${v}`)
      .join(' ')}`,
  );
  const stuck = s.pause.pressure?.stuck;
  if (stuck) lines.push(`WARNING:  no worker can start on this host: ${stuck.why}; ${stuck.fix}, then \`systemctl reload warden\``);
  const wp = s.workerPause;
  if (wp?.workerAuth)
    lines.push(
      `WARNING:  claude is not logged in / API key invalid (${wp.workerAuth.reason}); log in as the worker user, then \`warden resume\``,
    );
  if (wp?.usageLimit) lines.push(`limit:    usage limit until ${when(wp.usageLimit.until, now)} (${wp.usageLimit.reason})`);
  if (wp?.budget) lines.push(`budget:   paused until ${when(wp.budget.until, now)} (${wp.budget.reason})`);
  if (s.cost)
    lines.push(
      `cost:     $${s.cost.todayUsd.toFixed(2)} today${s.cost.maxDailyCostUsd === null ? '' : ` of max_daily_cost_usd $${s.cost.maxDailyCostUsd.toFixed(2)}`}, $${s.cost.totalUsd.toFixed(2)} over all tasks`,
    );
  if (s.lastSample) {
    const x = s.lastSample;
    lines.push(
      `host:     MemAvailable ${x.memAvailable === null ? '?' : formatSize(x.memAvailable)}${x.memTotal === null ? '' : ` of ${formatSize(x.memTotal)}`}, load1 ${x.load1 ?? '?'} on ${x.cpus} CPUs, memory PSI ${x.psiAvailable ? `${x.memoryPressure}%` : 'not available (PSI off)'} (${relativeSample(x.at, now)})`,
    );
  }
  if (s.hardware) lines.push(...hardwareLines(s, now));
  lines.push(...workerLines(s));
  if (history) {
    const h = historyLines(history, now, HISTORY_HOURS, HISTORY_COLUMNS, s.lastSample?.memTotal ?? null);
    const disk = `${formatSize(history.disk.bytes)} on disk of at most ${formatSize(history.disk.maxBytes)}, ${formatSize(history.written.bytes)} written today`;
    lines.push(`history:  last ${HISTORY_HOURS}h, one column per ${(HISTORY_HOURS * 60) / HISTORY_COLUMNS}m (${disk})`);
    lines.push(...(h.length ? h : ['no points yet (one a minute)']).map((l) => `  ${l}`));
    if (history.problem) lines.push(`  WARNING: the history is not being written: ${history.problem}`);
  }
  const events = s.recentEvents ?? [];
  if (events.length) lines.push('events:', ...eventLines(events, now, 5).map((l) => `  ${l}`));
  return lines;
}

function relativeSample(at: number, now: number): string {
  return now - at < 1000 ? 'now' : `${formatDuration(now - at)} ago`;
}

/**
 * One worker takes two or three lines, the task ID on its own, so a 64-character ID fits an
 * 80-column terminal without breaking any column.
 */
function workerLines(s: StatusReport): string[] {
  const lines = [`workers:  ${s.workers.length === 0 ? 'none' : `${s.workers.length} running`}`];
  for (const w of s.workers) {
    lines.push(`  ${w.taskId}`);
    lines.push(`      attempt ${w.attempt}, pid ${w.pid}, up ${formatDuration(w.uptimeMs)}${w.unit ? `, ${w.unit}` : ''}`);
    if ('usage' in w) lines.push(`      ${usageText(w)}`);
  }
  return lines;
}

function hardwareLines(s: StatusReport, now: number): string[] {
  const h = s.hardware;
  const temp =
    h.temperatureC === null
      ? 'not available'
      : `${h.temperatureC.toFixed(1)} °C (${h.thermalZone}; max_temperature ${h.maxTemperature} °C)`;
  const flags =
    h.throttled === null
      ? 'not available'
      : `0x${h.throttled.raw.toString(16)}${h.throttled.raw === 0 ? ' (none)' : ` (${describeThrottled(h.throttled).join(', ')})`}`;
  const lines = [`hardware: SoC temperature ${temp}; throttled ${flags}`];
  for (const d of s.disk)
    lines.push(
      `disk:     ${d.role} ${d.path}: ${formatSize(d.freeBytes)} free, ${d.freeInodes === null ? 'inodes not counted' : `${d.freeInodes} inodes free`}`,
    );
  if (s.lastPause) lines.push(`last pause: ${s.lastPause.reason} at ${when(s.lastPause.since, now)}`);
  return lines;
}
