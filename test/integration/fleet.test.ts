// Fleet mode for real: a 3-member etcd cluster on loopback ports, 3 warden daemons (direct
// executor, separate state directories) sharing one backlog of 30 tasks. The worker
// (test/fixtures/fleet-worker.sh) appends `start/end <task> <node> <uptime>` to a shared log and
// holds an flock on its task while it runs, so a second live worker of one task is seen as an
// `overlap` line, exactly, even when the first was killed. Each scenario prints its overlap count
// and, where a node is lost, the takeover time. Every scenario has its own key prefix.
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { mkdirSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, test } from 'node:test';
import { enqueueTask } from '../../src/tasks/local-queue.ts';
import { FIXTURES } from '../helpers/paths.ts';
import { tempRoot } from '../helpers/tmp.ts';
import { waitFor } from '../helpers/wait.ts';
import { CuttableProxy, ETCD, ETCDCTL, clusterForSuite, EtcdCluster, LEASE_TTL_S } from './etcd-cluster.ts';
import { byTask, readLog, type LogLine } from './fleet-log.ts';
import { makeSandbox, processesUnder, startDaemon, status, type Daemon, type Sandbox } from './harness.ts';

const WORKER = join(FIXTURES, 'fleet-worker.sh');
const hasFlock = spawnSync('flock', ['--version']).status === 0;
const skip = !ETCD || !ETCDCTL ? 'etcd-server/etcd-client are not installed (.ci/run installs them)' : !hasFlock ? 'flock missing' : false;
if (skip) console.log(`SKIPPED: fleet tests (${skip})`);

// short for a test, but long enough that a renewal on this loaded 2-core machine comes back before the fence (0.6 ttl)
const root = tempRoot('fleet');

interface Fleet {
  sandboxes: Sandbox[];
  daemons: (Daemon | null)[];
  log: string;
  tasks: string[];
}

/** 3 nodes on one prefix, each with the same tasks queued; `endpointsOf(i)` may route a node through a proxy. */
async function startFleet(
  cluster: EtcdCluster,
  name: string,
  opts: { tasks?: number; secs?: number; endpointsOf?: (i: number) => string[]; workers?: number } = {},
): Promise<Fleet> {
  const dir = root.fresh(name);
  const log = join(dir, 'work.log');
  const locks = join(dir, 'locks');
  mkdirSync(locks);
  const tasks = Array.from({ length: opts.tasks ?? 30 }, (_, i) => `t${String(i + 1).padStart(2, '0')}`);
  const sandboxes = [0, 1, 2].map((i) =>
    makeSandbox({
      supervisor: { max_concurrent_workers: opts.workers ?? 2, poll_interval: '300ms' },
      worker: { command: [WORKER, log, locks, `n${i + 1}`, '{task_id}', String(opts.secs ?? 0.3)], startup_window: '0s', stop_grace: '1s' },
      fleet: {
        endpoints: opts.endpointsOf?.(i) ?? cluster.endpoints,
        node: `n${i + 1}`,
        prefix: `/${name}/`,
        lease_ttl: `${LEASE_TTL_S}s`,
      },
    }),
  );
  for (const sb of sandboxes)
    for (const id of tasks) enqueueTask(sb.stateDir, { id, prompt: `task ${id}`, priority: 2, addedAt: Date.now() });
  const daemons = await Promise.all(sandboxes.map((sb) => startDaemon(sb)));
  return { sandboxes, daemons, log, tasks };
}

/** Per task: its starts, ends, and overlaps (a start while another worker of it still lived). */
function analyse(f: Fleet): { overlaps: number; starts: Map<string, LogLine[]>; ends: Map<string, LogLine[]> } {
  const lines = readLog(f.log);
  return { overlaps: lines.filter((l) => l.kind === 'overlap').length, starts: byTask(lines, 'start'), ends: byTask(lines, 'end') };
}

function allEnded(f: Fleet): boolean {
  const { ends } = analyse(f);
  return f.tasks.every((t) => (ends.get(t)?.length ?? 0) >= 1);
}

/** Now, on the clock the worker writes (/proc/uptime, seconds). */
function uptime(): number {
  return Number(readFileSync('/proc/uptime', 'latin1').split(' ')[0]);
}

/** The task node `node` is running now (started, not ended), once there is one. */
function runningOn(f: Fleet, node: string): Promise<string> {
  return waitFor(
    `a worker running on ${node}`,
    () => {
      const { starts, ends } = analyse(f);
      for (const [task, list] of starts) if (list.some((l) => l.node === node) && !ends.has(task)) return task;
      return null;
    },
    60_000,
    50,
  );
}

/** Waits until no process of the node's workers is left; returns when (uptime). */
async function workersGone(sb: Sandbox): Promise<number> {
  await waitFor(`no worker left under ${sb.dir}`, () => processesUnder(sb.dir).length === 0, 30_000, 20);
  return uptime();
}

