// Jobs on an `every` schedule: timed from the end of the last run, never overlapping, never fatal.
import assert from 'node:assert/strict';
import { setTimeout as sleep } from 'node:timers/promises';
import { test } from 'node:test';
import { runOnSchedule } from '../../../src/jobs/run-on-schedule.ts';
import { createLogger } from '../../../src/log/logger.ts';
import { waitFor } from '../../helpers/wait.ts';

function logLines(): { lines: string[]; log: ReturnType<typeof createLogger> } {
  const lines: string[] = [];
  return { lines, log: createLogger({ write: (l) => lines.push(l), timestamps: false }) };
}

test('the first run waits one period, then the job runs again every period', async () => {
  const { log } = logLines();
  const started = Date.now();
  const runs: number[] = [];
  const job = runOnSchedule({ kind: 'every', ms: 50, text: '50ms' }, () => runs.push(Date.now() - started), log, 'tick');
  try {
    await waitFor('three runs', () => runs.length >= 3, 5_000, 10);
    assert.ok((runs[0] ?? 0) >= 45, `first run after ${runs[0]} ms`);
  } finally {
    job.stop();
  }
});

test('a slow run is never overlapped: the next one starts a period after it ends', async () => {
  const { log } = logLines();
  let running = 0;
  let maxRunning = 0;
  let runs = 0;
  const job = runOnSchedule(
    { kind: 'every', ms: 10, text: '10ms' },
    async () => {
      maxRunning = Math.max(maxRunning, ++running);
      await sleep(60);
      running--;
      runs++;
    },
    log,
    'slow',
  );
  try {
    await waitFor('three slow runs', () => runs >= 3, 5_000, 10);
    assert.equal(maxRunning, 1);
  } finally {
    job.stop();
  }
});

test('a failing job is logged with its name and error, and runs again', async () => {
  const { lines, log } = logLines();
  let runs = 0;
  const job = runOnSchedule(
    { kind: 'every', ms: 20, text: '20ms' },
    () => {
      runs++;
      throw new Error('gh is down');
    },
    log,
    'github-poll',
  );
  try {
    await waitFor('two failed runs', () => runs >= 2, 5_000, 10);
    assert.ok(
      lines.some((l) => l.includes('scheduled job github-poll failed') && l.includes('gh is down')),
      lines.join('\n'),
    );
  } finally {
    job.stop();
  }
});

test('after stop nothing runs any more', async () => {
  const { log } = logLines();
  let runs = 0;
  const job = runOnSchedule({ kind: 'every', ms: 20, text: '20ms' }, () => runs++, log, 'stopped');
  job.stop();
  await sleep(100);
  assert.equal(runs, 0);
});
