// The owner's per-task commands on a real daemon with real workers (direct executor): a dead task
// brought back with `task retry` runs again and succeeds; `task cancel` of a running worker whose
// child traps SIGTERM leaves no process behind (checked with ps) and ends `cancelled`; refusals
// name the state and exit 2; commands given while the daemon is down are queued and applied when
// it starts; `status` and `tasks` with the daemon stopped print the last state and exit 3.
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { existsSync, readdirSync, rmSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { after, describe, test } from 'node:test';
import { FIXTURES } from '../helpers/paths.ts';
import { killMarked, uniqueMarker } from '../helpers/procs.ts';
import { waitFor } from '../helpers/wait.ts';
import { addTask, cleanupAll, cli, cliOk, countLines, makeSandbox, startDaemon, task, waitForStarts, type Sandbox } from './harness.ts';

const markers: string[] = [];
after(async () => {
  for (const m of markers) killMarked(m);
  await cleanupAll();
});

/** Waits until the task is in `state`, and returns it. */
function waitForState(sb: Sandbox, id: string, state: string, timeoutMs = 20_000) {
  return waitFor(`${id} to be ${state}`, async () => ((await task(sb, id))?.state === state ? task(sb, id) : null), timeoutMs, 150);
}

/** Live processes whose command line carries `marker`, as `ps` lists them (zombies are gone already). */
function psWithMarker(marker: string): string[] {
  const r = spawnSync('ps', ['-eo', 'pid=,stat=,args='], { encoding: 'utf8' });
  assert.equal(r.status, 0, `ps failed: ${r.stderr}`);
  return r.stdout.split('\n').filter((l) => l.includes(marker) && !/^\s*\d+\s+Z/.test(l));
}

const oneLine = (text: string) => text.split('\n').filter((l) => l.trim() !== '');

test('a dead task brought back with `task retry` runs again, succeeds, and keeps its history', async () => {
  const sb = makeSandbox({ worker: { max_attempts: 1 } });
  const broken = join(sb.dir, 'broken');
  writeFileSync(broken, '');
  const d = await startDaemon(sb);
  await addTask(sb, 'fixme', `sleep=1.2 fail_while=${broken} count=${sb.countFile}`);
  const dead = await waitForState(sb, 'fixme', 'dead');
  assert.equal(dead.history.length, 1);
  assert.equal(dead.history[0]!.outcome, 'exit_nonzero');
  assert.match((await cliOk(sb.configPath, ['tasks', '--failed'])).stdout, /^fixme +dead +2 +1 +1 /m, 'RUNS 1, FAILS 1');

  rmSync(broken); // the owner fixes the cause, then retries
  const r = await cli(sb.configPath, ['task', 'retry', 'fixme']);
  assert.equal(r.code, 0, r.stderr);
  assert.deepEqual(oneLine(r.stdout), ['retried fixme: dead -> pending, attempts reset to 0 (history of 1 attempt kept)']);
  const ok = await waitForState(sb, 'fixme', 'succeeded');
  assert.deepEqual(
    ok.history.map((h) => h.outcome),
    ['exit_nonzero', 'succeeded'],
  );
  assert.equal(countLines(sb.countFile).length, 2, 'the worker ran twice');
  const show = (await cliOk(sb.configPath, ['task', 'show', 'fixme'])).stdout;
  assert.match(show, /^task fixme: succeeded/);
  assert.match(show, /#1 exit_nonzero: exit 1, ran \d+s/);
  assert.match(show, /#1 succeeded: exit 0/);
  assert.match(show, new RegExp(`log ${sb.stateDir}/logs/fixme/1\\.log`));
  assert.equal((await d.stop()).code, 0);
});

test('`task cancel` of a running task stops its worker and a child that traps SIGTERM; no process is left and the task is cancelled', async () => {
  const marker = uniqueMarker('cancel');
  markers.push(marker);
  const pidFile = join(process.env.TMPDIR ?? '/tmp', `${marker}.pids`);
  const sb = makeSandbox({
    worker: {
      command: [process.execPath, join(FIXTURES, 'stray-child.mjs'), 'run', marker, pidFile],
      stop_grace: '1s',
      startup_window: '0s',
    },
  });
  const d = await startDaemon(sb);
  await addTask(sb, 'long', 'keeps running');
  await waitForStarts(pidFile, 1);
  await waitForState(sb, 'long', 'running');
  assert.ok(psWithMarker(marker).length >= 1, 'the child runs before the cancel');

  const r = await cli(sb.configPath, ['task', 'cancel', 'long']);
  assert.equal(r.code, 0, r.stderr);
  assert.match(r.stdout, /^cancelled long: its worker \(pid \d+\) was stopped\n$/);
  // the command returns once the stop is complete: nothing to wait for
  const left = psWithMarker(marker);
  console.log(`task cancel: processes left with the marker: ${left.length}`);
  assert.deepEqual(left, []);
  const t = await task(sb, 'long');
  assert.equal(t?.state, 'cancelled');
  assert.equal(t?.note, 'cancelled: by the owner (warden task cancel)');
  assert.equal(t?.history.at(-1)?.outcome, 'interrupted', 'a cancel costs no attempt');
  assert.equal((await d.stop()).code, 0);
  rmSync(pidFile, { force: true });
});

describe('refusals name the state, print one line and exit 2', () => {
  test('with the daemon running', async () => {
    const sb = makeSandbox({ worker: { max_runtime: '15m' } });
    const d = await startDaemon(sb);
    await addTask(sb, 'done', 'sleep=1.2');
    await waitForState(sb, 'done', 'succeeded');
    await addTask(sb, 'run', 'sleep=600'); // outlives the slowest run of the CLI calls below
    await waitForState(sb, 'run', 'running');
    for (const [args, line] of [
      [['task', 'remove', 'run'], 'warden: cannot remove running task run: cancel it first'],
      [['task', 'retry', 'run'], 'warden: cannot retry running task run: it is running now (cancel it first to start over)'],
      [['task', 'retry', 'done'], 'warden: cannot retry succeeded task done: it has succeeded; add a new task to run it again'],
      [['task', 'cancel', 'done'], 'warden: cannot cancel succeeded task done: it has already ended'],
      [['task', 'priority', 'done', '1'], 'warden: cannot change the priority of succeeded task done: it has ended and will not run again'],
      [['task', 'retry', 'nope'], 'warden: no task nope (warden tasks lists them)'],
    ] as const) {
      const r = await cli(sb.configPath, [...args]);
      assert.equal(r.code, 2, `${args.join(' ')}: ${r.stdout}${r.stderr}`);
      assert.equal(r.stdout, '', args.join(' '));
      assert.deepEqual(oneLine(r.stderr), [line]);
    }
    assert.equal((await task(sb, 'run'))?.state, 'running', 'a refusal changes nothing');
    const prio = await cli(sb.configPath, ['task', 'priority', 'run', '0']);
    assert.deepEqual([prio.code, prio.stdout], [0, 'priority of run: 2 -> 0\n'], prio.stderr);
    const add = await cli(sb.configPath, ['task', 'add', 'done', '--prompt', 'again']);
    assert.equal(add.code, 2);
    assert.match(add.stderr, /^warden: task done already exists \(state succeeded\)\n$/);
    assert.equal((await d.stop()).code, 0);
  });
});

test('commands given while the daemon is down are checked, queued, and applied in order when it starts', async () => {
  const sb = makeSandbox({ worker: { max_attempts: 1 } });
  let d = await startDaemon(sb);
  await addTask(sb, 'd1', `sleep=1.2 exit=3 count=${sb.countFile}`);
  await waitForState(sb, 'd1', 'dead');
  assert.equal((await d.stop()).code, 0);

  const add = await cli(sb.configPath, ['task', 'add', 'd1', '--prompt', 'x']);
  assert.match(add.stderr, /task d1 already exists \(state dead\); to run it again: warden task retry d1/);
  // a refusal while down: nothing is queued
  const refused = await cli(sb.configPath, ['task', 'remove', 'nope']);
  assert.equal(refused.code, 2);
  assert.match(refused.stderr, /^warden: no task nope .*\(daemon not running; nothing queued\)\n$/);
  // queued in order: add n1, reprioritise it, cancel it, retry it; retry d1 (which fails again), then remove it
  await addTask(sb, 'n1', `sleep=1.2 count=${sb.countFile}`);
  for (const args of [
    ['task', 'priority', 'n1', '7'],
    ['task', 'cancel', 'n1'],
    ['task', 'retry', 'n1'],
    ['task', 'retry', 'd1'],
  ]) {
    const r = await cli(sb.configPath, args);
    assert.equal(r.code, 0, `${args.join(' ')}: ${r.stderr}`);
    assert.match(r.stdout, new RegExp(`^daemon not running: queued ${args[1]}.* task ${args[2]}; the daemon applies it when it starts`));
  }
  // checked against the state as the queue will leave it: n1 is pending again after the queued retry
  const early = await cli(sb.configPath, ['task', 'remove', 'n1']);
  assert.equal(early.code, 2);
  assert.match(early.stderr, /cannot remove pending task n1: cancel it first \(daemon not running; nothing queued\)/);

  d = await startDaemon(sb);
  const n1 = await waitForState(sb, 'n1', 'succeeded');
  assert.equal(n1.priority, 7);
  await waitFor('d1 to run again and die', async () => ((await task(sb, 'd1'))?.history.length === 2 ? true : null));
  assert.equal((await task(sb, 'd1'))?.state, 'dead');
  assert.deepEqual(
    readdirSync(join(sb.stateDir, 'queue')).filter((f) => f.endsWith('.json')),
    [],
    'every queued file was applied',
  );
  assert.ok(!existsSync(join(sb.stateDir, 'queue', 'rejected')), 'nothing was refused');
  assert.match(d.log(), /task command: priority of n1: 2 -> 7/);
  assert.equal((await d.stop()).code, 0);
});

test('`status` and `tasks` with the daemon stopped print the last state under a first line saying so, and exit 3', async () => {
  const sb = makeSandbox();
  const d = await startDaemon(sb);
  await addTask(sb, 'ok1', 'sleep=1.2');
  await waitForState(sb, 'ok1', 'succeeded');
  assert.equal((await d.stop()).code, 0);

  const s = await cli(sb.configPath, ['status']);
  assert.equal(s.code, 3, s.stderr);
  const lines = oneLine(s.stdout);
  assert.match(lines[0]!, /^daemon not running; state as of \d{4}-\d\d-\d\d \d\d:\d\d:\d\d \((?:\d+s ago|now)\): 0\/1 workers, 0 queued$/);
  assert.ok(
    lines.some((l) => /^tasks: .*succeeded=1/.test(l)),
    s.stdout,
  );
  assert.ok(
    lines.some((l) => /^breaker: +closed/.test(l)),
    s.stdout,
  );

  const t = await cli(sb.configPath, ['tasks']);
  assert.equal(t.code, 3);
  const [first, head, row] = oneLine(t.stdout);
  assert.match(first!, /^daemon not running; state as of /);
  assert.match(head!, /^TASK +STATE +PRIO +RUNS +FAILS +COST +TURNS +NOTE$/);
  assert.match(row!, /^ok1 +succeeded +2 +1 +0 +\$0\.00 +0 /, 'succeeded on its first run: RUNS 1');

  const json = await cli(sb.configPath, ['tasks', '--json']);
  assert.equal(json.code, 3);
  assert.match(json.stderr, /^daemon not running; state as of /);
  assert.deepEqual(
    (JSON.parse(json.stdout) as { id: string }[]).map((x) => x.id),
    ['ok1'],
  );
  const show = await cli(sb.configPath, ['task', 'show', 'ok1']);
  assert.equal(show.code, 3);
  assert.match(show.stdout, /^daemon not running; state as of .*\ntask ok1: succeeded/);
});