/**
 * Watches the nodes' worker processes from now on (every 20 ms): `lastSeen()` is the last time
 * (uptime) any was seen, so a gap between two tasks of a node does not count as the workers' end.
 */
function watchWorkers(sandboxes: readonly Sandbox[]): { lastSeen: () => number; stop: () => void } {
  let seen = uptime();
  const timer = setInterval(() => {
    if (sandboxes.some((sb) => processesUnder(sb.dir).length > 0)) seen = uptime();
  }, 20);
  return { lastSeen: () => seen, stop: () => clearInterval(timer) };
}

/** The first start of `task` on a node other than `node`. */
function takenOverBy(f: Fleet, task: string, node: string): Promise<LogLine> {
  return waitFor(
    `${task} started on another node than ${node}`,
    () =>
      analyse(f)
        .starts.get(task)
        ?.find((l) => l.node !== node) ?? null,
    60_000,
    50,
  );
}

function assertEachTaskRan(f: Fleet, what: string): void {
  const { overlaps, ends } = analyse(f);
  assert.equal(overlaps, 0, `${what}: two workers of one task ran at once`);
  for (const t of f.tasks) assert.ok((ends.get(t)?.length ?? 0) >= 1, `${what}: task ${t} never completed`);
}

async function stopFleet(f: Fleet): Promise<void> {
  for (const d of f.daemons) if (d) await d.stop();
}

