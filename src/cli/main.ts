#!/usr/bin/env node
// warden's command line. Bad input gets one clear line and a distinct exit code:
// 78 for config (EX_CONFIG), 2 for usage, 3 when the daemon is not running, 75 (EX_TEMPFAIL) when
// `run` finds another daemon holding the state directory (or the control socket), 74 (EX_IOERR) when
// `task add` cannot write its request (a full disk; nothing is left behind), 1 otherwise.
import { readFileSync } from 'node:fs';
import { parseArgs } from 'node:util';
import { ConfigError, EX_CONFIG, loadConfig, resolveConfigPath, sha256, type LoadedConfig } from '../config/load.js';
import { formatDuration, formatSize } from '../config/units.js';
import { describeThrottled } from '../hardware/throttled.js';
import { callDaemon, DaemonAlreadyRunning, DaemonUnreachable } from '../control/client.js';
import { StateLocked } from '../state/lock.js';
import { loadState, StateError } from '../state/store.js';
import type { Task } from '../state/types.js';
import type { StatusReport } from '../supervisor/report.js';
import { DEFAULT_PRIORITY, enqueueTask, QueueError, QueueWriteError } from '../tasks/local-queue.js';
import { checkPrompt, parsePriority, readPromptFile, TaskInputError } from '../tasks/task-input.js';
import { checkTaskId } from '../tasks/task-id.js';
import { LogsError, showLogs } from './logs.js';
// The daemon (`run`), `doctor` and `alert test` load their modules when called: a `status` or
// `task add` should not pay for the supervisor, the executors, alerts and jobs (docs/benchmarks.md).

export const EX_USAGE = 2;
export const EX_NOT_RUNNING = 3;
/** `warden run` refused: another daemon holds the state directory. The shipped unit does not restart on it. */
export const EX_LOCKED = 75;
/** sysexits' EX_IOERR: a file could not be written (a full disk). */
export const EX_IOERR = 74;

class UsageError extends Error {}

const USAGE = `usage: warden <command> [options]

  run                       run the supervisor in the foreground (SIGTERM/SIGINT stop it)
  status [--json]           workers, tasks by state, breaker, pause reason, config hash
  tasks [--json]            every task with its state and attempts
  task add ID (--prompt TEXT | --prompt-file FILE) [--priority N]
                            queue a task (works whether or not the daemon runs)
  logs TASK [--follow]      the task's attempt logs, oldest first
  pause                     stop spawning (running workers keep running)
  resume                    clear a manual pause and close an open breaker
  config check              validate the config and exit 0, or 78 with one line per problem
  alert test                send a test alert to every configured channel; one line per channel
  doctor [--json] [--send-test]
                            check this host, the config and the daemon: pass/warn/fail lines, exit 1 on a fail
  version

options: --config FILE (else $WARDEN_CONFIG, else /etc/warden/config.toml)`;

export function version(): string {
  try {
    const pkg = JSON.parse(readFileSync(new URL('../../package.json', import.meta.url), 'utf8')) as { version: string };
    return pkg.version;
  } catch {
    return 'unknown';
  }
}

