#!/usr/bin/env node
// warden's command line. The commands, their arguments and options are declared once, in
// commands.ts; parse.ts turns argv into a command, a help text or a usage error from that table,
// and HANDLERS below runs the command. Bad input gets one clear line and a documented exit code
// (exit-codes.ts, README.md "Command line"), never a stack trace.
import { readFileSync } from 'node:fs';
import { ConfigError, EX_CONFIG, loadConfig, resolveConfigPath, type LoadedConfig } from '../config/load.js';
import { formatSize } from '../config/units.js';
import { EX_NOPERM, isPermissionError, permissionDenied, PermissionDenied } from '../host/permission.js';
import { callDaemon, DaemonAlreadyRunning, DaemonError, DaemonUnreachable } from '../control/client.js';
import { StateLocked } from '../state/lock.js';
import { StateError } from '../state/store.js';
import { QueueError, QueueWriteError } from '../tasks/local-queue.js';
import { parsePriority, TaskInputError } from '../tasks/task-input.js';
import type { CommandName } from './commands.js';
import { bashCompletion } from './completion.js';
import { EX_IOERR, EX_LOCKED, EX_NOT_RUNNING, EX_USAGE } from './exit-codes.js';
import { LogsError, showLogs } from './logs.js';
import { parseCommandLine, type OptionValues } from './parse.js';
import { reloadCommand } from './reload.js';
import { status } from './status.js';
import { runTaskCommand, taskAdd, taskShow, tasksCommand } from './task-commands.js';
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
  status: ({ configPath, values }) => status(socketFor(configPath), flag(values, 'json'), () => loadConfig(configPath), version()),
  top: async ({ configPath }) => (await import('./top.js')).top(socketFor(configPath)),
  tasks: ({ configPath, values }) =>
    tasksCommand(socketFor(configPath), () => loadConfig(configPath), {
      json: flag(values, 'json'),
      state: text(values, 'state'),
      failed: flag(values, 'failed'),
    }),
  'task add': ({ configPath, args, values }) =>
    taskAdd(loadConfig(configPath), args[0]!, {
      prompt: text(values, 'prompt'),
      'prompt-file': text(values, 'prompt-file'),
      priority: text(values, 'priority'),
    }),
  'task retry': ({ configPath, args }) => runTaskCommand(loadConfig(configPath), args[0]!, { command: 'retry' }),
  'task cancel': ({ configPath, args }) => runTaskCommand(loadConfig(configPath), args[0]!, { command: 'cancel' }),
  'task remove': ({ configPath, args }) => runTaskCommand(loadConfig(configPath), args[0]!, { command: 'remove' }),
  'task priority': ({ configPath, args }) =>
    runTaskCommand(loadConfig(configPath), args[0]!, { command: 'priority', priority: parsePriority(args[1]!) }),
  'task show': ({ configPath, args, values }) => taskShow(loadConfig(configPath), args[0]!, flag(values, 'json')),
  logs: ({ configPath, args, values }) => showLogs(loadConfig(configPath).config.supervisor.state_dir, args[0]!, flag(values, 'follow')),
  pause: ({ configPath, values }) => pauseOrResume(configPath, 'pause', text(values, 'node')),
  resume: ({ configPath, values }) => pauseOrResume(configPath, 'resume', text(values, 'node')),
  reload: ({ configPath }) => reloadCommand(socketFor(configPath, false)), // the daemon reports the file's problems
  'config check': ({ configPath, values }) => configCheck(configPath, text(values, 'sysroot')),
  'config suggest': async ({ values }) =>
    (await import('../config/suggest.js')).suggestCommand({ template: text(values, 'template'), sysroot: text(values, 'sysroot') }),
  'alert test': ({ configPath }) => alertTest(loadConfig(configPath)),
  doctor: async ({ configPath, values }) =>
    (await import('../doctor/cli.js')).doctorCommand(configPath, version(), {
      json: flag(values, 'json'),
      sendTest: flag(values, 'send-test'),
      readiness: flag(values, 'readiness'),
      sysroot: text(values, 'sysroot'),
    }),
  'fleet status': async ({ configPath, values }) =>
    (await import('./fleet.js')).fleetStatusCommand(loadConfig(configPath), flag(values, 'json')),
  'completion bash': () => {
    process.stdout.write(bashCompletion());
    return 0;
  },
  version: () => {
    process.stdout.write(`warden ${version()}\n`);
    return 0;
  },
};

