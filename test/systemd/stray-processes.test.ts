// Issue 16, item 3, under a real systemd: a worker forks a child that traps SIGTERM, inside the
// worker's scope. Whatever ends the attempt (max_runtime, the worker exiting on its own,
// `systemctl stop warden`), the scope must be gone and no marked process left. A scope left over
// from an earlier attempt is stopped before the next one; a scope that systemd refuses (someone
// else's unit of that name) is a spawn failure, never a running task.
import assert from 'node:assert/strict';
import { spawn } from 'node:child_process';
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { after, before, describe, test } from 'node:test';
import { FIXTURES } from '../helpers/paths.ts';
import { killMarked, processesWithMarker, uniqueMarker } from '../helpers/procs.ts';
import type { TaskView } from '../helpers/cli.ts';
import {
  addTask,
  catchesSigterm,
  ensureWorkerUser,
  freshDir,
  inHarness,
  installService,
  journal,
  nowForJournal,
  sh,
  status,
  stopService,
  tasks,
  waitFor,
  writeConfig,
} from './harness.ts';

const skip = inHarness() ? false : 'needs the real-systemd harness (scripts/with-systemd.sh)';
const STRAY_CHILD = join(FIXTURES, 'stray-child.mjs');
const TRAP_TERM = "process.on('SIGTERM', () => {}); setInterval(() => {}, 1000);";
const markers: string[] = [];

function start(mode: 'run' | 'exit', label: string, worker: Record<string, unknown> = {}): { config: string; marker: string } {
  const marker = uniqueMarker(label);
  markers.push(marker);
  const dir = freshDir(label);
  const config = writeConfig(dir, {
    worker: {
      command: [process.execPath, STRAY_CHILD, mode, marker, `${dir}/out/pids`],
      max_attempts: 1,
      stop_grace: '1s',
      startup_window: '0s',
      ...worker,
    },
  });
  installService(config);
  assert.equal(sh('systemctl', ['start', 'warden.service']).code, 0);
  return { config, marker };
}

function readCmdline(pid: number): string {
  try {
    return readFileSync(`/proc/${pid}/cmdline`, 'latin1');
  } catch {
    return '';
  }
}

function scopeState(task: string): string {
  return sh('systemctl', ['is-active', `warden-${task}.scope`]).stdout.trim();
}

function report(label: string, marker: string, task: string): number {
  const left = processesWithMarker(marker);
  console.log(`stray-processes (systemd): ${label}: scope ${scopeState(task)}, processes left ${left.length}`);
  return left.length;
}

function recorded(config: string, id: string): Promise<TaskView> {
  return waitFor(
    `${id}'s attempt recorded`,
    () => tasks(config).find((t) => t.id === id && t.state !== 'running' && t.state !== 'pending' && t.history.length > 0),
    30_000,
  );
}

/** A scope made outside warden, as `systemd-run --scope` does, running a TERM-trapping node. */
async function foreignScope(task: string, marker: string, description?: string): Promise<void> {
  const args = ['--scope', '--quiet', `--unit=warden-${task}.scope`, '--slice=warden-workers.slice'];
  if (description) args.push(`--description=${description}`);
  spawn('systemd-run', [...args, process.execPath, '-e', TRAP_TERM, '--', marker], { detached: true, stdio: 'ignore' }).unref();
  await waitFor(`warden-${task}.scope active, its process trapping SIGTERM`, () => {
    const pids = processesWithMarker(marker);
    return scopeState(task) === 'active' && pids.length > 0 && pids.every(catchesSigterm);
  });
}

