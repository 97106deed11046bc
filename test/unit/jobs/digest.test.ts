// The daily digest: what changed between two marks of the counters.
import assert from 'node:assert/strict';
import { test } from 'node:test';
import { emptyCounts } from '../../../src/control/metrics.ts';
import { digestSummary } from '../../../src/jobs/digest.ts';
import { statusFixture } from '../../helpers/status.ts';
import { MINUTE } from '../../helpers/units.ts';

test('the digest reports the change between two marks', () => {
  const before = emptyCounts();
  const now = emptyCounts();
  now.succeeded = 3;
  now.dead = 1;
  now.failures.startup_error = 2;
  const s = digestSummary({ at: 0, spawns: 10, counts: before }, { at: 24 * 60 * MINUTE, spawns: 16, counts: now }, statusFixture());
  assert.deepEqual(
    {
      periodMs: s.periodMs,
      spawns: s.spawns,
      succeeded: s.succeeded,
      dead: s.dead,
      failures: s.failures,
      breaker: s.breaker,
      paused: s.paused,
    },
    { periodMs: 24 * 60 * MINUTE, spawns: 6, succeeded: 3, dead: 1, failures: { startup_error: 2 }, breaker: 'open', paused: ['breaker'] },
  );
});
