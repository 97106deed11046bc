// The worker's own verdict, end to end: a real daemon (direct executor) runs a fake claude that
// replays recorded stream-json (test/fixtures/streams/) with delays, and warden reads the stream
// as it arrives from the attempt log.
import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import { request } from 'node:http';
import { join } from 'node:path';
import { after, describe, test } from 'node:test';
import { setTimeout as sleep } from 'node:timers/promises';
import { type ConfigSections } from '../helpers/config-file.ts';
import { FIXTURES } from '../helpers/paths.ts';
import { waitFor } from '../helpers/wait.ts';
import { addTask, cleanupAll, cliOk, makeSandbox, readStateFile, startDaemon, status, task, tasks } from './harness.ts';

after(cleanupAll);
const FAKE = join(FIXTURES, 'fake-claude-stream');

function sandbox(over: ConfigSections = {}) {
  return makeSandbox({
    worker: { command: [process.execPath, FAKE], startup_window: '0s', stall_after: '10m', stop_grace: '1s' },
    // a breaker of one failure: any failure counted would open it
    breaker: { failures: 1, window: '10m', cooldown: '1h' },
    ...over,
  });
}

interface StateFile {
  pause: Record<string, { since: number; until?: number; reason: string } | null>;
  tasks: Record<string, { history: { endedAt: number; outcome: string }[] }>;
}
function getText(socket: string, path: string): Promise<string> {
  return new Promise((resolve, reject) => {
    const req = request({ socketPath: socket, path, method: 'GET', timeout: 2000 }, (res) => {
      let body = '';
      res.on('data', (d: Buffer) => (body += d.toString()));
      res.on('end', () => resolve(body));
    });
    req.on('error', reject);
    req.end();
  });
}

const stateFile = (dir: string) => JSON.parse(readFileSync(join(dir, 'state.json'), 'utf8')) as StateFile;