describe('descendants that ignore SIGTERM (systemd executor)', { skip }, () => {
  before(() => ensureWorkerUser());
  after(() => {
    stopService();
    for (const m of markers) killMarked(m);
  });

  test('max_runtime: the scope is gone and no process is left when the timeout is recorded', async () => {
    const { config, marker } = start('run', 'sd-timeout', { max_runtime: '3s' });
    addTask(config, 'sto', 'stray child, timeout');
    const t = await recorded(config, 'sto');
    assert.equal(t.history[0]?.outcome, 'timeout', JSON.stringify(t.history));
    assert.notEqual(scopeState('sto'), 'active');
    assert.equal(report('max_runtime timeout', marker, 'sto'), 0);
    stopService();
  });

  test('the worker exits on its own: the rest of its scope is stopped before the attempt is recorded', async () => {
    const { config, marker } = start('exit', 'sd-exit');
    const since = nowForJournal();
    addTask(config, 'sex', 'stray child, worker exits');
    const t = await recorded(config, 'sex');
    assert.equal(t.history[0]?.exitCode, 0, JSON.stringify(t.history));
    assert.notEqual(scopeState('sex'), 'active');
    assert.equal(report('worker exited on its own', marker, 'sex'), 0);
    assert.match(journal('warden.service', since), /left processes running/);
    stopService();
  });

  test('systemctl stop warden: the scope is gone and no process is left', async () => {
    const { config, marker } = start('run', 'sd-stop');
    addTask(config, 'sst', 'stray child, warden stops');
    // the worker, its wrapper and the child, which has installed its SIGTERM handler
    await waitFor('the child runs, trapping SIGTERM', () => {
      const pids = processesWithMarker(marker);
      return pids.length >= 3 && pids.some((p) => catchesSigterm(p) && readCmdline(p).includes(`--marker=${marker}`));
    });
    assert.equal(sh('systemctl', ['stop', 'warden.service']).code, 0);
    assert.notEqual(scopeState('sst'), 'active');
    assert.equal(report('systemctl stop warden', marker, 'sst'), 0);
    stopService();
  });

  test('a scope left over from an earlier attempt of the task is stopped first; the attempt then starts cleanly', async () => {
    const { config, marker } = start('exit', 'sd-leftover');
    const old = uniqueMarker('sd-leftover-old');
    markers.push(old);
    await foreignScope('slo', old, 'warden worker for task slo (attempt 1)');
    const since = nowForJournal();
    addTask(config, 'slo', 'after a leftover scope');
    const t = await recorded(config, 'slo');
    assert.equal(t.history[0]?.exitCode, 0, JSON.stringify(t.history));
    assert.equal(processesWithMarker(old).length, 0, 'the leftover scope was stopped');
    assert.equal(report('retry after a leftover scope', marker, 'slo'), 0);
    assert.match(journal('warden.service', since), /left over from an earlier attempt/);
    stopService();
  });

  test('a scope systemd refuses (another unit of that name) is spawn_failed, never a running task', async () => {
    const { config } = start('run', 'sd-refused');
    const foreign = uniqueMarker('sd-refused-foreign');
    markers.push(foreign);
    await foreignScope('srf', foreign);
    const since = nowForJournal();
    addTask(config, 'srf', 'a refused scope');
    let seenRunning = false;
    const t = await waitFor(
      'srf recorded',
      () => {
        if (status(config)?.workers.some((w) => w.taskId === 'srf')) seenRunning = true;
        return tasks(config).find((x) => x.id === 'srf' && x.history.length > 0);
      },
      30_000,
      100,
    );
    assert.equal(t.history[0]?.outcome, 'spawn_failed', JSON.stringify(t.history));
    assert.equal(seenRunning, false, 'the task never showed as running');
    const log = journal('warden.service', since);
    assert.doesNotMatch(log, /worker started task=srf/);
    assert.match(log, /already loaded|refused/);
    assert.equal(scopeState('srf'), 'active', 'someone else’s unit is left alone');
    console.log(`stray-processes (systemd): refused spawn: outcome ${t.history[0]?.outcome}, seen running ${seenRunning}`);
    sh('systemctl', ['stop', 'warden-srf.scope']);
    killMarked(foreign);
    stopService();
  });
});
