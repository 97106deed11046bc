// What the nodes of a fleet share besides claims: fleet-wide pauses, the daily spending and the
// breaker, merged into one node's state. Pure, on fixed times (the fake clock of a pure function is
// its `now` argument); the etcd side is covered by test/integration/fleet-pauses.test.ts.
import assert from 'node:assert/strict';
import { describe, test } from 'node:test';
import {
  applyFleetBudget,
  foldPauses,
  markPublished,
  mergeBreaker,
  othersSpend,
  unpublishedPauses,
  type SharedPause,
} from '../../../src/fleet/shared-merge.ts';
import { advanceBreaker, breakerOnFailure, breakerOnSuccess, closedBreaker } from '../../../src/policy/breaker.ts';
import { localDay } from '../../../src/policy/verdict.ts';
import type { BreakerState, WardenState } from '../../../src/state/types.ts';
import { stateOf } from '../../helpers/tasks.ts';

const NOW = Date.UTC(2026, 10, 29, 12, 0, 0);
const S = { failures: 3, window: 600_000, cooldown: 60_000 };

const rec = (over: Partial<SharedPause> = {}): SharedPause => ({
  since: NOW - 5000,
  until: null,
  reason: 'Not logged in · Please run /login',
  node: 'n2',
  rev: '17',
  ...over,
});

function withPause(p: Partial<WardenState['pause']>): WardenState {
  const s = stateOf([]);
  return { ...s, pause: { ...s.pause, ...p } };
}

describe('foldPauses: fleet-wide pauses', () => {
  test('a worker_auth pause set on another node pauses this one, naming that node, and is not published again', () => {
    const r = foldPauses(stateOf([]), { worker_auth: rec() }, 'n1', NOW);
    assert.equal(r.state.pause.workerAuth?.fleetRev, '17');
    assert.match(r.state.pause.workerAuth?.reason ?? '', /on node n2/);
    assert.equal(r.notes.length, 1);
    assert.equal(unpublishedPauses(r.state, 'n1').size, 0);
  });

  test('a pause that mirrors a record is lifted when the record is gone (resumed on another node)', () => {
    const s = withPause({ workerAuth: { since: NOW - 5000, reason: 'x', fleetRev: '17' }, manual: { since: NOW, fleetRev: '9' } });
    const r = foldPauses(s, {}, 'n1', NOW);
    assert.equal(r.state.pause.workerAuth, null);
    assert.equal(r.state.pause.manual, null);
  });

  test('a pause set here and not yet published stays, and is the one to publish', () => {
    const s = withPause({ workerAuth: { since: NOW, reason: 'not logged in' } });
    const r = foldPauses(s, {}, 'n1', NOW);
    assert.equal(r.state, s);
    const out = unpublishedPauses(r.state, 'n1');
    assert.deepEqual(out.get('worker_auth'), { since: NOW, until: null, reason: 'not logged in', node: 'n1' });
  });

  test('usage_limit: a later local reset is kept (to publish); an earlier one takes the record', () => {
    const later = withPause({ usageLimit: { since: NOW, until: NOW + 7200_000, reason: 'limit' } });
    const keep = foldPauses(later, { usage_limit: rec({ until: NOW + 3600_000 }) }, 'n1', NOW);
    assert.equal(keep.state.pause.usageLimit?.until, NOW + 7200_000);
    assert.equal(keep.state.pause.usageLimit?.fleetRev, undefined);
    const earlier = withPause({ usageLimit: { since: NOW, until: NOW + 60_000, reason: 'limit' } });
    const take = foldPauses(earlier, { usage_limit: rec({ until: NOW + 3600_000 }) }, 'n1', NOW);
    assert.equal(take.state.pause.usageLimit?.until, NOW + 3600_000);
    assert.equal(take.state.pause.usageLimit?.fleetRev, '17');
  });

  test('a record whose time has passed pauses nobody', () => {
    const r = foldPauses(stateOf([]), { budget: rec({ until: NOW - 1 }) }, 'n1', NOW);
    assert.equal(r.state.pause.budget, null);
  });

  test('markPublished marks only the pauses still as they were published', () => {
    const s = withPause({ workerAuth: { since: NOW, reason: 'a' }, budget: { since: NOW, until: NOW + 1, reason: 'b' } });
    const published = unpublishedPauses(s, 'n1');
    const changed = { ...s, pause: { ...s.pause, budget: { since: NOW + 5, until: NOW + 9, reason: 'c' } } };
    const m = markPublished(changed, published, '30');
    assert.equal(m.pause.workerAuth?.fleetRev, '30');
    assert.equal(m.pause.budget?.fleetRev, undefined);
  });
});

describe('the daily budget sums the spending of every node', () => {
  const day = localDay(NOW);
  test("othersSpend adds the other nodes' spending of this local day only", () => {
    const spends = new Map([
      ['n1', { day, usd: 5 }],
      ['n2', { day, usd: 0.5 }],
      ['n3', { day: '2026-11-28', usd: 9 }],
      ['n4', { day, usd: 0.25 }],
    ]);
    assert.equal(othersSpend(spends, 'n1', NOW), 0.75);
  });

  test("a node under the limit on its own pauses when the fleet's sum reaches it", () => {
    const s = { ...stateOf([]), spend: { day, usd: 0.3 } };
    const r = applyFleetBudget(s, 0.7, NOW, { maxDailyCostUsd: 1 });
    assert.ok(r.state.pause.budget);
    assert.match(r.state.pause.budget.reason, /the fleet: \$1\.00/);
    assert.deepEqual(
      r.events.map((e) => e.type),
      ['worker_paused'],
    );
    assert.equal(applyFleetBudget(s, 0.6, NOW, { maxDailyCostUsd: 1 }).state.pause.budget, null);
    assert.equal(applyFleetBudget(s, 100, NOW, { maxDailyCostUsd: null }).state.pause.budget, null);
  });
});

