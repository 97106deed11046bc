// The limit probe's read-back: what the kernel holds for a scope's MemoryMax, on v1 and v2.
import assert from 'node:assert/strict';
import { describe, test } from 'node:test';
import { parseProbeOutput, PROBE_MEMORY_MAX } from '../../../src/doctor/probe.ts';

describe('the limit probe read-back', () => {
  test('cgroup v1: memory.limit_in_bytes equal to the requested MemoryMax passes', () => {
    const r = parseProbeOutput(`v1 ${PROBE_MEMORY_MAX} /warden.slice/warden-workers.slice/x.scope\ndone\n`, PROBE_MEMORY_MAX);
    assert.deepEqual(r, {
      ok: true,
      limit: PROBE_MEMORY_MAX,
      file: 'memory.limit_in_bytes',
      cgroup: '/warden.slice/warden-workers.slice/x.scope',
    });
  });
  test('cgroup v2: memory.max passes', () => {
    assert.equal(parseProbeOutput(`v2 ${PROBE_MEMORY_MAX} /x.scope\ndone\n`, PROBE_MEMORY_MAX).ok, true);
  });
  test('no limit file at all: the memory controller is not in use', () => {
    const r = parseProbeOutput('done\n', PROBE_MEMORY_MAX);
    assert.equal(r.ok, false);
    assert.match(!r.ok ? r.why : '', /memory controller is not in use, so MemoryMax does nothing/);
  });
  test('a limit other than the one asked for fails and says both', () => {
    const r = parseProbeOutput('v2 max /x.scope\ndone\n', PROBE_MEMORY_MAX);
    assert.equal(r.ok, false);
    assert.match(!r.ok ? r.why : '', /asked for MemoryMax=33554432 but the kernel holds memory\.max = max/);
  });
  test('a probe that did not finish fails', () => {
    assert.equal(parseProbeOutput('', PROBE_MEMORY_MAX).ok, false);
  });
});
