// The fleet's deadlines keep their order for every lease_ttl, so that a node's workers are dead
// before etcd can expire its lease (docs/fleet.md, the fencing window).
import assert from 'node:assert/strict';
import { test } from 'node:test';
import { fleetTimings, watchdogProblem } from '../../../src/fleet/timings.ts';

test('renew < fence < fence done < switch < switch checked < ttl, for every allowed lease_ttl', () => {
  for (const ttl of [3000, 5000, 10_000, 30_000, 600_000]) {
    const t = fleetTimings(ttl);
    assert.ok(t.renewEvery < t.fenceAfter, `${ttl}: renewal before the fence`);
    assert.ok(t.fenceAfter + t.killGraceMax < t.switchAfter, `${ttl}: warden's own fence is done before the switch`);
    assert.ok(t.switchAfter + t.switchCheckEvery < ttl, `${ttl}: the switch fires before the lease can expire`);
  }
});

test('lease_ttl must outlive the watchdog plus the restart delay; no watchdog known, no warning', () => {
  assert.match(watchdogProblem(30_000, 30_000) ?? '', /does not exceed WatchdogSec \(30s\) plus the restart delay \(5s\)/);
  assert.equal(watchdogProblem(40_000, 30_000), null);
  assert.equal(watchdogProblem(3000, null), null);
});
