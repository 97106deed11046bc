// One GitHub poller for the fleet, for real: a 3-member etcd cluster on loopback ports, 3 warden
// daemons with the same [source.github] and the fake gh on PATH. The fake gh logs every
// `gh issue list` with its caller's pid and its start and end on /proc/uptime, and takes 0.2 s, so
// two polls at once would show as overlapping intervals. The poller is killed with -9 and another
// node must take over; the takeover time is printed.
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { existsSync, mkdirSync, readFileSync, renameSync, symlinkSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { after, describe, test } from 'node:test';
import { FIXTURES } from '../helpers/paths.ts';
import { tempRoot } from '../helpers/tmp.ts';
import { waitFor } from '../helpers/wait.ts';
import { ETCD, ETCDCTL, clusterForSuite, LEASE_TTL_S } from './etcd-cluster.ts';
import { makeSandbox, startDaemon, tasks, type Daemon, type Sandbox } from './harness.ts';

const hasFlock = spawnSync('flock', ['--version']).status === 0;
const skip = !ETCD || !ETCDCTL ? 'etcd-server/etcd-client are not installed (.ci/run installs them)' : !hasFlock ? 'flock missing' : false;
if (skip) console.log(`SKIPPED: fleet poller tests (${skip})`);

const root = tempRoot('fleet-poller');
const ORIGINAL_PATH = process.env.PATH;

interface ListCall {
  pid: number;
  start: number;
  end: number;
}

function listCalls(ghDir: string): ListCall[] {
  const f = join(ghDir, 'issue-list.log');
  if (!existsSync(f)) return [];
  return readFileSync(f, 'utf8')
    .split('\n')
    .filter((l) => l.trim() !== '')
    .map((l) => {
      const [pid, start, end] = l.split(' ').map(Number);
      return { pid: pid!, start: start!, end: end! };
    });
}

/** Pairs of `gh issue list` calls whose intervals overlap (two pollers at once). */
function overlappingCalls(calls: ListCall[]): number {
  const sorted = [...calls].sort((a, b) => a.start - b.start);
  let n = 0;
  for (let i = 1; i < sorted.length; i++) if (sorted[i]!.start < sorted[i - 1]!.end) n++;
  return n;
}

function uptime(): number {
  return Number(readFileSync('/proc/uptime', 'latin1').split(' ')[0]);
}

const issue = (number: number) => ({
  number,
  title: `issue ${number}`,
  body: `body of ${number}`,
  labels: [{ name: 'warden' }],
  updatedAt: '2026-11-29T00:00:00Z',
  url: `https://github.com/o/r/issues/${number}`,
});

describe('one GitHub poller for the fleet (3 etcd members, 3 wardens)', { skip }, () => {
  const etcd = clusterForSuite(() => root.fresh('etcd'));
  after(() => {
    process.env.PATH = ORIGINAL_PATH;
  });

  test('gh issue list is called by one node at a time; kill -9 of the poller: another node takes over within lease_ttl of its lease expiring', async () => {
    const dir = root.fresh('world');
    const [ghDir, bin, locks, prs] = ['gh', 'bin', 'locks', 'gh/prs'].map((d) => join(dir, d)) as [string, string, string, string];
    for (const d of [ghDir, bin, locks, prs]) mkdirSync(d, { recursive: true });
    symlinkSync(join(FIXTURES, 'fake-gh'), join(bin, 'gh'));
    const setIssues = (numbers: number[]) => {
      writeFileSync(join(ghDir, 'issues.json.tmp'), JSON.stringify(numbers.map(issue)));
      renameSync(join(ghDir, 'issues.json.tmp'), join(ghDir, 'issues.json'));
      // each task "opened" its PR, so that it succeeds (PlainWorkspace asks gh pr list)
      for (const n of numbers)
        writeFileSync(
          join(prs, `warden__gh-${n}.json`),
          JSON.stringify({ number: 500 + n, url: `https://github.com/o/r/pull/${500 + n}`, state: 'OPEN' }),
        );
    };
    writeFileSync(join(ghDir, 'list-delay'), '0.2');
    setIssues([1, 2, 3, 4, 5, 6]);
    process.env.PATH = `${bin}:${ORIGINAL_PATH}`;
    process.env.FAKE_GH_DIR = ghDir;
    const log = join(dir, 'work.log');
    const sandboxes: Sandbox[] = [0, 1, 2].map((i) =>
      makeSandbox({
        supervisor: { max_concurrent_workers: 1, poll_interval: '300ms' },
        worker: { command: [join(FIXTURES, 'fleet-worker.sh'), log, locks, `n${i + 1}`, '{task_id}', '0.3'], startup_window: '0s' },
        'source.github': { repo: 'o/r', label: 'warden', poll: '1s' },
        fleet: { endpoints: etcd().endpoints, node: `n${i + 1}`, prefix: '/poller/', lease_ttl: `${LEASE_TTL_S}s` },
      }),
    );
    const daemons: Daemon[] = await Promise.all(sandboxes.map((sb) => startDaemon(sb)));
    const lines = (kind: string): string[] =>
      existsSync(log)
        ? readFileSync(log, 'utf8')
            .split('\n')
            .filter((l) => l.startsWith(`${kind} `))
            .map((l) => l.split(' ')[1]!)
        : [];
    const logs = () =>
      daemons
        .map((d) =>
          d
            .log()
            .split('\n')
            .filter((l) => /gh-|fleet/.test(l))
            .join('\n'),
        )
        .join('\n---\n');
    const fences = () => daemons.reduce((n, d) => n + (d.log().match(/fleet: fencing/g)?.length ?? 0), 0);
    /** Times the caller changed from one call to the next: each needs the previous poller's lease gone. */
    const handovers = (calls: ListCall[]) => calls.filter((c, i) => i > 0 && c.pid !== calls[i - 1]!.pid).length;

    // every node learns the tasks from the one poll; each task completes once in the fleet
    const all = [1, 2, 3, 4, 5, 6].map((n) => `gh-${n}`);
    await waitFor('every issue ran as a task', () => all.every((t) => lines('end').includes(t)), 60_000, 200);
    for (const sb of sandboxes)
      await waitFor(
        `${sb.dir} knows all 6 GitHub tasks`,
        async () => (await tasks(sb)).filter((t) => t.id.startsWith('gh-')).length === 6,
        30_000,
        300,
      );
    // a few more polls (poll = 1s)
    const before = listCalls(ghDir).length;
    await waitFor('three more polls', () => listCalls(ghDir).length >= before + 3, 30_000, 100);
    const calls = listCalls(ghDir);
    const pids = daemons.map((d) => d.pid);
    console.log(
      `fleet poller: ${calls.length} gh issue list calls by ${[...new Set(calls.map((c) => c.pid))].join(',')} (daemons ${pids.join(',')}), overlaps=${overlappingCalls(calls)}, handovers=${handovers(calls)}, fences=${fences()}`,
    );
    assert.equal(overlappingCalls(calls), 0, 'never two gh issue list calls at once');
    assert.ok(
      calls.every((c) => pids.includes(c.pid)),
      'every call is made by a daemon',
    );
    // on a quiet machine: one caller. A loaded one may starve a renewal; a fenced poller loses the key, and only then
    assert.ok(handovers(calls) <= fences(), `a handover only after a fence:\n${logs()}`);
    assert.equal(lines('overlap').length, 0);
    for (const t of all) assert.equal(lines('end').filter((x) => x === t).length, 1, `${t} completed once:\n${logs()}`);

    // kill -9 the poller; a new issue must still become a task, through another node's poll
    const poller = daemons.find((d) => d.pid === calls.at(-1)!.pid)!;
    const killedAt = uptime();
    await poller.kill9();
    setIssues([1, 2, 3, 4, 5, 6, 7]);
    const takeover = await waitFor(
      'another node polls',
      () => listCalls(ghDir).find((c) => c.pid !== poller.pid && c.start > killedAt) ?? null,
      60_000,
      50,
    );
    const takeoverS = takeover.start - killedAt;
    const lastOld = Math.max(
      ...listCalls(ghDir)
        .filter((c) => c.pid === poller.pid)
        .map((c) => c.end),
    );
    console.log(
      `fleet poller takeover: ${takeoverS.toFixed(2)} s after kill -9 (lease_ttl ${LEASE_TTL_S} s; the old poller's last call ended ${(killedAt - lastOld).toFixed(2)} s before the kill)`,
    );
    // the lease expires at most lease_ttl after the kill; the others look every lease_ttl/10
    assert.ok(takeoverS <= LEASE_TTL_S * 1.1 + 2, `takeover within lease_ttl + lease_ttl/10 (+2 s for this loaded machine): ${takeoverS}`);
    assert.ok(lastOld <= killedAt, 'the killed poller made no call after its death');
    await waitFor('gh-7 completed on a surviving node', () => lines('end').includes('gh-7'), 60_000, 200);
    const after = listCalls(ghDir);
    assert.equal(overlappingCalls(after), 0, 'no two gh issue list calls at once, across the takeover');
    assert.equal(lines('end').filter((t) => t === 'gh-7').length, 1);
    assert.equal(lines('overlap').length, 0);
    for (const d of daemons) if (d !== poller) await d.stop();
  });
});
