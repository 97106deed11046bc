// The stop sequence shared by the executors (TERM, KILL after the grace, until nothing is left)
// and how an attempt's end waits for what the worker left behind, against a fake target.
import assert from 'node:assert/strict';
import { describe, test } from 'node:test';
import { attemptEnd, terminate, type StopTarget } from '../../../src/executors/terminate.ts';
import type { WorkerExit } from '../../../src/executors/types.ts';

/** A fake attempt: `procs` processes; each signal in `dies` ends all of them. */
function target(procs: number, dies: ('SIGTERM' | 'SIGKILL')[]): StopTarget & { sent: string[]; scans: number } {
  let left = procs;
  const t = {
    sent: [] as string[],
    scans: 0,
    signal(s: 'SIGTERM' | 'SIGKILL') {
      t.sent.push(s);
      if (dies.includes(s)) left = 0;
    },
    left() {
      t.scans++;
      return left;
    },
  };
  return t;
}

const exit: WorkerExit = { spawnError: null, exitCode: 0, signal: null, oomKilled: false, lost: false, endedAt: 1 };
const fast = { pollMs: 5, killWaitMs: 50 };

describe('terminate', () => {
  test('nothing left: no signal at all', async () => {
    const t = target(0, []);
    assert.equal(await terminate(t, 1000, fast), 'gone');
    assert.deepEqual(t.sent, []);
  });

  test('processes that end on SIGTERM: no SIGKILL', async () => {
    const t = target(2, ['SIGTERM']);
    assert.equal(await terminate(t, 1000, fast), 'term');
    assert.deepEqual(t.sent, ['SIGTERM']);
  });

  test('a process that ignores SIGTERM gets SIGKILL once the grace is over, not before', async () => {
    const t = target(1, ['SIGKILL']);
    const t0 = Date.now();
    assert.equal(await terminate(t, 60, fast), 'killed');
    assert.ok(Date.now() - t0 >= 55, `SIGKILL after ${Date.now() - t0} ms`);
    assert.deepEqual(t.sent, ['SIGTERM', 'SIGKILL']);
  });

  test('a process that outlives SIGKILL (uninterruptible sleep) is reported stuck after the kill wait', async () => {
    const t = target(1, []);
    assert.equal(await terminate(t, 10, fast), 'stuck');
    assert.equal(t.sent[0], 'SIGTERM');
    assert.ok(t.sent.filter((s) => s === 'SIGKILL').length >= 2, 'SIGKILL is repeated while waiting');
  });
});

describe('attemptEnd', () => {
  test('the worker exits alone and leaves nothing: exited resolves with its exit, no signal', async () => {
    const t = target(0, []);
    const end = attemptEnd(t, Promise.resolve(exit), 1000);
    assert.deepEqual(await end.exited, exit);
    assert.deepEqual(t.sent, []);
  });

  test('the worker exits alone and leaves a TERM-ignoring child: it is killed, then counted in leftBehind', async () => {
    const t = target(1, ['SIGKILL']);
    const end = attemptEnd(t, Promise.resolve(exit), 20);
    const e = await end.exited;
    assert.equal(e.leftBehind, 1);
    assert.deepEqual(t.sent, ['SIGTERM', 'SIGKILL']);
  });

  test('stop: one TERM/KILL sequence, stop resolves after exited, nothing counted as left behind', async () => {
    const t = target(2, ['SIGKILL']);
    let leaderDone!: (e: WorkerExit) => void;
    const end = attemptEnd(t, new Promise<WorkerExit>((r) => (leaderDone = r)), 1000);
    let stopped = false;
    const stopping = end.stop(20).then(() => (stopped = true));
    await new Promise((r) => setTimeout(r, 60));
    assert.deepEqual(t.sent, ['SIGTERM', 'SIGKILL']);
    assert.equal(stopped, false, 'stop waits for the worker exit itself');
    leaderDone(exit);
    await stopping;
    assert.equal((await end.exited).leftBehind, undefined);
    await end.stop(20); // after the end: nothing to do
    assert.deepEqual(t.sent, ['SIGTERM', 'SIGKILL']);
  });
});
