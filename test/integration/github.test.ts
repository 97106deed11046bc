// GitHub issues to pull requests, end to end: a fake `gh` on PATH (a real process serving
// recorded JSON), a real git repository, the direct executor, and a fake `claude` that commits a
// change and "opens a PR" through the fake gh.
import assert from 'node:assert/strict';
import { execFileSync } from 'node:child_process';
import { existsSync, mkdirSync, readdirSync, readFileSync, renameSync, rmSync, symlinkSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { after, describe, test } from 'node:test';
import { setTimeout as sleep } from 'node:timers/promises';
import { DEFAULT_PROMPT_TEMPLATE } from '../../src/config/schema.ts';
import { renderPrompt } from '../../src/tasks/github-issue.ts';
import { FIXTURES } from '../helpers/paths.ts';
import { waitFor } from '../helpers/wait.ts';
import { cleanupAll, makeSandbox, startDaemon, task, tasks, type Sandbox } from './harness.ts';

after(cleanupAll);
const ORIGINAL_PATH = process.env.PATH;

interface GhWorld {
  sb: Sandbox;
  gh: string;
  repo: string;
  trees: string;
  prompts: string;
  setIssues(list: object[]): void;
}

const issue = (number: number, title: string, body: string, labels: string[] = ['warden']) => ({
  number,
  title,
  body,
  labels: labels.map((name) => ({ name })),
  updatedAt: '2026-11-27T00:00:00Z',
  url: `https://github.com/o/r/issues/${number}`,
});

function world(extra: Record<string, Record<string, string | number | boolean | string[]>> = {}): GhWorld {
  const sb = makeSandbox();
  const gh = join(sb.dir, 'gh');
  const bin = join(sb.dir, 'bin');
  const repo = join(sb.dir, 'repo');
  const trees = join(sb.dir, 'trees');
  const prompts = join(sb.dir, 'prompts-seen');
  for (const d of [gh, bin, prompts]) mkdirSync(d);
  symlinkSync(join(FIXTURES, 'fake-gh'), join(bin, 'gh'));
  symlinkSync(join(FIXTURES, 'fake-claude'), join(bin, 'claude'));
  execFileSync('git', ['init', '-q', '-b', 'main', repo]);
  writeFileSync(join(repo, 'README'), 'project\n');
  execFileSync('git', ['add', 'README'], { cwd: repo });
  execFileSync('git', ['-c', 'user.name=t', '-c', 'user.email=t@t', 'commit', '-q', '-m', 'init'], { cwd: repo });
  // the daemon (and so the workers) inherit this environment
  process.env.PATH = `${bin}:${ORIGINAL_PATH}`;
  process.env.FAKE_GH_DIR = gh;
  process.env.FAKE_CLAUDE_OUT = prompts;
  process.env.FAKE_CLAUDE_SECONDS = '1.5';
  const { writeConfig } = harnessWrite;
  writeConfig(sb, {
    worker: { command: ['claude', '-p'], startup_window: '1s' },
    'source.github': { repo: 'o/r', label: 'warden', poll: '1s' },
    worktree: { repo, base_dir: trees, min_free_disk: '0', prune: '1s', keep_failed: 5, keep_failed_for: '1d' },
    ...extra,
  });
  return {
    sb,
    gh,
    repo,
    trees,
    prompts,
    setIssues: (list) => {
      // atomically: a poll's fake gh must never read a half-written file (that is a malformed_json
      // failure the test did not ask for, and it made the once-per-cause count flaky under load)
      writeFileSync(join(gh, 'issues.json.tmp'), JSON.stringify(list));
      renameSync(join(gh, 'issues.json.tmp'), join(gh, 'issues.json'));
    },
  };
}

// writeConfig lives in the harness; imported lazily to keep the import list above readable
const harnessWrite = await import('./harness.ts');

describe('GitHub issues to pull requests', () => {
  test('a labelled issue becomes a task, the worker opens a PR: succeeded with the PR URL, and the worktree is removed', async () => {
    const w = world();
    w.setIssues([issue(1, 'Fix the thing', 'Please fix it. mode=pr')]);
    const d = await startDaemon(w.sb);
    const t = await waitFor(
      'gh-1 succeeded',
      async () => ((await task(w.sb, 'gh-1'))?.state === 'succeeded' ? task(w.sb, 'gh-1') : null),
      20_000,
    );
    const full = t as unknown as { prUrl: string; issue: { number: number } };
    assert.match(full.prUrl, /^https:\/\/github\.com\/o\/r\/pull\/\d+$/);
    assert.equal(full.issue.number, 1);
    await waitFor('worktree removed', () => !existsSync(join(w.trees, 'gh-1')));
    // the branch with the worker's commit stays: it carries the pull request
    assert.match(execFileSync('git', ['log', '--oneline', 'warden/gh-1'], { cwd: w.repo, encoding: 'utf8' }), /work for gh-1/);
    await d.stop();
  });

  test('a worker that exits 0 without a PR fails with kind no_pr; one that writes BLOCKED.md is blocked with its reason', async () => {
    const w = world({ worker: { command: ['claude', '-p'], startup_window: '1s', max_attempts: 1 } });
    w.setIssues([issue(2, 'No PR', 'mode=nopr'), issue(3, 'Blocked', 'mode=blocked')]);
    const d = await startDaemon(w.sb);
    const done = await waitFor(
      'both settled',
      async () => {
        const all = await tasks(w.sb);
        const a = all.find((t) => t.id === 'gh-2');
        const b = all.find((t) => t.id === 'gh-3');
        return a && b && a.state === 'dead' && b.state === 'blocked' ? { a, b } : null;
      },
      25_000,
    );
    assert.equal(done.a.history.at(-1)?.outcome, 'no_pr');
    assert.equal(done.b.history.at(-1)?.outcome, 'blocked');
    assert.match(String(done.b.note), /needs a database password/);
    // dead and blocked tasks keep their worktree for inspection
    assert.ok(existsSync(join(w.trees, 'gh-3', 'BLOCKED.md')));
    await d.stop();
  });

  test('priority labels order the spawns, and removing the label cancels a pending task', async () => {
    const w = world();
    w.setIssues([
      issue(10, 'low', 'mode=pr', ['warden', 'priority:P2']),
      issue(11, 'high', 'mode=pr', ['warden', 'priority:P0']),
      issue(12, 'mid', 'mode=pr', ['warden', 'priority:P1']),
    ]);
    process.env.FAKE_CLAUDE_SECONDS = '4'; // long enough to look at the queue while gh-11 runs
    const d = await startDaemon(w.sb);
    await waitFor('gh-11 running first', async () => (await task(w.sb, 'gh-11'))?.state === 'running', 10_000);
    assert.equal((await task(w.sb, 'gh-12'))?.state, 'pending');
    assert.equal((await task(w.sb, 'gh-10'))?.state, 'pending');
    w.setIssues([issue(11, 'high', 'mode=pr', ['warden', 'priority:P0']), issue(12, 'mid', 'mode=pr', ['warden', 'priority:P1'])]);
    const cancelled = await waitFor(
      'gh-10 cancelled',
      async () => ((await task(w.sb, 'gh-10'))?.state === 'cancelled' ? task(w.sb, 'gh-10') : null),
      10_000,
    );
    assert.match(String(cancelled.note), /label/);
    await waitFor('gh-12 succeeded after gh-11', async () => (await task(w.sb, 'gh-12'))?.state === 'succeeded', 20_000);
    const h11 = (await task(w.sb, 'gh-11'))!.history[0] as unknown as { startedAt: number };
    const h12 = (await task(w.sb, 'gh-12'))!.history[0] as unknown as { startedAt: number };
    assert.ok(h11.startedAt < h12.startedAt, 'P0 ran before P1');
    assert.equal((await task(w.sb, 'gh-10'))?.attempts, 0, 'the cancelled task never ran');
    await d.stop();
  });

  test('each way gh fails is logged once per distinct cause and leaves every task state unchanged; recovery is logged', async () => {
    const w = world();
    w.setIssues([issue(20, 'one', 'mode=pr')]);
    const d = await startDaemon(w.sb);
    await waitFor('gh-20 done', async () => (await task(w.sb, 'gh-20'))?.state === 'succeeded', 20_000);
    const modes = [
      ['auth', 'not_authenticated'],
      ['network', 'network'],
      ['rate', 'rate_limited'],
      ['json', 'malformed_json'],
      ['crash', 'failed'],
      ['missing', 'not_installed'],
    ] as const;
    for (const [mode, cause] of modes) {
      const before = JSON.stringify(await tasks(w.sb));
      if (mode === 'missing') rmSync(join(w.sb.dir, 'bin', 'gh'));
      else writeFileSync(join(w.gh, 'fail'), mode);
      w.setIssues([]); // had gh answered, a pending task would now be cancelled
      await sleep(2300); // at least two polls
      assert.equal(JSON.stringify(await tasks(w.sb)), before, `task states changed while gh failed with ${mode}`);
      const lines = d
        .log()
        .split('\n')
        .filter((l) => l.includes('GitHub poll failed') && l.includes(`cause=${cause}`));
      assert.equal(lines.length, 1, `${mode}: ${lines.join('\n')}`);
      rmSync(join(w.gh, 'fail'), { force: true });
      w.setIssues([issue(20, 'one', 'mode=pr')]);
    }
    symlinkSync(join(FIXTURES, 'fake-gh'), join(w.sb.dir, 'bin', 'gh'));
    await waitFor('recovery logged', () => d.log().includes('GitHub poll works again'), 5000);
    await d.stop();
  });

  test('hostile titles and bodies reach the worker only as prompt-file content, and no file appears outside base_dir and state_dir', async () => {
    const w = world({ worker: { command: ['claude', '-p', '{task_id}'], startup_window: '1s', max_attempts: 1 } });
    const nasty = [
      issue(30, '$(touch pwned1) `touch pwned2`', '; touch pwned3 && rm -rf ~ ../../escape mode=nopr'),
      issue(31, '../../../etc/passwd', `\u0000nul ünïcødé 🚀 "quotes" 'single' {body} {title} mode=nopr`),
      issue(32, 'huge', `${'x'.repeat(1024 * 1024)} mode=nopr`),
    ];
    w.setIssues(nasty);
    const outside = () => readdirSync(w.sb.dir).sort();
    const before = outside();
    const d = await startDaemon(w.sb);
    await waitFor('all three ran', async () => (await tasks(w.sb)).filter((t) => t.state === 'dead').length === 3, 30_000).catch(
      async (err) => {
        throw new Error(
          `${(err as Error).message}\n${JSON.stringify((await tasks(w.sb)).map((t) => [t.id, t.state, t.note]))}\n${d.log().slice(-3000)}`,
        );
      },
    );
    for (const i of nasty) {
      const seen = readFileSync(join(w.prompts, `gh-${i.number}.prompt`), 'utf8');
      assert.equal(seen, renderPrompt(DEFAULT_PROMPT_TEMPLATE, 'o/r', { ...i, labels: ['warden'] }, `gh-${i.number}`));
    }
    // only the directories warden owns (trees, state) changed; no pwned file anywhere near
    assert.deepEqual(
      outside().filter((n) => !['trees', 'state'].includes(n)),
      before.filter((n) => !['trees', 'state'].includes(n)),
    );
    for (const dir of [w.sb.dir, w.repo, w.trees, process.cwd()]) {
      for (const f of ['pwned1', 'pwned2', 'pwned3', 'escape']) assert.equal(existsSync(join(dir, f)), false, `${f} in ${dir}`);
    }
    await d.stop();
  });

  test('worktree pruning never deletes a directory with uncommitted changes that no task owns', async () => {
    const w = world();
    w.setIssues([]);
    mkdirSync(w.trees, { recursive: true });
    execFileSync('git', ['worktree', 'add', '-q', '-b', 'manual', join(w.trees, 'someones-work')], { cwd: w.repo });
    writeFileSync(join(w.trees, 'someones-work', 'unsaved.txt'), 'precious');
    execFileSync('git', ['worktree', 'add', '-q', '-b', 'manual2', join(w.trees, 'clean-stray')], { cwd: w.repo });
    const d = await startDaemon(w.sb);
    await waitFor('prune ran and reported', () => d.log().includes('belongs to no task and was kept'), 10_000);
    assert.equal(readFileSync(join(w.trees, 'someones-work', 'unsaved.txt'), 'utf8'), 'precious');
    await waitFor('clean stray pruned', () => !existsSync(join(w.trees, 'clean-stray')), 10_000);
    await d.stop();
  });
});
