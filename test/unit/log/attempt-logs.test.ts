// Each attempt's log file, and the per-task cap (worker.log_max) on real files.
import assert from 'node:assert/strict';
import { mkdirSync, readdirSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, test } from 'node:test';
import { attemptLogPath, capTaskLogs } from '../../../src/log/attempt-logs.ts';
import { tempRoot } from '../../helpers/tmp.ts';

const tmp = tempRoot('attempt-logs-test');

describe('attempt logs', () => {
  test('over log_max, the oldest attempts go first and the newest is always kept', () => {
    const dir = tmp.fresh('logs');
    mkdirSync(join(dir, 'logs', 't'), { recursive: true });
    for (const a of [1, 2, 3]) writeFileSync(attemptLogPath(dir, 't', a), 'x'.repeat(1000));
    assert.deepEqual(capTaskLogs(dir, 't', 2500), [1]);
    assert.deepEqual(readdirSync(join(dir, 'logs', 't')).sort(), ['2.log', '3.log']);
    assert.deepEqual(capTaskLogs(dir, 't', 10), [2]);
    assert.deepEqual(readdirSync(join(dir, 'logs', 't')), ['3.log']);
  });
});
