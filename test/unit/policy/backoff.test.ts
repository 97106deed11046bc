// Per-kind backoff with full jitter: the ceilings of the defaults, and the delay always in [0, ceiling).
import assert from 'node:assert/strict';
import { describe, test } from 'node:test';
import fc from 'fast-check';
import { backoffCeiling, backoffDelay } from '../../../src/policy/backoff.ts';
import { FAILURE_KINDS } from '../../../src/policy/failure-kind.ts';
import { DEFAULT_SETTINGS as DEFAULTS } from '../../helpers/settings.ts';
import { MINUTE } from '../../helpers/units.ts';

describe('backoff', () => {
  test('startup_error ceiling: 5m, 10m, 20m, 40m, 80m, then capped at 2h', () => {
    const got = [1, 2, 3, 4, 5, 6, 7].map((n) => backoffCeiling(DEFAULTS.backoff.startup_error, n) / MINUTE);
    assert.deepEqual(got, [5, 10, 20, 40, 80, 120, 120]);
  });

  test('every other kind: ceiling 1m, 2m, 4m, 8m, 16m, then capped at 30m', () => {
    for (const kind of FAILURE_KINDS.filter((k) => k !== 'startup_error')) {
      const got = [1, 2, 3, 4, 5, 6, 7].map((n) => backoffCeiling(DEFAULTS.backoff[kind], n) / MINUTE);
      assert.deepEqual(got, [1, 2, 4, 8, 16, 30, 30], kind);
    }
  });

  test('the ceiling stays at max for absurd failure counts (no overflow to Infinity or NaN)', () => {
    assert.equal(backoffCeiling(DEFAULTS.backoff.unknown, 100_000), 30 * MINUTE);
  });

  test('full jitter: every delay is an integer in [0, ceiling) for every kind', () => {
    fc.assert(
      fc.property(
        fc.constantFrom(...FAILURE_KINDS),
        fc.integer({ min: 1, max: 60 }),
        fc.double({ min: 0, max: 1, maxExcluded: true, noNaN: true }),
        (kind, failures, r) => {
          const ceiling = backoffCeiling(DEFAULTS.backoff[kind], failures);
          const d = backoffDelay(DEFAULTS.backoff[kind], failures, () => r);
          assert.ok(Number.isInteger(d) && d >= 0 && d < ceiling, `${kind} #${failures}: ${d} not in [0, ${ceiling})`);
        },
      ),
      { seed: 42, numRuns: 500 },
    );
  });

  test('full jitter spans the whole range: random 0 gives 0, random just below 1 gives ceiling - 1', () => {
    const b = DEFAULTS.backoff.startup_error;
    assert.equal(
      backoffDelay(b, 1, () => 0),
      0,
    );
    assert.equal(
      backoffDelay(b, 1, () => 1 - 2 ** -52),
      5 * MINUTE - 1,
    );
  });
});
