// `warden doctor`: is this host ready to run capped workers unattended? One check per line, each
// pass, warn, fail or a neutral info line; any fail makes the command exit nonzero. The judging is
// in pure functions (pi-readiness.ts, parseProbeOutput, diskCheck); this file runs the effects: a real
// probe scope, the tools on the service's PATH, the daemon's socket.
import { spawn } from 'node:child_process';
import { existsSync } from 'node:fs';
import { readDiskUsage } from '../host/disk-usage.js';
import { dirname } from 'node:path';
import { ConfigError, loadConfig, type LoadedConfig } from '../config/load.js';
import type { Config } from '../config/schema.js';
import { formatSize } from '../config/units.js';
import { callDaemon, DaemonUnreachable } from '../control/client.js';
import { chooseExecutor, systemdIsPid1 } from '../executors/choose.js';
import { SandboxedExecutor } from '../executors/systemd-service.js';
import type { Executor } from '../executors/types.js';
import { lookupUser } from '../host/users.js';
import { measureExposure, sandboxCheck } from './exposure.js';
import { loadState, StateError, statePath } from '../state/store.js';
import { describeCgroupMode } from '../systemd/cgroups.js';
import { report, type Check, type DoctorReport } from './check.js';
import { locate, runShort, SERVICE_PATH } from './commands.js';
import { readHostFiles } from './host-files.js';
import { hardwareChecks, readHardware } from '../hardware/report.js';
import { PROBE_MEMORY_MAX, runMemoryProbe } from './probe.js';
import { assessPiReadiness, cmdlineFix, piReadinessChecks, type PiReadiness } from './pi-readiness.js';
import { memoryFitCheck } from './memory-fit.js';
import { readMemTotal } from '../config/suggest.js';

export interface DoctorOptions {
  configPath: string;
  version: string;
  /** The CLI's own entry point, to run `warden alert test` for --send-test. */
  cliPath: string;
  sendTest?: boolean;
  /** Where /proc, /sys and /boot are read for the readiness checks (tests use fixture trees). */
  sysroot?: string;
  /** How fixes name install.sh (its installed path). */
  installer?: string;
}

const MiB = 1024 ** 2;
const GiB = 1024 ** 3;

export async function runDoctor(opts: DoctorOptions): Promise<DoctorReport> {
  const checks: Check[] = [];
  const isRoot = process.getuid?.() === 0;
  const pid1 = systemdIsPid1();

  let loaded: LoadedConfig | null = null;
  try {
    loaded = loadConfig(opts.configPath);
    checks.push({
      id: 'config',
      status: 'pass',
      summary: `${loaded.path} is valid (sha256 ${loaded.sha256.slice(0, 12)})`,
      data: { path: loaded.path, sha256: loaded.sha256 },
    });
  } catch (err) {
    if (!(err instanceof ConfigError)) throw err;
    const [first, ...more] = err.message.split('\n');
    checks.push({
      id: 'config',
      status: 'fail',
      summary: `${opts.configPath} is not valid: ${first}${more.length ? ` (and ${more.length} more)` : ''}`,
      fix: `edit ${opts.configPath}, then run: warden config check`,
      data: { path: opts.configPath, sha256: null },
    });
  }
  const config = loaded?.config ?? null;

  let executorKind: 'systemd' | 'direct' | null = null;
  if (config && loaded) {
    const c = executorCheck(config, loaded.path);
    executorKind = c.kind;
    checks.push(c.check);
    if (c.executor) checks.push(await sandboxDoctorCheck(config, c.executor, isRoot && pid1));
    checks.push(stateCheck(config, isRoot));
    checks.push(memoryFitCheck(config, readMemTotal(opts.sysroot)));
    // [fleet] only: etcd reachable, the clock against etcd's, lease_ttl against the watchdog (src/doctor/fleet.ts)
    if (config.fleet) checks.push(...(await (await import('./fleet.js')).fleetChecks(config.fleet, pid1)));
  }

  const host = assessPiReadiness(readHostFiles(opts.sysroot ?? '/'));
  checks.push(await systemdCheck(pid1, host, config));
  checks.push(await probeCheck(pid1, isRoot, host, opts.installer));
  const memoryOptional = executorKind === 'direct' || (config?.executor.allow_unenforced_limits ?? false);
  checks.push(...piReadinessChecks(host, { memoryOptional, installer: opts.installer }));
  checks.push(...hardwareChecks(await readHardware(opts.sysroot ?? '/'), config?.admission.max_temperature ?? 75));
  checks.push(nodeCheck());
  if (config) checks.push(workerCommandCheck(config));
  const worktree = config?.worktree ?? null;
  const github = config?.source.github ?? null;
  checks.push(await gitCheck(worktree !== null));
  checks.push(await ghCheck(github !== null));
  checks.push(claudeCheck());
  if (config) {
    checks.push(diskCheck('disk-state', config.supervisor.state_dir, null));
    if (worktree) checks.push(diskCheck('disk-worktrees', worktree.base_dir, worktree.min_free_disk));
    checks.push(await alertsCheck(config, opts));
    checks.push(await daemonCheck(config, pid1));
  }
  return report(opts.version, checks);
}

