// Fleet visibility for real, against a one-member etcd on loopback and two warden daemons:
// `warden fleet status` (text and JSON, with the node's own daemon up and down), its exit codes
// without [fleet] and without etcd, the /metrics fleet gauges, and `warden doctor`'s fleet checks.
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { mkdirSync } from 'node:fs';
import { request } from 'node:http';
import { join } from 'node:path';
import { after, before, describe, test } from 'node:test';
import { enqueueTask } from '../../src/tasks/local-queue.ts';
import type { FleetStatus } from '../../src/fleet/status.ts';
import { FIXTURES } from '../helpers/paths.ts';
import { tempRoot } from '../helpers/tmp.ts';
import { waitFor } from '../helpers/wait.ts';
import { ETCD, ETCDCTL, EtcdCluster, freePorts } from './etcd-cluster.ts';
import { cleanupAll, cli, makeSandbox, startDaemon, type Daemon, type Sandbox } from './harness.ts';

const hasFlock = spawnSync('flock', ['--version']).status === 0;
const skip = !ETCD || !ETCDCTL ? 'etcd-server/etcd-client are not installed (.ci/run installs them)' : !hasFlock ? 'flock missing' : false;
if (skip) console.log(`SKIPPED: fleet status tests (${skip})`);

const root = tempRoot('fleet-status');

function metrics(socket: string): Promise<string> {
  return new Promise((resolve, reject) => {
    const req = request({ socketPath: socket, path: '/metrics', method: 'GET', timeout: 5000 }, (res) => {
      let body = '';
      res.on('data', (d: Buffer) => (body += d.toString()));
      res.on('end', () => resolve(body));
    });
    req.on('timeout', () => req.destroy(new Error('no answer')));
    req.on('error', reject);
    req.end();
  });
}

const gauge = (text: string, line: string): number | null => {
  const m = new RegExp(`^${line.replace(/[{}"]/g, '\\$&')} (\\S+)$`, 'm').exec(text);
  return m ? Number(m[1]) : null;
};

/** Waits until `warden fleet status --json`, run with `sb`'s config, shows `task` claimed by `node`. */
async function claimedBy(sb: Sandbox, task: string, node: string): Promise<void> {
  await waitFor(
    `${node} claims ${task}`,
    async () => {
      const r = await cli(sb.configPath, ['fleet', 'status', '--json']);
      return r.code === 0 && (JSON.parse(r.stdout) as FleetStatus).claims.some((c) => c.task === task && c.node === node);
    },
    30_000,
    300,
  );
}

