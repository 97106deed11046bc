// Where tasks come from: the local queue (`warden task add` writes a request file; inotify wakes
// the loop) and, when configured, a GitHub label polled on a schedule. Intake turns requests into
// new tasks and cancellations; it never spawns. Per-task commands queued while the daemon was down
// (`warden task retry ...`) are applied from the same queue, in the order they were given.
import { watch, type FSWatcher } from 'node:fs';
import { join } from 'node:path';
import type { Config } from '../config/schema.js';
import type { Logger } from '../log/logger.js';
import type { CoreEvent } from '../events/catalog.js';
import { addTasks, type NewTask } from '../policy/task-changes.js';
import { readOrNull } from '../host/read-file.js';
import { ensureDirsUnder } from '../host/safe-open.js';
import { writeFileAtomic } from '../host/write-file-atomic.js';
import type { WardenState } from '../state/types.js';
import type { GhOptions, GhResult } from '../tasks/github.js';
import { renderPrompt, type GithubIssue } from '../tasks/github-issue.js';
import { GithubPoller, type GithubSettings, type IssueSource } from '../tasks/github-source.js';
import type { TaskCommandAnswer } from '../control/task-routes.js';
import type { TaskCommandRequest } from '../policy/task-commands.js';
import { commandRequest, promptDir, queueDir, readQueue, rejectQueued, removeQueued, type QueuedCommand } from '../tasks/local-queue.js';
import { reconcileGithub } from '../tasks/reconcile.js';
import type { StateKeeper } from './state-keeper.js';

export interface IntakeDeps {
  log: Logger;
  now: () => number;
  config: () => Config;
  gh: GhOptions;
  state: () => WardenState;
  /** Saves; true when the disk has the state. */
  commit: (next: WardenState, events: CoreEvent[]) => boolean;
  /** The state's write fault (a full disk): `unsaved` while memory is ahead of the state file. */
  keeper: Pick<StateKeeper, 'writeFault' | 'noteWriteFailure'>;
  /** Cancels a task that is not running. */
  cancel: (taskId: string, reason: string) => void;
  /** Stops the running worker of a task whose issue lost the label. */
  stopWorker: (taskId: string) => void;
  warnOnce: (key: string, msg: string) => void;
  requestTick: () => void;
  /** Applies a queued per-task command: at once, or (a cancel that stops a worker) when the promise settles. */
  commands: { submit(id: string, req: TaskCommandRequest): TaskCommandAnswer | Promise<TaskCommandAnswer> };
  /** [fleet]: the fleet's one poller (src/fleet/poller.ts) instead of this node's own; absent or null: its own. */
  issueSource?: (settings: GithubSettings, onResult: (r: GhResult<GithubIssue[]>) => void) => IssueSource | null;
}

export class Intake {
  private watcher: FSWatcher | null = null;
  private poller: IssueSource | null = null;
  private ghCause: string | null = null;
  private stopped = false;
  /** A queued command still under way (a cancel stopping its worker): the rest of the queue waits for it. */
  private commandUnderWay: Promise<void> | null = null;
  /** Queued commands applied in memory whose state the disk has not taken yet: removed once it has. */
  private readonly appliedUnsaved = new Set<string>();

  constructor(private readonly deps: IntakeDeps) {}

  private get stateDir(): string {
    return this.deps.config().supervisor.state_dir;
  }

  start(): void {
    const { log } = this.deps;
    // a queued task wakes the loop at once (inotify), rather than waiting for the next poll
    ensureDirsUnder(this.stateDir, ['queue'], 0o750);
    this.watcher = watch(queueDir(this.stateDir), () => this.deps.requestTick());
    this.watcher.on('error', (err) =>
      log.warn('cannot watch the queue directory; tasks are picked up on the next poll', { error: err.message }),
    );
    const gh = this.deps.config().source.github;
    if (gh) {
      const onResult = (r: GhResult<GithubIssue[]>) => this.onGithubPoll(r);
      this.poller = this.deps.issueSource?.(gh, onResult) ?? new GithubPoller(gh, this.deps.gh, onResult, log);
      this.poller.start();
    }
  }

  stop(): void {
    this.stopped = true;
    this.poller?.stop();
    this.watcher?.close();
  }

  /**
   * Moves queued requests into the state, in the order they were queued; a request that cannot be
   * a new task is set aside, with a reason. A request file is removed only once its task is saved
   * (never while the state file is behind memory), and one whose prompt cannot be written (a full
   * disk) stays queued for later. A queued command is applied as if given over the socket; one the
   * table refuses now is set aside with its refusal.
   */
  ingestQueue(): void {
    if (this.commandUnderWay) return; // the queue is applied in order: what follows waits for it
    const saved = !this.deps.keeper.writeFault?.unsaved;
    if (saved) for (const f of this.appliedUnsaved) removeQueued(f);
    if (saved) this.appliedUnsaved.clear();
    const entries = readQueue(this.stateDir).filter((e) => !this.appliedUnsaved.has(e.file));
    if (entries.length === 0) return;
    const { log } = this.deps;
    let accepted: string[] = [];
    let fresh: NewTask[] = [];
    // one copy of the task map for a run of adds (adding one by one is quadratic); a command sees them
    const flush = (): boolean => {
      if (fresh.length && !this.deps.commit(addTasks(this.deps.state(), fresh).state, [])) return false;
      for (const f of accepted) removeQueued(f);
      [accepted, fresh] = [[], []];
      return true;
    };
    for (const e of entries) {
      if (e.command) {
        if (!saved || !flush()) return; // a command waits until the disk holds what came before it
        if (!this.applyCommand(e.file, e.command)) return;
        continue;
      }
      if (!e.request) {
        this.setAside(e.file, 'rejected an unreadable task request', { file: e.file, error: e.error ?? '' });
        continue;
      }
      const req = e.request;
      const existing = this.deps.state().tasks[req.id];
      if (existing) {
        // [fleet]: the fleet's task of that ID, with this very prompt (queued on several nodes), is this one
        const same = existing.fleetRev !== undefined && readOrNull(existing.promptFile, 'utf8') === req.prompt;
        if (existing.createdAt !== req.addedAt && !same)
          this.setAside(e.file, 'rejected a task request: a task with this ID already exists', { task: req.id, state: existing.state });
        else if (saved) removeQueued(e.file); // already ingested before a restart, or before a save failed
        continue;
      }
      const promptFile = this.writePrompt(req.id, req.prompt);
      if (promptFile === null) continue;
      fresh.push({ id: req.id, promptFile, priority: req.priority, createdAt: req.addedAt });
      accepted.push(e.file);
      log.info('task added', { task: req.id, priority: req.priority });
    }
    flush();
  }