async function main(argv: string[]): Promise<number> {
  const { values, positionals } = parseArgs({
    args: argv,
    allowPositionals: true,
    strict: true,
    options: {
      config: { type: 'string' },
      json: { type: 'boolean', default: false },
      follow: { type: 'boolean', short: 'f', default: false },
      prompt: { type: 'string' },
      'prompt-file': { type: 'string' },
      priority: { type: 'string' },
      'send-test': { type: 'boolean', default: false },
      readiness: { type: 'boolean', default: false },
      sysroot: { type: 'string' },
      help: { type: 'boolean', short: 'h', default: false },
    },
  });
  const [cmd, sub, ...rest] = positionals;
  if (values.help || cmd === undefined || cmd === 'help') {
    process.stdout.write(USAGE + '\n');
    return cmd === undefined && !values.help ? EX_USAGE : 0;
  }
  const configPath = resolveConfigPath(values.config);
  switch (cmd) {
    case 'doctor':
      return (await import('../doctor/cli.js')).doctorCommand(configPath, version(), {
        json: values.json,
        sendTest: values['send-test'],
        readiness: values.readiness,
        sysroot: values.sysroot,
      });
    case 'version':
      process.stdout.write(`warden ${version()}\n`);
      return 0;
    case 'config':
      if (sub !== 'check') throw new UsageError(`unknown command "config ${sub ?? ''}": did you mean "config check"?`);
      return configCheck(configPath);
    case 'run':
      return (await import('./run.js')).run(loadConfig(configPath), version());
    case 'status':
      return status(socketFor(configPath), values.json);
    case 'tasks':
      return tasks(socketFor(configPath), values.json);
    case 'pause':
    case 'resume': {
      const r = await callDaemon<{ paused: string[] }>(socketFor(configPath), 'POST', `/${cmd}`);
      process.stdout.write(r.paused.length ? `paused: ${r.paused.join(', ')}\n` : 'running: spawning is allowed\n');
      return 0;
    }
    case 'logs': {
      if (sub === undefined || rest.length) throw new UsageError('usage: warden logs TASK [--follow]');
      return showLogs(loadConfig(configPath).config.supervisor.state_dir, sub, values.follow);
    }
    case 'alert':
      if (sub !== 'test' || rest.length) throw new UsageError(`unknown command "alert ${sub ?? ''}": did you mean "alert test"?`);
      return alertTest(loadConfig(configPath));
    case 'task':
      if (sub !== 'add') throw new UsageError(`unknown command "task ${sub ?? ''}": did you mean "task add ID --prompt TEXT"?`);
      return taskAdd(loadConfig(configPath), rest, values);
    default:
      throw new UsageError(`unknown command "${cmd}"`);
  }
}

function configCheck(path: string): number {
  const { config, sha256: hash } = loadConfig(path);
  process.stdout.write(
    `${path}: OK (sha256 ${hash.slice(0, 12)}): max_concurrent_workers=${config.supervisor.max_concurrent_workers} memory_max=${formatSize(config.worker.memory_max)} cpu_quota=${config.worker.cpu_quota}% executor=${config.executor.kind} state_dir=${config.supervisor.state_dir}\n`,
  );
  return 0;
}

async function alertTest(loaded: LoadedConfig): Promise<number> {
  const { sendTestAlert } = await import('../alerts/channels.js');
  const { results, warnings } = await sendTestAlert(loaded.config.alerts, loaded.path);
  for (const w of warnings) process.stderr.write(`warden: ${w}\n`);
  if (results.length === 0) {
    process.stdout.write('no alert channels configured: set [alerts] ntfy_url, notify_send = true or command\n');
    return 1;
  }
  for (const r of results) process.stdout.write(`${r.channel.padEnd(12)} ${r.ok ? 'ok    ' : 'FAILED'} ${r.detail} (${r.ms} ms)\n`);
  return results.every((r) => r.ok) ? 0 : 1;
}

/**
 * The control socket named by the config. When the file on disk is broken (say, mid-edit) the
 * daemon still runs its loaded config, so the CLI must still reach it: warn, then find the socket
 * from the raw text.
 */
function socketFor(configPath: string): string {
  try {
    return loadConfig(configPath).config.control.socket;
  } catch (err) {
    if (!(err instanceof ConfigError)) throw err;
    let text = '';
    try {
      text = readFileSync(configPath, 'utf8');
    } catch {
      throw err;
    }
    const socket = /^\s*socket\s*=\s*"([^"]+)"/m.exec(text)?.[1];
    const stateDir = /^\s*state_dir\s*=\s*"([^"]+)"/m.exec(text)?.[1];
    if (!socket && !stateDir) throw err;
    process.stderr.write(`warden: warning: ${configPath} has problems (a running daemon keeps its loaded config):\n${err.message}\n`);
    return socket ?? `${stateDir!.replace(/\/+$/, '')}/warden.sock`;
  }
}

