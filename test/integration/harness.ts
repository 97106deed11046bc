// Shared helpers for the integration suite: real daemons, real workers, real files and sockets.
// Every daemon and worker started through here is tracked and killed by `cleanupAll()`, which each
// test file registers in `after`, so a failing test never leaks a process.
// What is not about daemons and sandboxes (paths, the CLI runner, config files, waitFor) is in
// test/helpers/, shared with the systemd suite.
import { spawn, type ChildProcess } from 'node:child_process';
import { existsSync, mkdtempSync, readdirSync, readFileSync, readlinkSync, rmSync, statSync } from 'node:fs';
import { request } from 'node:http';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { setTimeout as sleep } from 'node:timers/promises';
import { cliEnv, runCli, type CliResult, type Status, type TaskView } from '../helpers/cli.ts';
import { mergeSections, writeConfigFile, type ConfigSections } from '../helpers/config-file.ts';
import { assertBuilt, CLI, FAKE_WORKER } from '../helpers/paths.ts';
import { waitFor } from '../helpers/wait.ts';

// ---------------------------------------------------------------------------------------------
// Sandboxes and config

export interface Sandbox {
  /** The temp directory; every worker's cwd (its worktree) lies under it. */
  dir: string;
  stateDir: string;
  configPath: string;
  /** The fake worker's `count=FILE`: one line "<task> <pid> <ms>" per started worker. */
  countFile: string;
  socket: string;
}

const sandboxes: Sandbox[] = [];

/** A fresh temp dir with a config written into it. Paths stay short: the socket lives there. */
export function makeSandbox(overrides: ConfigSections = {}): Sandbox {
  const dir = mkdtempSync(join(tmpdir(), 'wd-'));
  const stateDir = join(dir, 'state');
  const sb: Sandbox = {
    dir,
    stateDir,
    configPath: join(dir, 'warden.toml'),
    countFile: join(dir, 'count'),
    socket: join(stateDir, 'warden.sock'),
  };
  if (sb.socket.length >= 100) throw new Error(`socket path too long for a unix socket: ${sb.socket}`);
  sandboxes.push(sb);
  writeConfig(sb, overrides);
  return sb;
}

/**
 * The base config: direct executor, the fake worker, short durations, and admission thresholds
 * this machine never trips (admission is not what these tests are about).
 */
export function baseConfig(stateDir: string): ConfigSections {
  return {
    supervisor: { state_dir: stateDir, max_concurrent_workers: 1, min_spawn_interval: '0s', poll_interval: '500ms' },
    worker: {
      command: [process.execPath, FAKE_WORKER],
      memory_max: '64M',
      startup_window: '1s',
      max_runtime: '1m',
      max_attempts: 3,
      stop_grace: '2s',
    },
    breaker: { failures: 100, window: '1m', cooldown: '1h' },
    admission: { min_available_memory: '0', max_load_per_cpu: 100, max_memory_pressure: 100, max_temperature: 150, recover_after: '0s' },
    executor: { kind: 'direct' },
  };
}

export function writeConfig(sb: Sandbox, overrides: ConfigSections = {}): void {
  writeConfigFile(sb.configPath, mergeSections(baseConfig(sb.stateDir), overrides));
}

// ---------------------------------------------------------------------------------------------
// The CLI

/** Runs `warden ARGS --config FILE` to completion (asynchronously: samplers keep running). */
export function cli(configPath: string, args: string[], timeoutMs = 30_000): Promise<CliResult> {
  return runCli([...args, '--config', configPath], { timeoutMs });
}

/** Runs a CLI command that must succeed; fails with its output otherwise. */
export async function cliOk(configPath: string, args: string[]): Promise<CliResult> {
  const r = await cli(configPath, args);
  if (r.code !== 0) throw new Error(`warden ${args.join(' ')} exited ${r.code}\nstdout: ${r.stdout}\nstderr: ${r.stderr}`);
  return r;
}

export async function addTask(sb: Sandbox, id: string, prompt: string, priority?: number): Promise<void> {
  await cliOk(sb.configPath, ['task', 'add', id, '--prompt', prompt, ...(priority === undefined ? [] : ['--priority', String(priority)])]);
}

