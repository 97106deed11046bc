// Which worktrees go: finished ones at once, failed ones kept for inspection within limits.
import assert from 'node:assert/strict';
import { describe, test } from 'node:test';
import { worktreesToRemove } from '../../../src/worktree/retention.ts';

describe('retention', () => {
  const H = 3_600_000;
  test('succeeded and cancelled go at once; dead and blocked are kept up to keep_failed, newest first, and not past keep_failed_for', () => {
    const owners = [
      { taskId: 'ok', state: 'succeeded' as const, since: 0 },
      { taskId: 'cx', state: 'cancelled' as const, since: 0 },
      { taskId: 'run', state: 'running' as const, since: 0 },
      { taskId: 'd1', state: 'dead' as const, since: 10 * H },
      { taskId: 'd2', state: 'blocked' as const, since: 9 * H },
      { taskId: 'd3', state: 'dead' as const, since: 8 * H },
      { taskId: 'old', state: 'dead' as const, since: 0 },
    ];
    assert.deepEqual(worktreesToRemove(owners, 11 * H, { keepFailed: 2, keepFailedFor: 5 * H }).sort(), ['cx', 'd3', 'ok', 'old']);
  });
});
