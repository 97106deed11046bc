// Where a task's worker runs, and what it left behind. Without a `[worktree]` table each task gets
// a plain directory under state_dir; with one, a git worktree on branch warden/<task-id>. After a
// worker exits on its own, `completion` reads how it ended: BLOCKED.md (any task), or for GitHub
// tasks whether a pull request from its branch exists.
import { mkdirSync, readdirSync, rmSync } from 'node:fs';
import { join } from 'node:path';
import { setTimeout as sleep } from 'node:timers/promises';
import type { Config } from '../config/schema.js';
import { checkRealDir, ensureDirsUnder, readRegularText, UnsafeFileError } from '../host/safe-open.js';
import type { Logger } from '../log/logger.js';
import type { Completion } from '../policy/classify.js';
import type { Task, WardenState } from '../state/types.js';
import { findPullRequest, type GhOptions } from '../tasks/github.js';
import { branchName, ensureWorktree, isDirty, listWorktrees, pruneWorktrees, removeWorktree, worktreePath } from './git-worktree.js';
import { worktreesToRemove } from './retention.js';

/** The reason in BLOCKED.md is recorded in state and status: keep it to one screenful. */
export const BLOCKED_REASON_MAX = 2000;
/** PR lookups retried after these delays before the attempt is left unclassified. */
const PR_CHECK_RETRIES_MS = [1000, 5000, 15000];

export interface Workspace {
  /** The directory the worker runs in; created or reused. Throws with a reason on failure. */
  prepare(taskId: string): Promise<string>;
  pathOf(taskId: string): string;
  completion(task: Task, exitCode: number | null): Promise<Completion | null>;
  /** After a task reached a terminal state: remove what is no longer needed. */
  release(task: Task): Promise<void>;
  /** The filesystem where worktrees live and the free space it must keep; null when not checked. */
  diskTarget(): { path: string; min: number } | null;
  /** The scheduled clean-up: retention of failed tasks' worktrees, strays, `git worktree prune`. */
  prune(state: WardenState, now: number): Promise<void>;
}

/**
 * The worker owns its worktree: a BLOCKED.md it made a symlink (to /etc/shadow, say) or a FIFO is
 * not read (warden runs as root, and the reason ends up in status), but still counts as blocked.
 */
function readBlocked(dir: string): string | null {
  try {
    const text = readRegularText(join(dir, 'BLOCKED.md')).trim();
    return (text || 'the worker wrote an empty BLOCKED.md').slice(0, BLOCKED_REASON_MAX);
  } catch (err) {
    if (err instanceof UnsafeFileError) return `BLOCKED.md was not read: ${err.message}`;
    return null;
  }
}

async function prCompletion(task: Task, gh: GhOptions, log: Logger): Promise<Completion> {
  const repo = task.issue?.repo;
  if (!repo) return { kind: 'no_pr' };
  let last = '';
  for (let i = 0; i <= PR_CHECK_RETRIES_MS.length; i++) {
    const r = await findPullRequest(repo, branchName(task.id), gh);
    if (r.ok) return r.value ? { kind: 'pr', url: r.value.url } : { kind: 'no_pr' };
    last = `${r.cause}: ${r.message}`;
    const delay = PR_CHECK_RETRIES_MS[i];
    if (delay === undefined) break;
    log.warn('could not check for a pull request; retrying', { task: task.id, cause: r.cause, retry_in_ms: delay });
    await sleep(delay);
  }
  return { kind: 'unchecked', reason: `could not check for a pull request (${last})` };
}

/** BLOCKED.md in the worker's directory first (any task); then, for a GitHub task that exited 0, its PR. */
async function completionOf(dir: string, task: Task, exitCode: number | null, gh: GhOptions, log: Logger): Promise<Completion | null> {
  const blocked = readBlocked(dir);
  if (blocked !== null) return { kind: 'blocked', reason: blocked };
  if (exitCode === 0 && task.source === 'github') return prCompletion(task, gh, log);
  return null;
}

