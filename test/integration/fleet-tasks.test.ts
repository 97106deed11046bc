// The fleet's shared task list for real: a 3-member etcd cluster on loopback and 3 warden daemons
// (direct executor, separate state directories) on one key prefix. Tasks are queued on ONE node
// only; the other nodes learn them from `<prefix>tasks/`. The worker (test/fixtures/fleet-worker.sh)
// appends `start/end <task> <node> <uptime>` to a shared log and holds an flock on its task, so a
// second live worker of one task shows as an `overlap` line. The scenarios run in order on the one
// fleet, each on its own task IDs; the last one kills a node. Each prints its counts.
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { existsSync, mkdirSync, readdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { after, before, describe, test } from 'node:test';
import type { Task } from '../../src/state/types.ts';
import { enqueueTask } from '../../src/tasks/local-queue.ts';
import { FIXTURES } from '../helpers/paths.ts';
import { tempRoot } from '../helpers/tmp.ts';
import { waitFor } from '../helpers/wait.ts';
import { ETCD, ETCDCTL, EtcdCluster, freePorts, LEASE_TTL_S } from './etcd-cluster.ts';
import { byTask, readLog } from './fleet-log.ts';
import { cleanupAll, cli, cliOk, makeSandbox, processesUnder, query, startDaemon, type Daemon, type Sandbox } from './harness.ts';

const WORKER = join(FIXTURES, 'fleet-worker.sh');
const hasFlock = spawnSync('flock', ['--version']).status === 0;
const skip = !ETCD || !ETCDCTL ? 'etcd-server/etcd-client are not installed (.ci/run installs them)' : !hasFlock ? 'flock missing' : false;
if (skip) console.log(`SKIPPED: fleet task list tests (${skip})`);

const root = tempRoot('fleet-tasks');
const NODES = ['n1', 'n2', 'n3'] as const;

describe('the shared task list (3 etcd members, 3 wardens, tasks queued on one node)', { skip }, () => {
  let cluster: EtcdCluster;
  let dir: string;
  let log: string;
  let locks: string;
  let sandboxes: Sandbox[];
  let daemons: (Daemon | null)[];

  before(async () => {
    cluster = await EtcdCluster.start(root.fresh('etcd'));
    dir = root.fresh('fleet');
    [log, locks] = [join(dir, 'work.log'), join(dir, 'locks')];
    mkdirSync(locks);
    sandboxes = NODES.map((node) =>
      makeSandbox({
        supervisor: { max_concurrent_workers: 2, poll_interval: '300ms' },
        // max_attempts 1: a failed attempt makes its task dead at once (the retry scenario)
        worker: { command: [WORKER, log, locks, node, '{task_id}', '0.3'], startup_window: '0s', stop_grace: '1s', max_attempts: 1 },
        fleet: { endpoints: cluster.endpoints, node, prefix: '/tasks-test/', lease_ttl: `${LEASE_TTL_S}s` },
      }),
    );
    daemons = await Promise.all(sandboxes.map((sb) => startDaemon(sb)));
  });
  after(async () => {
    await cleanupAll();
    cluster?.stop();
  });

  const sb = (i: number) => sandboxes[i] as Sandbox;
  const live = () => sandboxes.filter((_, i) => daemons[i] !== null);
  const add = (i: number, id: string, prompt = `task ${id}`) =>
    enqueueTask(sb(i).stateDir, { id, prompt, priority: 2, addedAt: Date.now() });
  const starts = (id: string) => byTask(readLog(log), 'start').get(id) ?? [];
  const ends = (id: string) => byTask(readLog(log), 'end').get(id) ?? [];
  const tasksOf = async (s: Sandbox) => (await query<{ tasks: Task[] }>(s.socket, '/tasks')).tasks;

  /** Waits until every live node holds `id` and `ok` holds for it on each. */
  function everyNode(what: string, id: string, ok: (t: Task) => boolean, timeoutMs = 60_000): Promise<Task[]> {
    return waitFor(
      `${id} on every node: ${what}`,
      async () => {
        const all = await Promise.all(live().map(async (s) => (await tasksOf(s)).find((t) => t.id === id)));
        return all.every((t) => t !== undefined && ok(t)) ? (all as Task[]) : null;
      },
      timeoutMs,
      150,
    );
  }

  async function pauseFleet(): Promise<void> {
    await cliOk(sb(0).configPath, ['pause']);
    await waitFor(
      'every node paused',
      async () => {
        const all = await Promise.all(live().map((s) => query<{ pause: { reasons: string[] } }>(s.socket, '/status')));
        return all.every((st) => st.pause.reasons.includes('manual'));
      },
      30_000,
      150,
    );
  }

  const resumeFleet = (i = 1) => cliOk(sb(i).configPath, ['resume']);

  test('tasks queued on one node only run exactly once across the fleet; `warden tasks --json` lists them alike on every node', async () => {
    const ids = Array.from({ length: 20 }, (_, i) => `t${String(i + 1).padStart(2, '0')}`);
    for (const id of ids) add(0, id);
    await waitFor('every task ended', () => ids.every((id) => ends(id).length >= 1), 120_000, 200);
    const lines = readLog(log);
    const duplicates = ids.filter((id) => starts(id).length > 1).length;
    const lost = ids.filter((id) => ends(id).length === 0).length;
    const overlaps = lines.filter((l) => l.kind === 'overlap').length;
    const perNode = new Map<string, number>();
    for (const id of ids) for (const l of starts(id)) perNode.set(l.node, (perNode.get(l.node) ?? 0) + 1);
    console.log(
      `fleet task list: 20 tasks queued on n1 only; duplicates=${duplicates}, lost=${lost}, overlaps=${overlaps}, ` +
        `runs per node=${JSON.stringify(Object.fromEntries(perNode))}`,
    );
    assert.equal(duplicates, 0);
    assert.equal(lost, 0);
    assert.equal(overlaps, 0);
    assert.ok(perNode.size >= 2, 'nodes that never saw the queue ran some of its tasks');
    for (const id of ids)
      await everyNode('succeeded with one attempt record', id, (t) => t.state === 'succeeded' && t.history.length === 1);
    // what an owner sees: `warden tasks --json` on each node, the same states and histories
    const views = await Promise.all(
      sandboxes.map(async (s) => {
        const list = JSON.parse((await cliOk(s.configPath, ['tasks', '--json'])).stdout) as Task[];
        return list
          .filter((t) => ids.includes(t.id))
          .sort((a, b) => a.id.localeCompare(b.id))
          .map((t) => ({ id: t.id, state: t.state, history: t.history }));
      }),
    );
    assert.equal(views[0]?.length, 20, 'n1 lists every task');
    assert.deepEqual(views[1], views[0], 'n2 lists the same tasks, states and histories as n1');
    assert.deepEqual(views[2], views[0], 'n3 lists the same tasks, states and histories as n1');
  });

  test('a cancel on one node of a pending task is honoured by every node (0 spawns); a priority change is seen by all', async () => {
    await pauseFleet();
    add(1, 'c01');
    await everyNode('pending', 'c01', (t) => t.state === 'pending');
    await cliOk(sb(2).configPath, ['task', 'priority', 'c01', '7']);
    await everyNode('priority 7', 'c01', (t) => t.priority === 7);
    const r = await cliOk(sb(0).configPath, ['task', 'cancel', 'c01']);
    await everyNode('cancelled', 'c01', (t) => t.state === 'cancelled');
    await resumeFleet();
    add(2, 'c02'); // the fleet runs again: c02 runs, c01 does not
    await waitFor('c02 ended', () => ends('c02').length >= 1, 60_000, 200);
    console.log(`fleet cancel: "${r.stdout.trim()}"; spawns of the cancelled task=${starts('c01').length}`);
    assert.equal(starts('c01').length, 0);
  });

  test('a retry on another node of a dead task runs it exactly once more; a remove then removes it everywhere', async () => {
    writeFileSync(join(locks, 'd01.fail'), '');
    add(2, 'd01');
    await everyNode('dead after one failed attempt', 'd01', (t) => t.state === 'dead' && t.history.length === 1);
    rmSync(join(locks, 'd01.fail'));
    const r = await cliOk(sb(1).configPath, ['task', 'retry', 'd01']);
    const done = await everyNode(
      'succeeded, with both attempts in its history',
      'd01',
      (t) => t.state === 'succeeded' && t.history.length === 2,
    );
    console.log(`fleet retry: "${r.stdout.trim()}"; runs of d01=${starts('d01').length} (1 failed + 1 after the retry)`);
    assert.equal(starts('d01').length, 2);
    for (const t of done)
      assert.deepEqual(
        t.history.map((h) => h.outcome === 'succeeded'),
        [false, true],
        'the failed run, then the retried one',
      );
    await cliOk(sb(0).configPath, ['task', 'remove', 'd01']);
    await waitFor(
      'd01 gone from every node',
      async () => (await Promise.all(live().map(tasksOf))).every((l) => !l.some((t) => t.id === 'd01')),
      30_000,
      150,
    );
  });

  test('one ID queued on two nodes with different prompts runs once, and the other request is kept and reported', async () => {
    await pauseFleet();
    add(0, 'x01', 'prompt from n1');
    add(1, 'x01', 'prompt from n2');
    await everyNode('known', 'x01', (t) => t.state === 'pending');
    const prompt = (i: number) => readFileSync(join(sb(i).stateDir, 'prompts', 'x01.prompt'), 'utf8');
    await waitFor('every node holds the same prompt', () => new Set([0, 1, 2].map(prompt)).size === 1, 30_000, 150);
    const winner = prompt(0);
    const loser = winner === 'prompt from n1' ? 1 : 0;
    const rejectedDir = join(sb(loser).stateDir, 'queue', 'rejected');
    const kept = existsSync(rejectedDir) ? readdirSync(rejectedDir).filter((n) => n.endsWith('-x01.json')) : [];
    await resumeFleet();
    await waitFor('x01 ended', () => ends('x01').length >= 1, 60_000, 200);
    const reported = (daemons[loser] as Daemon).log().includes('was added on this node with another prompt');
    console.log(
      `fleet duplicate ID: the fleet runs "${winner}"; n${loser + 1}'s request kept in queue/rejected (${kept.length} file), reported=${reported}; runs of x01=${starts('x01').length}`,
    );
    assert.equal(kept.length, 1, "the losing node's request is kept");
    assert.match(readFileSync(join(rejectedDir, kept[0] as string), 'utf8'), new RegExp(`prompt from n${loser + 1}`));
    assert.ok(reported, 'the losing node logs the conflict');
    assert.equal(starts('x01').length, 1);
  });

  test('a cancel on one node of a task running on another stops its worker there; cancelled on every node', async () => {
    writeFileSync(join(locks, 'r01.secs'), '120\n');
    add(0, 'r01');
    const run = await waitFor('r01 started', () => starts('r01')[0] ?? null, 60_000, 100);
    const other = NODES.findIndex((n) => n !== run.node);
    const r = await cliOk(sb(other).configPath, ['task', 'cancel', 'r01']);
    const cancelledAt = Date.now();
    await everyNode('cancelled', 'r01', (t) => t.state === 'cancelled');
    const holder = sb(NODES.indexOf(run.node as (typeof NODES)[number]));
    await waitFor('the worker of r01 is gone', () => processesUnder(holder.dir).length === 0, 30_000, 100);
    console.log(
      `fleet cancel of a running task: "${r.stdout.trim()}" on ${NODES[other]}; its worker on ${run.node} gone ${((Date.now() - cancelledAt) / 1000).toFixed(2)}s later; runs of r01=${starts('r01').length}`,
    );
    assert.match(r.stdout, new RegExp(`runs on node ${run.node}`));
    assert.equal(starts('r01').length, 1);
  });

  test('kill -9 of a node after it published a task but before anyone ran it: the task still runs, once, elsewhere', async () => {
    await pauseFleet();
    add(2, 'k01');
    await everyNode('known', 'k01', (t) => t.state === 'pending');
    await daemons[2]?.kill9();
    daemons[2] = null;
    await resumeFleet(0);
    const run = await waitFor('k01 ended', () => ends('k01')[0] ?? null, 60_000, 200);
    console.log(
      `fleet kill -9 after publishing: runs of k01=${starts('k01').length}, on ${run.node}; overlaps=${readLog(log).filter((l) => l.kind === 'overlap').length}`,
    );
    assert.equal(starts('k01').length, 1);
    assert.notEqual(run.node, 'n3');
    for (const d of daemons) await d?.stop();
  });

  test('etcd not answering: a task command changes nothing, in one line, exit 1', async () => {
    const [closed] = await freePorts(1);
    const lone = makeSandbox({ fleet: { endpoints: [`http://127.0.0.1:${closed}`], node: 'lone', lease_ttl: `${LEASE_TTL_S}s` } });
    enqueueTask(lone.stateDir, { id: 'e01', prompt: 'p', priority: 2, addedAt: Date.now() });
    const d = await startDaemon(lone);
    await waitFor('e01 taken in', async () => (await tasksOf(lone)).some((t) => t.id === 'e01'), 30_000, 150);
    const r = await cli(lone.configPath, ['task', 'cancel', 'e01']);
    console.log(`fleet task command without etcd: exit ${r.code}, ${JSON.stringify(r.stderr.trim())}`);
    assert.equal(r.code, 1);
    assert.match(r.stderr, /^warden: .*cannot reach etcd .*nothing changed\n$/);
    assert.equal((await tasksOf(lone)).find((t) => t.id === 'e01')?.state, 'pending');
    await d.stop();
  });
});
