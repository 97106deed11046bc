// Host survival (issue 7): warden.service runs its worker slice; the worker is a memory hog that
// tries to allocate twice the machine's MemAvailable, capped at worker.memory_max = 256M. A probe
// outside warden's slice (a transient service in system.slice) wakes every 100 ms throughout.
// Asserted: the hog was OOM-killed by the kernel inside its own scope (its cgroup's OOM counter),
// warden classified the attempt oom_killed, the scope is gone, warden.service stayed up (same
// MainPID, NRestarts=0) and the probe ran throughout. How late the probe ran is printed, not
// asserted: performance figures belong in bench/survival.ts.
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { existsSync, readFileSync, readdirSync } from 'node:fs';
import { totalmem } from 'node:os';
import { after, before, describe, test } from 'node:test';
import {
  addTask,
  ensureWorkerUser,
  freshDir,
  inHarness,
  installService,
  sh,
  status,
  stopService,
  tasks,
  unitProps,
  waitFor,
  writeConfig,
} from './harness.ts';
import { HOG, longestGap, probeAlive, readProbe, startProbe, stopProbe, type ProbeHandle } from './fixtures/survival.ts';

const skip = inHarness() ? false : 'needs the real-systemd harness (scripts/with-systemd.sh)';
const MEMORY_MAX = 256 * 1024 ** 2;

function pct(xs: number[], p: number): number {
  const s = [...xs].sort((a, b) => a - b);
  return s[Math.min(s.length - 1, Math.max(0, Math.ceil((p / 100) * s.length) - 1))] ?? NaN;
}