describe('warden fleet status, /metrics and doctor against a real etcd', { skip }, () => {
  let cluster: EtcdCluster;
  let sbs: Sandbox[];
  let daemons: Daemon[];
  before(async () => {
    cluster = await EtcdCluster.start(root.fresh('etcd'), 1);
    const dir = root.fresh('world');
    const [log, locks] = [join(dir, 'work.log'), join(dir, 'locks')];
    mkdirSync(locks);
    sbs = [1, 2].map((i) =>
      makeSandbox({
        worker: {
          command: [join(FIXTURES, 'fleet-worker.sh'), log, locks, `n${i}`, '{task_id}', '600'],
          startup_window: '0s',
          stop_grace: '1s',
        },
        fleet: { endpoints: cluster.endpoints, node: `n${i}`, prefix: '/vis/', lease_ttl: '5s' },
      }),
    );
    // one long task, queued on n1 only: n1 claims it and runs it. The task list is shared, so n2
    // starts only once n1 holds the claim (started together, n2 sometimes claimed it first)
    enqueueTask(sbs[0]!.stateDir, { id: 'long', prompt: 'p', priority: 2, addedAt: Date.now() });
    const n1 = await startDaemon(sbs[0]!);
    await claimedBy(sbs[0]!, 'long', 'n1');
    daemons = [n1, await startDaemon(sbs[1]!)];
  });
  after(async () => {
    await cleanupAll();
    cluster?.stop();
  });

  test('fleet status --json: both nodes alive with lease, version and pid; the claim and its worker on n1; no poller without [source.github]', async () => {
    const s = await waitFor(
      'n1 holds the claim of long',
      async () => {
        const r = await cli(sbs[1]!.configPath, ['fleet', 'status', '--json']);
        if (r.code !== 0) return null;
        const v = JSON.parse(r.stdout) as FleetStatus;
        return v.claims.length === 1 && v.nodes.filter((n) => n.alive).length === 2 ? v : null;
      },
      30_000,
      300,
    );
    const [n1, n2] = s.nodes;
    assert.equal(n1!.node, 'n1');
    assert.equal(n1!.alive && n2!.alive, true);
    assert.equal(n1!.pid, daemons[0]!.pid);
    assert.ok(n1!.leaseTtlS !== null && n1!.leaseTtlS > 0 && n1!.leaseTtlS <= 5, `TTL left ${n1!.leaseTtlS}`);
    assert.match(n1!.version ?? '', /^\d+\.\d+\.\d+/);
    assert.deepEqual(
      n1!.workers.map((w) => w.task),
      ['long'],
    );
    assert.equal(s.claims[0]!.node, 'n1');
    assert.match(s.claims[0]!.token, /^\d+$/);
    assert.equal(s.poller, null);
  });

  test('fleet status as text: one line per node, the worker under n1, the claim', async () => {
    const r = await cli(sbs[0]!.configPath, ['fleet', 'status']);
    assert.equal(r.code, 0, r.stderr);
    assert.match(r.stdout, /^fleet \/vis\/ on http:\/\/127\.0\.0\.1:\d+ \(revision \d+\): 2 nodes alive, 1 claim$/m);
    assert.match(r.stdout, /^ {2}n1 {2}alive {2}warden \S+ pid \d+ {2}lease \d+, \d+s left, since .*spawning$/m);
    assert.match(r.stdout, /^ {4}worker: long \(attempt 1, token \d+\)$/m);
    assert.match(r.stdout, /^claims: {3}long@n1$/m);
  });

  test('/metrics: lease ok, one claim on this node, one in the fleet, two nodes, not the poller', async () => {
    const text = await waitFor(
      'n1 counts 2 nodes',
      async () => {
        const t = await metrics(sbs[0]!.socket);
        return gauge(t, 'warden_fleet_nodes') === 2 ? t : null;
      },
      20_000,
      300,
    );
    assert.equal(gauge(text, 'warden_fleet_lease_ok'), 1);
    assert.equal(gauge(text, 'warden_fleet_claims{scope="node"}'), 1);
    assert.equal(gauge(text, 'warden_fleet_claims{scope="fleet"}'), 1);
    assert.equal(gauge(text, 'warden_fleet_poller'), 0);
    assert.equal(gauge(await metrics(sbs[1]!.socket), 'warden_fleet_claims{scope="node"}'), 0);
  });

  test('doctor: etcd answers a quorum read, the clock agrees with etcd, and lease_ttl 5s is short of the watchdog (warn)', async () => {
    const r = await cli(sbs[0]!.configPath, ['doctor', '--json'], 60_000);
    const checks = (JSON.parse(r.stdout) as { checks: { id: string; status: string; summary: string; data?: Record<string, unknown> }[] })
      .checks;
    const by = (id: string) => checks.find((c) => c.id === id);
    assert.equal(by('fleet-etcd')?.status, 'pass', JSON.stringify(by('fleet-etcd')));
    // the same machine's clock: well within a second of itself
    const clock = by('fleet-clock');
    assert.equal(clock?.status, 'pass', JSON.stringify(clock));
    console.log(`doctor fleet-clock on one machine: ${clock?.summary}`);
    assert.ok(Math.abs(Number(clock?.data?.offset_ms)) <= 1000, JSON.stringify(clock));
    assert.equal(by('fleet-lease')?.status, 'warn');
    assert.match(by('fleet-lease')?.summary ?? '', /lease_ttl \(5s\) does not exceed WatchdogSec \(30s\)/);
  });

  test('with its own daemon down, a node still shows the fleet: n1 is gone, its claim with it (lease revoked at stop), and n2 takes the task', async () => {
    await daemons[0]!.stop();
    const s = await waitFor(
      'n1 gone from the fleet',
      async () => {
        const r = await cli(sbs[0]!.configPath, ['fleet', 'status', '--json']);
        const v = r.code === 0 ? (JSON.parse(r.stdout) as FleetStatus) : null;
        return v && !v.nodes.some((n) => n.node === 'n1' && n.alive) ? v : null;
      },
      20_000,
      300,
    );
    assert.ok(
      s.claims.every((c) => c.node !== 'n1'),
      JSON.stringify(s.claims),
    );
    assert.ok(s.nodes.some((n) => n.node === 'n2' && n.alive));
    // the task is in the fleet's shared list: n2, where it was never queued, claims it now
    await claimedBy(sbs[1]!, 'long', 'n2');
  });

  test('no [fleet]: one line, exit 78; etcd not answering: one line, exit 69, within seconds, and doctor fails fleet-etcd', async () => {
    const single = makeSandbox();
    const r = await cli(single.configPath, ['fleet', 'status']);
    assert.equal(r.code, 78);
    assert.match(r.stderr, /^warden: .* has no \[fleet\] table: this warden is a single node \(docs\/fleet\.md\)\n$/);
    const [closed] = await freePorts(1);
    const nowhere = makeSandbox({ fleet: { endpoints: [`http://127.0.0.1:${closed}`], node: 'x' } });
    const t0 = Date.now();
    const u = await cli(nowhere.configPath, ['fleet', 'status', '--json']);
    assert.equal(u.code, 69, u.stderr);
    assert.equal(u.stderr.trim().split('\n').length, 1, u.stderr);
    assert.match(u.stderr, /^warden: cannot read the fleet from etcd at http:\/\/127\.0\.0\.1:\d+: /);
    assert.equal(u.stdout, '');
    assert.ok(Date.now() - t0 < 20_000, `answered in ${Date.now() - t0} ms`);
    assert.doesNotMatch(u.stderr, /Resolution note:\s*$/);
    // doctor: etcd unreachable is a fail (exit 1), and the clock is then not measured
    const d = await cli(nowhere.configPath, ['doctor', '--json'], 60_000);
    assert.equal(d.code, 1);
    const checks = (JSON.parse(d.stdout) as { checks: { id: string; status: string }[] }).checks;
    assert.equal(checks.find((c) => c.id === 'fleet-etcd')?.status, 'fail');
    assert.equal(checks.find((c) => c.id === 'fleet-clock')?.status, 'info');
  });
});
