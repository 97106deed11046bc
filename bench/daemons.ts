// Real warden daemons for the reaction and scale benchmarks (bench/reaction.ts, bench/scale.ts):
// the compiled CLI (dist/cli/main.js) with the direct executor, each in its own temp directory with
// its own config, like test/integration/harness.ts. Every process started here is tracked by PID
// and SIGKILLed by PID in `cleanup()` (also on exit, as a last resort); nothing is killed by name.
import { spawn, type ChildProcess } from 'node:child_process';
import { existsSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { request } from 'node:http';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { setTimeout as sleep } from 'node:timers/promises';

export type TomlValue = string | number | boolean | string[];
export type ConfigSections = Record<string, Record<string, TomlValue>>;

export interface BenchSandbox {
  dir: string;
  stateDir: string;
  configPath: string;
  socket: string;
}

export interface BenchDaemon {
  pid: number;
  proc: ChildProcess;
  /** Everything the daemon logged so far (stderr; ISO timestamps with ms, as on a terminal). */
  log(): string;
  /** SIGTERM by PID, SIGKILL after `graceMs`; resolves when it has exited. */
  stop(graceMs?: number): Promise<void>;
}

/** Wall clock with sub-millisecond resolution (the same epoch as Date.now(), give or take clock slew). */
export const wallHiRes = (): number => performance.timeOrigin + performance.now();

const tracked = new Set<ChildProcess>();
const dirs = new Set<string>();

/** Starts a child and tracks it, so `cleanup()` can end it by PID. */
export function track(proc: ChildProcess): ChildProcess {
  tracked.add(proc);
  proc.once('exit', () => tracked.delete(proc));
  return proc;
}

export function killByPid(pid: number | undefined, signal: NodeJS.Signals = 'SIGKILL'): void {
  if (pid === undefined) return;
  try {
    process.kill(pid, signal);
  } catch {
    /* already gone */
  }
}

/** Ends every process this module started (by PID) and removes the temp directories. */
export async function cleanup(): Promise<void> {
  for (const p of [...tracked]) killByPid(p.pid);
  const deadline = Date.now() + 3000;
  while (tracked.size > 0 && Date.now() < deadline) await sleep(20);
  for (const d of dirs) rmSync(d, { recursive: true, force: true });
  dirs.clear();
}

process.once('exit', () => {
  for (const p of tracked) killByPid(p.pid);
});

export function cliPath(root: string): string {
  return join(root, 'dist/cli/main.js');
}

export function makeSandbox(prefix: string): BenchSandbox {
  const dir = mkdtempSync(join(tmpdir(), prefix));
  dirs.add(dir);
  const stateDir = join(dir, 'state');
  const sb = { dir, stateDir, configPath: join(dir, 'warden.toml'), socket: join(stateDir, 'warden.sock') };
  if (sb.socket.length >= 100) throw new Error(`socket path too long: ${sb.socket}`);
  return sb;
}

/** Admission thresholds this machine never trips, the direct executor, and the given overrides. */
export function writeConfig(sb: BenchSandbox, overrides: ConfigSections): void {
  const sections: ConfigSections = {
    supervisor: { state_dir: sb.stateDir, max_concurrent_workers: 1, min_spawn_interval: '0s', poll_interval: '30s' },
    worker: {
      command: ['sleep', '3600'],
      memory_max: '16M',
      startup_window: '200ms',
      max_runtime: '1h',
      max_attempts: 1,
      stop_grace: '1s',
    },
    breaker: { failures: 1000, window: '1m', cooldown: '1h' },
    admission: { min_available_memory: '0', max_load_per_cpu: 1000, max_memory_pressure: 100, max_temperature: 150, recover_after: '0s' },
    executor: { kind: 'direct' },
  };
  for (const [name, values] of Object.entries(overrides)) sections[name] = { ...(sections[name] ?? {}), ...values };
  const value = (v: TomlValue): string =>
    Array.isArray(v) ? `[${v.map((s) => JSON.stringify(s)).join(', ')}]` : typeof v === 'string' ? JSON.stringify(v) : String(v);
  const text = Object.entries(sections)
    .map(
      ([name, kv]) =>
        `[${name}]\n${Object.entries(kv)
          .map(([k, v]) => `${k} = ${value(v)}`)
          .join('\n')}\n`,
    )
    .join('\n');
  writeFileSync(sb.configPath, text);
}

/** The environment for warden processes: no systemd notify socket, no config from outside. */
export function wardenEnv(): NodeJS.ProcessEnv {
  const env = { ...process.env };
  for (const k of ['WARDEN_CONFIG', 'NOTIFY_SOCKET', 'WATCHDOG_USEC', 'WATCHDOG_PID', 'WARDEN_DEBUG_STALL', 'JOURNAL_STREAM'])
    delete env[k];
  return env;
}

/** A GET on the control socket: resolves with the status code, the body text and its parse. */
export function querySocket<T = unknown>(socket: string, path: string, timeoutMs = 5000): Promise<{ code: number; text: string; body: T }> {
  return new Promise((resolve, reject) => {
    const req = request({ socketPath: socket, path, method: 'GET', timeout: timeoutMs }, (res) => {
      const chunks: Buffer[] = [];
      res.on('data', (d: Buffer) => chunks.push(d));
      res.on('end', () => {
        const text = Buffer.concat(chunks).toString('utf8');
        try {
          resolve({ code: res.statusCode ?? 0, text, body: JSON.parse(text) as T });
        } catch (err) {
          reject(err instanceof Error ? err : new Error(String(err)));
        }
      });
    });
    req.on('timeout', () => req.destroy(new Error(`no answer on ${socket} within ${timeoutMs} ms`)));
    req.on('error', reject);
    req.end();
  });
}

/** Starts `warden run` and waits until its control socket answers with this daemon's PID. */
export async function startDaemon(
  root: string,
  sb: BenchSandbox,
  timeoutMs = 30_000,
  nodeArgs: string[] = [],
): Promise<{ daemon: BenchDaemon; startMs: number }> {
  const cli = cliPath(root);
  if (!existsSync(cli)) throw new Error(`${cli} is missing: run \`npm run build\` first`);
  const t0 = performance.now();
  const proc = track(
    spawn(process.execPath, [...nodeArgs, cli, 'run', '--config', sb.configPath], { env: wardenEnv(), stdio: ['ignore', 'pipe', 'pipe'] }),
  );
  let text = '';
  proc.stdout?.on('data', (d: Buffer) => (text += d.toString()));
  proc.stderr?.on('data', (d: Buffer) => (text += d.toString()));
  let gone = false;
  const exited = new Promise<void>((resolve) => proc.once('exit', () => ((gone = true), resolve())));
  const daemon: BenchDaemon = {
    pid: proc.pid as number,
    proc,
    log: () => text,
    async stop(graceMs = 10_000) {
      if (gone) return;
      killByPid(proc.pid, 'SIGTERM');
      const done = await Promise.race([exited.then(() => true), sleep(graceMs).then(() => false)]);
      if (!done) {
        killByPid(proc.pid, 'SIGKILL');
        await exited;
      }
    },
  };
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    if (gone) throw new Error(`daemon exited during start:\n${text}`);
    try {
      const r = await querySocket<{ daemon?: { pid: number } }>(sb.socket, '/status', 1000);
      if (r.body.daemon?.pid === daemon.pid) return { daemon, startMs: performance.now() - t0 };
    } catch {
      /* not listening yet */
    }
    if (Date.now() > deadline) {
      await daemon.stop(1000);
      throw new Error(`daemon did not answer on ${sb.socket} within ${timeoutMs} ms:\n${text}`);
    }
    await sleep(20);
  }
}