export async function status(sb: Sandbox): Promise<Status> {
  return JSON.parse((await cliOk(sb.configPath, ['status', '--json'])).stdout) as Status;
}

/** `warden tasks --json`, sorted by ID so two listings compare directly. */
export async function tasks(sb: Sandbox): Promise<TaskView[]> {
  const list = JSON.parse((await cliOk(sb.configPath, ['tasks', '--json'])).stdout) as TaskView[];
  return list.sort((a, b) => (a.id < b.id ? -1 : a.id > b.id ? 1 : 0));
}

export async function task(sb: Sandbox, id: string): Promise<TaskView | undefined> {
  return (await tasks(sb)).find((t) => t.id === id);
}

/** Straight to the control socket: for samplers, where a CLI process per sample is too slow. */
export function query<T>(socket: string, path: string, timeoutMs = 2000): Promise<T> {
  return new Promise((resolve, reject) => {
    const req = request({ socketPath: socket, path, method: 'GET', timeout: timeoutMs }, (res) => {
      let body = '';
      res.on('data', (d: Buffer) => (body += d.toString()));
      res.on('end', () => {
        try {
          resolve(JSON.parse(body) as T);
        } catch (err) {
          reject(err instanceof Error ? err : new Error(String(err)));
        }
      });
    });
    req.on('timeout', () => req.destroy(new Error(`no answer on ${socket}`)));
    req.on('error', reject);
    req.end();
  });
}

// ---------------------------------------------------------------------------------------------
// Daemons

export interface Daemon {
  proc: ChildProcess;
  pid: number;
  /** Everything the daemon logged so far (it logs to stderr). */
  log(): string;
  exited: Promise<{ code: number | null; signal: NodeJS.Signals | null; at: number }>;
  /** SIGTERM, then wait for the exit; `ms` is how long the daemon took to go. */
  stop(timeoutMs?: number): Promise<{ code: number | null; signal: NodeJS.Signals | null; ms: number }>;
  kill9(): Promise<void>;
}

const daemons = new Set<Daemon>();

/** Starts `warden run` and waits until its control socket answers. */
export async function startDaemon(sb: Sandbox, timeoutMs = 15_000): Promise<Daemon> {
  assertBuilt();
  const proc = spawn(process.execPath, [CLI, 'run', '--config', sb.configPath], { env: cliEnv(), stdio: ['ignore', 'pipe', 'pipe'] });
  let log = '';
  proc.stdout?.on('data', (d: Buffer) => (log += d.toString()));
  proc.stderr?.on('data', (d: Buffer) => (log += d.toString()));
  let gone = false;
  const exited = new Promise<{ code: number | null; signal: NodeJS.Signals | null; at: number }>((resolve) => {
    proc.once('exit', (code, signal) => {
      gone = true;
      resolve({ code, signal, at: Date.now() });
    });
  });
  const d: Daemon = {
    proc,
    pid: proc.pid as number,
    log: () => log,
    exited,
    async stop(stopTimeoutMs = 30_000) {
      const t0 = Date.now();
      if (!gone) proc.kill('SIGTERM');
      let timer: NodeJS.Timeout | undefined;
      const r = await Promise.race([exited, new Promise<null>((resolve) => (timer = setTimeout(() => resolve(null), stopTimeoutMs)))]);
      clearTimeout(timer);
      if (r === null) {
        proc.kill('SIGKILL');
        throw new Error(`daemon ${d.pid} did not exit within ${stopTimeoutMs} ms of SIGTERM\n${log}`);
      }
      daemons.delete(d);
      return { code: r.code, signal: r.signal, ms: r.at - t0 };
    },
    async kill9() {
      if (!gone) proc.kill('SIGKILL');
      await exited;
      daemons.delete(d);
    },
  };
  daemons.add(d);
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    if (gone) {
      const r = await exited;
      throw new Error(`daemon exited during start (code ${r.code}, signal ${r.signal}):\n${log}`);
    }
    try {
      const s = await query<Status>(sb.socket, '/status', 500);
      if (s.daemon?.pid === d.pid) return d;
    } catch {
      /* not listening yet */
    }
    if (Date.now() > deadline) throw new Error(`daemon did not answer on ${sb.socket} within ${timeoutMs} ms:\n${log}`);
    await sleep(50);
  }
}

