// The daemon's side of the owner's per-task commands: it asks the table in
// src/policy/task-commands.ts, saves the change like any other (commit, then effects), and for a
// cancel of a running task stops the worker first through the workers' own stop path (TERM, then
// KILL after stop_grace, every process of the attempt) before the task becomes `cancelled`.
// Commands come over the control socket, or from the queue when they were given while the
// daemon was down (src/supervisor/intake.ts applies those in order).
import { rmSync } from 'node:fs';
import { dirname, join } from 'node:path';
import type { Config } from '../config/schema.js';
import type { TaskCommandAnswer, TaskCommandHandler } from '../control/task-routes.js';
import type { CoreEvent } from '../events/catalog.js';
import type { Claims } from '../fleet/claims.js';
import type { Logger } from '../log/logger.js';
import { decideTaskCommand, OWNER_CANCEL_REASON, type TaskCommandRequest } from '../policy/task-commands.js';
import type { Task, WardenState } from '../state/types.js';
import { promptDir } from '../tasks/local-queue.js';
import type { Workers } from './workers.js';

export interface TaskCommandsDeps {
  log: Logger;
  now: () => number;
  config: () => Config;
  state: () => WardenState;
  /** Saves; true when the disk has the state. */
  commit: (next: WardenState, events: CoreEvent[]) => boolean;
  /** Stops the task's live worker as a cancel; resolves once its exit is recorded; false if none is live. */
  workers: Pick<Workers, 'stopForCancel'>;
  /** A task that became terminal gives back its workspace. */
  released: (taskId: string) => void;
  requestTick: () => void;
  /** [fleet]: a command changes the task's shared record first, then applies here (src/fleet/claims.ts). */
  fleet: () => Pick<Claims, 'taskCommand'>;
}

type Answer = TaskCommandAnswer | Promise<TaskCommandAnswer>;

export class TaskCommands implements TaskCommandHandler {
  constructor(private readonly deps: TaskCommandsDeps) {}

  show(id: string): Task | null {
    return this.deps.state().tasks[id] ?? null;
  }

  run(id: string, req: TaskCommandRequest): Promise<TaskCommandAnswer> {
    return Promise.resolve(this.submit(id, req));
  }

  /** A command from the socket or the queue: in a fleet, for every node (src/fleet/shared-tasks.ts). */
  submit(id: string, req: TaskCommandRequest): Answer {
    return this.deps.fleet().taskCommand(id, req, () => this.start(id, req));
  }

  /**
   * Applies a command. Synchronous, so that a queue applied in order sees each change before the
   * next, except for a cancel of a running task: that waits for the worker to stop (a promise).
   */
  start(id: string, req: TaskCommandRequest): TaskCommandAnswer | Promise<TaskCommandAnswer> {
    const d = decideTaskCommand(this.deps.state(), id, req, this.deps.now());
    if (d.kind === 'refused') return { ok: false, line: d.line, saved: true };
    if (d.kind === 'stop_first') return this.cancelRunning(id, d.task);
    const saved = d.state === this.deps.state() || this.deps.commit(d.state, d.events);
    this.deps.log.info(`task command: ${d.line}`, { task: id, command: req.command, saved: saved || undefined });
    if (saved && req.command === 'cancel') this.deps.released(id);
    if (saved && d.removed) this.removePrompt(d.removed);
    this.deps.requestTick();
    return { ok: true, line: saved ? d.line : `${d.line} (not on disk yet: the state directory cannot be written; warden retries)`, saved };
  }

  private async cancelRunning(id: string, task: Task): Promise<TaskCommandAnswer> {
    const pid = task.current?.pid ?? null;
    this.deps.log.info('task command: cancelling a running task; stopping its worker', { task: id, pid: pid ?? undefined });
    const stopped = await this.deps.workers.stopForCancel(id, OWNER_CANCEL_REASON);
    const now = this.deps.state().tasks[id];
    if (stopped && now?.state === 'cancelled')
      return { ok: true, line: `cancelled ${id}: its worker${pid === null ? '' : ` (pid ${pid})`} was stopped`, saved: true };
    // it ended another way meanwhile (or a stop was already under way): decide on what it is now
    if (now?.state === 'running')
      return { ok: false, line: `cannot cancel running task ${id}: its worker is still starting; try again in a moment`, saved: true };
    return this.start(id, { command: 'cancel' });
  }

  /** The prompt of a removed task, if warden wrote it (a later `task add` of the ID writes its own). */
  private removePrompt(task: Task): void {
    if (dirname(task.promptFile) !== promptDir(this.deps.config().supervisor.state_dir)) return;
    try {
      rmSync(join(promptDir(this.deps.config().supervisor.state_dir), `${task.id}.prompt`), { force: true });
    } catch (err) {
      this.deps.log.warn('could not remove the prompt of a removed task', { task: task.id, error: (err as Error).message });
    }
  }
}
