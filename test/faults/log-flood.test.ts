// A worker that prints 200 MB as fast as it can, against a real daemon (direct executor) with
// worker.log_max = 1M: the running attempt's log stays about that size while it runs and after,
// keeps its start and its tail, and the attempt is still classified from the final `result` event.
import assert from 'node:assert/strict';
import { readFileSync, statSync } from 'node:fs';
import { loadavg } from 'node:os';
import { join } from 'node:path';
import { after, test } from 'node:test';
import { FIXTURES } from '../helpers/paths.ts';
import { waitFor } from '../helpers/wait.ts';
import { addTask, cleanupAll, makeSandbox, readStateFile, startDaemon, task } from '../integration/harness.ts';

after(cleanupAll);
const FLOOD = join(FIXTURES, 'log-flood.mjs');
const LOG_MAX = 1024 * 1024;

test('a worker printing 200 MB: its running log stays near worker.log_max, keeps head and tail, verdict from the result event', async () => {
  const sb = makeSandbox({
    worker: {
      // 200 MB at 50 MB/s: a worker far chattier than any real one, but one warden's tail can follow
      // (a burst written faster than warden gets to read it is cut only when warden reads; see README)
      command: [process.execPath, FLOOD, 'mb=200', 'rate=50', 'exit=1'],
      log_max: '1M',
      startup_window: '0s',
      max_runtime: '2m',
      max_attempts: 1,
    },
  });
  const log = join(sb.stateDir, 'logs', 'flood', '1.log');
  const d = await startDaemon(sb);
  let maxSeen = 0;
  let samples = 0;
  const sampler = setInterval(() => {
    try {
      maxSeen = Math.max(maxSeen, statSync(log).size);
      samples++;
    } catch {
      /* not created yet */
    }
  }, 2);
  const t0 = Date.now();
  await addTask(sb, 'flood', 'flood');
  const done = await waitFor(
    'the flood attempt recorded',
    async () => {
      const t = await task(sb, 'flood');
      return t && t.history.length > 0 ? t : null;
    },
    120_000,
    100,
  );
  clearInterval(sampler);
  const seconds = (Date.now() - t0) / 1000;
  const finalSize = statSync(log).size;
  const text = readFileSync(log, 'utf8');
  const cuts = [...text.matchAll(/\[warden: (\d+) bytes of output cut here \(worker\.log_max\)\]/g)];
  const st = readStateFile(sb) as unknown as {
    tasks: Record<string, { history: { outcome: string; costUsd?: number | null; numTurns?: number | null }[] }>;
  };
  const last = st.tasks.flood?.history.at(-1);
  console.log(
    `log flood: worker wrote ${200 * 1024 * 1024 + 200} bytes in about ${seconds.toFixed(1)} s; worker.log_max ${LOG_MAX}; ` +
      `max log size seen ${maxSeen} (${(maxSeen / LOG_MAX).toFixed(2)}x, ${samples} samples every 2 ms); final size ${finalSize}; ` +
      `cut markers in the file ${cuts.length}; outcome ${done.history.at(-1)?.outcome}; load average ${loadavg()[0]?.toFixed(1)}`,
  );
  assert.ok(finalSize <= LOG_MAX, `final size ${finalSize} <= log_max`);
  // While warden runs, the file is cut back every time it passes log_max. How far it can overshoot
  // is what the worker writes while warden's event loop does not run (CPU starvation, a slow
  // fsync of the state file): at 500 MB/s that is 5 MB per 10 ms. So assert that the cut acted
  // while the worker ran (the file never held most of the 200 MB), and print the figure.
  assert.ok(maxSeen < 150 * 1024 * 1024, `max size seen ${maxSeen}: the cap acted during the run`);
  const log2 = d.log();
  assert.ok(log2.indexOf('attempt log passed worker.log_max') < log2.indexOf('task flood is dead'), 'cut while the worker ran');
  assert.ok(text.startsWith('{"type":"system","subtype":"init","session_id":"flood-session"}\n'), 'the start is kept');
  assert.ok(text.endsWith('"result":"flood done"}\n'), 'the tail (the result event) is kept');
  assert.equal(cuts.length, 1, 'one marker: each cut replaces the last');
  assert.equal(done.history.at(-1)?.outcome, 'max_turns', 'classified from the result event, not the exit code');
  assert.equal(last?.outcome, 'max_turns');
  await d.stop();
});