describe('fleet mode through etcd (3 members, 3 wardens, 30 tasks)', { skip }, () => {
  const etcd = clusterForSuite(() => root.fresh('etcd'));

  test('normal run: every task runs exactly once, on some node, and no two workers of one task overlap', async () => {
    const f = await startFleet(etcd(), 'normal');
    await waitFor('every task ended once', () => allEnded(f), 120_000, 200);
    const { overlaps, starts } = analyse(f);
    const perNode = new Map<string, number>();
    for (const l of [...starts.values()].flat()) perNode.set(l.node, (perNode.get(l.node) ?? 0) + 1);
    console.log(`fleet normal run: overlaps=${overlaps}, runs per node=${JSON.stringify(Object.fromEntries(perNode))}`);
    assert.equal(overlaps, 0);
    for (const t of f.tasks)
      assert.equal(
        starts.get(t)?.length,
        1,
        `task ${t} started ${starts.get(t)?.length ?? 0} times: ${JSON.stringify(readLog(f.log).filter((l) => l.task === t))}\n${f.daemons
          .map((d) =>
            d
              ?.log()
              .split('\n')
              .filter((l) => l.includes(t) || l.includes('fleet'))
              .join('\n'),
          )
          .join('\n---\n')}`,
      );
    assert.ok(perNode.size >= 2, 'the work is shared by more than one node');
    // every node's local state agrees: each task succeeded (here or on another node)
    await waitFor(
      'every node sees all 30 tasks succeeded',
      async () => {
        for (const sb of f.sandboxes) if ((await status(sb)).tasks.succeeded !== 30) return false;
        return true;
      },
      30_000,
      300,
    );
    await stopFleet(f);
  });

  test('kill -9 of a node mid-task, never restarted: its worker is gone before its lease expires, the task runs again elsewhere only after that', async () => {
    const f = await startFleet(etcd(), 'kill9', { secs: 2, workers: 1 });
    const task = await runningOn(f, 'n1');
    const killedAt = uptime();
    await f.daemons[0]?.kill9();
    f.daemons[0] = null;
    const goneAt = await workersGone(f.sandboxes[0] as Sandbox);
    const next = await takenOverBy(f, task, 'n1');
    await waitFor('every task completed', () => allEnded(f), 120_000, 200);
    console.log(
      `fleet kill -9: overlaps=${analyse(f).overlaps}, the killed node's worker died ${(goneAt - killedAt).toFixed(2)}s after the kill ` +
        `(lease_ttl ${LEASE_TTL_S}s), ${task} taken over by ${next.node} ${(next.at - killedAt).toFixed(2)}s after the kill`,
    );
    assert.ok(goneAt - killedAt < LEASE_TTL_S, "the dead man's switch killed the worker before the lease could expire");
    assert.ok(next.at > goneAt, 'the task started again only after the first worker was gone');
    assertEachTaskRan(f, 'kill -9');
    await stopFleet(f);
  });

  test('partition of one node from etcd: it stops its worker before lease_ttl, another node takes the task after, and it rejoins when the link is back', async () => {
    const proxy = await CuttableProxy.start(Number(new URL(etcd().endpoints[0] as string).port));
    try {
      const f = await startFleet(etcd(), 'partition', {
        secs: 2,
        workers: 1,
        endpointsOf: (i) => (i === 0 ? [`http://127.0.0.1:${proxy.port}`] : etcd().endpoints),
      });
      const task = await runningOn(f, 'n1');
      const cutAt = uptime();
      proxy.cut();
      const goneAt = await workersGone(f.sandboxes[0] as Sandbox);
      const paused = await waitFor(
        'n1 paused with reason fleet',
        async () => (await status(f.sandboxes[0] as Sandbox)).pause.reasons.includes('fleet'),
        30_000,
        100,
      );
      const next = await takenOverBy(f, task, 'n1');
      proxy.restore();
      const restoredAt = uptime();
      await waitFor('n1 resumed', async () => !(await status(f.sandboxes[0] as Sandbox)).pause.reasons.includes('fleet'), 30_000, 100);
      const rejoined = await waitFor(
        'n1 runs a task again',
        () => [...analyse(f).starts.values()].flat().find((l) => l.node === 'n1' && l.at > restoredAt) ?? null,
        60_000,
        100,
      );
      await waitFor('every task completed', () => allEnded(f), 120_000, 200);
      console.log(
        `fleet partition: overlaps=${analyse(f).overlaps}, n1's worker stopped ${(goneAt - cutAt).toFixed(2)}s after the cut (lease_ttl ${LEASE_TTL_S}s), ` +
          `${task} taken over by ${next.node} ${(next.at - cutAt).toFixed(2)}s after the cut, n1 ran ${rejoined.task} ${(rejoined.at - restoredAt).toFixed(2)}s after the link came back`,
      );
      assert.ok(paused);
      assert.ok(goneAt - cutAt < LEASE_TTL_S, 'the partitioned node stopped its worker before its lease could expire');
      assert.ok(next.at > goneAt);
      assertEachTaskRan(f, 'partition');
      await stopFleet(f);
    } finally {
      proxy.close();
    }
  });

  test('loss of the etcd leader (kill -9): no double claim, and the work goes on on the quorum', async () => {
    const f = await startFleet(etcd(), 'leader', { secs: 1, workers: 1 });
    await waitFor('a few tasks done', () => analyse(f).ends.size >= 3, 60_000, 100);
    const leader = etcd().leader();
    etcd().kill9(leader);
    const killedAt = uptime();
    await waitFor('every task completed', () => allEnded(f), 180_000, 200);
    const after = [...analyse(f).starts.values()].flat().filter((l) => l.at > killedAt + LEASE_TTL_S).length;
    console.log(
      `fleet leader loss: overlaps=${analyse(f).overlaps}, killed ${leader.name}, ${after} tasks started more than lease_ttl after`,
    );
    assertEachTaskRan(f, 'leader loss');
    await stopFleet(f);
    etcd().restart(leader);
    await etcd().waitHealthy();
  });

  test('loss of quorum (2 of 3 members down): no new claim (pause fleet), workers fenced, no task runs twice; work resumes with the quorum', async () => {
    const f = await startFleet(etcd(), 'quorum', { secs: 2, workers: 1 });
    await waitFor('a few tasks done', () => analyse(f).ends.size >= 3, 60_000, 100);
    const down = etcd().members.slice(1);
    for (const m of down) etcd().kill9(m);
    const lostAt = uptime();
    const watch = watchWorkers(f.sandboxes);
    for (const sb of f.sandboxes)
      await waitFor(`${sb.dir} paused with reason fleet`, async () => (await status(sb)).pause.reasons.includes('fleet'), 30_000, 100);
    const pausedAt = uptime();
    await Promise.all(f.sandboxes.map((sb) => workersGone(sb)));
    watch.stop();
    // when the last worker was last seen: a node between two tasks right after the loss (its next
    // worker claimed while the quorum was still there) is not taken for the end of its workers
    const goneAt = watch.lastSeen();
    for (const m of down) etcd().restart(m);
    await etcd().waitHealthy();
    const backAt = uptime();
    // a start once every node had paused, before the quorum's return, would be a claim made without quorum
    const during = [...analyse(f).starts.values()].flat().filter((l) => l.at > pausedAt && l.at < backAt).length;
    await waitFor('every task completed', () => allEnded(f), 180_000, 200);
    console.log(
      `fleet quorum loss: overlaps=${analyse(f).overlaps}, every worker stopped ${(goneAt - lostAt).toFixed(2)}s after the loss, ` +
        `${during} starts without quorum, work resumed ${(
          Math.min(
            ...[...analyse(f).starts.values()]
              .flat()
              .filter((l) => l.at > backAt)
              .map((l) => l.at),
          ) - backAt || 0
        ).toFixed(2)}s after quorum returned`,
    );
    assert.equal(during, 0, 'no task started without quorum');
    assert.ok(goneAt - lostAt < LEASE_TTL_S, 'workers were stopped before the leases could expire');
    assertEachTaskRan(f, 'quorum loss');
    await stopFleet(f);
  });
});
