#!/usr/bin/env node
// warden's command line. The commands, their arguments and options are declared once, in
// commands.ts; parse.ts turns argv into a command, a help text or a usage error from that table,
// and HANDLERS below runs the command. Bad input gets one clear line and a documented exit code
// (exit-codes.ts, README.md "Command line"), never a stack trace.
import { readFileSync } from 'node:fs';
import { ConfigError, EX_CONFIG, loadConfig, resolveConfigPath, type LoadedConfig } from '../config/load.js';
import { formatSize } from '../config/units.js';
import { callDaemon, DaemonAlreadyRunning, DaemonUnreachable } from '../control/client.js';
import { StateLocked } from '../state/lock.js';
import { loadState, StateError } from '../state/store.js';
import type { Task } from '../state/types.js';
import { DEFAULT_PRIORITY, enqueueTask, QueueError, QueueWriteError } from '../tasks/local-queue.js';
import { checkPrompt, parsePriority, readPromptFile, TaskInputError } from '../tasks/task-input.js';
import { checkTaskId } from '../tasks/task-id.js';
import type { CommandName } from './commands.js';
import { bashCompletion } from './completion.js';
import { EX_IOERR, EX_LOCKED, EX_NOT_RUNNING, EX_USAGE } from './exit-codes.js';
import { LogsError, showLogs } from './logs.js';
import { parseCommandLine, type OptionValues } from './parse.js';
import { status } from './status.js';
// The daemon (`run`), `doctor` and `alert test` load their modules when called: a `status` or
// `task add` should not pay for the supervisor, the executors, alerts and jobs (docs/benchmarks.md).

class UsageError extends Error {}

export function version(): string {
  try {
    const pkg = JSON.parse(readFileSync(new URL('../../package.json', import.meta.url), 'utf8')) as { version: string };
    return pkg.version;
  } catch {
    return 'unknown';
  }
}

/** What a handler gets: the config path (--config, else $WARDEN_CONFIG, else /etc), the arguments after the command's words, the options. */
interface Invocation {
  configPath: string;
  args: string[];
  values: OptionValues;
}

const flag = (v: OptionValues, name: string): boolean => v[name] === true;
const text = (v: OptionValues, name: string): string | undefined => (typeof v[name] === 'string' ? v[name] : undefined);

/** One handler per row of the command table (commands.ts); the type makes the two agree. */
const HANDLERS: Record<CommandName, (c: Invocation) => number | Promise<number>> = {
  run: async ({ configPath }) => (await import('./run.js')).run(loadConfig(configPath), version()),
  status: ({ configPath, values }) => status(socketFor(configPath), flag(values, 'json')),
  top: async ({ configPath }) => (await import('./top.js')).top(socketFor(configPath)),
  tasks: ({ configPath, values }) => tasks(socketFor(configPath), flag(values, 'json')),
  'task add': ({ configPath, args, values }) =>
    taskAdd(loadConfig(configPath), args, {
      prompt: text(values, 'prompt'),
      'prompt-file': text(values, 'prompt-file'),
      priority: text(values, 'priority'),
    }),
  logs: ({ configPath, args, values }) => showLogs(loadConfig(configPath).config.supervisor.state_dir, args[0]!, flag(values, 'follow')),
  pause: ({ configPath }) => pauseOrResume(socketFor(configPath), 'pause'),
  resume: ({ configPath }) => pauseOrResume(socketFor(configPath), 'resume'),
  'config check': ({ configPath }) => configCheck(configPath),
  'alert test': ({ configPath }) => alertTest(loadConfig(configPath)),
  doctor: async ({ configPath, values }) =>
    (await import('../doctor/cli.js')).doctorCommand(configPath, version(), {
      json: flag(values, 'json'),
      sendTest: flag(values, 'send-test'),
      readiness: flag(values, 'readiness'),
      sysroot: text(values, 'sysroot'),
    }),
  'completion bash': () => {
    process.stdout.write(bashCompletion());
    return 0;
  },
  version: () => {
    process.stdout.write(`warden ${version()}\n`);
    return 0;
  },
};

async function main(argv: string[]): Promise<number> {
  const parsed = parseCommandLine(argv);
  switch (parsed.kind) {
    case 'help':
      process.stdout.write(parsed.text + '\n');
      return 0;
    case 'version':
      process.stdout.write(`warden ${version()}\n`);
      return 0;
    case 'no-command':
      process.stderr.write(parsed.text + '\n');
      return EX_USAGE;
    case 'usage-error':
      throw new UsageError(parsed.message);
    case 'command':
      return HANDLERS[parsed.name]({
        configPath: resolveConfigPath(text(parsed.values, 'config')),
        args: parsed.args,
        values: parsed.values,
      });
  }
}

async function pauseOrResume(socket: string, cmd: 'pause' | 'resume'): Promise<number> {
  const r = await callDaemon<{ paused: string[] }>(socket, 'POST', `/${cmd}`);
  process.stdout.write(r.paused.length ? `paused: ${r.paused.join(', ')}\n` : 'running: spawning is allowed\n');
  return 0;
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
  const id = rest[0]!; // the parser checked there is exactly one (commands.ts)
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
    if (code !== 0 || process.argv.slice(2).includes('run')) process.exit(code);
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
    if (err instanceof UsageError || err instanceof LogsError || err instanceof QueueError || err instanceof TaskInputError) {
      process.stderr.write(`warden: ${err.message.trim().replace(/\s*\n\s*/g, ' ')}\n`);
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
