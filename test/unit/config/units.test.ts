// Sizes and durations as the config writes them ("512M", "1h30m"), and what is refused.
import assert from 'node:assert/strict';
import { describe, test } from 'node:test';
import { formatDuration, formatSize, parseDuration, parseSize } from '../../../src/config/units.ts';
import { GiB, HOUR, MINUTE, MiB, SECOND } from '../../helpers/units.ts';

describe('units: parseSize', () => {
  test('"512M" is 512 MiB', () => {
    assert.deepEqual(parseSize('512M'), { ok: true, value: 512 * MiB });
  });
  test('"2G" is 2 GiB', () => {
    assert.deepEqual(parseSize('2G'), { ok: true, value: 2 * GiB });
  });
  for (const bad of ['-5G', '10 minutes', '', '5x']) {
    test(`${JSON.stringify(bad)} is rejected`, () => {
      const r = parseSize(bad);
      assert.equal(r.ok, false);
      assert.ok(!r.ok && r.error.length > 0);
    });
  }
});

describe('units: parseDuration', () => {
  const good: [string, number][] = [
    ['10s', 10 * SECOND],
    ['5m', 5 * MINUTE],
    ['2h', 2 * HOUR],
    ['1h30m', HOUR + 30 * MINUTE],
  ];
  for (const [text, ms] of good) {
    test(`${JSON.stringify(text)} is ${ms} ms`, () => {
      assert.deepEqual(parseDuration(text), { ok: true, value: ms });
    });
  }
  for (const bad of ['-5G', '10 minutes', '', '5x']) {
    test(`${JSON.stringify(bad)} is rejected`, () => {
      const r = parseDuration(bad);
      assert.equal(r.ok, false);
      assert.ok(!r.ok && r.error.length > 0);
    });
  }
});

test('formatSize and formatDuration write what parseSize and parseDuration read back', () => {
  for (const bytes of [512 * MiB, 2 * GiB, 768 * MiB]) assert.deepEqual(parseSize(formatSize(bytes)), { ok: true, value: bytes });
  for (const ms of [10 * SECOND, 5 * MINUTE, 2 * HOUR, HOUR + 30 * MINUTE])
    assert.deepEqual(parseDuration(formatDuration(ms)), { ok: true, value: ms });
  assert.equal(formatSize(2 * GiB), '2G');
});