  /** One queued command; false when it is still under way (the rest of the queue waits). */
  private applyCommand(file: string, cmd: QueuedCommand): boolean {
    const done = (a: TaskCommandAnswer) => {
      if (!a.ok) this.setAside(file, 'rejected a queued task command', { task: cmd.id, command: cmd.command, refusal: a.line });
      else if (a.saved) removeQueued(file);
      else this.appliedUnsaved.add(file);
    };
    const r = this.deps.commands.submit(cmd.id, commandRequest(cmd));
    if (!(r instanceof Promise)) {
      done(r);
      return true;
    }
    let failed = false;
    this.commandUnderWay = r
      .then(done, (err: Error) => {
        failed = true; // tried again at the next tick, not at once ([fleet]: etcd may be away for a while)
        this.deps.log.error('a queued task command failed; it stays queued', { file, error: err.message });
      })
      .finally(() => {
        this.commandUnderWay = null;
        if (!failed) this.deps.requestTick();
      });
    return false;
  }

  /** Moves a request warden cannot accept to queue/rejected/, with an error line. */
  private setAside(file: string, msg: string, fields: Record<string, string>): void {
    try {
      this.deps.log.error(msg, { ...fields, moved_to: rejectQueued(this.stateDir, file) });
    } catch (err) {
      this.deps.keeper.noteWriteFailure(`cannot set aside the task request ${file}`, (err as Error).message);
    }
  }

  /** One GitHub poll: new labelled issues become tasks, unlabelled ones are cancelled. */
  private onGithubPoll(r: GhResult<GithubIssue[]>): void {
    const gh = this.deps.config().source.github;
    const { log } = this.deps;
    if (!gh || this.stopped) return;
    if (!r.ok) {
      // once per distinct cause: a network outage must not flood the journal every poll
      if (this.ghCause !== r.cause)
        log.error('GitHub poll failed; tasks are unchanged and the next poll retries', { cause: r.cause, error: r.message });
      this.ghCause = r.cause;
      return;
    }
    if (this.ghCause !== null) log.info('GitHub poll works again', { after: this.ghCause });
    this.ghCause = null;
    const plan = reconcileGithub(this.deps.state(), r.value, {
      repo: gh.repo,
      priorityLabels: gh.priority_labels,
      cancelRunning: gh.cancel_running,
    });
    for (const n of plan.refused) this.deps.warnOnce(`refused:${n}`, `GitHub issue ${n} does not make a valid task ID; ignored`);
    const now = this.deps.now();
    const fresh: NewTask[] = plan.add.flatMap((t) => {
      const promptFile = this.writePrompt(t.id, renderPrompt(gh.prompt_template, gh.repo, t.issue, t.id));
      if (promptFile === null) return []; // the next poll adds it
      const issue = {
        repo: gh.repo,
        number: t.issue.number,
        url: t.issue.url ?? `https://github.com/${gh.repo}/issues/${t.issue.number}`,
        title: t.issue.title,
      };
      log.info('task added from GitHub', { task: t.id, priority: t.priority, issue: issue.url });
      return [{ id: t.id, promptFile, priority: t.priority, createdAt: now, issue }];
    });
    if (fresh.length) this.deps.commit(addTasks(this.deps.state(), fresh).state, []);
    for (const id of plan.cancel) this.deps.cancel(id, 'the issue no longer has the label');
    for (const id of plan.stop) this.deps.stopWorker(id);
    if (fresh.length || plan.cancel.length) this.deps.requestTick();
  }

  /** A task's prompt, written once where the worker reads it (stdin and {prompt_file}), never through a symlinked
   * directory; null when it could not be written (the request stays queued). [fleet]: a task added elsewhere too. */
  writePrompt(taskId: string, text: string): string | null {
    try {
      ensureDirsUnder(this.stateDir, ['prompts'], 0o755);
    } catch (err) {
      // e.g. state_dir/prompts is a symlink: the request stays queued until the owner fixes it
      this.deps.warnOnce(`prompt:${taskId}`, `cannot write the prompt of task ${taskId}; it stays queued: ${(err as Error).message}`);
      return null;
    }
    const promptFile = join(promptDir(this.stateDir), `${taskId}.prompt`);
    try {
      writeFileAtomic(promptFile, text);
      return promptFile;
    } catch (err) {
      this.deps.keeper.noteWriteFailure(`cannot write the prompt of task ${taskId}`, (err as Error).message);
      return null;
    }
  }
}
