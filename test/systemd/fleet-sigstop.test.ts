// A fleet node's warden frozen with SIGSTOP, under a real systemd: warden.service (the shipped
// unit, systemd scopes for workers) is node a, a second warden started by the test is node b, and
// a one-member etcd runs on loopback inside the container. Both have task `long` queued; a runs
// it. The worker (fixtures/fleet-escaping-worker.sh) also starts a child in a new session, which
// leaves the process group but keeps the task's lock, so a switch that killed only the process
// group would show as an `overlap` line when b runs the task. Two ways out, one test each:
// - lease_ttl shorter than the watchdog: the dead man's switch kills every process of the scope
//   before the lease expires; b takes the task only after that. No process of the scope is left.
// - lease_ttl longer than the watchdog plus the restart: systemd's watchdog kills the frozen
//   warden, Restart= starts it again, it keeps its lease and re-adopts the same worker; b never
//   runs the task.
// Each prints its overlap count and timings.
import assert from 'node:assert/strict';
import { spawn, type ChildProcess } from 'node:child_process';
import { existsSync, mkdirSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { after, before, describe, test } from 'node:test';
import { writeConfigFile } from '../helpers/config-file.ts';
import { CLI, ROOT } from '../helpers/paths.ts';
import { ETCD, EtcdCluster } from '../integration/etcd-cluster.ts';
import {
  addTask,
  cli,
  ensureWorkerUser,
  freshDir,
  inHarness,
  installService,
  journal,
  nowForJournal,
  scaled,
  sh,
  SLOWDOWN,
  status,
  stopService,
  tasks,
  unitProps,
  waitFor,
  writeConfig,
} from './harness.ts';

const WORKER = join(ROOT, 'test/systemd/fixtures/fleet-escaping-worker.sh');
const skip = !inHarness() ? 'needs the real-systemd harness (scripts/with-systemd.sh)' : !ETCD ? 'etcd-server is not installed' : false;

interface Line {
  kind: string;
  task: string;
  node: string;
  at: number;
  pid: number | null;
  escaped: number | null;
}

function readLog(file: string): Line[] {
  if (!existsSync(file)) return [];
  return readFileSync(file, 'utf8')
    .split('\n')
    .filter(Boolean)
    .map((l) => {
      const [kind, task, node, at, ...rest] = l.split(' ');
      const field = (k: string) => {
        const v = rest.find((r) => r.startsWith(`${k}=`))?.slice(k.length + 1);
        return v ? Number(v) : null;
      };
      return { kind: kind!, task: task!, node: node!, at: Number(at), pid: field('pid'), escaped: field('escaped') };
    });
}

function uptime(): number {
  return Number(readFileSync('/proc/uptime', 'latin1').split(' ')[0]);
}

function alive(pid: number): boolean {
  try {
    process.kill(pid, 0);
    return !/^State:\s+Z/m.test(readFileSync(`/proc/${pid}/status`, 'latin1'));
  } catch {
    return false;
  }
}

/** The processes in a unit's cgroup (none once it is gone). */
function unitProcs(unit: string): number[] {
  const cg = unitProps(unit, 'ControlGroup').ControlGroup ?? '';
  if (!cg) return [];
  for (const root of ['/sys/fs/cgroup/systemd', '/sys/fs/cgroup/unified', '/sys/fs/cgroup']) {
    try {
      return readFileSync(`${root}${cg}/cgroup.procs`, 'latin1').split('\n').filter(Boolean).map(Number);
    } catch {
      // not this hierarchy
    }
  }
  return [];
}

interface World {
  dir: string;
  log: string;
  configA: string;
  nodeB: ChildProcess;
  logB: () => string;
  ttlS: number;
}

async function setUp(cluster: EtcdCluster, name: string, ttlS: number, watchdogSec: number): Promise<World> {
  const dir = freshDir(name);
  const out = `${dir}/out`; // 0777: the worker user writes the shared log and the locks here
  const log = `${out}/work.log`;
  const locks = `${out}/locks`;
  mkdirSync(locks, { mode: 0o777 });
  sh('chmod', ['0777', locks]);
  const fleet = (node: string) => ({ endpoints: cluster.endpoints, node, prefix: `/${name}/`, lease_ttl: `${ttlS}s` });
  const worker = (node: string) => ({
    command: [WORKER, log, locks, node, '{task_id}', '3600'],
    startup_window: '0s',
    stop_grace: '1s',
    max_runtime: '1h',
  });
  const configA = writeConfig(dir, { fleet: fleet('a'), worker: worker('a') });
  installService(configA, { watchdogSec });
  assert.equal(sh('systemctl', ['start', 'warden.service']).code, 0);
  addTask(configA, 'long', 'p');
  await waitFor('a runs long', () => readLog(log).find((l) => l.kind === 'start' && l.node === 'a'), 60_000);
  // node b: the direct executor, its own state, the same task; it starts once a holds the claim
  const dirB = freshDir(`${name}-b`);
  const configB = `${dirB}/config.toml`;
  writeConfigFile(configB, {
    supervisor: { state_dir: `${dirB}/state`, min_spawn_interval: '0s', poll_interval: '500ms' },
    worker: worker('b'),
    admission: { min_available_memory: '0', max_load_per_cpu: 1000, max_memory_pressure: 100, max_temperature: 150 },
    executor: { kind: 'direct' },
    fleet: fleet('b'),
  });
  addTask(configB, 'long', 'p');
  const nodeB = spawn(process.execPath, [CLI, 'run', '--config', configB], { stdio: ['ignore', 'pipe', 'pipe'] });
  let textB = '';
  nodeB.stdout?.on('data', (d: Buffer) => (textB += d.toString()));
  nodeB.stderr?.on('data', (d: Buffer) => (textB += d.toString()));
  await waitFor('b sees long claimed by a', () => waitedB(configB), 60_000);
  return { dir, log, configA, nodeB, logB: () => textB, ttlS };
}

/** b's own view: `long` waits, claimed by node a. */
function waitedB(configB: string): boolean {
  const r = cli(configB, 'tasks', '--json');
  if (r.code !== 0) return false;
  const t = (JSON.parse(r.stdout) as { id: string; note: string | null }[]).find((x) => x.id === 'long');
  return t !== undefined && /claimed by node a/.test(t.note ?? '');
}

function tearDown(w: World | null): void {
  if (!w) return;
  sh('systemctl', ['kill', '--signal=SIGCONT', 'warden.service']);
  w.nodeB.kill('SIGKILL');
  stopService();
}

describe('SIGSTOP of a fleet node under systemd', { skip }, () => {
  let cluster: EtcdCluster;
  before(async () => {
    ensureWorkerUser();
    cluster = await EtcdCluster.start(freshDir('etcd'), 1);
  });
  after(() => {
    stopService();
    cluster?.stop();
  });

  test('lease shorter than the watchdog: the switch kills every process of the scope before the lease expires, then b runs the task; 0 overlaps', async () => {
    let w: World | null = null;
    try {
      const ttlS = Math.max(6, Math.ceil(6 * SLOWDOWN));
      w = await setUp(cluster, 'stop-switch', ttlS, Math.max(60, ttlS * 10));
      const first = readLog(w.log).find((l) => l.kind === 'start' && l.node === 'a')!;
      const scopePids = unitProcs('warden-long.scope');
      assert.ok(first.escaped !== null && alive(first.escaped), 'the escaped child runs');
      assert.ok(scopePids.includes(first.escaped), `the escaped child is in the scope: ${scopePids.join(',')}`);
      const stoppedAt = uptime();
      assert.equal(sh('systemctl', ['kill', '--signal=SIGSTOP', '--kill-who=main', 'warden.service']).code, 0);
      const goneAt = await waitFor(
        'no process left in the scope, the escaped child included',
        () => (unitProcs('warden-long.scope').length === 0 && !alive(first.escaped!) && !alive(first.pid!) ? uptime() : null),
        scaled(ttlS * 3000),
        50,
      );
      const taken = await waitFor('b runs long', () => readLog(w!.log).find((l) => l.kind === 'start' && l.node === 'b'), 60_000, 100);
      const overlaps = readLog(w.log).filter((l) => l.kind === 'overlap').length;
      console.log(
        `# fleet SIGSTOP (switch): scope emptied ${(goneAt - stoppedAt).toFixed(2)} s after SIGSTOP, b started ${(taken.at - stoppedAt).toFixed(2)} s after (lease_ttl ${ttlS} s); overlaps=${overlaps}; scope had ${scopePids.length} processes`,
      );
      assert.equal(overlaps, 0);
      assert.ok(goneAt < taken.at, 'every process of a was dead before b started');
      assert.ok(goneAt - stoppedAt < ttlS, `dead within lease_ttl of the freeze: ${goneAt - stoppedAt}`);
      assert.ok(taken.at - stoppedAt >= ttlS * 0.8, `b waited for the lease to expire: ${taken.at - stoppedAt}`);
      for (const pid of scopePids) assert.equal(alive(pid), false, `process ${pid} of the scope is gone`);
    } finally {
      tearDown(w);
    }
  });

  test('a sandboxed worker reads the heartbeat (its directory bound read-only): it runs past several renewals to its end', async () => {
    // before, state_dir was hidden from it entirely: no heartbeat, so its switch killed it at once
    const ttlS = Math.max(6, Math.ceil(6 * SLOWDOWN));
    const dir = freshDir('sandbox-heartbeat');
    const config = writeConfig(dir, {
      executor: { kind: 'systemd', sandbox: true },
      fleet: { endpoints: cluster.endpoints, node: 's', prefix: '/sandbox-heartbeat/', lease_ttl: `${ttlS}s` },
      worker: { startup_window: '0s', max_attempts: 1 },
    });
    try {
      installService(config);
      assert.equal(sh('systemctl', ['start', 'warden.service']).code, 0);
      addTask(config, 'boxed', `sleep=${ttlS * 1.5}`);
      const t = await waitFor(
        'boxed ended',
        () => tasks(config).find((x) => x.id === 'boxed' && x.history.length > 0),
        scaled(ttlS * 4000),
      );
      console.log(`# fleet sandbox: a worker of ${ttlS * 1.5} s under lease_ttl ${ttlS} s ended ${t.history[0]?.outcome}`);
      assert.equal(t.history[0]?.outcome, 'succeeded', JSON.stringify(t.history[0]));
    } finally {
      stopService();
    }
  });

  test('lease longer than the watchdog plus the restart: the watchdog restarts warden, it keeps its lease and re-adopts the same worker; b never runs the task; 0 overlaps', async () => {
    let w: World | null = null;
    try {
      const watchdogSec = Math.max(2, Math.ceil(2 * SLOWDOWN));
      // the switch fires at 0.8 lease_ttl: the restart (watchdog, RestartSec 500 ms, node's start) must come well before
      const ttlS = Math.max(15, Math.ceil(2 * (watchdogSec + 2 * SLOWDOWN)));
      w = await setUp(cluster, 'stop-watchdog', ttlS, watchdogSec);
      const first = readLog(w.log).find((l) => l.kind === 'start' && l.node === 'a')!;
      const mainPid = unitProps('warden.service', 'MainPID').MainPID;
      const wrapperPid = status(w.configA)?.workers.find((x) => x.taskId === 'long')?.pid;
      assert.ok(wrapperPid, 'a reports its worker');
      const since = nowForJournal();
      const stoppedAt = uptime();
      assert.equal(sh('systemctl', ['kill', '--signal=SIGSTOP', '--kill-who=main', 'warden.service']).code, 0);
      await waitFor('the watchdog restarted warden', () => Number(unitProps('warden.service', 'NRestarts').NRestarts) >= 1, 60_000);
      const after = await waitFor(
        'the new warden adopted long',
        () => {
          const s = status(w!.configA);
          return s && s.daemon.pid !== Number(mainPid) && s.workers.some((x) => x.taskId === 'long') ? s : null;
        },
        60_000,
      );
      const adoptedAt = uptime();
      assert.match(journal('warden.service', since), /kept the lease of the previous run/);
      const adopted = after.workers.find((x) => x.taskId === 'long')!;
      // past the moment the lease would have expired without the restart: still a's, still running
      await new Promise((r) => setTimeout(r, Math.max(0, (stoppedAt + ttlS + 2 - uptime()) * 1000)));
      const lines = readLog(w.log);
      const overlaps = lines.filter((l) => l.kind === 'overlap').length;
      console.log(
        `# fleet SIGSTOP (watchdog): restarted and re-adopted ${(adoptedAt - stoppedAt).toFixed(2)} s after SIGSTOP (WatchdogSec ${watchdogSec} s, lease_ttl ${ttlS} s); worker pid ${adopted.pid} (was ${wrapperPid}); b starts=${lines.filter((l) => l.kind === 'start' && l.node === 'b').length}; overlaps=${overlaps}`,
      );
      assert.equal(adopted.pid, wrapperPid, 'the same worker, adopted, not a new one');
      assert.ok(alive(first.pid!) && alive(first.escaped!), 'the worker and its escaped child still run');
      assert.equal(lines.filter((l) => l.kind === 'start' && l.node === 'b').length, 0, 'b never ran the task');
      assert.equal(overlaps, 0);
    } finally {
      tearDown(w);
    }
  });
});
