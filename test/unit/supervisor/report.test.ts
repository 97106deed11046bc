// What /healthz and /readyz answer: a wedged loop, a daemon starting or stopping, and a pause.
import assert from 'node:assert/strict';
import { test } from 'node:test';
import { applyManualPause } from '../../../src/policy/pauses.ts';
import { emptyState } from '../../../src/state/types.ts';
import { livenessProblem, readinessProblem } from '../../../src/supervisor/report.ts';
import { SECOND } from '../../helpers/units.ts';

test('liveness: the loop must have turned within three poll intervals (at least 10 s)', () => {
  const at = (since: number, pollInterval = 30 * SECOND) =>
    livenessProblem({ stopping: false, lastTickAt: 1000, now: 1000 + since, pollInterval });
  assert.equal(at(90 * SECOND), null);
  assert.equal(at(90 * SECOND + 1), 'the supervisor loop has not turned for 1m30s');
  assert.equal(at(10 * SECOND, SECOND), null, 'never under 10 s');
  assert.match(at(10 * SECOND + 1, SECOND) ?? '', /has not turned for 10s/);
  assert.equal(livenessProblem({ stopping: false, lastTickAt: 0, now: 10 ** 9, pollInterval: SECOND }), null, 'not turned yet');
  assert.equal(livenessProblem({ stopping: true, lastTickAt: 1000, now: 1000, pollInterval: SECOND }), 'stopping');
});

test('readiness: started and recovered, and not paused for any reason', () => {
  const state = emptyState(60_000);
  assert.equal(readinessProblem({ stopping: false, ready: true, state }), null);
  assert.equal(readinessProblem({ stopping: false, ready: false, state }), 'starting');
  assert.equal(readinessProblem({ stopping: true, ready: true, state }), 'stopping');
  assert.equal(readinessProblem({ stopping: false, ready: true, state: applyManualPause(state, 1).state }), 'paused: manual');
});
