// A daemon killed with SIGKILL (OOM killer, watchdog, power user) leaves its workers running. The
// next daemon must adopt them, by PID, and never spawn a second worker for the same task. And a
// second daemon on the same state must refuse to start without touching it.
import assert from 'node:assert/strict';
import { existsSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { after, test } from 'node:test';
import { setTimeout as sleep } from 'node:timers/promises';
import { waitFor } from '../helpers/wait.ts';
import {
  addTask,
  cleanupAll,
  cli,
  countLines,
  fileStamp,
  makeSandbox,
  pidAlive,
  processesUnder,
  startDaemon,
  status,
  task,
  tasks,
  waitForStarts,
} from './harness.ts';

after(cleanupAll);

const ROUNDS = 5;
/** How long a released worker still takes to finish, at most (the deadline of the wait for it). */
const WORKER_SECONDS = 5;

test(`kill -9 of the daemon with 2 workers running: the restart adopts both, no duplicate spawn (${ROUNDS} rounds)`, async (t) => {
  let duplicates = 0;
  for (let round = 1; round <= ROUNDS; round++) {
    const sb = makeSandbox({
      supervisor: { max_concurrent_workers: 2, min_spawn_interval: '0s', poll_interval: '300ms' },
      worker: { startup_window: '1s' },
    });
    const first = await startDaemon(sb);
    // the workers run until the test releases them, so a slow machine cannot end them before the restart
    const release = join(sb.dir, 'release');
    await addTask(sb, 'a', `sleep=0 until=${release} exit=0 count=${sb.countFile}`);
    await addTask(sb, 'b', `sleep=0 until=${release} exit=0 count=${sb.countFile}`);
    const before = await waitFor('both workers to run', async () => {
      const s = await status(sb);
      return s.workers.length === 2 ? s.workers : null;
    });
    await waitForStarts(sb.countFile, 2);
    const pidsBefore = Object.fromEntries(before.map((w) => [w.taskId, w.pid]));

    await first.kill9();
    for (const w of before) assert.ok(pidAlive(w.pid), `round ${round}: worker ${w.taskId} survives the daemon's SIGKILL`);

    const second = await startDaemon(sb);
    const s = await status(sb);
    const pidsAfter = Object.fromEntries(s.workers.map((w) => [w.taskId, w.pid]));
    assert.deepEqual(pidsAfter, pidsBefore, `round ${round}: the same workers, adopted by PID\n${second.log()}`);
    assert.match(second.log(), /did not shut down cleanly/);
    assert.equal((second.log().match(/adopted running worker/g) ?? []).length, 2);
    writeFileSync(release, '');

    const done = await waitFor(
      'both tasks to finish',
      async () => {
        const list = await tasks(sb);
        return list.every((x) => x.state !== 'running' && x.state !== 'pending') ? list : null;
      },
      (WORKER_SECONDS + 10) * 1000,
      200,
    );
    for (const x of done) {
      assert.equal(x.state, 'succeeded', `round ${round}: ${JSON.stringify(x)}\n${second.log()}`);
      assert.deepEqual(
        x.history.map((h) => h.outcome),
        ['succeeded'],
        `round ${round}: one attempt, and it succeeded`,
      );
    }
    await sleep(700); // a few more polls: a re-spawn would show now
    const starts = countLines(sb.countFile);
    duplicates += Math.max(0, starts.length - 2);
    assert.equal(starts.length, 2, `round ${round}: exactly 2 worker starts, got ${JSON.stringify(starts)}`);
    assert.deepEqual(starts.map((l) => l.task).sort(), ['a', 'b']);
    assert.equal((await status(sb)).totalSpawns, 2);
    assert.equal((await second.stop()).code, 0);
    assert.deepEqual(processesUnder(sb.dir), [], `round ${round}: nothing left running`);
  }
  console.log(`recovery: ${ROUNDS} kill -9 rounds, duplicates = ${duplicates}`);
  t.diagnostic(`kill -9 rounds ${ROUNDS}, duplicate spawns ${duplicates}`);
});

test('a second daemon on the same config refuses to start and leaves the first and its state alone', async () => {
  const sb = makeSandbox({ supervisor: { poll_interval: '300ms' } });
  const first = await startDaemon(sb);
  const release = join(sb.dir, 'release'); // the worker runs until the test has seen the refusal
  await addTask(sb, 'long', `sleep=0 until=${release} exit=0 count=${sb.countFile}`);
  const [worker] = await waitFor('the worker to run', async () => {
    const s = await status(sb);
    return s.workers.length === 1 ? s.workers : null;
  });
  await sleep(400); // the first daemon has committed the worker's pid; its state file is now quiet
  const statePath = join(sb.stateDir, 'state.json');
  const before = fileStamp(statePath);
  const bakStamp = () => (existsSync(`${statePath}.bak`) ? fileStamp(`${statePath}.bak`).mtimeMs : null);
  const bakBefore = bakStamp();

  const second = await cli(sb.configPath, ['run'], 15_000);
  assert.notEqual(second.code, 0, `the second daemon must not run\n${second.stderr}`);
  assert.match(second.stderr, /^warden: another warden daemon \(pid \d+\) holds .*state; not starting a second one$/m, second.stderr);
  assert.doesNotMatch(second.stderr, /^\s+at /m, 'a clear message, not a stack trace');
  assert.doesNotMatch(second.stderr, /adopted|recovering/, "it did not touch the first daemon's workers");

  const after = fileStamp(statePath);
  assert.equal(after.bytes, before.bytes, 'the state file is unchanged');
  assert.equal(after.mtimeMs, before.mtimeMs, 'the state file was not rewritten');
  assert.equal(bakStamp(), bakBefore, 'nor its backup');

  const s = await status(sb);
  assert.equal(s.daemon.pid, first.pid, 'the first daemon still answers');
  assert.ok(pidAlive(worker!.pid), 'and its worker still runs');
  writeFileSync(release, '');
  const t = await waitFor(
    'the task to finish under the first daemon',
    async () => {
      const x = await task(sb, 'long');
      return x && x.state !== 'running' && x.state !== 'pending' ? x : null;
    },
    15_000,
    200,
  );
  assert.equal(t.state, 'succeeded', JSON.stringify(t));
  assert.equal(countLines(sb.countFile).length, 1, 'spawned once');
  assert.equal((await first.stop()).code, 0);
});
