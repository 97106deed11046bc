import assert from 'node:assert/strict';
import { describe, test } from 'node:test';
import { columns, extent, sparkline } from '../../../src/history/sparkline.ts';
import { MINUTE } from '../../helpers/units.ts';

const point = (min: number, memAvailable: number | null, load1: number | null = null) => ({
  at: min * MINUTE,
  memAvailable,
  memoryPressure: null,
  load1,
  temperatureC: null,
});

describe('sparklines', () => {
  test('low to high spans the eight blocks; a missing column is a space', () => {
    assert.equal(sparkline([0, null, 7]), '▁ █');
    assert.equal(sparkline([0, 1, 2, 3, 4, 5, 6, 7]), '▁▂▃▄▅▆▇█');
  });
  test('a flat series sits at the bottom; no data at all is blank', () => {
    assert.equal(sparkline([3, 3]), '▁▁');
    assert.equal(sparkline([null, null]), '  ');
  });
  test('a fixed range clamps values outside it', () => {
    assert.equal(sparkline([-5, 50, 500], { min: 0, max: 100 }), '▁▅█');
  });
  test('columns keep the worst point: least MemAvailable, most load', () => {
    const pts = [point(0, 5, 1), point(1, 3, 4), point(2, 9, 2), point(5, 1, 0)];
    assert.deepEqual(columns(pts, 'memAvailable', 0, 6 * MINUTE, 3), [3, 9, 1]);
    assert.deepEqual(columns(pts, 'load1', 0, 6 * MINUTE, 3), [4, 2, 0]);
    assert.deepEqual(columns(pts, 'memAvailable', 0, 6 * MINUTE, 6), [5, 3, 9, null, null, 1]);
    assert.deepEqual(extent([null, 2, 8]), { min: 2, max: 8 });
    assert.equal(extent([null]), null);
  });
});
