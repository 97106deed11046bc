import assert from 'node:assert/strict';
import { describe, test } from 'node:test';
import { cgroupUsageOf, parseCpuStatUsageNs, parseLimit, parsePressureSome10, parseProcCgroup } from '../../../src/usage/cgroup.ts';
import { MiB } from '../../helpers/units.ts';

// /proc/PID/cgroup of a worker in its scope, as systemd 252 lays it out in hybrid mode (this host)
const HYBRID = `12:pids:/warden.slice/warden-workers.slice/warden-t1.scope
11:memory:/warden.slice/warden-workers.slice/warden-t1.scope
4:cpu,cpuacct:/warden.slice/warden-workers.slice/warden-t1.scope
1:name=systemd:/warden.slice/warden-workers.slice/warden-t1.scope
0::/warden.slice/warden-workers.slice/warden-t1.scope
`;
const V2 = '0::/warden.slice/warden-workers.slice/warden-t1.scope\n';
const SCOPE = '/warden.slice/warden-workers.slice/warden-t1.scope';

const files = (map: Record<string, string>) => (p: string) => map[p] ?? null;

describe('parseProcCgroup', () => {
  test('hybrid: the v1 memory and cpuacct paths and the unified one', () => {
    assert.deepEqual(parseProcCgroup(HYBRID), { unified: SCOPE, memory: SCOPE, cpuacct: SCOPE });
  });
  test('v2: only the unified path', () => {
    assert.deepEqual(parseProcCgroup(V2), { unified: SCOPE, memory: null, cpuacct: null });
  });
  test('a name=systemd line is not the unified hierarchy', () => {
    assert.equal(parseProcCgroup('1:name=systemd:/x\n').unified, null);
  });
});

describe('the small parsers', () => {
  test('limits: "max" and the v1 page-counter maximum are unlimited', () => {
    assert.equal(parseLimit('max\n'), null);
    assert.equal(parseLimit('9223372036854771712\n'), null);
    assert.equal(parseLimit('67108864\n'), 64 * MiB);
    assert.equal(parseLimit(null), null);
  });
  test('cpu.stat usage_usec becomes nanoseconds', () => {
    assert.equal(parseCpuStatUsageNs('usage_usec 1500\nuser_usec 1000\nsystem_usec 500\n'), 1_500_000);
    assert.equal(parseCpuStatUsageNs('user_usec 1\n'), null);
  });
  test('PSI some avg10', () => {
    assert.equal(parsePressureSome10('some avg10=12.50 avg60=1.00 avg300=0.00 total=5\nfull avg10=3.00 avg60=0 avg300=0 total=1\n'), 12.5);
    assert.equal(parsePressureSome10(null), null);
  });
});

describe('cgroupUsageOf', () => {
  test('hybrid: v1 memory and cpuacct files, the scope PSI from the unified tree', () => {
    const u = cgroupUsageOf(
      parseProcCgroup(HYBRID),
      files({
        [`/sys/fs/cgroup/memory${SCOPE}/memory.usage_in_bytes`]: `${40 * MiB}\n`,
        [`/sys/fs/cgroup/memory${SCOPE}/memory.max_usage_in_bytes`]: `${60 * MiB}\n`,
        [`/sys/fs/cgroup/memory${SCOPE}/memory.limit_in_bytes`]: `${64 * MiB}\n`,
        [`/sys/fs/cgroup/cpuacct${SCOPE}/cpuacct.usage`]: '2500000000\n',
        [`/sys/fs/cgroup/unified${SCOPE}/memory.pressure`]: 'some avg10=1.25 avg60=0 avg300=0 total=1\n',
      }),
    );
    assert.deepEqual(u, {
      source: 'cgroup-v1',
      memoryBytes: 40 * MiB,
      peakBytes: 60 * MiB,
      limitBytes: 64 * MiB,
      cpuNs: 2_500_000_000,
      pressureSome10: 1.25,
    });
  });

  test('v2: memory.current, memory.peak, memory.max, cpu.stat and memory.pressure', () => {
    const u = cgroupUsageOf(
      parseProcCgroup(V2),
      files({
        [`/sys/fs/cgroup${SCOPE}/memory.current`]: `${100 * MiB}\n`,
        [`/sys/fs/cgroup${SCOPE}/memory.peak`]: `${150 * MiB}\n`,
        [`/sys/fs/cgroup${SCOPE}/memory.max`]: 'max\n',
        [`/sys/fs/cgroup${SCOPE}/cpu.stat`]: 'usage_usec 42\n',
        [`/sys/fs/cgroup${SCOPE}/memory.pressure`]: 'some avg10=0.00 avg60=0.00 avg300=0.00 total=0\n',
      }),
    );
    assert.deepEqual(u, {
      source: 'cgroup-v2',
      memoryBytes: 100 * MiB,
      peakBytes: 150 * MiB,
      limitBytes: null,
      cpuNs: 42_000,
      pressureSome10: 0,
    });
  });

  test('v2 before kernel 5.19 has no memory.peak: null, not zero', () => {
    const u = cgroupUsageOf(parseProcCgroup(V2), files({ [`/sys/fs/cgroup${SCOPE}/memory.current`]: '1\n' }));
    assert.equal(u?.peakBytes, null);
  });

  test('no memory controller (a Pi kernel without cgroup_enable=memory): null', () => {
    assert.equal(cgroupUsageOf(parseProcCgroup(V2), files({})), null);
    assert.equal(cgroupUsageOf(parseProcCgroup('1:name=systemd:/x\n0::/x\n'), files({})), null);
  });
});
