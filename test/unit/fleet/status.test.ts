// `warden fleet status`'s report from the keys it read (pure): nodes alive or gone, workers from
// claims, the elected poller and its last poll, outcomes by state, and every other shared key.
import assert from 'node:assert/strict';
import { describe, test } from 'node:test';
import { fleetStatusFrom, type RawFleet, type RawKey } from '../../../src/fleet/status.ts';

const P = '/w/';
const key = (name: string, value: unknown, lease = '0', createRevision = '1'): RawKey => ({
  key: `${P}${name}`,
  value: typeof value === 'string' ? value : JSON.stringify(value),
  lease,
  createRevision,
});

function raw(kvs: RawKey[], leaseTtl: [string, number][] = []): RawFleet {
  return { prefix: P, endpoints: ['http://127.0.0.1:2379'], readAt: 1000, revision: '42', kvs, leaseTtl: new Map(leaseTtl) };
}

describe('the fleet report', () => {
  const s = fleetStatusFrom(
    raw(
      [
        key('nodes/n1', { node: 'n1', version: '1.2.0', pid: 11, since: 100, paused: ['pressure'] }, 'L1'),
        key('nodes/n2', { node: 'n2', version: '1.2.0', pid: 22, since: 200, paused: [] }, 'L2'),
        key('claims/t1', { node: 'n1', attempt: 2, at: 300 }, 'L1', '17'),
        key('claims/t2', { node: 'n2', attempt: 1, at: 310 }, 'L2', '18'),
        key('tasks/t0', { state: 'succeeded', attempts: 1, node: 'n3', updatedAt: 250 }),
        key('tasks/t9', { state: 'dead', attempts: 3, node: 'n1', updatedAt: 260 }),
        key('poller', { node: 'n2', since: 150 }, 'L2'),
        key('github/poll', { node: 'n2', at: 400, result: { ok: true, value: [{ number: 1 }, { number: 2 }] } }),
        key('breaker', { phase: 'open', reason: 'auth_failed' }),
      ],
      [
        ['L1', 4],
        ['L2', 3],
      ],
    ),
  );
  test('live nodes carry their lease, its TTL left, version, pid and pause reasons', () => {
    const n1 = s.nodes.find((n) => n.node === 'n1')!;
    assert.deepEqual(
      { alive: n1.alive, lease: n1.lease, ttl: n1.leaseTtlS, version: n1.version, pid: n1.pid, paused: n1.paused },
      { alive: true, lease: 'L1', ttl: 4, version: '1.2.0', pid: 11, paused: ['pressure'] },
    );
  });
  test("a node's workers are its claims, with the fencing token (the claim's create revision)", () => {
    assert.deepEqual(s.nodes.find((n) => n.node === 'n1')!.workers, [{ task: 't1', attempt: 2, token: '17' }]);
    assert.deepEqual(
      s.claims.map((c) => `${c.task}@${c.node}#${c.token}`),
      ['t1@n1#17', 't2@n2#18'],
    );
  });
  test('a node known only from an outcome it published is listed as not alive, with when', () => {
    const n3 = s.nodes.find((n) => n.node === 'n3')!;
    assert.equal(n3.alive, false);
    assert.equal(n3.lastOutcomeAt, 250);
    assert.deepEqual(
      s.nodes.map((n) => n.node),
      ['n1', 'n2', 'n3'],
    );
  });
  test('the elected poller and its last published poll', () => {
    assert.deepEqual(s.poller, { node: 'n2', since: 150, lease: 'L2' });
    assert.deepEqual(s.lastPoll, { node: 'n2', at: 400, ok: true, issues: 2, cause: null });
  });
  test('outcomes by state, and keys of other kinds (a shared breaker) shown as stored', () => {
    assert.deepEqual(s.tasks, { succeeded: 1, dead: 1 });
    assert.deepEqual(s.shared, [{ key: 'breaker', value: '{"phase":"open","reason":"auth_failed"}' }]);
  });
});

test('an empty prefix: no nodes, no claims, no poller', () => {
  const s = fleetStatusFrom(raw([]));
  assert.deepEqual([s.nodes, s.claims, s.poller, s.lastPoll, s.tasks, s.shared], [[], [], null, null, {}, []]);
});

test('a long shared value is shortened; an unreadable node record is shown as a shared key, not dropped', () => {
  const s = fleetStatusFrom(raw([key('budget/day', 'x'.repeat(500)), key('nodes/bad', 'not json')]));
  assert.equal(s.shared[0]!.value.length, 203);
  assert.deepEqual(s.nodes, []);
  assert.equal(s.shared[1]!.key, 'nodes/bad');
});