/**
 * A reader that stopped reading (`warden logs t | head`) is not an error: stop quietly, exit 0,
 * where Node would print a stack trace for the EPIPE. Not for `warden run`: the daemon's output is
 * the journal, and a lost reader must not stop the daemon.
 */
function quietOnClosedStdout(): void {
  process.stdout.on('error', (err: NodeJS.ErrnoException) => {
    if (err.code === 'EPIPE') process.exit(0);
    process.stderr.write(`warden: cannot write to standard output: ${err.message}\n`);
    process.exit(1);
  });
}

async function main(argv: string[]): Promise<number> {
  const parsed = parseCommandLine(argv);
  if (parsed.kind !== 'command' || parsed.name !== 'run') quietOnClosedStdout();
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

async function pauseOrResume(configPath: string, cmd: 'pause' | 'resume', node: string | undefined): Promise<number> {
  if (node !== undefined && !/^[A-Za-z0-9][A-Za-z0-9._-]{0,62}$/.test(node)) throw new UsageError(`--node: "${node}" is not a node name`);
  const path = node === undefined ? `/${cmd}` : `/${cmd}?node=${node}`;
  // a refusal (an unknown node, --node without [fleet]) is the user's input: exit 2
  const r = await callDaemon<{ paused: string[] }>(socketFor(configPath), 'POST', path).catch((err: unknown) => {
    throw err instanceof DaemonError && err.status < 500 ? new UsageError(err.message) : err;
  });
  const here = r.paused.length ? `paused: ${r.paused.join(', ')}` : 'running: spawning is allowed';
  process.stdout.write(node === undefined ? `${here}\n` : `node ${node}: ${cmd} requested (this node: ${here})\n`);
  return 0;
}

async function configCheck(path: string, sysroot: string | undefined): Promise<number> {
  const { config, sha256: hash } = loadConfig(path);
  // valid, but can it ever admit a worker on this host? (src/admission/fit.ts)
  const { assertFitsHost, readMemTotal } = await import('../config/suggest.js');
  assertFitsHost(path, config, readMemTotal(sysroot));
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
function socketFor(configPath: string, warn = true): string {
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
    if (warn)
      process.stderr.write(`warden: warning: ${configPath} has problems (a running daemon keeps its loaded config):\n${err.message}\n`);
    return socket ?? `${stateDir!.replace(/\/+$/, '')}/warden.sock`;
  }
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
    const path = (err as NodeJS.ErrnoException | null)?.path;
    if (err instanceof PermissionDenied || (isPermissionError(err) && path)) {
      // a file error not foreseen elsewhere is still a permission problem, with its path and fix
      const line =
        err instanceof PermissionDenied ? err.message : permissionDenied(path!, (err as NodeJS.ErrnoException).syscall ?? 'use').message;
      process.stderr.write(`warden: ${line}\n`);
      process.exit(EX_NOPERM);
    }
    if (err instanceof DaemonUnreachable) {
      process.stderr.write(`warden: ${err.message}\n`);
      process.exit(EX_NOT_RUNNING);
    }
    if (err instanceof UsageError || err instanceof LogsError || err instanceof QueueError || err instanceof TaskInputError) {
      process.stderr.write(`warden: ${err.message.trim().replace(/\s*\n\s*/g, ' ')}\n`);
      process.exit(EX_USAGE);
    }
    process.stderr.write(unexpectedErrorLine(err) + '\n');
    process.exit(1);
  },
);

/**
 * Anything not foreseen above still reaches the user as one line (its message names the path and
 * the system call for a file error), and never a stack trace.
 */
function unexpectedErrorLine(err: unknown): string {
  const message = err instanceof Error ? err.message : String(err);
  return `warden: ${message.trim().replace(/\s*\n\s*/g, ' ')}`;
}
