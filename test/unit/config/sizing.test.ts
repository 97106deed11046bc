// Sizing a config to the machine's memory (src/config/sizing.ts) on the small Pis people run, and
// the one rule it must keep: a sized config always admits a worker (src/admission/fit.ts).
import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, test } from 'node:test';
import fc from 'fast-check';
import { neverFits } from '../../../src/admission/fit.ts';
import { parseConfigText } from '../../../src/config/load.ts';
import { fitProblem, SIZED_MARKER, sizedConfigText, sizeForHost, sizingSummary, tomlSize } from '../../../src/config/sizing.ts';
import { ROOT } from '../../helpers/paths.ts';
import { MEM_TOTAL as HOSTS } from '../../helpers/hosts.ts';
import { GiB, MiB } from '../../helpers/units.ts';

describe('sizeForHost', () => {
  const cases: [keyof typeof HOSTS, number, number, number][] = [
    ['1G', 384 * MiB, 128 * MiB, 1],
    ['2G', 1152 * MiB, 256 * MiB, 1],
    ['4G', 2 * GiB, 448 * MiB, 1],
    ['8G', 2 * GiB, 768 * MiB, 2],
  ];
  for (const [host, memoryMax, minAvailable, workers] of cases) {
    test(`a ${host} Pi: memory_max ${tomlSize(memoryMax)}, min_available_memory ${tomlSize(minAvailable)}, ${workers} worker(s)`, () => {
      const s = sizeForHost(HOSTS[host]);
      assert.deepEqual([s.memoryMax, s.minAvailableMemory, s.maxConcurrentWorkers], [memoryMax, minAvailable, workers]);
      assert.equal(neverFits(HOSTS[host], s.memoryMax, s.minAvailableMemory), null, 'a sized config admits');
    });
  }
  test('a 1G Pi is warned that claude needs more than its memory_max; 2G and up are not', () => {
    assert.match(sizeForHost(HOSTS['1G']).note ?? '', /memory_max 384M is below the 512M the claude worker needs.*oom_killed/);
    for (const h of ['2G', '4G', '8G'] as const) assert.equal(sizeForHost(HOSTS[h]).note, null);
  });
  test('a host too small for any worker says so', () => {
    assert.match(sizeForHost(256 * MiB).note ?? '', /too small to admit any worker/);
  });
  test('the 4 GB and 8 GB sizes are the ones the config example recommends (1 and 2 workers of 2G)', () => {
    const example = readFileSync(join(ROOT, 'examples/config.toml'), 'utf8');
    assert.match(example, /a 4 GB Pi: 1; an 8 GB Pi: 2 at most with memory_max = "2G"/);
  });
  test('property: for every MemTotal from 320M to 64G the sized values admit a worker, in 64M steps, within the schema', () => {
    fc.assert(
      fc.property(fc.integer({ min: 320 * MiB, max: 64 * GiB }), (memTotal) => {
        const s = sizeForHost(memTotal);
        assert.equal(neverFits(memTotal, s.memoryMax, s.minAvailableMemory), null);
        assert.equal(s.memoryMax % (64 * MiB), 0);
        assert.equal(s.minAvailableMemory % (64 * MiB), 0);
        assert.ok(s.memoryMax >= 64 * MiB && s.memoryMax <= 2 * GiB);
        assert.ok(s.maxConcurrentWorkers >= 1 && s.maxConcurrentWorkers <= 4);
        // and the workers together fit in warden-workers.slice (70% of RAM), unless only one is allowed
        if (s.maxConcurrentWorkers > 1) assert.ok(s.maxConcurrentWorkers * s.memoryMax <= 0.7 * memTotal);
      }),
    );
  });
});

test('tomlSize writes sizes exactly, as the config parser reads them', () => {
  assert.deepEqual([tomlSize(2 * GiB), tomlSize(1152 * MiB), tomlSize(768 * MiB)], ['2G', '1152M', '768M']);
});

describe('fitProblem: which values would fit', () => {
  test('the default config on a 2G Pi: what does not fit, and the sized values', () => {
    const p = fitProblem(HOSTS['2G'], 2 * GiB, 768 * MiB);
    assert.ok(p);
    assert.equal(
      p.why,
      'memory_max 2G + min_available_memory 768M exceed what this host can ever have available (MemTotal 1.8G minus 128M for the system)',
    );
    assert.equal(
      p.fix,
      'memory_max = "1152M" and min_available_memory = "256M" would fit (sized for this host by `warden config suggest`)',
    );
  });
  test('none on a 4G Pi', () => {
    assert.equal(fitProblem(HOSTS['4G'], 2 * GiB, 768 * MiB), null);
  });
});

describe('sizedConfigText on the config example install.sh writes', () => {
  const example = readFileSync(join(ROOT, 'examples/config.toml'), 'utf8');
  const sizing = sizeForHost(HOSTS['2G']);
  const text = sizedConfigText(example, sizing);
  const filled = text.replace(/^repo = ""$/m, 'repo = "octo/widgets"').replace(/^repo = ""$/m, 'repo = "/home/pi/src/widgets"');
  test('sets the three keys to the sized values, which the config parser reads back', () => {
    const c = parseConfigText(filled, 'sized.toml');
    assert.equal(c.worker.memory_max, sizing.memoryMax);
    assert.equal(c.admission.min_available_memory, sizing.minAvailableMemory);
    assert.equal(c.supervisor.max_concurrent_workers, sizing.maxConcurrentWorkers);
  });
  test('says what it chose on its first line, and keeps every other line as it was', () => {
    const [first, ...rest] = text.split('\n');
    assert.equal(first, `${SIZED_MARKER}${sizingSummary(sizing)}`);
    assert.equal(
      first,
      '# sized for this machine by warden config suggest: MemTotal 1.8G: max_concurrent_workers = 1, memory_max = "1152M", min_available_memory = "256M"',
    );
    const before = example.split('\n');
    assert.equal(rest.length, before.length);
    const changed = rest.filter((l, i) => l !== before[i]);
    assert.deepEqual(
      changed.map((l) => l.replace(/\s+#.*$/, '')),
      ['max_concurrent_workers = 1', 'memory_max = "1152M"', 'min_available_memory = "256M"'],
    );
  });
  test('a template without the tables gets them, and a set key is replaced, not repeated', () => {
    const t = sizedConfigText('[supervisor]\nstate_dir = "/var/lib/warden"\nmax_concurrent_workers = 9\n', sizing);
    const c = parseConfigText(t, 'small.toml');
    assert.equal(c.supervisor.max_concurrent_workers, 1);
    assert.equal(c.worker.memory_max, sizing.memoryMax);
    assert.equal(c.admission.min_available_memory, sizing.minAvailableMemory);
    assert.equal(t.match(/max_concurrent_workers/g)?.length, 2, 'the header and the one assignment');
  });
});