describe('host survival', { skip }, () => {
  let probe: ProbeHandle | null = null;
  before(() => ensureWorkerUser());
  after(async () => {
    if (probe) await stopProbe(probe);
    stopService();
  });

  test('the hog refuses to allocate without a cap, or with a cap above half of MemTotal', () => {
    // target=64M everywhere: even a broken safety check could not hurt the machine here
    const tag = `${process.pid}-${Date.now().toString(36)}`;
    const uncapped = spawnSync(
      'systemd-run',
      ['--scope', '--quiet', `--unit=survival-nocap-${tag}.scope`, '-p', 'MemoryMax=infinity', process.execPath, HOG, 'target=64M'],
      { input: '', encoding: 'utf8' },
    );
    assert.equal(uncapped.status, 2, uncapped.stdout + uncapped.stderr);
    assert.match(uncapped.stderr, /refusing to run: .*unlimited/);
    assert.doesNotMatch(uncapped.stdout, /holding|reached/);

    const big = Math.floor((totalmem() * 0.75) / 4096) * 4096;
    const bigCap = spawnSync(
      'systemd-run',
      [
        '--scope',
        '--quiet',
        `--unit=survival-bigcap-${tag}.scope`,
        '-p',
        `MemoryMax=${big}`,
        '-p',
        'MemorySwapMax=0',
        process.execPath,
        HOG,
        'target=64M',
      ],
      { input: '', encoding: 'utf8' },
    );
    assert.equal(bigCap.status, 2, bigCap.stdout + bigCap.stderr);
    assert.match(bigCap.stdout, /REFUSED: .*more than half of MemTotal/);

    // and with a real cap it runs: a 32M target under MemoryMax=128M is reached (exit 3 says so)
    const capped = spawnSync(
      'systemd-run',
      [
        '--scope',
        '--quiet',
        `--unit=survival-cap-${tag}.scope`,
        '-p',
        'MemoryMax=128M',
        '-p',
        'MemorySwapMax=0',
        process.execPath,
        HOG,
        'target=32M',
      ],
      { input: '', encoding: 'utf8' },
    );
    assert.equal(capped.status, 3, capped.stdout + capped.stderr);
    assert.match(capped.stdout, /safety OK: .*limit 128 MiB/);
  });

  test('a worker allocating 2x MemAvailable is OOM-killed in its capped scope; warden stays up and a probe outside its slice runs throughout', async () => {
    const dir = freshDir('survival');
    const config = writeConfig(dir, {
      supervisor: { max_concurrent_workers: 1 },
      worker: { command: [process.execPath, HOG], memory_max: '256M', max_attempts: 1, startup_window: '1s' },
    });
    probe = await startProbe(`${dir}/probe.log`, `${process.pid}-${Date.now().toString(36)}`);
    assert.match(probe.controlGroup, /^\/system\.slice\//, 'the probe runs in system.slice');
    assert.doesNotMatch(probe.procCgroup, /warden/, 'the probe is not in any warden cgroup');

    installService(config);
    assert.equal(sh('systemctl', ['start', 'warden.service']).code, 0);
    const before = unitProps('warden.service', 'MainPID', 'NRestarts');
    await waitFor('warden answers', () => status(config)?.daemon.pid === Number(before.MainPID), 60_000);
    const t0 = Date.now();

    addTask(config, 'hog', "allocate twice the machine's free memory");
    // the scope, while it lives, carries the configured cap (the hog may be dead before we look)
    let scopeSeen: Record<string, string> | null = null;
    const hog = await waitFor(
      'the hog attempt classified',
      () => {
        if (!scopeSeen) {
          const p = unitProps('warden-hog.scope', 'ActiveState', 'MemoryMax', 'ControlGroup');
          if (p.ActiveState === 'active') scopeSeen = p;
        }
        return tasks(config).find((t) => t.id === 'hog' && t.history.length > 0);
      },
      180_000,
      100,
    );
    const t1 = Date.now();

    // warden's verdict
    const attempt = hog.history[0]!;
    assert.equal(attempt.outcome, 'oom_killed', JSON.stringify(attempt));
    assert.match(attempt.detail ?? '', /OOM-killed/);
    assert.equal(hog.state, 'dead', 'max_attempts = 1: no second hog');

    // the kernel's: the wrapper read the scope's memory cgroup after the hog died
    const rec = readFileSync(`${dir}/state/run/hog.1.exit`, 'latin1').trim();
    const m = /^(\d+) oom_kill=(\d+) peak=(\d+) limit=(\d+)$/.exec(rec);
    assert.ok(m, `exit record: ${rec}`);
    assert.equal(m[1], '137', 'the hog died of SIGKILL');
    assert.ok(Number(m[2]) >= 1, `the scope's OOM counter moved: ${rec}`);
    assert.equal(Number(m[4]), MEMORY_MAX, 'the scope was capped at memory_max');
    assert.ok(Number(m[3]) >= MEMORY_MAX * 0.95, `the hog reached its cap: peak ${m[3]}`);
    if (scopeSeen) {
      const seen = scopeSeen as Record<string, string>;
      assert.equal(Number(seen.MemoryMax), MEMORY_MAX);
      assert.match(seen.ControlGroup ?? '', /warden-workers\.slice\/warden-hog\.scope$/);
    }

    // the hog's own log: it passed its safety check, aimed at 2x MemAvailable and never got there
    const log = readFileSync(`${dir}/state/logs/hog/1.log`, 'utf8');
    assert.match(log, /safety OK: .*limit 256 MiB/);
    assert.match(log, /target 2x MemAvailable/);
    assert.match(log, /holding \d+ MiB/);
    assert.doesNotMatch(log, /reached the target|REFUSED/);

    // the scope is gone
    await waitFor('the scope gone', () => unitProps('warden-hog.scope', 'ActiveState').ActiveState !== 'active', 30_000);
    for (const base of ['/sys/fs/cgroup/memory', '/sys/fs/cgroup']) {
      const slice = `${base}/warden.slice/warden-workers.slice`;
      if (!existsSync(slice)) continue;
      const left = readdirSync(slice, { withFileTypes: true }).filter((d) => d.isDirectory() && d.name.endsWith('.scope'));
      assert.deepEqual(
        left.map((d) => d.name),
        [],
        `no worker cgroup left in ${slice}`,
      );
    }

    // warden stayed up: same process, never restarted, answering, no worker left
    const afterProps = unitProps('warden.service', 'ActiveState', 'MainPID', 'NRestarts');
    assert.equal(afterProps.ActiveState, 'active');
    assert.equal(afterProps.MainPID, before.MainPID, 'warden was not restarted');
    assert.equal(afterProps.NRestarts, '0');
    const st = status(config);
    assert.ok(st, 'warden answers after the OOM kill');
    assert.equal(st.daemon.pid, Number(before.MainPID));
    assert.equal(st.workers.length, 0);

    // the probe ran throughout (the same process; samples before, during and after)
    const t2 = Date.now() + 1000;
    await waitFor('a probe sample after the OOM kill', () => readProbe(probe!.out).some((s) => s.wall >= t2), 30_000);
    assert.ok(probeAlive(probe), 'the probe process is alive');
    const samples = readProbe(probe.out);
    assert.ok(
      samples.some((s) => s.wall < t0),
      'probe samples before the hog',
    );
    assert.ok(
      samples.some((s) => s.wall >= t0 && s.wall <= t1),
      'probe samples while the hog ran',
    );
    const gap = longestGap(samples, t0, t1);
    // liveness, not performance: a probe that stopped would leave a gap of the whole window
    assert.ok(gap < 30_000, `the probe went silent for ${gap} ms while the hog ran`);
    const during = samples.filter((s) => s.wall >= t0 && s.wall <= t1);
    const late = during.map((s) => s.lateMs);
    const alloc = during.map((s) => s.allocMs);
    console.log(
      `# host survival: hog ${rec} after ${((t1 - t0) / 1000).toFixed(1)} s; warden MainPID ${afterProps.MainPID} NRestarts ${afterProps.NRestarts}; ` +
        `probe ${during.length} samples during the hog: lateness p50 ${pct(late, 50).toFixed(1)} / p99 ${pct(late, 99).toFixed(1)} / max ${Math.max(...late).toFixed(1)} ms, ` +
        `1 MiB alloc p99 ${pct(alloc, 99).toFixed(2)} ms, longest gap ${gap} ms (information only: see bench/survival.ts)`,
    );
    await stopProbe(probe);
    assert.ok(!probeAlive(probe), 'the probe was stopped by its PID');
    probe = null;
    stopService();
  });
});