/** Off, or on with its exposure score (a real probe service, as root) and what this host lacks. */
async function sandboxDoctorCheck(config: Config, executor: Executor, canProbe: boolean): Promise<Check> {
  if (!(executor instanceof SandboxedExecutor))
    return {
      id: 'sandbox',
      status: 'info',
      summary: `${executor.sandbox}: a worker may read and write whatever worker.user may ([executor] sandbox = true confines it)`,
    };
  const gaps = executor.gaps;
  const dirs = [config.supervisor.state_dir, ...(config.worktree ? [config.worktree.base_dir] : [])];
  const user = config.worker.user === 'root' ? null : lookupUser(config.worker.user);
  return sandboxCheck(executor.sandbox, gaps, canProbe ? await measureExposure(executor, user, dirs) : null);
}

function executorCheck(config: Config, path: string): { kind: 'systemd' | 'direct' | null; check: Check; executor?: Executor } {
  try {
    const { executor, warnings } = chooseExecutor(config, path);
    if (executor.kind === 'direct') {
      return {
        kind: 'direct',
        check: {
          id: 'executor',
          status: 'warn',
          summary: warnings.join('; ') || 'direct: no caps',
          fix: 'use the systemd executor ([executor] kind = "auto" or "systemd") on a host where systemd is PID 1',
        },
        executor,
      };
    }
    const user = config.worker.user;
    const units = config.executor.sandbox ? 'sandboxed services' : 'scopes';
    if (warnings.length > 0)
      return {
        kind: 'systemd',
        executor,
        check: { id: 'executor', status: 'warn', summary: `systemd ${units}, but: ${warnings.join('; ')}` },
      };
    return {
      kind: 'systemd',
      executor,
      check: {
        id: 'executor',
        status: 'pass',
        summary: `systemd: each worker in a capped ${units.replace(/s$/, '')} in warden-workers.slice, as user ${user}`,
      },
    };
  } catch (err) {
    if (!(err instanceof ConfigError)) throw err;
    return {
      kind: null,
      check: {
        id: 'executor',
        status: 'fail',
        summary: `warden would not start: ${err.problems.map((p) => `${p.key ? `${p.key}: ` : ''}${p.message}`).join('; ')}`,
      },
    };
  }
}

function stateCheck(config: Config, isRoot: boolean): Check {
  const dir = config.supervisor.state_dir;
  try {
    const { state, fresh } = loadState(dir, config.breaker.cooldown);
    if (fresh) return { id: 'state', status: 'pass', summary: `no state file yet at ${statePath(dir)} (the first start creates it)` };
    const byState: Record<string, number> = {};
    for (const t of Object.values(state.tasks)) byState[t.state] = (byState[t.state] ?? 0) + 1;
    const counts = Object.entries(byState)
      .map(([k, v]) => `${k}=${v}`)
      .join(' ');
    return {
      id: 'state',
      status: 'pass',
      summary: `${statePath(dir)} is readable: ${Object.keys(state.tasks).length} tasks${counts ? ` (${counts})` : ''}`,
    };
  } catch (err) {
    if (!(err instanceof StateError)) throw err;
    if (!isRoot && /EACCES|permission denied/i.test(err.message))
      return { id: 'state', status: 'warn', summary: `cannot read ${statePath(dir)} as this user`, fix: 'run as root: sudo warden doctor' };
    return {
      id: 'state',
      status: 'fail',
      summary: err.message.split('\n')[0] ?? err.message,
      fix: 'restore the state file from its .bak, or move it aside deliberately (warden never starts over from an empty state)',
    };
  }
}

async function systemdCheck(pid1: boolean, host: PiReadiness, config: Config | null): Promise<Check> {
  const mode = describeCgroupMode(host.mode);
  if (!pid1) {
    const wanted = config?.executor.kind;
    return {
      id: 'systemd',
      status: wanted === 'systemd' ? 'fail' : 'warn',
      summary: `systemd is not PID 1 (${mode}): no capped scopes; the "auto" executor falls back to "direct"`,
      fix: 'run warden on a host booted with systemd',
    };
  }
  const v = await runShort('systemctl', ['--version'], 5000);
  const first = v.stdout.split('\n')[0]?.trim() || 'systemd (version unknown)';
  return { id: 'systemd', status: 'pass', summary: `${first} is PID 1, ${mode}`, data: { version: first, cgroupMode: host.mode } };
}

