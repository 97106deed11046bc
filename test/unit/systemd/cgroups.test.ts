// Whether the memory controller is usable, from the cgroup files of v1, hybrid and v2 hosts.
import assert from 'node:assert/strict';
import { describe, test } from 'node:test';
import { memoryControllerFrom } from '../../../src/systemd/cgroups.ts';

describe('memoryControllerFrom', () => {
  const procCgroups = (hierarchy: string, enabled: string) =>
    `#subsys_name\thierarchy\tnum_cgroups\tenabled\ncpu\t3\t1\t1\nmemory\t${hierarchy}\t10\t${enabled}\n`;
  test('v1: enabled and mounted', () => {
    assert.deepEqual(memoryControllerFrom({ rootControllers: null, hybridUnified: true, procCgroups: procCgroups('4', '1') }), {
      enabled: true,
    });
  });
  test('v1: enabled but not mounted is not usable', () => {
    assert.equal(memoryControllerFrom({ rootControllers: null, hybridUnified: false, procCgroups: procCgroups('0', '1') }).enabled, false);
  });
  test('v2: judged by cgroup.controllers, whatever /proc/cgroups says', () => {
    assert.equal(
      memoryControllerFrom({ rootControllers: 'cpu io pids\n', hybridUnified: false, procCgroups: procCgroups('0', '1') }).enabled,
      false,
    );
    assert.equal(memoryControllerFrom({ rootControllers: 'cpu io memory pids\n', hybridUnified: false, procCgroups: null }).enabled, true);
  });
  test('nothing readable: off, and says why', () => {
    assert.deepEqual(memoryControllerFrom({ rootControllers: null, hybridUnified: false, procCgroups: null }), {
      enabled: false,
      why: 'cannot read /proc/cgroups',
    });
  });
});
