// Helpers for the real-systemd suite. These tests run INSIDE the throw-away container that
// scripts/with-systemd.sh boots (systemd is PID 1 there, limits and the watchdog are enforced).
import { execFileSync, spawnSync } from 'node:child_process';
import { chmodSync, mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { setTimeout as sleep } from 'node:timers/promises';

export const ROOT = new URL('../..', import.meta.url).pathname.replace(/\/$/, '');
export const CLI = join(ROOT, 'dist/cli/main.js');
export const FAKE_WORKER = join(ROOT, 'scripts/fake-worker');

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

export function ensureWorkerUser(): void {
  if (sh('id', ['warden']).code !== 0) execFileSync('useradd', ['--system', '--user-group', '--no-create-home', 'warden']);
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

export function writeConfig(dir: string, extra: Record<string, Record<string, unknown>> = {}): string {
  const base: Record<string, Record<string, unknown>> = {
    supervisor: { state_dir: `${dir}/state`, min_spawn_interval: '0s', poll_interval: '1s', max_concurrent_workers: 2 },
    worker: { command: [FAKE_WORKER], startup_window: '1s', memory_max: '256M', cpu_quota: '100%', stop_grace: '2s' },
    admission: { min_available_memory: '0', max_load_per_cpu: 1000, max_memory_pressure: 100, max_temperature: 150 },
    executor: { kind: 'systemd' },
  };
  for (const [table, values] of Object.entries(extra)) base[table] = { ...(base[table] ?? {}), ...values };
  const toml = Object.entries(base)
    .map(
      ([table, values]) =>
        `[${table}]\n` +
        Object.entries(values)
          .map(([k, v]) => `${k} = ${JSON.stringify(v)}`)
          .join('\n'),
    )
    .join('\n\n');
  const path = `${dir}/config.toml`;
  writeFileSync(path, toml + '\n');
  return path;
}

export function cli(config: string, ...args: string[]) {
  return sh(process.execPath, [CLI, '--config', config, ...args]);
}

export function addTask(config: string, id: string, prompt: string): void {
  const r = cli(config, 'task', 'add', id, '--prompt', prompt);
  if (r.code !== 0) throw new Error(`task add ${id}: ${r.stderr}`);
}

export interface Status {
  daemon: { pid: number };
  config: { sha256: string };
  workers: { taskId: string; pid: number; unit: string | null }[];
  tasks: Record<string, number>;
  pause: { reasons: string[] };
  breaker: { phase: string };
  summary: string;
}

export function status(config: string): Status | null {
  const r = cli(config, 'status', '--json');
  return r.code === 0 ? (JSON.parse(r.stdout) as Status) : null;
}

export interface TaskView {
  id: string;
  state: string;
  attempts: number;
  history: { outcome: string; detail: string | null }[];
}

export function tasks(config: string): TaskView[] {
  const r = cli(config, 'tasks', '--json');
  if (r.code !== 0) throw new Error(`tasks: ${r.stderr}`);
  return JSON.parse(r.stdout) as TaskView[];
}

export async function waitFor<T>(what: string, fn: () => T | null | undefined | false, timeoutMs = 20_000, everyMs = 200): Promise<T> {
  const end = Date.now() + timeoutMs;
  let last: unknown;
  while (Date.now() < end) {
    try {
      const v = fn();
      if (v) return v;
    } catch (err) {
      last = err;
    }
    await sleep(everyMs);
  }
  throw new Error(`timed out after ${timeoutMs} ms waiting for ${what}${last ? ` (last error: ${(last as Error).message})` : ''}`);
}

/**
 * Installs the shipped systemd/warden.service (and the worker slice) into /run/systemd/system,
 * with ExecStart pointed at this checkout and the given overrides, exactly as a user would.
 */
export function installService(config: string, overrides: { watchdogSec?: number; env?: Record<string, string> } = {}): void {
  stopService(); // a test that failed half-way must not leave its daemon for the next one
  let unit = readFileSync(join(ROOT, 'systemd/warden.service'), 'utf8');
  unit = unit.replace(/^ExecStart=.*$/m, `ExecStart=${process.execPath} ${CLI} run --config ${config}`);
  unit = unit.replace(/^RestartSec=.*$/m, 'RestartSec=500ms');
  if (overrides.watchdogSec) unit = unit.replace(/^WatchdogSec=.*$/m, `WatchdogSec=${overrides.watchdogSec}s`);
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
  // no worker scope may outlive a test
  const units = sh('systemctl', ['list-units', '--type=scope', '--all', '--plain', '--no-legend', 'warden-*.scope']).stdout;
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