async function probeCheck(pid1: boolean, isRoot: boolean, host: PiReadiness, installer?: string): Promise<Check> {
  if (!pid1) return { id: 'limit-probe', status: 'info', summary: 'skipped: systemd is not PID 1' };
  if (!isRoot)
    return {
      id: 'limit-probe',
      status: 'warn',
      summary: 'skipped: starting a probe scope needs root',
      fix: 'run as root: sudo warden doctor',
    };
  const r = await runMemoryProbe();
  const ms = Math.round(r.ms);
  if (r.ok) {
    return {
      id: 'limit-probe',
      status: 'pass',
      summary: `a probe scope got MemoryMax=${formatSize(PROBE_MEMORY_MAX)} and the kernel applied it (${r.file} = ${r.limit}) in ${ms} ms`,
      data: { ms, limit: r.limit, file: r.file, cgroup: r.cgroup },
    };
  }
  return {
    id: 'limit-probe',
    status: 'fail',
    summary: `probe scope: ${r.why} (${ms} ms)`,
    fix: cmdlineFix(host, installer) ?? 'turn the memory cgroup controller on (kernel command line: cgroup_enable=memory) and reboot',
    data: { ms },
  };
}

function nodeCheck(): Check {
  const v = process.versions.node;
  const major = Number(v.split('.')[0]);
  if (major >= 20) return { id: 'node', status: 'pass', summary: `node v${v} (${process.execPath})` };
  return {
    id: 'node',
    status: 'fail',
    summary: `node v${v} is too old: warden needs Node.js 20 or newer`,
    fix: 'install Node.js 20+ (the distribution package where new enough, else NodeSource), then re-run install.sh',
  };
}

function workerCommandCheck(config: Config): Check {
  const program = config.worker.command[0] ?? '';
  const where = locate(program);
  if (where.service) return { id: 'worker-command', status: 'pass', summary: `worker.command runs ${where.service}` };
  if (where.caller) {
    return {
      id: 'worker-command',
      status: 'fail',
      summary: `worker.command's "${program}" is at ${where.caller}, which is not on the service's PATH (${SERVICE_PATH})`,
      fix: `write the absolute path in worker.command: ["${where.caller}", ...]`,
    };
  }
  return {
    id: 'worker-command',
    status: 'fail',
    summary: `worker.command's "${program}" is not found: every spawn would fail`,
    fix:
      program === 'claude'
        ? 'install Claude Code (npm install -g @anthropic-ai/claude-code) or set worker.command'
        : 'install it or fix worker.command',
  };
}

async function gitCheck(required: boolean): Promise<Check> {
  const where = locate('git');
  if (!where.service)
    return { id: 'git', status: required ? 'fail' : 'warn', summary: 'git not found: worktrees need it', fix: 'apt-get install git' };
  const v = await runShort(where.service, ['--version'], 5000);
  return { id: 'git', status: 'pass', summary: `${v.stdout.trim() || 'git'} (${where.service})` };
}

async function ghCheck(required: boolean): Promise<Check> {
  const where = locate('gh');
  const status = required ? 'fail' : 'warn';
  if (!where.service)
    return {
      id: 'gh',
      status,
      summary: `gh not found${required ? '' : ' (needed only for GitHub tasks)'}`,
      fix: 'apt-get install gh, then: sudo gh auth login',
    };
  const auth = await runShort(where.service, ['auth', 'status'], 10_000);
  if (auth.code === 0) return { id: 'gh', status: 'pass', summary: `gh at ${where.service} is logged in` };
  const why =
    auth.error ??
    (auth.stderr || auth.stdout)
      .trim()
      .split('\n')
      .find((l) => /not logged|no .*auth|token|failed|error/i.test(l))
      ?.trim() ??
    `gh auth status exited ${auth.code}`;
  return {
    id: 'gh',
    status,
    summary: `gh at ${where.service} is not logged in for this user: ${why}`,
    fix: 'sudo gh auth login (warden runs gh as root)',
  };
}

function claudeCheck(): Check {
  const where = locate('claude');
  if (where.service) return { id: 'claude', status: 'pass', summary: `claude at ${where.service}` };
  if (where.caller)
    return {
      id: 'claude',
      status: 'warn',
      summary: `claude at ${where.caller} is not on the service's PATH`,
      fix: `use the absolute path in worker.command, or link it: sudo ln -s ${where.caller} /usr/local/bin/claude`,
    };
  return {
    id: 'claude',
    status: 'warn',
    summary: 'claude not found (needed for the default worker)',
    fix: 'npm install -g @anthropic-ai/claude-code',
  };
}

/** Free space where `dir` lives (or would live: its nearest existing ancestor). */
export function freeBytes(dir: string): { path: string; free: number } | null {
  let p = dir;
  while (!existsSync(p) && p !== dirname(p)) p = dirname(p);
  try {
    return { path: p, free: readDiskUsage('doctor', p).freeBytes };
  } catch {
    return null;
  }
}