async function status(socket: string, json: boolean): Promise<number> {
  const s = await callDaemon<StatusReport>(socket, 'GET', '/status');
  let onDisk: string | null = null;
  try {
    onDisk = sha256(readFileSync(s.config.path));
  } catch {
    onDisk = null;
  }
  const configChanged = onDisk !== s.config.sha256;
  if (json) {
    process.stdout.write(JSON.stringify({ ...s, config: { ...s.config, changedOnDisk: configChanged } }, null, 2) + '\n');
    return 0;
  }
  const lines = [
    `warden ${s.daemon.version}, pid ${s.daemon.pid}, up ${formatDuration(s.daemon.uptimeMs)}: ${s.summary}`,
    `config:   ${s.config.path} sha256 ${s.config.sha256.slice(0, 12)}${configChanged ? '  WARNING: the file on disk has changed since the daemon loaded it (restart or reload to apply)' : ''}`,
    `executor: ${s.executor.kind}${s.executor.enforcesLimits ? '' : '  (memory/CPU caps NOT enforced)'}; max_concurrent_workers=${s.settings.maxConcurrentWorkers} memory_max=${formatSize(s.settings.memoryMax)} cpu_quota=${s.settings.cpuQuota}%`,
    ...s.executor.warnings.map((w) => `WARNING:  ${w}`),
    // an older daemon's status has no sandbox line
    ...(s.executor.sandbox
      ? [`${s.executor.sandbox.startsWith('sandbox: partial') ? 'WARNING:  ' : '          '}${s.executor.sandbox}`]
      : []),
    `paused:   ${s.pause.paused ? s.pause.reasons.join(', ') : 'no'}`,
    `breaker:  ${s.breaker.phase}${s.breaker.reason ? ` (${s.breaker.reason})` : ''}`,
    `tasks:    ${Object.entries(s.tasks)
      .map(([k, v]) => `${k}=${v}`)
      .join(' ')}`,
  ];
  const wp = s.workerPause;
  if (wp?.workerAuth)
    lines.push(
      `WARNING:  claude is not logged in / API key invalid (${wp.workerAuth.reason}); log in as the worker user, then \`warden resume\``,
    );
  if (wp?.usageLimit) lines.push(`limit:    usage limit until ${new Date(wp.usageLimit.until).toLocaleString()} (${wp.usageLimit.reason})`);
  if (wp?.budget) lines.push(`budget:   paused until ${new Date(wp.budget.until).toLocaleString()} (${wp.budget.reason})`);
  if (s.cost)
    lines.push(
      `cost:     $${s.cost.todayUsd.toFixed(2)} today${s.cost.maxDailyCostUsd === null ? '' : ` of max_daily_cost_usd $${s.cost.maxDailyCostUsd.toFixed(2)}`}, $${s.cost.totalUsd.toFixed(2)} over all tasks`,
    );
  if (s.lastSample) {
    const x = s.lastSample;
    lines.push(
      `host:     MemAvailable ${x.memAvailable === null ? '?' : formatSize(x.memAvailable)}, load1 ${x.load1 ?? '?'} on ${x.cpus} CPUs, memory PSI ${x.psiAvailable ? `${x.memoryPressure}%` : 'not available (PSI off)'}`,
    );
  }
  if (s.hardware) lines.push(...hardwareLines(s));
  lines.push(`workers:  ${s.workers.length === 0 ? 'none' : ''}`);
  for (const w of s.workers)
    lines.push(`  ${w.taskId}  attempt ${w.attempt}  pid ${w.pid}  up ${formatDuration(w.uptimeMs)}${w.unit ? `  ${w.unit}` : ''}`);
  process.stdout.write(lines.join('\n') + '\n');
  return 0;
}

function hardwareLines(s: StatusReport): string[] {
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
  if (s.lastPause) lines.push(`last pause: ${s.lastPause.reason} at ${new Date(s.lastPause.since).toISOString()}`);
  for (const n of h.notAvailable) lines.push(`note:     ${n}`);
  return lines;
}

async function tasks(socket: string, json: boolean): Promise<number> {
  const r = await callDaemon<{ tasks: Task[] }>(socket, 'GET', '/tasks');
  if (json) {
    process.stdout.write(JSON.stringify(r.tasks, null, 2) + '\n');
    return 0;
  }
  const rows = r.tasks.sort((a, b) => a.priority - b.priority || a.createdAt - b.createdAt);
  process.stdout.write(`${'TASK'.padEnd(24)} ${'STATE'.padEnd(10)} ${'PRIO'.padEnd(4)} ATTEMPTS  ${'COST'.padEnd(8)} TURNS  NOTE\n`);
  for (const t of rows) {
    process.stdout.write(
      `${t.id.padEnd(24)} ${t.state.padEnd(10)} ${String(t.priority).padEnd(4)} ${String(t.attempts).padEnd(8)}  ${`$${(t.costUsd ?? 0).toFixed(2)}`.padEnd(8)} ${String(t.turns ?? 0).padEnd(5)}  ${t.note ?? ''}\n`,
    );
  }
  return 0;
}

