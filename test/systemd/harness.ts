// Helpers for the real-systemd suite. These tests run INSIDE the throw-away container that
// scripts/with-systemd.sh boots (systemd is PID 1 there, limits and the watchdog are enforced).
// What both real-process suites need (paths, the CLI runner, config files, waitFor) is in
// test/helpers/; this file keeps what is about systemd.
import { execFileSync, spawnSync } from 'node:child_process';
import { chmodSync, existsSync, mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { runCliSync, type Status, type TaskView } from '../helpers/cli.ts';
import { mergeSections, toToml, type ConfigSections } from '../helpers/config-file.ts';
import { CLI, FAKE_WORKER, ROOT } from '../helpers/paths.ts';
import { measureSlowdown } from '../helpers/slowdown.ts';
import { waitFor as waitUntil } from '../helpers/wait.ts';

export function inHarness(): boolean {
  try {
    return readFileSync('/proc/1/comm', 'latin1').trim() === 'systemd' && process.getuid?.() === 0;
  } catch {
    return false;
  }
}

export function sh(cmd: string, args: string[]): { code: number; stdout: string; stderr: string } {
  const r = spawnSync(cmd, args, { encoding: 'utf8' });
  return { code: r.status ?? -1, stdout: r.stdout ?? '', stderr: r.stderr ?? '' };
}

/** The worker user as install.sh makes it: `warden`, in its own group `warden-worker`, not in the control group `warden`. */
export function ensureWorkerUser(): void {
  if (sh('id', ['warden']).code === 0) return;
  if (sh('getent', ['group', 'warden-worker']).code !== 0) execFileSync('groupadd', ['--system', 'warden-worker']);
  execFileSync('useradd', ['--system', '--gid', 'warden-worker', '--no-create-home', 'warden']);
}

let counter = 0;
/** A fresh state directory on the container's tmpfs (never the host's). */
export function freshDir(name: string): string {
  const dir = `/var/lib/warden-test/${name}-${process.pid}-${++counter}`;
  mkdirSync(dir, { recursive: true, mode: 0o711 });
  // workers run as the unprivileged worker user: give them one directory they may write to
  mkdirSync(`${dir}/out`, { mode: 0o777 });
  chmodSync(`${dir}/out`, 0o777);
  return dir;
}

export function writeConfig(dir: string, extra: ConfigSections = {}): string {
  const base: ConfigSections = {
    supervisor: { state_dir: `${dir}/state`, min_spawn_interval: '0s', poll_interval: '1s', max_concurrent_workers: 2 },
    worker: { command: [FAKE_WORKER], startup_window: '1s', memory_max: '256M', cpu_quota: '100%', stop_grace: '2s' },
    admission: { min_available_memory: '0', max_load_per_cpu: 1000, max_memory_pressure: 100, max_temperature: 150 },
    executor: { kind: 'systemd' },
  };
  const path = `${dir}/config.toml`;
  writeFileSync(path, toToml(mergeSections(base, extra)));
  return path;
}

export function cli(config: string, ...args: string[]) {
  // one CLI call is a node start: seconds under emulation, so its ceiling scales too
  const r = runCliSync(['--config', config, ...args], { timeoutMs: scaled(30_000) });
  return { code: r.code ?? -1, stdout: r.stdout, stderr: r.stderr };
}

export function addTask(config: string, id: string, prompt: string): void {
  const r = cli(config, 'task', 'add', id, '--prompt', prompt);
  if (r.code !== 0) throw new Error(`task add ${id}: ${r.stderr}`);
}

export function status(config: string): Status | null {
  const r = cli(config, 'status', '--json');
  return r.code === 0 ? (JSON.parse(r.stdout) as Status) : null;
}

export function tasks(config: string): TaskView[] {
  const r = cli(config, 'tasks', '--json');
  if (r.code !== 0) throw new Error(`tasks: ${r.stderr}`);
  return JSON.parse(r.stdout) as TaskView[];
}

/**
 * How much slower this machine is than the one the deadlines were written on, measured once per
 * run: the fastest of three `node -e 0` starts against 80 ms (a loaded 2-core x86 host). Under
 * emulation (the v2 VM, TCG) it is 5-30; a Pi 4 is about 3. Deadlines below are multiplied by it,
 * never shortened (at least 1). WARDEN_TEST_SLOWDOWN=N sets it by hand.
 */
export const SLOWDOWN = measureSlowdown();

/** A deadline written for a fast machine, on this one. */
export function scaled(ms: number): number {
  return Math.round(ms * SLOWDOWN);
}

/**
 * waitFor with this suite's longer defaults: systemd starts and stops units at its own pace. The
 * deadline is a ceiling, scaled to the machine; the wait ends as soon as the condition holds.
 */
export function waitFor<T>(what: string, probe: () => T, timeoutMs = 20_000, everyMs = 200): Promise<NonNullable<T>> {
  return waitUntil(what, probe, scaled(timeoutMs), everyMs);
}

/** A fake-worker directive that keeps the worker running until release(dir) (see scripts/fake-worker). */
export function untilReleased(dir: string): string {
  return `until=${dir}/out/release`;
}

export function release(dir: string): void {
  writeFileSync(`${dir}/out/release`, '');
}

/** True once the process has a handler for SIGTERM installed (SigCgt bit 15 in /proc/PID/status). */
export function catchesSigterm(pid: number): boolean {
  try {
    const hex = /^SigCgt:\s+([0-9a-f]+)$/m.exec(readFileSync(`/proc/${pid}/status`, 'latin1'))?.[1];
    return hex !== undefined && (BigInt(`0x${hex}`) & (1n << 14n)) !== 0n;
  } catch {
    return false;
  }
}

/**
 * Installs the shipped systemd/warden.service (and the worker slice) into /run/systemd/system,
 * with ExecStart pointed at this checkout and the given overrides, exactly as a user would.
 */
export function installService(
  config: string,
  overrides: { watchdogSec?: number; env?: Record<string, string>; timeoutStopSec?: number } = {},
): void {
  stopService(); // a test that failed half-way must not leave its daemon for the next one
  let unit = readFileSync(join(ROOT, 'systemd/warden.service'), 'utf8');
  unit = unit.replace(/^ExecStart=.*$/m, `ExecStart=${process.execPath} ${CLI} run --config ${config}`);
  unit = unit.replace(/^ExecReload=.*$/m, `ExecReload=${process.execPath} ${CLI} reload --config ${config}`);
  unit = unit.replace(/^RestartSec=.*$/m, 'RestartSec=500ms');
  // a slow machine (emulation, a loaded host) starts node slowly and under the unit's own
  // CPUQuota: the start timeout (systemd's default 90 s) and the watchdog scale with it
  const watchdogSec = overrides.watchdogSec ?? Math.ceil(scaled(30_000) / 1000);
  unit = unit.replace(/^WatchdogSec=.*$/m, `WatchdogSec=${watchdogSec}s\nTimeoutStartSec=${Math.ceil(scaled(90_000) / 1000)}s`);
  if (overrides.timeoutStopSec !== undefined) unit = unit.replace(/^TimeoutStopSec=.*$/m, `TimeoutStopSec=${overrides.timeoutStopSec}s`);
  const env = Object.entries(overrides.env ?? {})
    .map(([k, v]) => `Environment=${k}=${v}`)
    .join('\n');
  unit = unit.replace(/^\[Service\]$/m, `[Service]\n${env}`);
  mkdirSync('/run/systemd/system', { recursive: true });
  writeFileSync('/run/systemd/system/warden.service', unit);
  writeFileSync('/run/systemd/system/warden-workers.slice', readFileSync(join(ROOT, 'systemd/warden-workers.slice'), 'utf8'));
  execFileSync('systemctl', ['daemon-reload']);
}

export function unitProps(unit: string, ...props: string[]): Record<string, string> {
  const r = sh('systemctl', ['show', unit, ...props.map((p) => `-p${p}`)]);
  return Object.fromEntries(
    r.stdout
      .split('\n')
      .filter(Boolean)
      .map((l) => [l.slice(0, l.indexOf('=')), l.slice(l.indexOf('=') + 1)]),
  );
}

export function stopService(): void {
  sh('systemctl', ['stop', 'warden.service']);
  sh('systemctl', ['reset-failed', 'warden.service']);
  // no worker scope or sandboxed service may outlive a test
  const units = sh('systemctl', [
    'list-units',
    '--type=scope,service',
    '--all',
    '--plain',
    '--no-legend',
    'warden-*.scope',
    'warden-*.service',
  ]).stdout;
  for (const line of units.split('\n')) {
    const u = line.trim().split(/\s+/)[0];
    if (u) sh('systemctl', ['stop', u]);
  }
}

export function journal(unit: string, since: string): string {
  return sh('journalctl', ['-u', unit, '--since', since, '--no-pager', '-o', 'cat']).stdout;
}

export function nowForJournal(): string {
  return sh('date', ['+%Y-%m-%d %H:%M:%S']).stdout.trim();
}

/**
 * The share of one core a unit's processes used over `ms` (1 = a full core). cgroup v2: cpu.stat
 * usage_usec. cgroup v1 (the nspawn harness): systemd creates no cpuacct group for transient
 * units there, so utime+stime of the processes in the unit's cpu-controller cgroup.procs.
 * Also whether the kernel reports CFS throttling for it (v1 cpu.stat nr_throttled; null: no file).
 */
export async function cpuShare(unit: string, ms: number): Promise<{ share: number; throttled: boolean | null }> {
  const cg = unitProps(unit, 'ControlGroup').ControlGroup ?? '';
  const tick = 1e9 / 100; // USER_HZ
  const usage = () => {
    try {
      return Number(/usage_usec (\d+)/.exec(readFileSync(`/sys/fs/cgroup${cg}/cpu.stat`, 'latin1'))?.[1]) * 1000;
    } catch {
      // not cgroup v2: fall through to the v1 files
    }
    const pids = readFileSync(`/sys/fs/cgroup/cpu${cg}/cgroup.procs`, 'latin1').split('\n').filter(Boolean);
    let ns = 0;
    for (const pid of pids) {
      const stat = readFileSync(`/proc/${pid}/stat`, 'latin1');
      const f = stat.slice(stat.lastIndexOf(')') + 2).split(' ');
      ns += (Number(f[11]) + Number(f[12])) * tick;
    }
    return ns;
  };
  const t0 = process.hrtime.bigint();
  const u0 = usage();
  await new Promise((r) => setTimeout(r, ms));
  const u1 = usage();
  const wall = Number(process.hrtime.bigint() - t0);
  const v1Stat = `/sys/fs/cgroup/cpu${cg}/cpu.stat`;
  const throttled = existsSync(v1Stat) ? Number(/nr_throttled (\d+)/.exec(readFileSync(v1Stat, 'latin1'))?.[1] ?? 0) > 0 : null;
  return { share: (u1 - u0) / wall, throttled };
}
