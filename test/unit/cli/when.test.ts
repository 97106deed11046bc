import assert from 'node:assert/strict';
import { describe, test } from 'node:test';
import { dated, localTime, relative, when } from '../../../src/cli/when.ts';
import { HOUR, MINUTE, SECOND } from '../../helpers/units.ts';

const now = new Date(2026, 10, 29, 14, 5, 0).getTime(); // local time, whatever TZ says

describe('times as people read them', () => {
  test('today: the local clock; another day: the date', () => {
    assert.equal(localTime(new Date(2026, 10, 29, 14, 3, 12).getTime(), now), '14:03:12');
    assert.equal(localTime(new Date(2026, 10, 28, 9, 7, 0).getTime(), now), '2026-11-28 09:07');
  });
  test('relative: ago, in, now', () => {
    assert.equal(relative(now - 3 * MINUTE, now), '3m ago');
    assert.equal(relative(now + 2 * MINUTE + 10 * SECOND, now), 'in 2m10s');
    assert.equal(relative(now - 500, now), 'now');
    assert.equal(relative(now - 26 * HOUR, now), '26h ago');
  });
  test('both together', () => {
    assert.equal(when(now - 3 * MINUTE, now), '14:02:00 (3m ago)');
  });
});

test('dated: always the date and the second, with how long ago (a state file may be days old)', () => {
  const at = new Date(2026, 10, 29, 6, 40, 12).getTime();
  assert.equal(dated(at, at + 3 * 60_000 + 5_000), '2026-11-29 06:40:12 (3m5s ago)');
  assert.equal(dated(at, at + 2_000), '2026-11-29 06:40:12 (2s ago)');
  assert.equal(dated(at, at + 26 * 3600_000), '2026-11-29 06:40:12 (26h ago)');
});
