// The fleet's records and claims folded into one node's state, and a tick's orders cut back to
// the claims etcd granted. Pure; no etcd.
import assert from 'node:assert/strict';
import { describe, test } from 'node:test';
import { applyFleetHealth, applyFleetView, withClaims, type FleetClaim } from '../../../src/fleet/merge.ts';
import { planTick } from '../../../src/policy/tick.ts';
import { DEFAULT_SETTINGS } from '../../helpers/settings.ts';
import { hostSample, stateOf, task } from '../../helpers/tasks.ts';

const NOW = 1_000_000;
const SELF = { node: 'n1', lease: '111' };
const claim = (over: Partial<FleetClaim> = {}): FleetClaim => ({ node: 'n2', lease: '222', attempt: 1, rev: '40', ...over });
const view = (claims: [string, FleetClaim][] = []) => ({ records: new Map(), claims: new Map(claims) });

describe('applyFleetView (the claims; the records are task-merge.test.ts)', () => {
  test('a task claimed by another node waits here until the recheck', () => {
    const s = stateOf([task('a')]);
    const r = applyFleetView(s, view([['a', claim()]]), SELF, NOW, NOW + 1000);
    assert.equal(r.state.tasks.a?.state, 'retry_wait');
    assert.equal(r.state.tasks.a?.notBefore, NOW + 1000);
    assert.match(r.state.tasks.a?.note ?? '', /claimed by node n2/);
  });

  test('a task running here whose claim is gone or another lease is lost (its worker must stop)', () => {
    const s = stateOf([task('a', { state: 'running' }), task('b', { state: 'running' }), task('c', { state: 'running' })]);
    const r = applyFleetView(
      s,
      view([
        ['b', claim({ lease: '111' })],
        ['c', claim()],
      ]),
      SELF,
      NOW,
      NOW + 1000,
    );
    assert.deepEqual(r.lost.sort(), ['a', 'c']);
  });

  test('nothing to fold in leaves the very same state (no save)', () => {
    const s = stateOf([task('a')]);
    assert.equal(applyFleetView(s, view(), SELF, NOW, NOW + 1000).state, s);
  });

  test('a terminal task is not made to wait by a claim (a stale claim of a finished task)', () => {
    const s = stateOf([task('a', { state: 'dead' })]);
    assert.equal(applyFleetView(s, view([['a', claim()]]), SELF, NOW, NOW + 1000).state, s);
  });
});

describe('withClaims', () => {
  const before = stateOf([task('a'), task('b')]);
  const planned = planTick(before, NOW, hostSample(), { ...DEFAULT_SETTINGS, maxConcurrentWorkers: 2, minSpawnInterval: 0 });

  test('the planner ordered both tasks (the premise of the next tests)', () => {
    assert.deepEqual(planned.spawns.map((o) => o.taskId).sort(), ['a', 'b']);
  });

  test('a granted claim puts its fencing token in the attempt; a refused one goes back, waiting, with no spawn event', () => {
    const r = withClaims(
      before,
      planned,
      new Map([
        ['a', { token: '77' }],
        ['b', { refused: 'claimed by node n2' }],
      ]),
      NOW + 1000,
    );
    assert.equal(r.state.tasks.a?.current?.fencingToken, '77');
    assert.equal(r.state.tasks.b?.state, 'retry_wait');
    assert.equal(r.state.tasks.b?.attempts, 0, 'a refused claim costs no attempt');
    assert.equal(r.state.tasks.b?.current, null);
    assert.equal(r.state.totalSpawns, before.totalSpawns + 1);
    assert.deepEqual(
      r.events.filter((e) => e.type === 'task_spawn').map((e) => ('taskId' in e ? e.taskId : '')),
      ['a'],
    );
  });

  test('all refused: the spawn count and the last spawn time are as before', () => {
    const r = withClaims(
      before,
      planned,
      new Map([
        ['a', { refused: 'x' }],
        ['b', { refused: 'x' }],
      ]),
      NOW + 1000,
    );
    assert.equal(r.state.totalSpawns, before.totalSpawns);
    assert.equal(r.state.lastSpawnAt, before.lastSpawnAt);
  });
});

describe('applyFleetHealth', () => {
  test('a problem pauses with reason fleet once; its end resumes', () => {
    const s = stateOf([]);
    const p = applyFleetHealth(s, 'no lease', NOW);
    assert.deepEqual(p.events, [{ type: 'fleet_paused', reason: 'no lease' }]);
    assert.equal(applyFleetHealth(p.state, 'no lease', NOW + 1).events.length, 0);
    const r = applyFleetHealth(p.state, null, NOW + 2);
    assert.deepEqual(r.events, [{ type: 'fleet_resumed' }]);
    assert.equal(r.state.pause.fleet, null);
  });
});