// ---------------------------------------------------------------------------------------------
// Waiting and observing

export interface CountLine {
  task: string;
  pid: number;
  at: number;
}

/** The fake worker's start records: one per worker process that actually started. */
export function countLines(file: string): CountLine[] {
  if (!existsSync(file)) return [];
  return readFileSync(file, 'utf8')
    .split('\n')
    .filter((l) => l.trim() !== '')
    .map((l) => {
      const [task, pid, at] = l.trim().split(/\s+/);
      return { task: task ?? '?', pid: Number(pid), at: Number(at) };
    });
}

/** Waits until the count file holds at least `n` start records, and returns them. */
export function waitForStarts(file: string, n = 1, timeoutMs = 10_000): Promise<CountLine[]> {
  return waitFor(
    `${n} worker start(s) in ${file}`,
    () => {
      const lines = countLines(file);
      return lines.length >= n ? lines : null;
    },
    timeoutMs,
    50,
  );
}

/** Alive and not a zombie (an orphaned zombie may never be reaped in a container). */
export function pidAlive(pid: number): boolean {
  try {
    const stat = readFileSync(`/proc/${pid}/stat`, 'latin1');
    return stat.slice(stat.lastIndexOf(')') + 2, stat.lastIndexOf(')') + 3) !== 'Z';
  } catch {
    return false;
  }
}

interface ProcInfo {
  pid: number;
  pgid: number;
  cwd: string;
}

/** Live processes whose cwd lies under `dir`: the workers (and their wrappers) of one sandbox, seen by the kernel. */
export function processesUnder(dir: string): ProcInfo[] {
  const out: ProcInfo[] = [];
  for (const name of readdirSync('/proc')) {
    if (!/^\d+$/.test(name)) continue;
    try {
      const cwd = readlinkSync(`/proc/${name}/cwd`);
      if (cwd !== dir && !cwd.startsWith(dir + '/')) continue;
      const stat = readFileSync(`/proc/${name}/stat`, 'latin1');
      const fields = stat.slice(stat.lastIndexOf(')') + 2).split(' ');
      if (fields[0] === 'Z') continue;
      out.push({ pid: Number(name), pgid: Number(fields[2]), cwd });
    } catch {
      /* gone meanwhile, or a kernel thread */
    }
  }
  return out;
}

/** How many workers run now, by the kernel's account: distinct process groups under the worktrees. */
export function workerGroupsRunning(sb: Sandbox): number {
  return new Set(processesUnder(join(sb.stateDir, 'worktrees')).map((p) => p.pgid)).size;
}

export function fileStamp(path: string): { bytes: string; mtimeMs: number } {
  return { bytes: readFileSync(path, 'utf8'), mtimeMs: statSync(path).mtimeMs };
}

export function readStateFile(sb: Sandbox): {
  cleanShutdown: boolean;
  totalSpawns: number;
  tasks: Record<string, TaskView>;
  breaker: Status['breaker'];
} {
  return JSON.parse(readFileSync(join(sb.stateDir, 'state.json'), 'utf8'));
}

// ---------------------------------------------------------------------------------------------
// Cleanup

function killStrays(dir: string): void {
  for (const p of processesUnder(dir)) {
    try {
      process.kill(p.pid, 'SIGKILL');
    } catch {
      /* already gone */
    }
  }
}

/** Kills every daemon and worker this file started and removes the sandboxes. Call from `after`. */
export async function cleanupAll(): Promise<void> {
  for (const d of [...daemons]) await d.kill9();
  for (const sb of sandboxes) killStrays(sb.dir);
  await sleep(50);
  for (const sb of sandboxes.splice(0)) {
    killStrays(sb.dir);
    if (process.env.WARDEN_KEEP_TEST_DIRS !== '1') rmSync(sb.dir, { recursive: true, force: true });
  }
}

// last resort if the test process dies without running `after`
process.once('exit', () => {
  for (const d of daemons) d.proc.kill('SIGKILL');
  for (const sb of sandboxes) killStrays(sb.dir);
});
