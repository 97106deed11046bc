import assert from 'node:assert/strict';
import { describe, test } from 'node:test';
import type { CgroupUsage } from '../../../src/usage/cgroup.ts';
import { cpuPercent, nextUsage, UsageMeter, type RawUsage } from '../../../src/usage/meter.ts';
import { MiB } from '../../helpers/units.ts';

const cg = (over: Partial<CgroupUsage> = {}): CgroupUsage => ({
  source: 'cgroup-v2',
  memoryBytes: 10 * MiB,
  peakBytes: 20 * MiB,
  limitBytes: 64 * MiB,
  cpuNs: 0,
  pressureSome10: 0,
  ...over,
});

describe('cpuPercent', () => {
  test('one second of CPU over two seconds is 50 % of a core', () => {
    assert.equal(cpuPercent({ at: 0, cpuNs: 0 }, 2000, 1e9), 50);
  });
  test('two cores busy read 200 %', () => {
    assert.equal(cpuPercent({ at: 0, cpuNs: 0 }, 1000, 2e9), 200);
  });
  test('no previous reading, no CPU figure, or no time passed: null', () => {
    assert.equal(cpuPercent(undefined, 1000, 1), null);
    assert.equal(cpuPercent({ at: 0, cpuNs: null }, 1000, 1), null);
    assert.equal(cpuPercent({ at: 1000, cpuNs: 0 }, 1000, 1), null);
  });
});

describe('nextUsage', () => {
  test('a cgroup: its own peak and cap are kept', () => {
    const u = nextUsage(undefined, 5, cg(), 1000).usage;
    assert.equal(u.peakBytes, 20 * MiB);
    assert.equal(u.limitBytes, 64 * MiB);
    assert.equal(u.cpuPercent, null, 'one reading gives no CPU %');
  });

  test('/proc: no cap, and the peak is the largest sum seen or single VmHWM', () => {
    const raw = (mem: number, hwm: number): RawUsage => ({ source: 'proc', processes: 2, memoryBytes: mem, peakBytes: hwm, cpuNs: 0 });
    const a = nextUsage(undefined, 5, raw(30 * MiB, 20 * MiB), 0);
    const b = nextUsage(a, 5, raw(10 * MiB, 20 * MiB), 2000);
    assert.equal(b.usage.peakBytes, 30 * MiB);
    assert.equal(b.usage.limitBytes, null);
    assert.equal(b.usage.pressureSome10, null);
  });

  test('a new attempt (another pid) starts over: no CPU % against the old worker', () => {
    const a = nextUsage(undefined, 5, cg({ cpuNs: 0 }), 0);
    const b = nextUsage(a, 6, cg({ cpuNs: 1e9 }), 1000);
    assert.equal(b.usage.cpuPercent, null);
  });
});

describe('UsageMeter', () => {
  test('CPU % over the interval between two readings; a worker that left is forgotten', () => {
    let now = 0;
    let cpu = 0;
    let workers = [{ taskId: 't1', pid: 5 }];
    const m = new UsageMeter({ now: () => now, workers: () => workers, executorKind: 'systemd', read: () => cg({ cpuNs: cpu }) });
    m.sample();
    now = 2000;
    cpu = 0.5e9;
    m.sample();
    assert.equal(m.usage('t1', 5)?.cpuPercent, 25);
    assert.equal(m.usage('t1', 5)?.intervalMs, 2000);
    assert.equal(m.usage('t1', 6), null, 'another pid is another attempt');
    workers = [];
    m.sample();
    assert.equal(m.usage('t1', 5), null);
  });
});
