// Worktrees against a real git repository in a temporary directory.
import assert from 'node:assert/strict';
import { execFileSync } from 'node:child_process';
import { existsSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, test } from 'node:test';
import { ensureWorktree, isDirty, listWorktrees, removeWorktree, worktreePath } from '../../../src/worktree/git-worktree.ts';
import { tempRoot } from '../../helpers/tmp.ts';

const tmp = tempRoot('worktree-test');

function repo() {
  const root = tmp.fresh('wt');
  const r = join(root, 'repo');
  const git = (...a: string[]) => execFileSync('git', a, { cwd: r, stdio: 'pipe' });
  execFileSync('git', ['init', '-q', '-b', 'main', r]);
  writeFileSync(join(r, 'README'), 'hi\n');
  git('add', 'README');
  git('-c', 'user.name=t', '-c', 'user.email=t@t', 'commit', '-q', '-m', 'init');
  return { repo: r, base_dir: join(root, 'trees'), base: 'HEAD' };
}

describe('git worktrees', () => {
  test('a task gets <base_dir>/<id> on branch warden/<id>, and a retry reuses it', async () => {
    const s = repo();
    const p = await ensureWorktree(s, 'gh-1');
    assert.equal(p, worktreePath(s, 'gh-1'));
    assert.equal(execFileSync('git', ['branch', '--show-current'], { cwd: p, encoding: 'utf8' }).trim(), 'warden/gh-1');
    writeFileSync(join(p, 'partial'), 'work in progress');
    assert.equal(await ensureWorktree(s, 'gh-1'), p);
    assert.ok(existsSync(join(p, 'partial')), 'the retry sees the earlier partial work');
  });

  test('after removal the worktree is re-created from the existing branch', async () => {
    const s = repo();
    await ensureWorktree(s, 'gh-2');
    await removeWorktree(s, 'gh-2', { force: true });
    assert.equal(existsSync(worktreePath(s, 'gh-2')), false);
    await ensureWorktree(s, 'gh-2');
    assert.ok((await listWorktrees(s)).has(worktreePath(s, 'gh-2')));
  });

  test('a non-forced removal refuses a worktree with uncommitted changes', async () => {
    const s = repo();
    const p = await ensureWorktree(s, 'gh-3');
    writeFileSync(join(p, 'README'), 'edited\n');
    assert.equal(await isDirty(p), true);
    await assert.rejects(removeWorktree(s, 'gh-3', { force: false }));
    assert.ok(existsSync(p));
  });

  test("a bad repository is a WorktreeError with git's reason", async () => {
    const s = { repo: tmp.fresh('notrepo'), base_dir: '/nonexistent', base: 'HEAD' };
    await assert.rejects(ensureWorktree(s, 'gh-4'), /not a git repository/);
  });
});
