// The history (src/history/) with a real daemon: it survives a kill -9 of the daemon, a torn last
// line is skipped, and its files stay within HISTORY_MAX_BYTES. And the per-worker usage that
// status shows, for the direct executor (from /proc, summed over the worker's process group).
import assert from 'node:assert/strict';
import { appendFileSync, mkdirSync, readdirSync, statSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { after, test } from 'node:test';
import { HISTORY_FILE_MAX, HISTORY_MAX_BYTES } from '../../src/history/history.ts';
import type { HistoryReport } from '../../src/history/records.ts';
import { encodeEvent, encodePoint } from '../../src/history/records.ts';
import type { StatusReport } from '../../src/supervisor/report.ts';
import { MiB, MINUTE } from '../helpers/units.ts';
import { waitFor } from '../helpers/wait.ts';
import { addTask, cleanupAll, cliOk, makeSandbox, query, startDaemon, task } from './harness.ts';

after(cleanupAll);

const dirBytes = (dir: string) => readdirSync(dir).reduce((n, f) => n + statSync(join(dir, f)).size, 0);

/** Fills both generations of both logs to within a few lines of HISTORY_FILE_MAX, as after weeks of running. */
function seedFullHistory(stateDir: string, now: number): { oldestPoint: number } {
  const dir = join(stateDir, 'history');
  mkdirSync(dir, { recursive: true });
  const fill = (file: string, line: (i: number) => string, count: number) => {
    let text = '';
    for (let i = 0; i < count; i++) {
      const l = line(i) + '\n';
      if (text.length + l.length > HISTORY_FILE_MAX - 200) break;
      text += l;
    }
    writeFileSync(join(dir, file), text);
  };
  const point = (at: number) => encodePoint({ at, memAvailable: 3_000_000_000, memoryPressure: 1.5, load1: 0.75, temperatureC: 51.2 });
  // points a minute apart, ending a minute ago; the older generation before the current one
  const perFile = Math.floor((HISTORY_FILE_MAX - 200) / (point(now).length + 1));
  const start = now - 2 * perFile * MINUTE;
  fill('points.old.jsonl', (i) => point(start + i * MINUTE), perFile);
  fill('points.jsonl', (i) => point(start + (perFile + i) * MINUTE), perFile);
  const ev = (i: number) => encodeEvent({ at: now - 10 * MINUTE + i, type: 'task_spawn', text: `spawning seeded-${i} attempt 1` });
  fill('events.old.jsonl', ev, 100_000);
  fill('events.jsonl', ev, 100_000);
  return { oldestPoint: start };
}

test('the history survives a kill -9 of the daemon, skips a torn line, and stays within HISTORY_MAX_BYTES', async () => {
  const sb = makeSandbox();
  seedFullHistory(sb.stateDir, Date.now());
  const dir = join(sb.stateDir, 'history');
  const first = await startDaemon(sb);
  for (const id of ['h1', 'h2', 'h3']) await addTask(sb, id, 'sleep=1.2'); // past the 1 s startup_window
  await waitFor('three tasks succeeded', async () => ((await task(sb, 'h3'))?.state === 'succeeded' ? true : null), 30_000);
  const before = await query<HistoryReport>(sb.socket, '/history');
  const texts = before.events.map((e) => e.text);
  for (const id of ['h1', 'h2', 'h3']) {
    assert.ok(texts.includes(`spawning ${id} attempt 1`), `spawn of ${id} in ${texts.slice(-8).join(' | ')}`);
    assert.ok(texts.includes(`task ${id} succeeded on attempt 1`));
  }
  assert.ok(before.points.length >= 24 * 60, `${before.points.length} points over the last 24 h (seeded)`);
  assert.ok(dirBytes(dir) <= HISTORY_MAX_BYTES, `${dirBytes(dir)} bytes on disk after rotation`);

  await first.kill9();
  appendFileSync(join(dir, 'events.jsonl'), '{"t":1,"e":"task_spawn","x":"torn by the cr'); // a crash mid-append
  const second = await startDaemon(sb);
  const after9 = await query<HistoryReport>(sb.socket, '/history');
  const textsAfter = after9.events.map((e) => e.text);
  for (const id of ['h1', 'h2', 'h3']) assert.ok(textsAfter.includes(`task ${id} succeeded on attempt 1`), `${id} kept across the kill -9`);
  assert.ok(!textsAfter.some((t) => t.includes('torn by')), 'the torn line is not an event');
  assert.equal(textsAfter.filter((t) => /^warden .* started$/.test(t)).length, 2, 'both starts recorded');
  assert.ok(after9.points.length >= before.points.length - 1, 'the points are still there');
  assert.match(second.log(), /history: cut a torn last line/);
  assert.ok(dirBytes(dir) <= HISTORY_MAX_BYTES);
  assert.equal(after9.disk.bytes, dirBytes(dir));
  assert.equal(after9.disk.maxBytes, HISTORY_MAX_BYTES);
  // the state file is another file: it loaded (the tasks are all there)
  assert.equal((await task(sb, 'h2'))?.state, 'succeeded');
  await second.stop();
});

test('status shows a direct worker memory and CPU from /proc, summed over its process group', async () => {
  const sb = makeSandbox({ worker: { memory_max: '512M' } });
  const d = await startDaemon(sb);
  await addTask(sb, 'busy', 'alloc=64M busy=1 sleep=20');
  const usage = await waitFor(
    'two usage readings of the worker',
    async () => {
      const s = await query<StatusReport>(sb.socket, '/status');
      const u = s.workers[0]?.usage;
      return u && u.cpuPercent !== null && (u.memoryBytes ?? 0) >= 64 * MiB ? u : null;
    },
    20_000,
    200,
  );
  assert.equal(usage.source, 'proc');
  assert.equal(usage.limitBytes, null, 'the direct executor enforces no cap');
  assert.ok((usage.peakBytes ?? 0) >= 64 * MiB);
  assert.ok(usage.cpuPercent !== null && usage.cpuPercent > 1, `a busy worker uses CPU: ${usage.cpuPercent}%`);
  const text = (await cliOk(sb.configPath, ['status'])).stdout;
  assert.match(text, /^ {2}busy$/m);
  assert.match(
    text,
    /memory \d+(\.\d)?M, peak \d+(\.\d)?M; cpu \d+% over \d+s {2}\[\/proc, summed over the process group; no cap \(direct executor\)\]/,
  );
  await d.stop();
});