/** A node of a simulated fleet: its breaker, and the shared record as it last took it over. */
class Node {
  base: BreakerState | null = null;
  local: BreakerState = closedBreaker(S);
  constructor(readonly name: string) {}
  /** One tick's merge against the record; writes it when the merge says so. */
  sync(shared: { b: BreakerState | null }, now: number): { opened: boolean } {
    const m = mergeBreaker(this.base, this.local, shared.b, now, S);
    this.local = m.breaker;
    this.base = m.breaker;
    if (m.write) shared.b = m.breaker;
    return { opened: m.opened };
  }
  fail(now: number, task: string): boolean {
    const r = breakerOnFailure(this.local, now, S, task, `${task}: crashed`);
    this.local = r.breaker;
    return r.transition === 'opened';
  }
}

describe('mergeBreaker: one breaker for the fleet', () => {
  test('3 failures on 3 different nodes open it once, and every node then holds it open', () => {
    const shared = { b: null as BreakerState | null };
    const nodes = ['n1', 'n2', 'n3'].map((n) => new Node(n));
    for (const n of nodes) n.sync(shared, NOW);
    let openings = 0;
    nodes.forEach((n, i) => {
      if (n.fail(NOW + 1000 * (i + 1), `t${i}`)) openings++;
      if (n.sync(shared, NOW + 1000 * (i + 1) + 10).opened) openings++;
    });
    for (const n of nodes) n.sync(shared, NOW + 5000);
    assert.equal(openings, 1, 'opened once');
    assert.equal(shared.b?.phase, 'open');
    for (const n of nodes) assert.equal(n.local.phase, 'open', n.name);
    assert.deepEqual(shared.b?.recentFailures, [NOW + 1000, NOW + 2000, NOW + 3000]);
  });

  test('failures of two nodes that did not see each other are both counted (a lost race merges again)', () => {
    const shared = { b: closedBreaker(S) as BreakerState | null };
    const [a, b] = [new Node('a'), new Node('b')];
    a.sync(shared, NOW);
    b.sync(shared, NOW);
    a.fail(NOW + 1, 'x');
    b.fail(NOW + 2, 'y');
    a.sync(shared, NOW + 3);
    b.sync(shared, NOW + 4); // b's base is older than the record a wrote
    assert.deepEqual(shared.b?.recentFailures, [NOW + 1, NOW + 2]);
  });

  test('a node that changed nothing takes the record over; an open one past its cooldown is half-open and not written back', () => {
    const opened: BreakerState = { ...closedBreaker(S), phase: 'open', openedAt: NOW, reason: 'r', recentFailures: [NOW] };
    const n = new Node('n');
    const m1 = mergeBreaker(null, n.local, opened, NOW + 1, S);
    assert.equal(m1.breaker.phase, 'open');
    assert.equal(m1.write, false);
    const m2 = mergeBreaker(m1.breaker, advanceBreaker(m1.breaker, NOW + S.cooldown), opened, NOW + S.cooldown, S);
    assert.equal(m2.breaker.phase, 'half_open');
    assert.equal(m2.write, false);
  });

  test("a probe that succeeded here closes the fleet's breaker", () => {
    const half: BreakerState = { ...closedBreaker(S), phase: 'half_open', openedAt: NOW, probeTaskId: 'p', reason: 'r' };
    const closed = breakerOnSuccess(half, S, 'p').breaker;
    const m = mergeBreaker(half, closed, half, NOW + 10, S);
    assert.equal(m.write, true);
    assert.equal(m.breaker.phase, 'closed');
  });

  test('opened here while another node opened it first: the first opening stays, with both windows', () => {
    const base = closedBreaker(S);
    const theirs: BreakerState = { ...base, phase: 'open', openedAt: NOW, reason: 'theirs', recentFailures: [NOW - 2, NOW - 1, NOW] };
    const mine: BreakerState = { ...base, phase: 'open', openedAt: NOW + 5, reason: 'mine', recentFailures: [NOW + 3, NOW + 4, NOW + 5] };
    const m = mergeBreaker(base, mine, theirs, NOW + 6, S);
    assert.equal(m.breaker.openedAt, NOW);
    assert.equal(m.breaker.reason, 'theirs');
    assert.equal(m.opened, false);
    assert.equal(m.breaker.recentFailures.length, 6);
  });

  test('a fresh start with no record publishes the local breaker once', () => {
    const local = closedBreaker(S);
    assert.equal(mergeBreaker(null, local, null, NOW, S).write, true);
    assert.equal(mergeBreaker(local, local, null, NOW, S).write, false);
  });
});

test('fleet-wide pauses leave the per-node ones alone (pressure, thermal, power, disk)', () => {
  const s = withPause({ disk: { since: NOW, reason: 'full' } });
  const r = foldPauses(s, {}, 'n1', NOW);
  assert.deepEqual(r.state.pause.disk, { since: NOW, reason: 'full' });
  assert.equal(unpublishedPauses(r.state, 'n1').size, 0);
});