/** Polls until `probe` returns something other than null/undefined/false. */
export async function waitFor<T>(
  what: string,
  probe: () => T | null | undefined | false | Promise<T | null | undefined | false>,
  timeoutMs: number,
  intervalMs = 10,
): Promise<T> {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    const v = await probe();
    if (v !== null && v !== undefined && v !== false) return v;
    if (Date.now() > deadline) throw new Error(`timed out after ${timeoutMs} ms waiting for ${what}`);
    await sleep(intervalMs);
  }
}

/** Runs a command to completion; returns its wall time (ms, from spawn to 'close'), exit code and stdout. */
export function timeCommand(
  argv: string[],
  env: NodeJS.ProcessEnv = wardenEnv(),
  timeoutMs = 60_000,
): Promise<{ ms: number; code: number | null; stdout: string; stderr: string }> {
  return new Promise((resolve, reject) => {
    const t0 = performance.now();
    const child = track(spawn(argv[0] as string, argv.slice(1), { env, stdio: ['ignore', 'pipe', 'pipe'] }));
    let stdout = '';
    let stderr = '';
    child.stdout?.on('data', (d: Buffer) => (stdout += d.toString()));
    child.stderr?.on('data', (d: Buffer) => (stderr += d.toString()));
    const timer = setTimeout(() => {
      killByPid(child.pid);
      reject(new Error(`${argv.join(' ')} did not finish within ${timeoutMs} ms`));
    }, timeoutMs);
    child.once('error', (err) => {
      clearTimeout(timer);
      reject(err);
    });
    child.once('close', (code) => {
      clearTimeout(timer);
      resolve({ ms: performance.now() - t0, code, stdout, stderr });
    });
  });
}

