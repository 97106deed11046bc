// The incident, replayed with the real program: Claude Code from npm (a devDependency), no
// credentials, HOME in a temporary directory. It exits 1 within seconds, the way the incident's
// workers did. warden must read its verdict (auth_failed) and pause after the FIRST such failure,
// not the third, with the task back to pending and no attempt burned.
import assert from 'node:assert/strict';
import { existsSync, mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, test } from 'node:test';
import { setTimeout as sleep } from 'node:timers/promises';
import { ROOT } from '../helpers/paths.ts';
import { waitFor } from '../helpers/wait.ts';
import { addTask, cleanupAll, makeSandbox, startDaemon, status, tasks } from './harness.ts';

after(cleanupAll);

const CLAUDE = join(ROOT, 'node_modules/.bin/claude');

test(
  'the real claude CLI without credentials: auth_failed, spawning pauses after the first failure, status says why',
  { skip: existsSync(CLAUDE) ? false : `SKIPPED: ${CLAUDE} is missing (npm ci installs @anthropic-ai/claude-code)` },
  async () => {
    // the worker inherits the daemon's environment: no key, a fresh HOME with no login
    process.env.HOME = mkdtempSync(join(tmpdir(), 'wd-home-'));
    delete process.env.ANTHROPIC_API_KEY;
    delete process.env.CLAUDE_CODE_OAUTH_TOKEN;
    const sb = makeSandbox({
      worker: {
        // the default command, with the binary's absolute path
        command: [CLAUDE, '-p', '--output-format', 'stream-json', '--verbose', '--permission-mode', '{permission_mode}'],
        startup_window: '10s',
        max_attempts: 3,
        stall_after: '2m',
      },
      // the real defaults for these, as on a Pi
      breaker: { failures: 3, window: '10m', cooldown: '15m' },
    });
    for (const id of ['one', 'two', 'three', 'four']) await addTask(sb, id, 'say hi');
    const d = await startDaemon(sb);
    const paused = await waitFor(
      'paused for worker_auth',
      async () => {
        const s = await status(sb);
        return s.pause.reasons.includes('worker_auth') ? s : null;
      },
      60_000,
      250,
    );
    await sleep(3000); // a spawn loop would show here
    const s = await status(sb);
    const all = await tasks(sb);
    const attempts = all.flatMap((t) => t.history.map((h) => ({ task: t.id, outcome: h.outcome })));
    console.log(`# real claude: ${s.totalSpawns} spawn(s); outcomes ${JSON.stringify(attempts)}; status: ${s.summary}`);
    assert.equal(s.totalSpawns, 1, 'exactly one spawn before the pause');
    assert.deepEqual(
      attempts.map((a) => a.outcome),
      ['auth_failed'],
    );
    assert.ok(
      all.every((t) => t.state === 'pending' && t.attempts === 0),
      `no attempt burned: ${JSON.stringify(all.map((t) => [t.id, t.state, t.attempts]))}`,
    );
    assert.equal(s.breaker.phase, 'closed', 'an auth failure is not a breaker failure');
    assert.match(s.summary, /worker_auth|not logged in/i, 'status says why');
    assert.deepEqual(paused.pause.reasons, s.pause.reasons);
    await d.stop();
  },
);
