// A task's life under a real daemon: pickup, success, pause and resume, max_runtime, and what a
// SIGTERM to warden does to the worker it is running (including one that ignores SIGTERM).
import assert from 'node:assert/strict';
import { existsSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { after, describe, test } from 'node:test';
import { setTimeout as sleep } from 'node:timers/promises';
import { FIXTURES } from '../helpers/paths.ts';
import { waitFor } from '../helpers/wait.ts';
import {
  addTask,
  cleanupAll,
  cli,
  cliOk,
  countLines,
  makeSandbox,
  pidAlive,
  processesUnder,
  readStateFile,
  startDaemon,
  status,
  task,
  waitForStarts,
  writeConfig,
} from './harness.ts';

after(cleanupAll);

const IGNORE_SIGTERM = join(FIXTURES, 'ignore-sigterm.mjs');

test('a task added while the daemon runs is picked up within one poll_interval', async () => {
  const POLL_MS = 2000;
  const sb = makeSandbox({ supervisor: { poll_interval: `${POLL_MS}ms`, min_spawn_interval: '0s' } });
  const daemon = await startDaemon(sb);
  await sleep(700); // land somewhere inside a poll, not right after the first tick
  const before = Date.now();
  await addTask(sb, 'late', `sleep=0.5 count=${sb.countFile}`);
  const [started] = await waitForStarts(sb.countFile, 1, POLL_MS * 3);
  const delay = started!.at - before;
  console.log(`pickup: worker started ${delay} ms after \`task add\` began (poll_interval ${POLL_MS} ms)`);
  // the CLI's own start-up and the worker's node start-up come on top of the poll
  assert.ok(delay <= POLL_MS + 1000, `picked up after ${delay} ms, poll_interval is ${POLL_MS} ms\n${daemon.log()}`);
  assert.equal((await daemon.stop()).code, 0);
});

test('a worker that exits 0 after its startup window ends `succeeded`', async () => {
  const sb = makeSandbox({ worker: { startup_window: '1s' } });
  const daemon = await startDaemon(sb);
  await addTask(sb, 'ok', `sleep=2 exit=0 count=${sb.countFile}`);
  const t = await waitFor(
    'the task to finish',
    async () => {
      const x = await task(sb, 'ok');
      return x && x.state !== 'pending' && x.state !== 'running' ? x : null;
    },
    15_000,
    200,
  );
  assert.equal(t.state, 'succeeded', JSON.stringify(t));
  assert.equal(t.history.length, 1);
  assert.equal(t.history[0]!.outcome, 'succeeded');
  assert.equal(t.history[0]!.exitCode, 0);
  assert.ok(t.history[0]!.durationMs >= 1000, `ran ${t.history[0]!.durationMs} ms`);
  assert.equal(t.attempts, 0, 'success resets the attempt count');
  assert.equal(countLines(sb.countFile).length, 1, 'spawned once');
  assert.equal((await daemon.stop()).code, 0);
});

describe('with no daemon running (and no state file yet), the control commands say so in one line and exit 3', () => {
  for (const args of [['status'], ['status', '--json'], ['pause'], ['resume'], ['tasks'], ['tasks', '--json']]) {
    test(`warden ${args.join(' ')}`, async () => {
      const sb = makeSandbox();
      const r = await cli(sb.configPath, args);
      assert.equal(r.code, 3, `exit code\nstdout: ${r.stdout}\nstderr: ${r.stderr}`);
      const lines = (r.stdout + r.stderr).split('\n').filter((l) => l.trim() !== '');
      assert.equal(lines.length, 1, `one line of output, got:\n${r.stdout}${r.stderr}`);
      assert.match(lines[0]!, /not running/);
    });
  }

  test('also when a killed daemon left its socket file behind (status and tasks then show the state file)', async () => {
    const sb = makeSandbox();
    const daemon = await startDaemon(sb);
    await daemon.kill9();
    assert.ok(existsSync(sb.socket), 'kill -9 leaves the socket file');
    for (const args of [['status'], ['pause'], ['resume'], ['tasks']]) {
      const r = await cli(sb.configPath, args);
      assert.equal(r.code, 3, `${args.join(' ')}: exit code\n${r.stderr}`);
      const lines = (r.stdout + r.stderr).split('\n').filter((l) => l.trim() !== '');
      if (args[0] === 'pause' || args[0] === 'resume')
        assert.equal(lines.length, 1, `${args.join(' ')}: one line, got:\n${r.stdout}${r.stderr}`);
      else assert.match(lines[0]!, /^daemon not running; state as of /, `${args.join(' ')}: ${r.stdout}${r.stderr}`);
    }
  });
});

test('pause stops new spawns while a running worker keeps running; resume lets spawning continue', async () => {
  const sb = makeSandbox({ supervisor: { max_concurrent_workers: 2, min_spawn_interval: '0s', poll_interval: '300ms' } });
  const daemon = await startDaemon(sb);
  await addTask(sb, 'first', `sleep=10 exit=0 count=${sb.countFile}`);
  const running = await waitFor('first to run', async () => (await status(sb)).workers.find((w) => w.taskId === 'first'));

  const p = await cliOk(sb.configPath, ['pause']);
  assert.match(p.stdout, /paused: manual/);
  await addTask(sb, 'second', `sleep=1.5 exit=0 count=${sb.countFile}`);
  await waitFor('second to be ingested', () => task(sb, 'second'));
  await sleep(1500); // five polls

  const s = await status(sb);
  assert.deepEqual(s.pause.reasons, ['manual']);
  assert.match(s.heldBy ?? '', /paused: manual/);
  assert.equal((await task(sb, 'second'))!.state, 'pending', 'nothing is spawned while paused');
  assert.deepEqual(
    countLines(sb.countFile).map((l) => l.task),
    ['first'],
    'only the first worker ever started',
  );
  assert.ok(
    s.workers.some((w) => w.taskId === 'first' && w.pid === running.pid),
    'the running worker is still there',
  );
  assert.ok(pidAlive(running.pid), 'and its process is alive');

  const r = await cliOk(sb.configPath, ['resume']);
  assert.match(r.stdout, /running: spawning is allowed/);
  await waitFor('second to start after resume', () => countLines(sb.countFile).some((l) => l.task === 'second'), 3000);
  for (const id of ['first', 'second']) {
    const t = await waitFor(
      `${id} to finish`,
      async () => {
        const x = await task(sb, id);
        return x && x.state !== 'pending' && x.state !== 'running' ? x : null;
      },
      15_000,
      200,
    );
    assert.equal(t.state, 'succeeded', `${id}: ${JSON.stringify(t)}`);
  }
  assert.equal(countLines(sb.countFile).length, 2);
  assert.equal((await daemon.stop()).code, 0);
});

test('max_runtime is enforced: a worker running past it is stopped and recorded as `timeout`', async () => {
  const sb = makeSandbox({ worker: { max_runtime: '3s', stop_grace: '2s', max_attempts: 1 } });
  const daemon = await startDaemon(sb);
  await addTask(sb, 'slow', `sleep=60 count=${sb.countFile}`);
  const [line] = await waitForStarts(sb.countFile);
  const t = await waitFor(
    'the task to end',
    async () => {
      const x = await task(sb, 'slow');
      return x && x.state !== 'pending' && x.state !== 'running' ? x : null;
    },
    15_000,
    200,
  );
  assert.equal(t.state, 'dead', `max_attempts = 1: ${JSON.stringify(t)}`);
  assert.equal(t.history.at(-1)!.outcome, 'timeout', JSON.stringify(t.history));
  const ran = t.history.at(-1)!.durationMs;
  assert.ok(ran >= 3000 && ran < 3000 + 2000 + 1500, `ran ${ran} ms with max_runtime 3s`);
  assert.equal(pidAlive(line!.pid), false, 'the worker process is gone');
  assert.deepEqual(processesUnder(sb.dir), [], 'nothing left running in the worktree');
  assert.equal((await daemon.stop()).code, 0);
});

test('SIGTERM to warden stops the running worker, refunds its attempt and saves a clean state', async () => {
  const STOP_GRACE_MS = 3000;
  const sb = makeSandbox({ worker: { stop_grace: `${STOP_GRACE_MS}ms` } });
  const daemon = await startDaemon(sb);
  await addTask(sb, 'busy', `sleep=60 count=${sb.countFile}`);
  const w = await waitFor('the worker to run', async () => (await status(sb)).workers[0]);
  const [line] = await waitForStarts(sb.countFile);
  assert.ok(pidAlive(w.pid) && pidAlive(line!.pid));

  const stopped = await daemon.stop();
  console.log(`shutdown with a running worker took ${stopped.ms} ms (stop_grace ${STOP_GRACE_MS} ms)`);
  assert.equal(stopped.code, 0, daemon.log());
  assert.ok(stopped.ms < STOP_GRACE_MS + 2000, `took ${stopped.ms} ms`);
  await waitFor('the worker to be gone', () => !pidAlive(w.pid) && !pidAlive(line!.pid), 2000, 50);
  assert.deepEqual(processesUnder(sb.dir), [], 'nothing left running in the worktree');

  const state = readStateFile(sb);
  assert.equal(state.cleanShutdown, true);
  const t = state.tasks.busy!;
  assert.equal(t.state, 'pending', JSON.stringify(t));
  assert.equal(t.attempts, 0, 'the interrupted attempt is not counted');
  assert.equal(t.current, null);
  assert.equal(t.history.at(-1)!.outcome, 'interrupted');
  assert.ok(!existsSync(sb.socket), 'the control socket is removed');
});

describe('a worker that ignores SIGTERM is SIGKILLed after stop_grace', () => {
  test('when warden shuts down', async () => {
    const STOP_GRACE_MS = 2000;
    const sb = makeSandbox();
    writeConfig(sb, { worker: { command: [process.execPath, IGNORE_SIGTERM, sb.countFile], stop_grace: `${STOP_GRACE_MS}ms` } });
    const daemon = await startDaemon(sb);
    await addTask(sb, 'stubborn', 'anything');
    const [line] = await waitForStarts(sb.countFile);
    await sleep(300);

    const stopped = await daemon.stop();
    console.log(`shutdown with a SIGTERM-ignoring worker took ${stopped.ms} ms (stop_grace ${STOP_GRACE_MS} ms)`);
    assert.equal(stopped.code, 0, daemon.log());
    // at once if nothing is left to wait for, else the worker is SIGKILLed by the time warden exits
    await waitFor('the worker to be gone', () => !pidAlive(line!.pid), 1000, 50).catch(() => {
      throw new Error(`worker ${line!.pid} outlived warden's shutdown (${stopped.ms} ms)\n${daemon.log()}`);
    });
    assert.ok(stopped.ms >= STOP_GRACE_MS - 100, `warden gave the worker its grace (${stopped.ms} ms)`);
    assert.ok(stopped.ms < STOP_GRACE_MS + 2000, `and no more (${stopped.ms} ms)`);
    const log = readFileSync(join(sb.stateDir, 'logs', 'stubborn', '1.log'), 'utf8');
    assert.match(log, /ignoring SIGTERM/, 'the worker got SIGTERM first');
    assert.equal(readStateFile(sb).tasks.stubborn!.history.at(-1)!.outcome, 'interrupted');
    assert.deepEqual(processesUnder(sb.dir), []);
  });

  test('when it runs past max_runtime', async () => {
    const sb = makeSandbox();
    writeConfig(sb, {
      worker: { command: [process.execPath, IGNORE_SIGTERM, sb.countFile], max_runtime: '2s', stop_grace: '1s', max_attempts: 1 },
    });
    const daemon = await startDaemon(sb);
    await addTask(sb, 'stubborn', 'anything');
    const [line] = await waitForStarts(sb.countFile);
    const t = await waitFor(
      'the task to end',
      async () => {
        const x = await task(sb, 'stubborn');
        return x && x.state !== 'pending' && x.state !== 'running' ? x : null;
      },
      15_000,
      200,
    );
    assert.equal(t.history.at(-1)!.outcome, 'timeout', JSON.stringify(t.history));
    assert.equal(pidAlive(line!.pid), false, `worker ${line!.pid} outlived its timeout\n${daemon.log()}`);
    const log = readFileSync(join(sb.stateDir, 'logs', 'stubborn', '1.log'), 'utf8');
    assert.match(log, /ignoring SIGTERM/);
    assert.equal((await daemon.stop()).code, 0);
  });
});
