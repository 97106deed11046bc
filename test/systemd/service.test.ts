// warden as warden.service under a real systemd: watchdog, crash recovery without double
// spawns, a bad config that must not restart-loop, the STATUS line, reload, stop.
import assert from 'node:assert/strict';
import { readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { after, before, describe, test } from 'node:test';
import {
  addTask,
  cli,
  ensureWorkerUser,
  freshDir,
  inHarness,
  installService,
  journal,
  nowForJournal,
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
import { FIXTURES } from '../helpers/paths.ts';

const skip = inHarness() ? false : 'needs the real-systemd harness (scripts/with-systemd.sh)';

function lines(file: string): string[] {
  try {
    return readFileSync(file, 'utf8').split('\n').filter(Boolean);
  } catch {
    return [];
  }
}

describe('warden.service', { skip }, () => {
  before(() => ensureWorkerUser());
  after(() => stopService());

  test('a wedged loop stops the heartbeat: Watchdog timeout, restart, and the open breaker and running task survive it', async () => {
    const dir = freshDir('watchdog');
    const config = writeConfig(dir, { breaker: { failures: 2, window: '1m', cooldown: '1h' }, supervisor: { max_concurrent_workers: 3 } });
    // 2 s on a fast machine; a slow one (emulation, a Pi) must not miss heartbeats before the stall
    installService(config, { watchdogSec: Math.max(2, Math.ceil(2 * SLOWDOWN)), env: { WARDEN_DEBUG_STALL: '1' } });
    const since = nowForJournal();
    assert.equal(sh('systemctl', ['start', 'warden.service']).code, 0);
    addTask(config, 'long', `sleep=0 ${untilReleased(dir)}`); // runs until adopted, however slow the restart
    await waitFor('long running', () => status(config)?.workers.find((w) => w.taskId === 'long'));
    addTask(config, 'bad1', 'exit=1 sleep=0');
    addTask(config, 'bad2', 'exit=1 sleep=0');
    await waitFor('breaker open', () => status(config)?.breaker.phase === 'open');
    const before = status(config)!;
    const longPid = before.workers.find((w) => w.taskId === 'long')!.pid;
    const mainPid = unitProps('warden.service', 'MainPID').MainPID;
    assert.equal(sh('systemctl', ['kill', '--signal=SIGUSR2', '--kill-who=main', 'warden.service']).code, 0);
    await waitFor('restart', () => Number(unitProps('warden.service', 'NRestarts').NRestarts) >= 1, 20_000);
    const after = await waitFor(
      'warden answers again',
      () => {
        const s = status(config);
        return s && s.daemon.pid !== Number(mainPid) ? s : null;
      },
      20_000,
    );
    await waitFor('Watchdog timeout in the journal', () => /[Ww]atchdog timeout/.test(journal('warden.service', since)));
    assert.equal(after.breaker.phase, 'open', 'the breaker is still open after the restart');
    assert.deepEqual(after.pause.reasons.includes('breaker'), true);
    const adopted = after.workers.find((w) => w.taskId === 'long');
    assert.ok(adopted, 'the running task was adopted');
    assert.equal(adopted.pid, longPid, 'same worker process, not a respawn');
    release(dir);
    console.log(
      `# watchdog: NRestarts=${unitProps('warden.service', 'NRestarts').NRestarts}, breaker ${after.breaker.phase}, long adopted pid ${adopted.pid}`,
    );
    stopService();
  });

  test('kill -9 of warden while 2 workers run, 20 times: both adopted with the same PIDs, never a third spawn', async () => {
    // 20 rounds; fewer on a slow machine, where each restart takes many seconds (at least 3)
    const loops = Number(process.env.WARDEN_KILL9_LOOPS ?? Math.max(3, Math.round(20 / SLOWDOWN)));
    let duplicates = 0;
    for (let i = 0; i < loops; i++) {
      const dir = freshDir(`kill9-${i}`);
      const counter = `${dir}/out/spawns`;
      const config = writeConfig(dir, { supervisor: { max_concurrent_workers: 2 } });
      installService(config);
      assert.equal(sh('systemctl', ['start', 'warden.service']).code, 0);
      // both run until the restarted warden has adopted them, however long its restart takes
      addTask(config, 'w1', `sleep=0 ${untilReleased(dir)} count=${counter}`);
      addTask(config, 'w2', `sleep=0 ${untilReleased(dir)} count=${counter}`);
      const s1 = await waitFor('two workers', () => {
        const s = status(config);
        return s && s.workers.length === 2 ? s : null;
      });
      const pids = Object.fromEntries(s1.workers.map((w) => [w.taskId, w.pid]));
      assert.equal(sh('systemctl', ['kill', '--signal=SIGKILL', '--kill-who=main', 'warden.service']).code, 0);
      const s2 = await waitFor(
        'restarted warden',
        () => {
          const s = status(config);
          return s && s.daemon.pid !== s1.daemon.pid ? s : null;
        },
        20_000,
      );
      assert.deepEqual(Object.fromEntries(s2.workers.map((w) => [w.taskId, w.pid])), pids, 'both workers adopted with the same PIDs');
      release(dir);
      const done = await waitFor(
        'both succeeded',
        () => {
          const t = tasks(config);
          return t.length === 2 && t.every((x) => x.state === 'succeeded') ? t : null;
        },
        20_000,
      );
      assert.equal(done.length, 2);
      const spawns = lines(counter).length;
      duplicates += spawns - 2;
      assert.equal(spawns, 2, `loop ${i}: ${spawns} spawns for 2 tasks`);
      stopService();
    }
    console.log(`# kill -9 loops: ${loops}, duplicate spawns: ${duplicates}`);
    assert.equal(duplicates, 0);
  });

  test('a bad config fails the unit with exit 78 and no restart loop', async () => {
    const dir = freshDir('badconfig');
    const config = `${dir}/config.toml`;
    writeFileSync(config, '[supervisor]\nstate_dir = "/var/lib/x"\nmax_concurent_workers = 3\n');
    installService(config);
    assert.notEqual(sh('systemctl', ['start', 'warden.service']).code, 0);
    // systemd decides on a restart when the process exits: "failed" (not "activating", substate
    // "auto-restart") means it decided not to restart
    const p = await waitFor('the unit failed', () => {
      const q = unitProps('warden.service', 'ActiveState', 'SubState', 'ExecMainStatus', 'NRestarts', 'Result');
      return q.ActiveState === 'failed' ? q : null;
    });
    assert.equal(p.SubState, 'failed');
    assert.equal(p.ExecMainStatus, '78');
    assert.equal(p.NRestarts, '0');
    assert.equal(p.ActiveState, 'failed');
    await waitFor('the config error in the journal', () =>
      /supervisor\.max_concurent_workers: unknown key/.test(journal('warden.service', '-1min')),
    );
    stopService();
  });

  test('the start limit does not punish a person: 8 manual restarts in a row all succeed', async () => {
    const dir = freshDir('restarts');
    const config = writeConfig(dir);
    installService(config);
    assert.equal(sh('systemctl', ['start', 'warden.service']).code, 0);
    const RESTARTS = 8;
    let ok = 0;
    for (let i = 0; i < RESTARTS; i++) if (sh('systemctl', ['restart', 'warden.service']).code === 0) ok++;
    const p = unitProps('warden.service', 'ActiveState', 'StartLimitBurst', 'StartLimitIntervalUSec');
    console.log(`manual restarts in a row: ${ok} of ${RESTARTS} succeeded; unit ${p.ActiveState}`);
    assert.equal(ok, RESTARTS);
    assert.equal(p.ActiveState, 'active');
    stopService();
  });

  test('systemctl status shows the STATUS line; systemctl reload of a broken config fails visibly while the old one keeps running', async () => {
    const dir = freshDir('reload');
    const config = writeConfig(dir);
    installService(config);
    assert.equal(sh('systemctl', ['start', 'warden.service']).code, 0);
    const st = await waitFor('status text', () => {
      const t = unitProps('warden.service', 'StatusText').StatusText;
      return t && /workers/.test(t) ? t : null;
    });
    assert.match(st, /^0\/2 workers, 0 queued/);
    assert.match(sh('systemctl', ['status', '--no-pager', 'warden.service']).stdout, /Status: "0\/2 workers/);
    const before = status(config)!;
    const good = readFileSync(config, 'utf8');
    writeFileSync(config, good.replace(/^memory_max = .*$/m, 'memory_max = "lots"'));
    const since = nowForJournal();
    const bad = sh('systemctl', ['reload', 'warden.service']);
    assert.notEqual(bad.code, 0, 'systemctl reload fails on a rejected config');
    assert.match(bad.stderr, /Job for warden\.service failed/);
    // the problem lines reach the journal from ExecReload (warden reload), and the daemon logs its refusal
    const j = await waitFor('the rejection in the journal', () => {
      const text = journal('warden.service', since);
      return /config reload failed/.test(text) && /memory_max/.test(text) && /reload rejected/.test(text) ? text : null;
    });
    assert.doesNotMatch(j, /^\s+at /m, 'no stack trace');
    const after = status(config)!;
    assert.equal(after.config.sha256, before.config.sha256, 'still running the old config');
    assert.equal(after.daemon.pid, before.daemon.pid, 'the same daemon');
    assert.deepEqual(unitProps('warden.service', 'ActiveState', 'MainPID'), { ActiveState: 'active', MainPID: String(before.daemon.pid) });
    assert.equal(cli(config, 'reload').code, 78, 'warden reload itself exits 78');

    writeFileSync(config, good.replace('max_concurrent_workers = 2', 'max_concurrent_workers = 3'));
    const ok = sh('systemctl', ['reload', 'warden.service']);
    assert.equal(ok.code, 0, ok.stderr);
    assert.notEqual(status(config)?.config.sha256, before.config.sha256, 'applied when systemctl reload returns');
    await waitFor('status text follows', () => /^0\/3 workers/.test(unitProps('warden.service', 'StatusText').StatusText ?? ''));
    // SIGHUP still reloads
    writeFileSync(config, good.replace('max_concurrent_workers = 2', 'max_concurrent_workers = 4'));
    assert.equal(sh('systemctl', ['kill', '-s', 'HUP', '--kill-who=main', 'warden.service']).code, 0);
    await waitFor('SIGHUP applied', () => /^0\/4 workers/.test(unitProps('warden.service', 'StatusText').StatusText ?? ''));
    stopService();
  });

  test('systemctl stop stops the workers gracefully and puts their tasks back to pending', async () => {
    const dir = freshDir('stop');
    const config = writeConfig(dir);
    installService(config);
    assert.equal(sh('systemctl', ['start', 'warden.service']).code, 0);
    addTask(config, 'job', 'sleep=60');
    const w = await waitFor('worker running', () => status(config)?.workers.find((x) => x.taskId === 'job'));
    assert.equal(sh('systemctl', ['stop', 'warden.service']).code, 0);
    assert.equal(unitProps('warden-job.scope', 'ActiveState').ActiveState, 'inactive');
    assert.throws(() => process.kill(w.pid, 0), 'the worker process is gone');
    const state = JSON.parse(readFileSync(`${dir}/state/state.json`, 'utf8'));
    assert.equal(state.tasks.job.state, 'pending');
    assert.equal(state.tasks.job.attempts, 0, 'the interrupted attempt is not counted');
    assert.equal(state.cleanShutdown, true);
    stopService();
  });

  test('a stop_grace longer than TimeoutStopSec is not cut short: warden extends the stop timeout and stops cleanly', async () => {
    const dir = freshDir('long-grace');
    // the unit's 90 s shrunk to 2 s (times the slowdown: warden must get SIGTERM and answer with
    // EXTEND_TIMEOUT_USEC within it, which took more than 2 s in the emulated VM at load 6), a
    // stop_grace 3 times that, and a worker that ignores SIGTERM, so only the KILL after stop_grace ends it
    const stopS = Math.max(2, Math.ceil(2 * SLOWDOWN));
    const graceS = Math.max(Math.ceil(scaled(6_000) / 1000), 3 * stopS);
    const config = writeConfig(dir, {
      worker: { command: [process.execPath, join(FIXTURES, 'ignore-sigterm.mjs')], stop_grace: `${graceS}s` },
    });
    installService(config, { timeoutStopSec: stopS });
    assert.equal(sh('systemctl', ['start', 'warden.service']).code, 0);
    addTask(config, 'stubborn', 'x');
    const w = await waitFor('worker running', () => status(config)?.workers.find((x) => x.taskId === 'stubborn'));
    const t0 = Date.now();
    assert.equal(sh('systemctl', ['stop', 'warden.service']).code, 0);
    const took = Date.now() - t0;
    console.log(`# stop with stop_grace ${graceS}s under TimeoutStopSec=${stopS}s took ${(took / 1000).toFixed(1)} s`);
    const p = unitProps('warden.service', 'Result');
    assert.equal(p.Result, 'success', 'systemd did not time the stop out');
    assert.ok(took >= graceS * 1000 - 500, `the stop waited for the grace (${took} ms)`);
    assert.throws(() => process.kill(w.pid, 0), 'the worker that ignored SIGTERM is gone');
    const state = JSON.parse(readFileSync(`${dir}/state/state.json`, 'utf8'));
    assert.equal(state.cleanShutdown, true, 'warden finished its shutdown and saved');
    assert.equal(state.tasks.stubborn.state, 'pending');
    assert.equal(state.tasks.stubborn.attempts, 0);
    stopService();
  });

  test('with keep_workers_on_stop, systemctl stop leaves the worker scope running and the next start adopts it', async () => {
    const dir = freshDir('keep');
    const config = writeConfig(dir, { executor: { kind: 'systemd', keep_workers_on_stop: true } });
    installService(config);
    assert.equal(sh('systemctl', ['start', 'warden.service']).code, 0);
    addTask(config, 'kept', `sleep=0 ${untilReleased(dir)}`);
    const w = await waitFor('worker running', () => status(config)?.workers.find((x) => x.taskId === 'kept'));
    assert.equal(sh('systemctl', ['stop', 'warden.service']).code, 0);
    assert.equal(unitProps('warden-kept.scope', 'ActiveState').ActiveState, 'active', 'the scope outlives warden');
    assert.equal(sh('systemctl', ['start', 'warden.service']).code, 0);
    const again = await waitFor('adopted', () => status(config)?.workers.find((x) => x.taskId === 'kept'));
    assert.equal(again.pid, w.pid);
    release(dir);
    const t = await waitFor('kept succeeded', () => tasks(config).find((x) => x.id === 'kept' && x.state === 'succeeded'), 20_000);
    assert.equal(t.attempts, 0);
    stopService();
  });
});
