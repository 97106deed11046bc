// `warden task add|retry|cancel|remove|priority|show` and `warden tasks`. Only the daemon writes
// the state, so every change goes through it: the CLI asks the daemon over the control socket and
// prints its verdict (one line; a refusal exits 2). When no daemon is running, a command is checked
// against the state file read-only (with the commands already queued applied in order, by the same
// table the daemon uses: src/policy/task-commands.ts), then queued in <state_dir>/queue/ for the
// daemon's next start, and the one line says so.
import type { LoadedConfig } from '../config/load.js';
import { callDaemon, DaemonError, DaemonNotRunning } from '../control/client.js';
import type { TaskCommandAnswer } from '../control/task-routes.js';
import { KILL_WAIT_MS } from '../executors/terminate.js';
import { checkTaskCommand, decideTaskCommand, TASK_COMMAND_RULES, type TaskCommandRequest } from '../policy/task-commands.js';
import { addTask } from '../policy/task-changes.js';
import { withChangedTasks } from '../policy/task-index.js';
import { loadState, StateError } from '../state/store.js';
import { DEFAULT_PRIORITY, type Task, type WardenState } from '../state/types.js';
import { commandRequest, enqueueCommand, enqueueTask, readQueue } from '../tasks/local-queue.js';
import { checkPrompt, parsePriority, readPromptFile, TaskInputError } from '../tasks/task-input.js';
import { checkTaskId } from '../tasks/task-id.js';
import { EX_NOT_RUNNING, EX_USAGE } from './exit-codes.js';
import { daemonOrStateFile } from './offline-state.js';
import { renderTasksTable, renderTaskShow, stateFilter, taskShowJson } from './tasks-view.js';

export interface TaskOptions {
  prompt?: string;
  'prompt-file'?: string;
  priority?: string;
}

const out = (line: string) => process.stdout.write(line + '\n');
const refused = (line: string) => {
  process.stderr.write(`warden: ${line}\n`);
  return EX_USAGE;
};

/** The one ID a task command names, checked as `task add` checks it (the parser counted the arguments). */
function checkedId(id: string): string {
  const check = checkTaskId(id);
  if (!check.ok) throw new TaskInputError(check.error);
  return id;
}

/** retry, cancel, remove, priority: through the daemon, or queued for it. */
export async function runTaskCommand(loaded: LoadedConfig, taskId: string, req: TaskCommandRequest): Promise<number> {
  const id = checkedId(taskId);
  const c = loaded.config;
  const path = `/tasks/${id}/${req.command}${req.command === 'priority' ? `?value=${req.priority}` : ''}`;
  // a cancel may wait for a worker to stop: the grace, then KILL and its wait
  const timeout = req.command === 'cancel' ? c.worker.stop_grace + KILL_WAIT_MS + 15_000 : 15_000;
  try {
    out((await callDaemon<TaskCommandAnswer>(c.control.socket, 'POST', path, timeout)).line);
    return 0;
  } catch (err) {
    if (err instanceof DaemonError && err.status < 500) return refused(err.message);
    if (!(err instanceof DaemonNotRunning)) throw err;
  }
  // the daemon is down: check against the state it will start from, then queue
  const stateDir = c.supervisor.state_dir;
  const state = projectedState(loaded);
  const task = state.tasks[id];
  const check = checkTaskCommand(task, id, req.command);
  if (!check.ok) return refused(`${check.line} (daemon not running; nothing queued)`);
  const file = enqueueCommand(stateDir, { ...req, id, addedAt: Date.now() });
  out(
    `daemon not running: queued ${req.command}${req.command === 'priority' ? ` ${req.priority}` : ''} of ${task?.state} task ${id}; the daemon applies it when it starts (${file})`,
  );
  return 0;
}

/**
 * The state as the daemon will have it once it has applied the queue: the state file (read-only)
 * with each queued add and command applied in order, by the daemon's own rules. A cancel of a
 * running task counts as done (the daemon stops the worker first).
 */
