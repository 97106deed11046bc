import assert from 'node:assert/strict';
import { describe, test } from 'node:test';
import {
  noteSaved,
  noteWriteFailure,
  SAVE_RETRY_FIRST_MS,
  SAVE_RETRY_MAX_MS,
  saveRetryDelay,
  writeFaultProblem,
} from '../../../src/state/save-retry.ts';

describe('save retry', () => {
  test('the delay doubles from 0.5 s and is capped at 10 s', () => {
    assert.deepEqual([0, 1, 2, 3, 4, 5, 6, 100].map(saveRetryDelay), [500, 500, 1000, 2000, 4000, 8000, 10_000, 10_000]);
    assert.equal(saveRetryDelay(1), SAVE_RETRY_FIRST_MS);
    assert.equal(saveRetryDelay(Number.MAX_SAFE_INTEGER), SAVE_RETRY_MAX_MS);
  });

  test('the first failure starts a fault and alerts; later ones count, keep since, and never clear unsaved', () => {
    const a = noteWriteFailure(null, 10, 'ENOSPC: a', true);
    assert.deepEqual(a, { fault: { since: 10, failures: 1, error: 'ENOSPC: a', unsaved: true }, alert: true });
    const b = noteWriteFailure(a.fault, 20, 'ENOSPC: b', false);
    assert.deepEqual(b, { fault: { since: 10, failures: 2, error: 'ENOSPC: b', unsaved: true }, alert: false });
    assert.equal(noteWriteFailure(null, 1, 'x', false).fault.unsaved, false);
  });

  test('an ordinary save brings the file up to date but keeps the fault; only the retry ends it', () => {
    const f = noteWriteFailure(null, 10, 'ENOSPC', true).fault;
    assert.deepEqual(noteSaved(f, false), { since: 10, failures: 0, error: 'ENOSPC', unsaved: false });
    assert.equal(noteSaved(f, true), null);
    assert.equal(noteSaved(null, false), null);
  });

  test('the disk problem says what failed and whether the state is only in memory', () => {
    assert.equal(writeFaultProblem(null), null);
    const f = noteWriteFailure(null, 0, 'ENOSPC: no space left on device', true).fault;
    assert.match(
      writeFaultProblem(f) ?? '',
      /cannot write to the state directory \(ENOSPC: no space left on device\); the latest state is held in memory/,
    );
    assert.match(writeFaultProblem({ ...f, unsaved: false }) ?? '', /; retrying$/);
  });
});
