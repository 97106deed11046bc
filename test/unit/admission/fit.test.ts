// "Can this host ever admit a worker?": admission's own memory rule asked about the best case a
// host can ever offer, MemTotal minus MIN_SYSTEM_MEMORY (src/admission/fit.ts).
import assert from 'node:assert/strict';
import { describe, test } from 'node:test';
import { admissionViolations } from '../../../src/admission/evaluate.ts';
import { MIN_SYSTEM_MEMORY, neverFits } from '../../../src/admission/fit.ts';
import { DEFAULT_SETTINGS } from '../../helpers/settings.ts';
import { hostSample } from '../../helpers/tasks.ts';
import { GiB, MiB } from '../../helpers/units.ts';
import { MEM_TOTAL as HOSTS } from '../../helpers/hosts.ts';

const [MEMORY_MAX, MIN_AVAILABLE] = [DEFAULT_SETTINGS.memoryMax, DEFAULT_SETTINGS.admission.minAvailableMemory];

describe('the default config (memory_max 2G, min_available_memory 768M)', () => {
  for (const [host, never] of [
    ['1G', true],
    ['2G', true],
    ['4G', false],
    ['8G', false],
  ] as const) {
    test(`on a ${host} Pi ${never ? 'can never admit a worker' : 'can admit a worker'}`, () => {
      assert.equal(neverFits(HOSTS[host], MEMORY_MAX, MIN_AVAILABLE) !== null, never);
    });
  }
});

describe('it is the admission rule itself, at the best case', () => {
  const memTotal = 4 * GiB;
  const fitsExactly = memTotal - MIN_SYSTEM_MEMORY - MIN_AVAILABLE;
  test('a memory_max that leaves exactly min_available_memory fits; one byte more never does', () => {
    assert.equal(neverFits(memTotal, fitsExactly, MIN_AVAILABLE), null);
    assert.notEqual(neverFits(memTotal, fitsExactly + 1, MIN_AVAILABLE), null);
  });
  test('and admission agrees on a sample with that best case as MemAvailable', () => {
    const best = hostSample({ memAvailable: memTotal - MIN_SYSTEM_MEMORY, memTotal });
    assert.deepEqual(admissionViolations(best, DEFAULT_SETTINGS.admission, fitsExactly), []);
    assert.match(admissionViolations(best, DEFAULT_SETTINGS.admission, fitsExactly + 1)[0] ?? '', /^memory: /);
  });
  test('the verdict says what does not fit, in numbers', () => {
    assert.equal(
      neverFits(2 * GiB, 2 * GiB, 768 * MiB)?.why,
      'memory_max 2G + min_available_memory 768M exceed what this host can ever have available (MemTotal 2G minus 128M for the system)',
    );
  });
});