/** Too little space fails (below min_free_disk, when [worktree] sets it, warden pauses for disk);
 * less than twice that, or 1 GiB without it, warns. */
export function judgeDisk(id: string, dir: string, free: number, minFree: number | null): Check {
  const fail = minFree ?? 256 * MiB;
  const warn = minFree === null ? GiB : 2 * minFree;
  const summary = `${formatSize(free)} free at ${dir}`;
  const data = { path: dir, free };
  if (free < fail)
    return {
      id,
      status: 'fail',
      summary: `${summary}, below ${formatSize(fail)}${minFree !== null ? ' (worktree.min_free_disk: warden pauses)' : ''}`,
      fix: 'free some space (old worktrees, logs, apt-get clean)',
      data,
    };
  if (free < warn) return { id, status: 'warn', summary: `${summary}, below ${formatSize(warn)}`, fix: 'free some space soon', data };
  return { id, status: 'pass', summary, data };
}

function diskCheck(id: string, dir: string, minFree: number | null): Check {
  const f = freeBytes(dir);
  if (f === null) return { id, status: 'warn', summary: `cannot stat the filesystem of ${dir}` };
  return judgeDisk(id, dir, f.free, minFree);
}

async function alertsCheck(config: Config, opts: DoctorOptions): Promise<Check> {
  const a = config.alerts;
  const channels = [a.ntfy_url ? 'ntfy' : '', a.notify_send ? 'notify-send' : '', a.command && a.command.length ? 'command' : ''].filter(
    Boolean,
  );
  if (channels.length === 0) {
    return {
      id: 'alerts',
      status: 'warn',
      summary: 'no alert channel configured: nobody hears when warden pauses or gives up on a task',
      fix: 'set ntfy_url (and/or command) in [alerts], then: warden doctor --send-test',
    };
  }
  if (!opts.sendTest) return { id: 'alerts', status: 'pass', summary: `channels: ${channels.join(', ')} (send one with --send-test)` };
  const r = await runCli(opts, ['alert', 'test']);
  const out = (r.stdout + r.stderr).trim().replace(/\s*\n\s*/g, '; ');
  if (r.code === 0) return { id: 'alerts', status: 'pass', summary: `test alert sent: ${out}` };
  return {
    id: 'alerts',
    status: 'fail',
    summary: `test alert failed (exit ${r.code}): ${out}`,
    fix: 'check the channel settings in [alerts]',
  };
}

function runCli(opts: DoctorOptions, args: string[]): Promise<{ code: number | null; stdout: string; stderr: string }> {
  return new Promise((resolve) => {
    const child = spawn(process.execPath, [opts.cliPath, ...args, '--config', opts.configPath], { stdio: ['ignore', 'pipe', 'pipe'] });
    let stdout = '';
    let stderr = '';
    child.stdout.on('data', (d: Buffer) => (stdout += d.toString()));
    child.stderr.on('data', (d: Buffer) => (stderr += d.toString()));
    const timer = setTimeout(() => child.kill('SIGKILL'), 60_000);
    child.on('close', (code) => {
      clearTimeout(timer);
      resolve({ code, stdout, stderr });
    });
  });
}

interface StatusView {
  daemon: { pid: number; version: string };
  summary: string;
}

async function daemonCheck(config: Config, pid1: boolean): Promise<Check> {
  const socket = config.control.socket;
  const active = pid1 ? (await runShort('systemctl', ['is-active', 'warden.service'], 5000)).stdout.trim() : 'unknown';
  try {
    const s = await callDaemon<StatusView>(socket, 'GET', '/status', 3000);
    return {
      id: 'daemon',
      status: 'pass',
      summary: `warden ${s.daemon.version} (pid ${s.daemon.pid}) answers on ${socket}: ${s.summary}`,
      data: { socket, pid: s.daemon.pid },
    };
  } catch (err) {
    if (!(err instanceof DaemonUnreachable)) {
      return { id: 'daemon', status: 'fail', summary: `the daemon on ${socket} answered badly: ${(err as Error).message}` };
    }
    if (/permission denied/.test(err.message))
      return { id: 'daemon', status: 'warn', summary: err.message, fix: 'run as root: sudo warden doctor' };
    if (active === 'active' || active === 'reloading') {
      return {
        id: 'daemon',
        status: 'fail',
        summary: `warden.service is ${active} but ${socket} does not answer: ${err.message}`,
        fix: 'journalctl -u warden -n 50; check [control] socket',
      };
    }
    return {
      id: 'daemon',
      status: 'info',
      summary: `not running${pid1 ? ` (warden.service: ${active || 'unknown'})` : ''}; start it with: sudo systemctl start warden`,
      data: { socket },
    };
  }
}
