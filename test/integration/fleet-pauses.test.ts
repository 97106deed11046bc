// Fleet-wide safety for real: a 3-member etcd cluster on loopback and 3 warden daemons (direct
// executor, separate state directories) on one key prefix per scenario. The worker is the fake
// `claude` (test/fixtures/fake-claude-stream): its prompt says what it reports (auth failure,
// success with a cost, garbage and exit 1), and `argv=FILE`, shared by the three nodes, logs every
// spawn in the fleet with its node (each node's worker command carries `node=nX`). The max_fleet_workers
// scenario uses the overlap-counting worker of fleet.test.ts. Each scenario prints its counts.
import assert from 'node:assert/strict';
import { existsSync, mkdirSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, test } from 'node:test';
import { enqueueTask } from '../../src/tasks/local-queue.ts';
import type { Status } from '../helpers/cli.ts';
import type { ConfigSections } from '../helpers/config-file.ts';
import { FIXTURES } from '../helpers/paths.ts';
import { tempRoot } from '../helpers/tmp.ts';
import { waitFor } from '../helpers/wait.ts';
import { ETCD, ETCDCTL, clusterForSuite, EtcdCluster, LEASE_TTL_S } from './etcd-cluster.ts';
import { cli, makeSandbox, query, startDaemon, type Daemon, type Sandbox } from './harness.ts';

const FAKE = join(FIXTURES, 'fake-claude-stream');
const skip = !ETCD || !ETCDCTL ? 'etcd-server/etcd-client are not installed (.ci/run installs them)' : false;
if (skip) console.log(`SKIPPED: fleet pause tests (${skip})`);

const root = tempRoot('fleet-pauses');
type FleetStatus = Status & { cost: { todayUsd: number } };

interface Fleet {
  sandboxes: Sandbox[];
  daemons: Daemon[];
  /** One line per spawn (its arguments, with `node=nX`), from every node. */
  argv: string;
  dir: string;
}

async function startFleet(
  cluster: EtcdCluster,
  name: string,
  opts: {
    supervisor?: ConfigSections[string];
    fleet?: ConfigSections[string];
    breaker?: ConfigSections[string];
    command?: (node: string, dir: string) => string[];
  } = {},
): Promise<Fleet> {
  const dir = root.fresh(name);
  const command = opts.command ?? ((node: string) => [process.execPath, FAKE, `node=${node}`]);
  const sandboxes = [0, 1, 2].map((i) =>
    makeSandbox({
      supervisor: { max_concurrent_workers: 1, poll_interval: '300ms', ...opts.supervisor },
      worker: { command: command(`n${i + 1}`, dir), startup_window: '0s', stop_grace: '1s' },
      ...(opts.breaker && { breaker: opts.breaker }),
      fleet: { endpoints: cluster.endpoints, node: `n${i + 1}`, prefix: `/${name}/`, lease_ttl: `${LEASE_TTL_S}s`, ...opts.fleet },
    }),
  );
  const daemons = await Promise.all(sandboxes.map((sb) => startDaemon(sb)));
  return { sandboxes, daemons, argv: join(dir, 'argv'), dir };
}

/** The same task queued on every node (tasks are defined per node; the claims make them run once). */
function queueEverywhere(f: Fleet, ids: string[], prompt: string): void {
  for (const sb of f.sandboxes) for (const id of ids) enqueueTask(sb.stateDir, { id, prompt, priority: 2, addedAt: Date.now() });
}

/** Spawns in the whole fleet, or on one node. */
function spawns(f: Fleet, node?: string): number {
  const lines = existsSync(f.argv) ? readFileSync(f.argv, 'utf8').split('\n').filter(Boolean) : [];
  return node === undefined ? lines.length : lines.filter((l) => l.includes(`"node=${node}"`)).length;
}

const st = (sb: Sandbox) => query<FleetStatus>(sb.socket, '/status');

