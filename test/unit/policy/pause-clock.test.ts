import assert from 'node:assert/strict';
import { describe, test } from 'node:test';
import { pauseClocks } from '../../../src/policy/pause-clock.ts';
import { emptyState } from '../../../src/state/types.ts';
import { MINUTE } from '../../helpers/units.ts';

const base = emptyState(15 * MINUTE);

describe('pauseClocks', () => {
  test('nothing paused: no clock', () => {
    assert.deepEqual(pauseClocks(base, 2 * MINUTE), []);
  });

  test('pressure still over a threshold: no time yet', () => {
    const s = { ...base, pause: { ...base.pause, pressure: { since: 1000, reasons: ['memory'], clearSince: null } } };
    const [c] = pauseClocks(s, 2 * MINUTE);
    assert.equal(c?.reason, 'pressure');
    assert.equal(c?.liftsAt, null);
    assert.match(c?.until ?? '', /still over/);
  });

  test('pressure clear since T: may lift at T + recover_after (the hysteresis clock); thermal alike', () => {
    const p = { since: 1000, reasons: ['x'], clearSince: 5000 };
    const s = { ...base, pause: { ...base.pause, pressure: p, thermal: p } };
    assert.deepEqual(
      pauseClocks(s, 2 * MINUTE).map((c) => [c.reason, c.liftsAt]),
      [
        ['pressure', 5000 + 2 * MINUTE],
        ['thermal', 5000 + 2 * MINUTE],
      ],
    );
  });

  test('an open breaker lifts after its cooldown; manual waits for resume; a usage limit has its time', () => {
    const s = {
      ...base,
      breaker: { ...base.breaker, phase: 'open' as const, openedAt: 10_000, cooldownMs: 30 * MINUTE },
      pause: { ...base.pause, manual: { since: 1 }, usageLimit: { since: 2, until: 99_000, reason: 'limit' } },
    };
    assert.deepEqual(
      pauseClocks(s, MINUTE).map((c) => [c.reason, c.liftsAt]),
      [
        ['breaker', 10_000 + 30 * MINUTE],
        ['manual', null],
        ['usage_limit', 99_000],
      ],
    );
  });
});
