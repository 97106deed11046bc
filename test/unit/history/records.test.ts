import assert from 'node:assert/strict';
import { describe, test } from 'node:test';
import type { HostSample } from '../../../src/admission/evaluate.ts';
import { decodeEvent, decodePoint, encodeEvent, encodePoint, foldSample } from '../../../src/history/records.ts';
import { hostSample } from '../../helpers/tasks.ts';
import { GiB, MINUTE, SECOND } from '../../helpers/units.ts';

const sample = (at: number, over: Partial<HostSample> = {}): HostSample => hostSample({ at, temperatureC: 50, ...over });

describe('history records', () => {
  test('a minute keeps the worst of its samples: least memory, most pressure, load and heat', () => {
    const t0 = 10 * MINUTE;
    let p = foldSample(null, sample(t0 + 1 * SECOND));
    p = foldSample(p, sample(t0 + 20 * SECOND, { memAvailable: 1 * GiB, memoryPressure: 30, load1: 3, temperatureC: 70 }));
    p = foldSample(p, sample(t0 + 40 * SECOND));
    assert.deepEqual(p, { at: t0, memAvailable: 1 * GiB, memoryPressure: 30, load1: 3, temperatureC: 70 });
  });

  test('a sample of the next minute starts a new point', () => {
    const p = foldSample(foldSample(null, sample(0, { load1: 9 })), sample(MINUTE));
    assert.equal(p.at, MINUTE);
    assert.equal(p.load1, 0.3);
  });

  test('PSI off is recorded as null, not 0', () => {
    assert.equal(foldSample(null, sample(0, { psiAvailable: false, memoryPressure: null })).memoryPressure, null);
  });

  test('points and events round-trip through their lines; torn or foreign lines do not', () => {
    const p = { at: MINUTE, memAvailable: 123, memoryPressure: null, load1: 0.25, temperatureC: 48.3 };
    assert.deepEqual(decodePoint(encodePoint(p)), p);
    const e = { at: 5, type: 'task_spawn', text: 'spawning t1 attempt 1' };
    assert.deepEqual(decodeEvent(encodeEvent(e)), e);
    assert.equal(decodePoint(encodePoint(p).slice(0, 10)), null);
    assert.equal(decodeEvent('{"t":1}'), null);
    assert.equal(decodePoint('[1,2]'), null);
  });
});