async function allNodes(f: Fleet, what: string, ok: (s: FleetStatus) => boolean, timeoutMs = 60_000): Promise<FleetStatus[]> {
  return waitFor(
    what,
    async () => {
      const all = await Promise.all(f.sandboxes.map(st));
      return all.every(ok) ? all : null;
    },
    timeoutMs,
    150,
  );
}

const sum = (xs: number[]) => xs.reduce((a, b) => a + b, 0);
const ids = (from: number, to: number) => Array.from({ length: to - from + 1 }, (_, i) => `t${String(from + i).padStart(2, '0')}`);

async function stopFleet(f: Fleet): Promise<void> {
  await Promise.all(f.daemons.map((d) => d.stop()));
}

describe('fleet-wide breaker, pauses and budget (3 etcd members, 3 wardens)', { skip }, () => {
  const etcd = clusterForSuite(() => root.fresh('etcd'));

  test('a worker that reports auth_failed on one node pauses all three nodes after 1 spawn in total; one resume lifts it everywhere', async () => {
    const f = await startFleet(etcd(), 'auth');
    // the login is broken: the first run reports "Not logged in"; every later one succeeds
    queueEverywhere(f, ['t01'], `stream=auth exit=1 delay=10 runs=${join(f.dir, 'runs')} then=success argv=${f.argv}`);
    await allNodes(f, 'every node paused with worker_auth', (s) => s.pause.reasons.includes('worker_auth'));
    const atPause = spawns(f);
    // 29 more tasks on every node: each node takes them in and holds them
    queueEverywhere(f, ids(2, 30), `stream=success exit=0 delay=10 argv=${f.argv}`);
    const held = await allNodes(
      f,
      'every node holds its 30 tasks, paused',
      (s) => s.tasks.pending === 30 && (s.heldBy ?? '').startsWith('paused: worker_auth'),
    );
    const whileHeld = spawns(f);
    console.log(
      `fleet auth_failed: spawns before every node paused=${atPause}, spawns with 29 more tasks queued on 3 paused nodes=${whileHeld}, ` +
        `held by: ${held.map((s) => s.heldBy ?? '').join(' | ')}`,
    );
    assert.equal(atPause, 1, 'one spawn in the whole fleet before every node paused');
    assert.equal(whileHeld, 1, 'no node spawned while the fleet was paused');

    const r = await cli(f.sandboxes[2]!.configPath, ['resume']); // on another node than the one that failed
    assert.equal(r.code, 0, r.stderr);
    await allNodes(f, 'every node sees 30 tasks succeeded', (s) => s.tasks.succeeded === 30, 120_000);
    console.log(`fleet auth_failed: after one resume, ${spawns(f)} spawns in all (30 tasks, each once, plus the failed one)`);
    assert.equal(spawns(f), 31);
    await stopFleet(f);
  });

  test('warden pause and resume act on every node; --node N on node N only; an unknown node is a usage error', async () => {
    const f = await startFleet(etcd(), 'operator');
    const [c1, c2] = [f.sandboxes[0]!.configPath, f.sandboxes[1]!.configPath];
    const manual = (s: FleetStatus) => s.pause.reasons.includes('manual');
    assert.equal((await cli(c1, ['pause'])).code, 0);
    await allNodes(f, 'every node paused (manual) by a pause on n1', manual);
    assert.equal((await cli(c2, ['resume'])).code, 0);
    await allNodes(f, 'every node resumed by a resume on n2', (s) => !manual(s));

    const one = await cli(c1, ['pause', '--node', 'n3']);
    assert.equal(one.code, 0, one.stderr);
    assert.match(one.stdout, /^node n3: pause requested/);
    await waitFor('n3 paused', async () => manual(await st(f.sandboxes[2]!)), 30_000, 150);
    // the other two keep working: 6 tasks queued on every node all run, on n1 and n2 only
    queueEverywhere(f, ids(1, 6), `stream=success exit=0 delay=10 argv=${f.argv}`);
    await waitFor('n1 and n2 ran the 6 tasks', () => spawns(f, 'n1') + spawns(f, 'n2') >= 6, 60_000, 150);
    console.log(`fleet --node: with n3 paused on its own, runs per node n1=${spawns(f, 'n1')} n2=${spawns(f, 'n2')} n3=${spawns(f, 'n3')}`);
    assert.equal(spawns(f, 'n3'), 0, 'pause --node n3 paused n3');
    assert.ok(spawns(f, 'n1') > 0 && spawns(f, 'n2') > 0, 'pause --node n3 paused only n3');
    assert.ok(manual(await st(f.sandboxes[2]!)));
    assert.equal((await cli(c2, ['resume', '--node', 'n3'])).code, 0);
    await waitFor('n3 resumed', async () => !manual(await st(f.sandboxes[2]!)), 30_000, 150);

    const bad = await cli(c1, ['pause', '--node', 'nope']);
    assert.equal(bad.code, 2);
    assert.match(bad.stderr, /^warden: no node "nope" in the fleet \(known: n1, n2, n3\)\n$/);
    await stopFleet(f);
  });

  test('a fleet-wide resume racing a pause set elsewhere is refused and the pause stays; the next resume lifts it', async () => {
    // a long poll: the nodes read etcd at start and rarely after, so the pause written below is unseen
    const f = await startFleet(etcd(), 'race', { supervisor: { poll_interval: '60s' } });
    await allNodes(f, 'every node running', (s) => s.pause.reasons.length === 0);
    const key = '/race/pauses/worker_auth';
    const value = JSON.stringify({ since: Date.now(), until: null, reason: 'Not logged in (set on n2 a moment ago)', node: 'n2' });
    assert.equal(etcd().ctl(['put', key, value]).code, 0);
    const r = await cli(f.sandboxes[0]!.configPath, ['resume']);
    const kept = etcd().ctl(['get', key, '--print-value-only']).out.trim();
    console.log(`fleet resume race: exit ${r.code}: ${r.stderr.trim()}; the pause ${kept ? 'stayed' : 'was LOST'}`);
    assert.equal(r.code, 2, r.stderr);
    assert.match(
      r.stderr,
      /^warden: a fleet-wide pause changed since this node last read etcd \(worker_auth: Not logged in \(set on n2 a moment ago\)\): nothing resumed; check `warden fleet status`, then resume again\n$/,
    );
    assert.equal(kept, value, 'the pause set elsewhere is still in etcd');
    // the refused resume refreshed this node's view: a resume now lifts what it has seen
    const again = await cli(f.sandboxes[0]!.configPath, ['resume']);
    assert.equal(again.code, 0, again.stderr);
    assert.equal(etcd().ctl(['get', key, '--print-value-only']).out.trim(), '', 'the second resume lifted it');
    await stopFleet(f);
  });

  test("the daily budget sums every node's spending: the fleet pauses once the sum reaches max_daily_cost_usd", async () => {
    const f = await startFleet(etcd(), 'budget', { supervisor: { max_daily_cost_usd: 1 } });
    queueEverywhere(f, ids(1, 12), `stream=success exit=0 cost=0.3 delay=10 sleep=0.3 argv=${f.argv}`);
    const all = await allNodes(f, 'every node paused with budget', (s) => s.pause.reasons.includes('budget'), 120_000);
    const own = all.map((s) => s.cost.todayUsd);
    const total = sum(own);
    console.log(
      `fleet budget: ${spawns(f)} spawns of 12 tasks, spend per node ${own.map((u) => u.toFixed(2)).join(' / ')} (sum ${total.toFixed(2)}, limit 1.00)`,
    );
    assert.ok(total >= 1, 'the fleet spent the budget');
    assert.ok(
      own.some((u) => u < 1),
      'a node under the limit on its own paused by the sum',
    );
    assert.ok(spawns(f) <= 7, 'spawning stopped soon after the sum reached the limit (4 runs, plus those in flight)');
    await stopFleet(f);
  });

  test('the breaker counts the failures of every node: 3 failures on 3 nodes open it once, for the fleet; after the cooldown one probe runs in the whole fleet', async () => {
    const f = await startFleet(etcd(), 'breaker', { breaker: { failures: 3, window: '10m', cooldown: '4s' } });
    queueEverywhere(f, ids(1, 12), `stream=garbage exit=1 delay=10 sleep=0.3 argv=${f.argv}`);
    const all = await allNodes(f, "every node's breaker open", (s) => s.breaker.phase === 'open');
    const openings = f.daemons.map(
      (d) =>
        d
          .log()
          .split('\n')
          .filter((l) => l.includes('breaker OPEN')).length,
    );
    console.log(
      `fleet breaker: ${spawns(f)} spawns until every node's breaker was open (per node it would take 9), ` +
        `opened on ${openings.filter((n) => n > 0).length} node(s), openedAt ${[...new Set(all.map((s) => s.breaker.openedAt))].join(',')}`,
    );
    assert.equal(new Set(all.map((s) => s.breaker.openedAt)).size, 1, 'one opening, the same on every node');
    assert.ok(spawns(f) < 9, 'fewer spawns than three separate breakers would allow');
    // half-open on every node at once; the probe's claim takes the fleet's one probe slot; it fails and reopens
    // from the daemons' own lines, by their timestamps: the spawns once the first node went half-open
    const reopened = await allNodes(f, "every node's breaker reopened by the failed probe", (s) =>
      /^probe failed/.test(s.breaker.reason ?? ''),
    );
    const lines = f.daemons.flatMap((d, i) =>
      d
        .log()
        .split('\n')
        .map((l) => ({ node: `n${i + 1}`, l, at: Date.parse(l.slice(0, 24)) })),
    );
    const halfAt = Math.min(...lines.filter((x) => /breaker is half_open|breaker half-open/.test(x.l)).map((x) => x.at));
    const since = lines.filter((x) => x.at >= halfAt && / spawning \S+ attempt /.test(x.l));
    console.log(
      `fleet breaker probe: ${since.length} spawn(s) in the fleet once half-open (${since.map((x) => `${x.node}: ${x.l.slice(31)}`).join('; ')}); ` +
        `reopened with openedAt ${[...new Set(reopened.map((s) => s.breaker.openedAt))].join(',')}`,
    );
    assert.equal(since.length, 1, 'one probe for the whole fleet, and nothing else');
    assert.match(since[0]?.l ?? '', /\(breaker probe\)/);
    await stopFleet(f);
  });

  test('max_fleet_workers caps the workers running at once across the fleet', async () => {
    const log = (dir: string) => join(dir, 'work.log');
    const f = await startFleet(etcd(), 'maxfleet', {
      supervisor: { max_concurrent_workers: 2 },
      fleet: { max_fleet_workers: 2 },
      command: (node, dir) => {
        mkdirSync(join(dir, 'locks'), { recursive: true });
        return [join(FIXTURES, 'fleet-worker.sh'), log(dir), join(dir, 'locks'), node, '{task_id}', '0.6'];
      },
    });
    queueEverywhere(f, ids(1, 10), 'sleep');
    await allNodes(f, 'every node sees 10 tasks succeeded', (s) => s.tasks.succeeded === 10, 120_000);
    // the most workers alive at once, from their start and end lines
    let [now, most] = [0, 0];
    const lines = readFileSync(log(f.dir), 'utf8').split('\n').filter(Boolean);
    const marks = lines
      .map((l) => l.split(' '))
      .map(([kind, , , at]) => ({ d: kind === 'start' ? 1 : kind === 'end' ? -1 : 0, at: Number(at) }));
    for (const m of marks.sort((a, b) => a.at - b.at || a.d - b.d)) most = Math.max(most, (now += m.d));
    const starts = marks.filter((m) => m.d === 1).length;
    console.log(`fleet max_fleet_workers=2 (3 nodes x 2 slots): at most ${most} workers at once, ${starts} starts for 10 tasks`);
    assert.equal(most, 2, 'the fleet ran 2 workers at once, never more');
    assert.equal(starts, 10);
    await stopFleet(f);
  });
});
