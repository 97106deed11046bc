// The systemd executor against a real systemd: limits enforced, OOM classified, names unique.
import assert from 'node:assert/strict';
import { spawn } from 'node:child_process';
import { mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import { after, before, describe, test } from 'node:test';
import { setTimeout as sleep } from 'node:timers/promises';
import { SystemdExecutor } from '../../src/executors/systemd-scope.ts';
import { unitName } from '../../src/executors/systemd-unit.ts';
import { lookupUser } from '../../src/host/users.ts';
import { FAKE_WORKER } from '../helpers/paths.ts';
import {
  addTask,
  cpuShare,
  ensureWorkerUser,
  freshDir,
  inHarness,
  installService,
  release,
  scaled,
  SLOWDOWN,
  sh,
  status,
  stopService,
  tasks,
  unitProps,
  untilReleased,
  waitFor,
  writeConfig,
} from './harness.ts';

const skip = inHarness() ? false : 'needs the real-systemd harness (scripts/with-systemd.sh)';

describe('systemd scopes', { skip }, () => {
  before(() => ensureWorkerUser());
  after(() => stopService());

  test('a worker allocating 2x memory_max is OOM-killed in its scope and classified oom_killed; warden and the other worker keep running', async () => {
    const dir = freshDir('oom');
    const config = writeConfig(dir, { worker: { memory_max: '64M' } });
    installService(config);
    assert.equal(sh('systemctl', ['start', 'warden.service']).code, 0);
    const mainPid = unitProps('warden.service', 'MainPID').MainPID;
    addTask(config, 'steady', `sleep=0 ${untilReleased(dir)}`); // runs until the test has seen it outlive the hog
    addTask(config, 'hog', 'alloc=128M sleep=5');
    const hog = await waitFor('hog classified', () => tasks(config).find((t) => t.id === 'hog' && t.history.length > 0), 20_000);
    assert.equal(hog.history[0]?.outcome, 'oom_killed', JSON.stringify(hog.history[0]));
    const mid = status(config);
    assert.ok(mid, 'warden answers after the OOM kill');
    assert.ok(
      mid.workers.some((w) => w.taskId === 'steady'),
      'the other worker still runs',
    );
    release(dir);
    const steady = await waitFor('steady done', () => tasks(config).find((t) => t.id === 'steady' && t.state === 'succeeded'), 20_000);
    assert.equal(steady.state, 'succeeded');
    const props = unitProps('warden.service', 'ActiveState', 'MainPID', 'NRestarts');
    assert.equal(props.ActiveState, 'active');
    assert.equal(props.MainPID, mainPid, 'warden was not restarted');
    assert.equal(props.NRestarts, '0');
    stopService();
  });

  test('a busy-loop worker with cpu_quota = "20%" uses at most about 25% of a core over 3 s', async () => {
    const dir = freshDir('cpu');
    mkdirSync(`${dir}/wt`, { recursive: true });
    writeFileSync(`${dir}/prompt`, 'busy=1 sleep=600'); // spins until stopped below
    const ex = new SystemdExecutor({ user: lookupUser('warden'), maxRuntimeMs: 60_000, stopGraceMs: 1000, memoryEnforced: true });
    const h = await ex.spawn({
      taskId: 'busy',
      attempt: 1,
      argv: [FAKE_WORKER],
      cwd: `${dir}/wt`,
      stdinFile: `${dir}/prompt`,
      logFile: `${dir}/log`,
      runBase: `${dir}/run/busy.1`,
      memoryMax: 256 * 1024 ** 2,
      cpuQuota: 20,
      tasksMax: 512,
      env: { PATH: process.env.PATH ?? '/usr/bin:/bin' },
    });
    const uid = /^Uid:\s+(\d+)/m.exec(readFileSync(`/proc/${h.pid}/status`, 'latin1'))?.[1];
    assert.equal(Number(uid), lookupUser('warden')?.uid, 'the worker runs as worker.user, not root');
    await sleep(scaled(1000)); // node's own start uses CPU too, slowly under emulation
    const { share, throttled } = await cpuShare(unitName('busy'), 3000);
    console.log(`# busy worker under CPUQuota=20%: ${(share * 100).toFixed(1)}% of one core over 3 s`);
    assert.ok(share <= 0.25, `used ${(share * 100).toFixed(1)}% of a core`);
    // a loaded or emulated host gives less than the quota: the floor scales with the machine
    assert.ok(share >= 0.1 / SLOWDOWN, `the busy loop really ran (${(share * 100).toFixed(1)}%)`);
    if (throttled !== null) assert.ok(throttled, 'the scope cgroup reports CFS throttling');
    await h.stop(1000);
  });

  test('systemd refuses a second scope of the same name: the spawn fails and the other unit is left alone', async () => {
    const dir = freshDir('dup');
    mkdirSync(`${dir}/wt`, { recursive: true });
    writeFileSync(`${dir}/prompt`, 'sleep=1');
    const first = spawn('systemd-run', ['--scope', '--quiet', `--unit=${unitName('dup')}`, 'sleep', '30'], { stdio: 'ignore' });
    await waitFor('first scope active', () => unitProps(unitName('dup'), 'ActiveState').ActiveState === 'active');
    const ex = new SystemdExecutor({ user: lookupUser('warden'), maxRuntimeMs: 60_000, stopGraceMs: 1000, memoryEnforced: true });
    await assert.rejects(
      ex.spawn({
        taskId: 'dup',
        attempt: 1,
        argv: [FAKE_WORKER],
        cwd: `${dir}/wt`,
        stdinFile: `${dir}/prompt`,
        logFile: `${dir}/log`,
        runBase: `${dir}/run/dup.1`,
        memoryMax: 256 * 1024 ** 2,
        cpuQuota: 100,
        tasksMax: 512,
        env: { PATH: process.env.PATH ?? '/usr/bin:/bin' },
      }),
      (err: Error) => err.name === 'SpawnError' && /refused the scope/.test(err.message),
    );
    assert.match(readFileSync(`${dir}/log`, 'utf8'), /already loaded|already exists|fragment/);
    assert.equal(unitProps(unitName('dup'), 'ActiveState').ActiveState, 'active', "not warden's unit: left running");
    sh('systemctl', ['stop', unitName('dup')]);
    first.kill();
  });

  test('a stray warden-*.scope that belongs to no running task is stopped at start', async () => {
    const dir = freshDir('stray');
    const config = writeConfig(dir);
    installService(config); // first: it stops every warden-*.scope a failed test may have left
    spawn('systemd-run', ['--scope', '--quiet', `--unit=${unitName('orphan')}`, 'sleep', '60'], { stdio: 'ignore' });
    await waitFor('stray active', () => unitProps(unitName('orphan'), 'ActiveState').ActiveState === 'active');
    assert.equal(sh('systemctl', ['start', 'warden.service']).code, 0);
    await waitFor('stray stopped', () => unitProps(unitName('orphan'), 'ActiveState').ActiveState !== 'active', 15_000);
    // journald may lag a little behind the process: wait for the line rather than read once
    await waitFor('stray stop logged', () =>
      /stray worker.*warden-orphan\.scope/.test(sh('journalctl', ['-u', 'warden.service', '--no-pager', '-o', 'cat']).stdout),
    );
    stopService();
  });
});
