// Issue 16, item 3: descendants that ignore SIGTERM. A worker forks a child that traps TERM and
// stays in the worker's process group. Whatever ends the attempt (max_runtime, the worker exiting
// on its own, warden's own SIGTERM), no process of the attempt may survive it: each child carries
// a unique marker, and after each case /proc is scanned for it. Direct executor, real daemon.
import assert from 'node:assert/strict';
import { join } from 'node:path';
import { after, describe, test } from 'node:test';
import { addTask, cleanupAll, makeSandbox, startDaemon, task, waitForStarts, type Sandbox } from '../integration/harness.ts';
import { FIXTURES } from '../helpers/paths.ts';
import { killMarked, processesWithMarker, uniqueMarker } from '../helpers/procs.ts';
import { waitFor } from '../helpers/wait.ts';

const STRAY_CHILD = join(FIXTURES, 'stray-child.mjs');
const markers: string[] = [];

after(async () => {
  for (const m of markers) killMarked(m);
  await cleanupAll();
});

function sandbox(mode: 'run' | 'exit', label: string, worker: Record<string, unknown> = {}): { sb: Sandbox; marker: string } {
  const marker = uniqueMarker(label);
  markers.push(marker);
  const pidFile = `${process.env.TMPDIR ?? '/tmp'}/${marker}.pids`;
  const sb = makeSandbox({
    worker: {
      command: [process.execPath, STRAY_CHILD, mode, marker, pidFile],
      max_attempts: 1,
      stop_grace: '1s',
      startup_window: '0s',
      ...worker,
    },
  });
  sb.countFile = pidFile;
  return { sb, marker };
}

function report(label: string, marker: string): number {
  const left = processesWithMarker(marker);
  console.log(`stray-processes: ${label}: processes left ${left.length}${left.length ? ` (pids ${left.join(' ')})` : ''}`);
  return left.length;
}

describe('descendants that ignore SIGTERM (direct executor)', () => {
  test('(a) max_runtime: the whole process group is gone when the timeout is recorded', async () => {
    const { sb, marker } = sandbox('run', 'timeout', { max_runtime: '2s' });
    const d = await startDaemon(sb);
    await addTask(sb, 'to1', 'stray child, timeout');
    await waitForStarts(sb.countFile, 1);
    const t = await waitFor(
      'the timeout recorded',
      async () => {
        const v = await task(sb, 'to1');
        return v && v.state !== 'running' && v.state !== 'pending' && v.history.length > 0 ? v : null;
      },
      20_000,
    );
    assert.equal(t.history[0]?.outcome, 'timeout', JSON.stringify(t.history));
    assert.equal(report('(a) max_runtime timeout', marker), 0, d.log());
    await d.stop();
    assert.equal(report('(a) after warden stopped', marker), 0);
  });

  test('(b) the worker exits on its own: what it left in its group is killed before the attempt is recorded', async () => {
    const { sb, marker } = sandbox('exit', 'leader-exit');
    const d = await startDaemon(sb);
    await addTask(sb, 'ex1', 'stray child, leader exits');
    await waitForStarts(sb.countFile, 1);
    const t = await waitFor(
      'the attempt recorded',
      async () => {
        const v = await task(sb, 'ex1');
        return v && v.state !== 'running' && v.state !== 'pending' && v.history.length > 0 ? v : null;
      },
      20_000,
    );
    assert.equal(t.history[0]?.exitCode, 0, JSON.stringify(t.history));
    assert.equal(report('(b) worker exited on its own', marker), 0, d.log());
    assert.match(d.log(), /left .*process/);
    await d.stop();
  });

  test('(c) warden SIGTERM: "stopped cleanly" only once every process of the attempt is gone', async () => {
    const { sb, marker } = sandbox('run', 'shutdown');
    const d = await startDaemon(sb);
    await addTask(sb, 'sd1', 'stray child, warden stops');
    await waitForStarts(sb.countFile, 1);
    await waitFor('the child to run', () => processesWithMarker(marker).length >= 3, 5000);
    await new Promise((r) => setTimeout(r, 500)); // the child's SIGTERM handler is installed
    const r = await d.stop();
    assert.equal(r.code, 0, d.log());
    assert.match(d.log(), /warden stopped cleanly/);
    assert.equal(report('(c) warden SIGTERM shutdown', marker), 0, d.log());
  });
});