describe('worker verdicts with a real daemon', () => {
  test('auth failure: ONE spawn, spawning paused at once with reason worker_auth, the task pending with its attempt refunded', async () => {
    const sb = sandbox();
    const d = await startDaemon(sb);
    await addTask(sb, 'a', 'stream=auth exit=1 delay=20');
    await addTask(sb, 'b', 'stream=success exit=0');
    const s = await waitFor('paused: worker_auth', async () => {
      const st = await status(sb);
      return st.pause.reasons.includes('worker_auth') ? st : null;
    });
    assert.equal(s.breaker.phase, 'closed', 'the breaker counted nothing');
    await sleep(2000); // a spawn loop would show here
    const after = await status(sb);
    assert.equal(after.totalSpawns, 1, 'one spawn, not a loop');
    assert.match(after.summary, /paused: worker_auth/);
    const a = await task(sb, 'a');
    assert.equal(a?.state, 'pending');
    assert.equal(a?.attempts, 0, 'the attempt was refunded');
    assert.equal(a?.history.at(-1)?.outcome, 'auth_failed');
    assert.equal((await task(sb, 'b'))?.state, 'pending');
    const st = stateFile(sb.stateDir);
    const pausedAfterExitMs = (st.pause.workerAuth?.since ?? NaN) - (st.tasks.a?.history.at(-1)?.endedAt ?? NaN);
    assert.equal(pausedAfterExitMs, 0, 'the pause is written with the exit it comes from');
    const text = (await cliOk(sb.configPath, ['status'])).stdout;
    assert.match(text, /claude is not logged in \/ API key invalid/);
    assert.match(d.log(), /paused: worker_auth/);
    // after logging in, `warden resume` lets spawning continue
    await cliOk(sb.configPath, ['resume']);
    await waitFor('a second spawn after resume', async () => ((await status(sb)).totalSpawns >= 2 ? true : null));
    await d.stop();
  });

  test('usage limit: paused until the reset time it names, then resumes by itself; the task keeps its attempts', async () => {
    const sb = sandbox();
    const d = await startDaemon(sb);
    const runs = join(sb.dir, 'runs');
    await addTask(sb, 'u', `stream=usage-limit reset_in=3 delay=20 runs=${runs} then=success`);
    const paused = await waitFor('paused: usage_limit', async () =>
      (await status(sb)).pause.reasons.includes('usage_limit') ? true : null,
    );
    assert.ok(paused);
    const st = stateFile(sb.stateDir);
    const until = st.pause.usageLimit?.until ?? 0;
    assert.ok(until > Date.now() - 1000 && until <= Date.now() + 4000, `until ${new Date(until).toISOString()}`);
    const done = await waitFor(
      'the task succeeds after the reset',
      async () => ((await task(sb, 'u'))?.state === 'succeeded' ? true : null),
      15_000,
    );
    assert.ok(done);
    const log = readFileSync(runs, 'utf8').trim().split('\n').map(Number);
    assert.equal(log.length, 2);
    assert.ok((log[1] as number) >= until, 'the second run started after the reset time');
    assert.equal((await status(sb)).pause.paused, false);
    // no attempt was lost: the run after the limit is attempt 1 again
    const u = await task(sb, 'u');
    assert.deepEqual(
      u?.history.map((h) => [h.attempt, h.outcome]),
      [
        [1, 'usage_limit'],
        [1, 'succeeded'],
      ],
    );
    await d.stop();
  });

  test('a stalled worker (one event, then silence) is stopped after stall_after and classified stalled', async () => {
    const sb = sandbox({
      worker: { command: [process.execPath, FAKE], startup_window: '0s', stall_after: '1500ms', stop_grace: '1s' },
      breaker: { failures: 100, window: '10m', cooldown: '1h' },
    });
    const d = await startDaemon(sb);
    await addTask(sb, 's', 'stream=stalled sleep=60');
    const s = await waitFor(
      'stalled',
      async () => {
        const t = await task(sb, 's');
        return t?.history.at(-1)?.outcome === 'stalled' ? t : null;
      },
      15_000,
    );
    const ms = s.history.at(-1)?.durationMs ?? 0;
    assert.ok(ms >= 1500 && ms < 6000, `stopped after ${ms} ms`);
    assert.equal(s.state, 'retry_wait');
    assert.match(d.log(), /no stream event for stall_after/);
    await d.stop();
  });

  test('with resume_sessions, the retry after a stall resumes the stalled session (--resume <id>)', async () => {
    const sb = sandbox({
      worker: { command: [process.execPath, FAKE], startup_window: '0s', stall_after: '1500ms', stop_grace: '1s', resume_sessions: true },
      'backoff.stalled': { base: '0s', max: '0s' },
      breaker: { failures: 100, window: '10m', cooldown: '1h' },
    });
    const runs = join(sb.dir, 'runs');
    const argvFile = join(sb.dir, 'argv');
    const d = await startDaemon(sb);
    await addTask(sb, 'r', `stream=stalled sleep=60 runs=${runs} then=success argv=${argvFile}`);
    const t = await waitFor(
      'resumed run succeeded',
      async () => {
        const x = await task(sb, 'r');
        return x?.state === 'succeeded' ? x : null;
      },
      20_000,
    );
    const stalled = t.history[0] as unknown as { outcome: string; sessionId: string | null };
    assert.equal(stalled.outcome, 'stalled');
    assert.ok(stalled.sessionId, 'the stalled attempt recorded its session');
    const argvs = readFileSync(argvFile, 'utf8')
      .trim()
      .split('\n')
      .map((l) => JSON.parse(l) as string[]);
    assert.equal(argvs.length, 2);
    assert.ok(!argvs[0]!.includes('--resume'), 'the first attempt starts fresh');
    assert.deepEqual(argvs[1]!.slice(-2), ['--resume', stalled.sessionId], 'the retry resumes the stalled session');
    await d.stop();
  });

  test('costs appear in tasks --json, status and /metrics; max_daily_cost_usd pauses with reason budget', async () => {
    const sb = sandbox({ supervisor: { max_daily_cost_usd: 0.05 } });
    const d = await startDaemon(sb);
    for (const id of ['c1', 'c2', 'c3']) await addTask(sb, id, 'stream=success exit=0 cost=0.03 delay=20');
    const s = await waitFor('paused: budget', async () => {
      const st = await status(sb);
      return st.pause.reasons.includes('budget') ? st : null;
    });
    await sleep(1000);
    const list = await tasks(sb);
    const byId = Object.fromEntries(
      list.map((t) => [t.id, t as unknown as { state: string; costUsd: number; turns: number; sessionId: string | null }]),
    );
    assert.deepEqual([byId.c1?.state, byId.c2?.state, byId.c3?.state], ['succeeded', 'succeeded', 'pending']);
    assert.deepEqual([byId.c1?.costUsd, byId.c1?.turns, byId.c1?.sessionId], [0.03, 3, '5f1e2d3c-aaaa-4b5c-8d6e-7f8091a2b3c4']);
    const cost = (s as unknown as { cost: { todayUsd: number; maxDailyCostUsd: number } }).cost;
    assert.ok(Math.abs(cost.todayUsd - 0.06) < 1e-9);
    assert.equal(cost.maxDailyCostUsd, 0.05);
    assert.equal((await status(sb)).totalSpawns, 2);
    const text = (await cliOk(sb.configPath, ['status'])).stdout;
    assert.match(text, /cost: +\$0\.06 today of max_daily_cost_usd \$0\.05/);
    assert.match((await cliOk(sb.configPath, ['tasks'])).stdout, /c1 +succeeded .*\$0\.03 +3/);
    const metrics = await getText(sb.socket, '/metrics');
    assert.match(metrics, /warden_cost_usd_today 0\.06/);
    assert.match(metrics, /warden_paused\{reason="budget"\} 1/);
    assert.equal(readStateFile(sb).totalSpawns, 2);
    await d.stop();
  });
});
