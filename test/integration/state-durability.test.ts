// The incident's second cause: a state file that did not round-trip, so finished and failed tasks
// came back as fresh `pending` ones with attempt 0 on every poll. Here every task's state and
// attempt count must survive a clean stop and a kill -9 exactly, and a corrupt state file must
// stop warden without being touched.
import assert from 'node:assert/strict';
import { existsSync, mkdirSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { after, describe, test } from 'node:test';
import { setTimeout as sleep } from 'node:timers/promises';
import { type TaskView } from '../helpers/cli.ts';
import { waitFor } from '../helpers/wait.ts';
import {
  addTask,
  cleanupAll,
  cli,
  cliOk,
  countLines,
  fileStamp,
  makeSandbox,
  processesUnder,
  startDaemon,
  status,
  tasks,
} from './harness.ts';

after(cleanupAll);

test('succeeded, dead, retry_wait and pending tasks keep their state and attempts across a restart and a kill -9', async () => {
  const sb = makeSandbox({
    supervisor: { max_concurrent_workers: 3, min_spawn_interval: '0s', poll_interval: '300ms' },
    worker: { startup_window: '1s', max_attempts: 2 },
    'backoff.exit_nonzero': { base: '300ms', factor: 1, max: '300ms' },
    'backoff.startup_error': { base: '1h', factor: 1, max: '1h' }, // long enough to still be waiting after the restarts
  });
  const daemon = await startDaemon(sb);
  await addTask(sb, 'ok', `sleep=1.5 exit=0 count=${sb.countFile}`);
  await addTask(sb, 'doomed', `sleep=1.2 exit=3 count=${sb.countFile}`);
  await addTask(sb, 'flaky', `sleep=0 exit=1 count=${sb.countFile}`);
  const want: Record<string, { state: string; attempts: number; outcomes: string[] }> = {
    ok: { state: 'succeeded', attempts: 0, outcomes: ['succeeded'] },
    doomed: { state: 'dead', attempts: 2, outcomes: ['exit_nonzero', 'exit_nonzero'] },
    flaky: { state: 'retry_wait', attempts: 1, outcomes: ['startup_error'] },
  };
  await waitFor(
    'ok, doomed and flaky to settle',
    async () => {
      const list = await tasks(sb);
      return Object.entries(want).every(([id, w]) => list.find((x) => x.id === id)?.state === w.state);
    },
    20_000,
    200,
  );
  // a pending task too: paused, so it stays pending
  await cliOk(sb.configPath, ['pause']);
  await addTask(sb, 'queued', `sleep=1 exit=0 count=${sb.countFile}`);
  want.queued = { state: 'pending', attempts: 0, outcomes: [] };
  await waitFor('queued to be ingested', async () => (await tasks(sb)).some((x) => x.id === 'queued'));

  const check = (list: TaskView[], when: string) => {
    for (const [id, w] of Object.entries(want)) {
      const x = list.find((t) => t.id === id);
      assert.ok(x, `${when}: task ${id} exists`);
      assert.equal(x.state, w.state, `${when}: ${id} state`);
      assert.equal(x.attempts, w.attempts, `${when}: ${id} attempts`);
      assert.deepEqual(
        x.history.map((h) => h.outcome),
        w.outcomes,
        `${when}: ${id} history`,
      );
    }
    assert.equal(list.length, Object.keys(want).length, `${when}: no task appeared or vanished`);
  };
  const before = await tasks(sb);
  check(before, 'before the restart');
  const statusBefore = await status(sb);
  const spawnsBefore = countLines(sb.countFile).length;
  assert.equal(spawnsBefore, 4, 'ok once, doomed twice, flaky once');

  assert.equal((await daemon.stop()).code, 0);
  const second = await startDaemon(sb);
  await sleep(1000); // several polls: anything that would be re-run or re-counted moves now
  const afterRestart = await tasks(sb);
  assert.deepEqual(afterRestart, before, 'every task round-trips a clean restart exactly');
  check(afterRestart, 'after the restart');
  const s2 = await status(sb);
  assert.equal(s2.totalSpawns, statusBefore.totalSpawns);
  assert.deepEqual(s2.pause.reasons, ['manual'], 'the manual pause is durable too');
  assert.equal(countLines(sb.countFile).length, spawnsBefore, 'nothing was spawned');

  await second.kill9();
  const third = await startDaemon(sb);
  await sleep(1000);
  const afterKill = await tasks(sb);
  assert.deepEqual(afterKill, before, 'and a kill -9 and restart');
  assert.equal(countLines(sb.countFile).length, spawnsBefore);
  assert.equal((await third.stop()).code, 0);
  assert.deepEqual(processesUnder(sb.dir), []);
});

describe('a corrupt state file makes `run` exit 78 and leaves the file untouched', () => {
  const cases: [string, string][] = [
    ['not JSON', '{"version": 1, "tasks": {"gh-1": {"state": "dea'],
    ['JSON of the wrong shape', JSON.stringify({ version: 1, tasks: { 'gh-1': { state: 'exploded' } } })],
    ['empty', ''],
  ];
  for (const [name, text] of cases) {
    test(name, async () => {
      const sb = makeSandbox();
      mkdirSync(sb.stateDir, { recursive: true });
      const path = join(sb.stateDir, 'state.json');
      writeFileSync(path, text);
      const before = fileStamp(path);
      await sleep(20); // a rewrite would now show in the mtime

      const r = await cli(sb.configPath, ['run'], 15_000);
      assert.equal(r.code, 78, `exit code\n${r.stderr}`);
      assert.match(r.stderr, /state\.json/, 'names the file');
      // there is no backup here, so the message must not send the owner to one
      assert.match(
        r.stderr,
        /There is no \S*state\.json\.bak to restore from; move it aside deliberately/,
        `says how to recover: ${r.stderr}`,
      );
      assert.doesNotMatch(r.stderr, /Restore it from/, 'names no missing backup');
      assert.doesNotMatch(r.stderr, /^\s+at /m, 'no stack trace');
      const after = fileStamp(path);
      assert.equal(after.bytes, before.bytes, 'the file is unchanged');
      assert.equal(after.mtimeMs, before.mtimeMs, 'and was not rewritten');
      assert.ok(!existsSync(`${path}.bak`), 'no backup was made from it');
      assert.ok(!existsSync(sb.socket), 'no daemon came up');
    });
  }
});