function taskAdd(loaded: LoadedConfig, rest: string[], values: { prompt?: string; 'prompt-file'?: string; priority?: string }): number {
  const [id, ...extra] = rest;
  if (id === undefined) throw new UsageError('task add needs an ID: warden task add ID --prompt TEXT');
  if (extra.length) throw new UsageError(`unexpected arguments: ${extra.join(' ')}`);
  const check = checkTaskId(id);
  if (!check.ok) throw new UsageError(check.error);
  if ((values.prompt === undefined) === (values['prompt-file'] === undefined))
    throw new UsageError('give exactly one of --prompt TEXT or --prompt-file FILE');
  // the same checks the daemon makes on the request file (src/tasks/task-input.ts, local-queue.ts)
  const prompt = checkPrompt(values['prompt-file'] !== undefined ? readPromptFile(values['prompt-file']) : (values.prompt ?? ''));
  const priority = values.priority === undefined ? DEFAULT_PRIORITY : parsePriority(values.priority);
  const stateDir = loaded.config.supervisor.state_dir;
  try {
    const existing = loadState(stateDir, loaded.config.breaker.cooldown).state.tasks[id];
    if (existing) throw new UsageError(`task ${id} already exists (state ${existing.state})`);
  } catch (err) {
    if (!(err instanceof StateError)) throw err; // an unreadable state is the daemon's to report
  }
  const file = enqueueTask(stateDir, { id, prompt, priority, addedAt: Date.now() });
  process.stdout.write(`queued ${id} (priority ${priority}); the daemon picks it up within one poll (${file})\n`);
  return 0;
}

main(process.argv.slice(2)).then(
  (code) => {
    process.exitCode = code;
    if (code !== 0 || process.argv[2] === 'run') process.exit(code);
  },
  (err: unknown) => {
    if (err instanceof ConfigError) {
      process.stderr.write(err.message + '\n');
      process.exit(EX_CONFIG);
    }
    if (err instanceof StateError) {
      process.stderr.write(`warden: ${err.message}\n`);
      process.exit(EX_CONFIG);
    }
    if (err instanceof StateLocked || err instanceof DaemonAlreadyRunning) {
      process.stderr.write(`warden: ${err.message}\n`);
      process.exit(EX_LOCKED);
    }
    if (err instanceof QueueWriteError) {
      process.stderr.write(`warden: ${err.message}\n`);
      process.exit(EX_IOERR);
    }
    if (err instanceof DaemonUnreachable) {
      process.stderr.write(`warden: ${err.message}\n`);
      process.exit(EX_NOT_RUNNING);
    }
    if (
      err instanceof UsageError ||
      err instanceof LogsError ||
      err instanceof QueueError ||
      err instanceof TaskInputError ||
      (err as { code?: string }).code?.startsWith('ERR_PARSE_ARGS')
    ) {
      // one line: node's argument parser explains some errors over several
      process.stderr.write(`warden: ${(err as Error).message.trim().replace(/\s*\n\s*/g, ' ')}\n`);
      process.exit(EX_USAGE);
    }
    process.stderr.write(unexpectedErrorLine(err, process.env) + '\n');
    process.exit(1);
  },
);

/**
 * Anything not foreseen above still reaches the user as one line (its message names the path and
 * the system call for a file error). The stack is for a bug report: WARDEN_DEBUG=1 adds it.
 */
function unexpectedErrorLine(err: unknown, env: NodeJS.ProcessEnv): string {
  const message = err instanceof Error ? err.message : String(err);
  const line = `warden: ${message.trim().replace(/\s*\n\s*/g, ' ')}`;
  return env.WARDEN_DEBUG === '1' && err instanceof Error && err.stack ? `${line}\n${err.stack}` : line;
}
