// Fleet mode for real: a 3-member etcd cluster on loopback ports, 3 warden daemons (direct
// executor, separate state directories) sharing one backlog of 30 tasks. The worker
// (test/fixtures/fleet-worker.sh) appends `start/end <task> <node> <uptime>` to a shared log and
// holds an flock on its task while it runs, so a second live worker of one task is seen as an
// `overlap` line, exactly, even when the first was killed. Each scenario prints its overlap count
// and, where a node is lost, the takeover time. Every scenario has its own key prefix.
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { existsSync, mkdirSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { after, before, describe, test } from 'node:test';
import { enqueueTask } from '../../src/tasks/local-queue.ts';
import { FIXTURES } from '../helpers/paths.ts';
import { tempRoot } from '../helpers/tmp.ts';
import { waitFor } from '../helpers/wait.ts';
import { ETCD, ETCDCTL, EtcdCluster } from './etcd-cluster.ts';
import { cleanupAll, makeSandbox, startDaemon, status, type Daemon, type Sandbox } from './harness.ts';

const WORKER = join(FIXTURES, 'fleet-worker.sh');
const hasFlock = spawnSync('flock', ['--version']).status === 0;
const skip = !ETCD || !ETCDCTL ? 'etcd-server/etcd-client are not installed (.ci/run installs them)' : !hasFlock ? 'flock missing' : false;
if (skip) console.log(`SKIPPED: fleet tests (${skip})`);

const LEASE_TTL_S = 3;
const root = tempRoot('fleet');

interface LogLine {
  kind: 'start' | 'end' | 'overlap';
  task: string;
  node: string;
  at: number;
  token: string;
}

function readLog(file: string): LogLine[] {
  if (!existsSync(file)) return [];
  return readFileSync(file, 'utf8')
    .split('\n')
    .filter((l) => l.trim() !== '')
    .map((l) => {
      const [kind, task, node, at, token] = l.split(' ');
      return {
        kind: kind as LogLine['kind'],
        task: task ?? '',
        node: node ?? '',
        at: Number(at),
        token: token?.replace('token=', '') ?? '',
      };
    });
}

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
  const by = (kind: LogLine['kind']) => {
    const m = new Map<string, LogLine[]>();
    for (const l of lines.filter((x) => x.kind === kind)) m.set(l.task, [...(m.get(l.task) ?? []), l]);
    return m;
  };
  return { overlaps: lines.filter((l) => l.kind === 'overlap').length, starts: by('start'), ends: by('end') };
}

function allEnded(f: Fleet): boolean {
  const { ends } = analyse(f);
  return f.tasks.every((t) => (ends.get(t)?.length ?? 0) >= 1);
}

async function stopFleet(f: Fleet): Promise<void> {
  for (const d of f.daemons) if (d) await d.stop();
}

describe('fleet mode through etcd (3 members, 3 wardens, 30 tasks)', { skip }, () => {
  let cluster: EtcdCluster;
  before(async () => {
    cluster = await EtcdCluster.start(root.fresh('etcd'));
  });
  after(async () => {
    await cleanupAll();
    cluster?.stop();
  });

  test('normal run: every task runs exactly once, on some node, and no two workers of one task overlap', async () => {
    const f = await startFleet(cluster, 'normal');
    await waitFor('every task ended once', () => allEnded(f), 120_000, 200);
    const { overlaps, starts } = analyse(f);
    const perNode = new Map<string, number>();
    for (const l of [...starts.values()].flat()) perNode.set(l.node, (perNode.get(l.node) ?? 0) + 1);
    console.log(`fleet normal run: overlaps=${overlaps}, runs per node=${JSON.stringify(Object.fromEntries(perNode))}`);
    assert.equal(overlaps, 0);
    for (const t of f.tasks) assert.equal(starts.get(t)?.length, 1, `task ${t} started ${starts.get(t)?.length ?? 0} times`);
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
});
