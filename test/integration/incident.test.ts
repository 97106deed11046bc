// The incident, for real: four tasks whose worker fails at once, as the unauthenticated `claude`
// did. The coordinator respawned them until 13 ran at once and SSH died. warden must spawn exactly
// as many workers as the breaker allows, never more than max_concurrent_workers at a time, and a
// restart must not reset the breaker.
import assert from 'node:assert/strict';
import { after, test } from 'node:test';
import { setTimeout as sleep } from 'node:timers/promises';
import { type Status } from '../helpers/cli.ts';
import { waitFor } from '../helpers/wait.ts';
import { addTask, cleanupAll, countLines, makeSandbox, query, startDaemon, status, tasks, workerGroupsRunning } from './harness.ts';

after(cleanupAll);

const FAILURES = 3;
const MAX_CONCURRENT = 2;
const MIN_SPAWN_INTERVAL_MS = 1000;

test('instantly failing workers open the breaker after exactly `failures` spawns, and a restart keeps it open', async (t) => {
  const sb = makeSandbox({
    supervisor: { max_concurrent_workers: MAX_CONCURRENT, min_spawn_interval: `${MIN_SPAWN_INTERVAL_MS}ms`, poll_interval: '500ms' },
    worker: { startup_window: '2s', max_attempts: 3 },
    'backoff.startup_error': { base: '500ms', factor: 2, max: '2s' },
    breaker: { failures: FAILURES, window: '1m', cooldown: '1h' },
  });
  for (let i = 1; i <= 4; i++) await addTask(sb, `gh-${i}`, `exit=1 sleep=0 count=${sb.countFile}`);

  const daemon = await startDaemon(sb);

  // Two independent observers of concurrency, sampled while the daemon works: the kernel (process
  // groups whose cwd is a worktree) and the daemon's own report.
  let sampling = true;
  let maxKernel = 0;
  let maxReported = 0;
  let samples = 0;
  const sampler = (async () => {
    while (sampling) {
      maxKernel = Math.max(maxKernel, workerGroupsRunning(sb));
      try {
        const s = await query<Status>(sb.socket, '/status', 1000);
        maxReported = Math.max(maxReported, s.workers.length, s.tasks.running ?? 0);
      } catch {
        /* between daemons */
      }
      samples++;
      await sleep(25);
    }
  })();

  try {
    const opened = await waitFor(
      'the breaker to open',
      async () => {
        const s = await status(sb);
        return s.breaker.phase === 'open' ? s : null;
      },
      30_000,
      200,
    );
    // well past the spawn interval and every backoff: a spawn loop would show here
    await sleep(4000);

    const spawns = countLines(sb.countFile);
    const s = await status(sb);
    console.log(
      `incident: ${spawns.length} worker spawns before the breaker held (failures = ${FAILURES}); max concurrent: kernel ${maxKernel}, status ${maxReported} (${samples} samples)`,
    );
    t.diagnostic(`spawn count ${spawns.length} (breaker failures = ${FAILURES}), max concurrent kernel=${maxKernel} status=${maxReported}`);

    assert.equal(spawns.length, FAILURES, `expected exactly ${FAILURES} worker starts, got:\n${JSON.stringify(spawns)}\n${daemon.log()}`);
    assert.equal(s.totalSpawns, FAILURES, 'the daemon counts the same spawns as the workers recorded');
    assert.equal(s.breaker.phase, 'open');
    assert.ok(s.pause.paused, 'status says paused');
    assert.ok(s.pause.reasons.includes('breaker'), `pause.reasons ${JSON.stringify(s.pause.reasons)} names the breaker`);
    assert.match(s.breaker.reason ?? '', /startup_error/, 'the breaker says which failure opened it');
    assert.equal(s.workers.length, 0, 'no worker runs once the breaker is open');
    assert.equal(opened.breaker.openedAt, s.breaker.openedAt, 'the breaker did not reopen or flap');

    // the rate limit: warden's own spawn decisions (each attempt's claim time, from its history) are at
    // least min_spawn_interval apart. The workers' own start times are not used: a worker's process
    // start-up on a loaded machine jitters by hundreds of ms, which says nothing about warden.
    const claims = (await tasks(sb))
      .flatMap((t) => t.history.map((h) => (h as unknown as { startedAt: number }).startedAt))
      .sort((a, b) => a - b);
    assert.equal(claims.length, FAILURES);
    for (let i = 1; i < claims.length; i++) {
      const gap = claims[i]! - claims[i - 1]!;
      assert.ok(gap >= MIN_SPAWN_INTERVAL_MS, `spawn decisions ${i - 1} and ${i} are only ${gap} ms apart`);
    }
    assert.ok(samples > 20, `the sampler ran (${samples} samples)`);
    assert.ok(maxKernel <= MAX_CONCURRENT, `kernel saw ${maxKernel} workers at once`);
    assert.ok(maxReported <= MAX_CONCURRENT, `status reported ${maxReported} workers at once`);

    // restart on the same state: the breaker is durable, so still no spawn
    const stopped = await daemon.stop();
    assert.equal(stopped.code, 0, `SIGTERM exits 0\n${daemon.log()}`);
    const again = await startDaemon(sb);
    const s2 = await status(sb);
    assert.equal(s2.breaker.phase, 'open', 'the breaker is still open after the restart');
    assert.ok(s2.pause.reasons.includes('breaker'));
    assert.equal(s2.breaker.openedAt, s.breaker.openedAt, 'the same breaker opening, not a fresh one');
    await sleep(3000);
    const after = countLines(sb.countFile);
    assert.equal(after.length, FAILURES, `the restarted daemon spawned nothing:\n${JSON.stringify(after)}\n${again.log()}`);
    assert.match(again.log(), /breaker is still open/);
    const s3 = await status(sb);
    assert.equal(s3.totalSpawns, FAILURES);
    assert.equal(s3.breaker.phase, 'open');
    assert.ok(maxKernel <= MAX_CONCURRENT && maxReported <= MAX_CONCURRENT, `max concurrent kernel=${maxKernel} status=${maxReported}`);
    assert.equal((await again.stop()).code, 0);
  } finally {
    sampling = false;
    await sampler;
  }
});
