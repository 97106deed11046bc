// The doctor's sandbox line from a systemd-analyze score: pass under the goal on a host that
// enforces everything, a warning with the fix when the host cannot, a failure when no probe starts.
import assert from 'node:assert/strict';
import { test } from 'node:test';
import { EXPOSURE_GOAL, parseExposure, sandboxCheck } from '../../../src/doctor/exposure.ts';
import { sandboxGaps, sandboxLine } from '../../../src/executors/sandbox.ts';

const ANALYZE_TAIL = `✗ UMask=                                                      Files created by service are world-readable by default                                                   0.1

→ Overall exposure level for warden_doctor-sandbox-1.service: 1.6 OK 🙂
`;

test("systemd-analyze security's overall line is read as score and label; anything else is no score", () => {
  assert.deepEqual(parseExposure(ANALYZE_TAIL), { score: 1.6, label: 'OK' });
  assert.deepEqual(parseExposure('→ Overall exposure level for x.service: 9.6 UNSAFE 😨'), { score: 9.6, label: 'UNSAFE' });
  assert.equal(parseExposure('Unit x.service not found, cannot analyze.'), null);
});

test('the sandbox check: pass, warn for a partial sandbox (with the fix) or a score over the goal, fail without a probe, info when not measured', () => {
  const score = { score: 1.6, label: 'OK' };
  const full = sandboxCheck(sandboxLine(true, []), [], score);
  assert.equal(full.status, 'pass');
  assert.match(full.summary, /^sandbox: on; exposure 1\.6 OK/);
  assert.deepEqual(full.data, { exposure: 1.6 });
  const partial = sandboxCheck(sandboxLine(true, sandboxGaps('hybrid')), sandboxGaps('hybrid'), score);
  assert.equal(partial.status, 'warn');
  assert.match(partial.summary, /sandbox: partial: IPAddressDeny needs cgroup v2/);
  assert.match(partial.fix ?? '', /systemd\.unified_cgroup_hierarchy=1/);
  assert.equal(sandboxCheck('sandbox: on', [], { score: EXPOSURE_GOAL, label: 'OK' }).status, 'warn');
  assert.equal(sandboxCheck('sandbox: on', [], { error: 'the probe service did not start: x' }).status, 'fail');
  assert.equal(sandboxCheck('sandbox: on', [], null).status, 'info');
});
