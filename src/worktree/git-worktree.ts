// One git worktree per task: `<base_dir>/<task-id>` on branch `warden/<task-id>`, made from the
// local clone `repo`. Reused on retry, so a worker's partial work survives into its next attempt.
// git runs through execa with an argv, never a shell; task IDs are checked before they get here.
import { existsSync } from 'node:fs';
import { join } from 'node:path';
import type { Config } from '../config/schema.js';
import { loadExeca } from '../host/execa.js';

/** [worktree] repo, base_dir and base (the commit-ish new branches start from, e.g. "HEAD"). */
export type WorktreeSettings = Pick<NonNullable<Config['worktree']>, 'repo' | 'base_dir' | 'base'>;

export function worktreePath(s: Pick<WorktreeSettings, 'base_dir'>, taskId: string): string {
  return join(s.base_dir, taskId);
}

export function branchName(taskId: string): string {
  return `warden/${taskId}`;
}

export class WorktreeError extends Error {}

async function git(args: string[], cwd: string): Promise<string> {
  const execa = await loadExeca();
  const r = await execa('git', args, { cwd, reject: false, stdin: 'ignore', timeout: 120_000, env: { GIT_TERMINAL_PROMPT: '0' } });
  if (r.failed)
    throw new WorktreeError(
      `git ${args.join(' ')}: ${String(r.stderr || r.shortMessage)
        .trim()
        .split('\n')
        .slice(-2)
        .join(' ')}`,
    );
  return String(r.stdout);
}

/** Registered worktrees of the repository, by absolute path. */
export async function listWorktrees(s: WorktreeSettings): Promise<Set<string>> {
  const out = await git(['worktree', 'list', '--porcelain'], s.repo);
  return new Set(
    out
      .split('\n')
      .filter((l) => l.startsWith('worktree '))
      .map((l) => l.slice('worktree '.length)),
  );
}

/** Creates the task's worktree, or reuses it when it already exists. Returns its path. */
export async function ensureWorktree(s: WorktreeSettings, taskId: string): Promise<string> {
  const path = worktreePath(s, taskId);
  if (existsSync(path) && (await listWorktrees(s)).has(path)) return path;
  if (existsSync(path)) throw new WorktreeError(`${path} exists but is not a worktree of ${s.repo}; move it aside`);
  const branch = branchName(taskId);
  const execa = await loadExeca();
  const hasBranch =
    (await execa('git', ['rev-parse', '--verify', '--quiet', `refs/heads/${branch}`], { cwd: s.repo, reject: false })).exitCode === 0;
  await git(hasBranch ? ['worktree', 'add', path, branch] : ['worktree', 'add', '-b', branch, path, s.base], s.repo);
  return path;
}

/** True when the worktree has uncommitted changes (tracked or untracked). */
export async function isDirty(path: string): Promise<boolean> {
  const out = await git(['status', '--porcelain', '--untracked-files=normal'], path);
  return out.trim().length > 0;
}

/** Removes a task's worktree (the branch stays: it may carry a pull request). */
export async function removeWorktree(s: WorktreeSettings, taskId: string, opts: { force: boolean }): Promise<void> {
  const path = worktreePath(s, taskId);
  if (!existsSync(path)) return;
  await git(['worktree', 'remove', ...(opts.force ? ['--force'] : []), path], s.repo);
}

export async function pruneWorktrees(s: WorktreeSettings): Promise<void> {
  await git(['worktree', 'prune'], s.repo);
}
