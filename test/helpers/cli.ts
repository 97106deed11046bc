// Running the built `warden` CLI as a user would: a real node process, its exit code and output.
import { spawn, spawnSync } from 'node:child_process';
import { assertBuilt, CLI } from './paths.ts';

export interface CliResult {
  /** null when the process was ended by a signal (or the timeout). */
  code: number | null;
  signal: NodeJS.Signals | null;
  stdout: string;
  stderr: string;
  ms: number;
}

/**
 * The test runner's environment without what would steer warden from outside the test: a config
 * path, systemd's notify socket and watchdog, a debug switch.
 */
export function cliEnv(extra: NodeJS.ProcessEnv = {}): NodeJS.ProcessEnv {
  const env = { ...process.env };
  for (const k of ['WARDEN_CONFIG', 'NOTIFY_SOCKET', 'WATCHDOG_USEC', 'WATCHDOG_PID', 'WARDEN_DEBUG_STALL']) delete env[k];
  return { ...env, ...extra };
}

export interface CliOptions {
  timeoutMs?: number;
  cwd?: string;
  env?: NodeJS.ProcessEnv;
}

/** Runs `warden ARGS` to completion, blocking: for checks that need no other process meanwhile. */
export function runCliSync(args: string[], { timeoutMs = 30_000, cwd, env = {} }: CliOptions = {}): CliResult {
  assertBuilt();
  const started = Date.now();
  const r = spawnSync(process.execPath, [CLI, ...args], { encoding: 'utf8', env: cliEnv(env), timeout: timeoutMs, cwd });
  return { code: r.status, signal: r.signal, stdout: r.stdout ?? '', stderr: r.stderr ?? '', ms: Date.now() - started };
}

/** Runs `warden ARGS` to completion without blocking (samplers and daemons keep running). */
export function runCli(args: string[], { timeoutMs = 30_000, cwd, env = {} }: CliOptions = {}): Promise<CliResult> {
  assertBuilt();
  const started = Date.now();
  return new Promise((resolve, reject) => {
    const child = spawn(process.execPath, [CLI, ...args], { env: cliEnv(env), cwd, stdio: ['ignore', 'pipe', 'pipe'] });
    let stdout = '';
    let stderr = '';
    child.stdout.on('data', (d: Buffer) => (stdout += d.toString()));
    child.stderr.on('data', (d: Buffer) => (stderr += d.toString()));
    const timer = setTimeout(() => {
      child.kill('SIGKILL');
      reject(new Error(`warden ${args.join(' ')} did not finish within ${timeoutMs} ms\nstdout: ${stdout}\nstderr: ${stderr}`));
    }, timeoutMs);
    child.once('error', reject);
    child.once('close', (code, signal) => {
      clearTimeout(timer);
      resolve({ code, signal, stdout, stderr, ms: Date.now() - started });
    });
  });
}

/** The parts of `warden status --json` the tests read. */
export interface Status {
  daemon: { pid: number };
  config: { sha256: string };
  executor: { kind: string; enforcesLimits: boolean; warnings: string[]; sandbox: string };
  workers: { taskId: string; attempt: number; pid: number; startedAt: number; unit: string | null }[];
  tasks: Record<string, number>;
  pause: { paused: boolean; reasons: string[]; manual: { since: number } | null };
  breaker: { phase: string; reason: string | null; openedAt: number | null };
  heldBy: string | null;
  totalSpawns: number;
  summary: string;
}

/** One task of `warden tasks --json`. */
export interface TaskView {
  id: string;
  state: string;
  attempts: number;
  priority: number;
  current: { attempt: number; pid: number | null } | null;
  history: {
    attempt: number;
    outcome: string;
    exitCode: number | null;
    signal: string | null;
    durationMs: number;
    detail: string | null;
    memoryPeak?: number;
  }[];
  note: string | null;
}