/** The children of a PID (Linux /proc/PID/task/PID/children). */
export function childrenOf(pid: number): number[] {
  try {
    return readFileSync(`/proc/${pid}/task/${pid}/children`, 'latin1').trim().split(/\s+/).filter(Boolean).map(Number);
  } catch {
    return [];
  }
}

/** VmRSS and VmHWM of a PID in bytes (null when gone). */
export function rssOf(pid: number): { rss: number; hwm: number } | null {
  try {
    const text = readFileSync(`/proc/${pid}/status`, 'latin1');
    const kb = (key: string) => Number(new RegExp(`^${key}:\\s+(\\d+) kB`, 'm').exec(text)?.[1] ?? NaN) * 1024;
    return { rss: kb('VmRSS'), hwm: kb('VmHWM') };
  } catch {
    return null;
  }
}

/** MemAvailable in bytes, from /proc/meminfo. */
export function memAvailable(): number {
  const m = /^MemAvailable:\s+(\d+) kB/m.exec(readFileSync('/proc/meminfo', 'latin1'));
  if (!m) throw new Error('no MemAvailable in /proc/meminfo');
  return Number(m[1]) * 1024;
}

/** Nearest-rank percentiles of plain numbers (ms here, unlike stats.ts which takes ns). */
export function summarizeMs(xs: readonly number[]): { n: number; p50: number; p99: number; max: number; min: number; mean: number } {
  const s = [...xs].sort((a, b) => a - b);
  const pct = (p: number) =>
    s.length === 0 ? NaN : (s[Math.min(s.length - 1, Math.max(0, Math.ceil((p / 100) * s.length) - 1))] as number);
  return {
    n: s.length,
    p50: pct(50),
    p99: pct(99),
    max: s[s.length - 1] ?? NaN,
    min: s[0] ?? NaN,
    mean: s.reduce((a, b) => a + b, 0) / Math.max(1, s.length),
  };
}

export function fmtMs(ms: number): string {
  if (!Number.isFinite(ms)) return '-';
  if (ms >= 1000) return `${(ms / 1000).toFixed(2)} s`;
  if (ms >= 100) return `${ms.toFixed(0)} ms`;
  if (ms >= 10) return `${ms.toFixed(1)} ms`;
  return `${ms.toFixed(2)} ms`;
}

import { table } from './table.js';
export { table };