function projectedState(loaded: LoadedConfig, withAdds = true): WardenState {
  const stateDir = loaded.config.supervisor.state_dir;
  let state = loadState(stateDir, loaded.config.breaker.cooldown).state;
  for (const e of readQueue(stateDir)) {
    if (e.request && withAdds) {
      const r = e.request;
      state = addTask(state, { id: r.id, promptFile: '', priority: r.priority, createdAt: r.addedAt }).state;
    } else if (e.command) {
      const cmd = e.command;
      const d = decideTaskCommand(state, cmd.id, commandRequest(cmd), cmd.addedAt);
      if (d.kind === 'changed') state = d.state;
      else if (d.kind === 'stop_first') {
        state = { ...state, tasks: withChangedTasks(state.tasks, [{ ...d.task, state: 'cancelled', current: null }]) };
      }
    }
  }
  return state;
}

/** `warden task show ID [--json]`. */
export async function taskShow(loaded: LoadedConfig, taskId: string, json: boolean): Promise<number> {
  const id = checkedId(taskId);
  const c = loaded.config;
  let r: Awaited<ReturnType<typeof daemonOrStateFile<Task>>>;
  try {
    r = await daemonOrStateFile(
      () => callDaemon<Task>(c.control.socket, 'GET', `/tasks/${id}`),
      () => loaded,
    );
  } catch (err) {
    if (err instanceof DaemonError && err.status === 404) return refused(err.message);
    throw err;
  }
  const task = r.answer ?? r.offline?.state.tasks[id];
  if (r.offline) (json ? process.stderr : process.stdout).write(r.offline.headline + '\n');
  if (!task) return refused(`no task ${id} (warden tasks lists them)`);
  const stateDir = c.supervisor.state_dir;
  process.stdout.write(json ? JSON.stringify(taskShowJson(task, stateDir), null, 2) + '\n' : renderTaskShow(task, stateDir));
  return r.offline ? EX_NOT_RUNNING : 0;
}

/** `warden tasks [--json] [--state S[,S]] [--failed]`. */
export async function tasksCommand(
  socket: string,
  loaded: () => LoadedConfig,
  o: { json: boolean; state?: string; failed: boolean },
): Promise<number> {
  const filter = stateFilter(o.state, o.failed);
  const r = await daemonOrStateFile(() => callDaemon<{ tasks: Task[] }>(socket, 'GET', '/tasks'), loaded);
  const all = r.answer?.tasks ?? Object.values(r.offline?.state.tasks ?? {});
  const shown = filter ? all.filter((t) => filter.has(t.state)) : all;
  if (r.offline) (o.json ? process.stderr : process.stdout).write(r.offline.headline + '\n');
  if (o.json) process.stdout.write(JSON.stringify(shown, null, 2) + '\n');
  else process.stdout.write(renderTasksTable(shown, process.stdout.isTTY ? process.stdout.columns : null));
  return r.offline ? EX_NOT_RUNNING : 0;
}

/** `warden task add`: queues a request file; the daemon takes it in on its next poll. */
export function taskAdd(loaded: LoadedConfig, id: string, values: TaskOptions): number {
  checkedId(id);
  if ((values.prompt === undefined) === (values['prompt-file'] === undefined))
    throw new TaskInputError('give exactly one of --prompt TEXT or --prompt-file FILE');
  // the same checks the daemon makes on the request file (src/tasks/task-input.ts, local-queue.ts)
  const prompt = checkPrompt(values['prompt-file'] !== undefined ? readPromptFile(values['prompt-file']) : (values.prompt ?? ''));
  const priority = values.priority === undefined ? DEFAULT_PRIORITY : parsePriority(values.priority);
  const stateDir = loaded.config.supervisor.state_dir;
  try {
    // as the daemon will have it, queued commands applied (a queued add of the ID: enqueueTask says so)
    const existing = projectedState(loaded, false).tasks[id];
    if (existing) {
      const retry = TASK_COMMAND_RULES.retry[existing.state].do === 'apply' ? `; to run it again: warden task retry ${id}` : '';
      return refused(`task ${id} already exists (state ${existing.state})${retry}`);
    }
  } catch (err) {
    if (!(err instanceof StateError)) throw err; // an unreadable state is the daemon's to report
  }
  const file = enqueueTask(stateDir, { id, prompt, priority, addedAt: Date.now() });
  out(`queued ${id} (priority ${priority}); the daemon picks it up within one poll (${file})`);
  return 0;
}