export class PlainWorkspace implements Workspace {
  constructor(
    private readonly stateDir: string,
    private readonly gh: GhOptions,
    private readonly log: Logger,
  ) {}

  pathOf(taskId: string): string {
    return join(this.stateDir, 'worktrees', taskId);
  }

  async prepare(taskId: string): Promise<string> {
    // made level by level: a symlink planted as state_dir/worktrees or worktrees/<task> is refused
    return ensureDirsUnder(this.stateDir, ['worktrees', taskId], 0o755);
  }

  completion(task: Task, exitCode: number | null): Promise<Completion | null> {
    return completionOf(this.pathOf(task.id), task, exitCode, this.gh, this.log);
  }

  async release(task: Task): Promise<void> {
    if (task.state === 'succeeded' || task.state === 'cancelled') rmSync(this.pathOf(task.id), { recursive: true, force: true });
  }

  diskTarget(): null {
    return null;
  }

  async prune(): Promise<void> {}
}

export class GitWorkspace implements Workspace {
  constructor(
    private readonly s: NonNullable<Config['worktree']>,
    private readonly gh: GhOptions,
    private readonly log: Logger,
  ) {}

  pathOf(taskId: string): string {
    return worktreePath(this.s, taskId);
  }

  async prepare(taskId: string): Promise<string> {
    mkdirSync(this.s.base_dir, { recursive: true });
    const dir = await ensureWorktree(this.s, taskId);
    checkRealDir(dir); // a symlink in base_dir is never handed to a worker (or chowned to it)
    return dir;
  }

  completion(task: Task, exitCode: number | null): Promise<Completion | null> {
    return completionOf(this.pathOf(task.id), task, exitCode, this.gh, this.log);
  }

  async release(task: Task): Promise<void> {
    // the branch stays (it carries the pull request); only the checkout goes
    if (task.state === 'succeeded' || task.state === 'cancelled') await removeWorktree(this.s, task.id, { force: true });
  }

  private baseDirMade = false;

  diskTarget(): { path: string; min: number } {
    // the base directory must exist to be statfs'd; made once, not on every tick
    if (!this.baseDirMade) mkdirSync(this.s.base_dir, { recursive: true });
    this.baseDirMade = true;
    return { path: this.s.base_dir, min: this.s.min_free_disk };
  }

  async prune(state: WardenState, now: number): Promise<void> {
    let names: string[];
    try {
      names = readdirSync(this.s.base_dir);
    } catch {
      return;
    }
    const owners = names.flatMap((id) => {
      const t = state.tasks[id];
      return t ? [{ taskId: id, state: t.state, since: t.updatedAt }] : [];
    });
    for (const id of worktreesToRemove(owners, now, { keepFailed: this.s.keep_failed, keepFailedFor: this.s.keep_failed_for })) {
      try {
        await removeWorktree(this.s, id, { force: true });
        this.log.info('pruned worktree', { task: id, state: state.tasks[id]?.state });
      } catch (err) {
        this.log.warn('could not prune worktree', { task: id, error: (err as Error).message });
      }
    }
    // directories no task owns: removed only when git says they are clean, else reported
    const registered = await listWorktrees(this.s).catch(() => new Set<string>());
    for (const name of names) {
      if (state.tasks[name]) continue;
      const path = join(this.s.base_dir, name);
      try {
        if (registered.has(path) && !(await isDirty(path))) {
          await removeWorktree(this.s, name, { force: false });
          this.log.info('pruned a clean worktree that no task owns', { path });
        } else {
          this.log.warn(
            'a directory in worktree.base_dir belongs to no task and was kept (uncommitted changes, or not a worktree): inspect it',
            { path },
          );
        }
      } catch (err) {
        this.log.warn('a directory in worktree.base_dir belongs to no task and was kept', { path, error: (err as Error).message });
      }
    }
    await pruneWorktrees(this.s).catch((err: Error) => this.log.warn('git worktree prune failed', { error: err.message }));
  }
}
