// The doctor's report: one line per check, the fixes, the count and the verdict.
import assert from 'node:assert/strict';
import { test } from 'node:test';
import { formatReport, report } from '../../../src/doctor/check.ts';

test('the report: one line per check, the fix under each warn and fail, a count, not ok on any fail', () => {
  const r = report('1.2.3', [
    { id: 'config', status: 'pass', summary: 'ok' },
    { id: 'psi', status: 'warn', summary: 'PSI off', fix: 'add psi=1' },
    { id: 'limit-probe', status: 'fail', summary: 'no limit', fix: 'reboot' },
    { id: 'daemon', status: 'info', summary: 'not running' },
  ]);
  assert.equal(r.ok, false);
  assert.deepEqual(r.counts, { pass: 1, warn: 1, fail: 1, info: 1 });
  assert.equal(
    formatReport(r),
    [
      'warden doctor 1.2.3',
      'PASS  config       ok',
      'WARN  psi          PSI off',
      '                   fix: add psi=1',
      'FAIL  limit-probe  no limit',
      '                   fix: reboot',
      ' --   daemon       not running',
      '1 pass, 1 warn, 1 fail: not ready',
      '',
    ].join('\n'),
  );
});
