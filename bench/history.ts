// The history's cost (issue 13, item 9): bytes on disk, bytes written per day, and memory.
// `node --import tsx bench/history.ts` (after `npm run build`) runs the compiled dist/ code:
//   - a simulated day: 24 h of host samples every 30 s (the default poll_interval) through the
//     real History, with a quiet day's events (100 spawns and their exits) and a spawn loop's
//     (one spawn and one exit every 10 s, the default min_spawn_interval): bytes written that day
//     and bytes on disk, against the documented bound;
//   - memory: idle RSS of a real daemon (compiled, direct executor) whose history is full (4 days,
//     768 KiB) against one whose history is empty, in the same run (the floor), before and after
//     ten GET /history of 6 h (what status and top ask; served from memory) and of 24 h (files).
import { mkdtempSync, readdirSync, rmSync, statSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { setTimeout as sleep } from 'node:timers/promises';
import { cleanup, makeSandbox, querySocket, rssOf, startDaemon, writeConfig } from './daemons.js';

const DIST = new URL('../dist/', import.meta.url);
const MINUTE = 60_000;

type HistoryModule = typeof import('../src/history/history.js');

async function simulateDay(eventEverySec: number | null, quietEvents: number): Promise<{ written: number; onDisk: number; bound: number }> {
  const { History, HISTORY_MAX_BYTES } = (await import(new URL('history/history.js', DIST).href)) as HistoryModule;
  const dir = mkdtempSync(join(tmpdir(), 'warden-bench-history-'));
  try {
    const t0 = new Date(2026, 10, 29, 0, 0, 0).getTime();
    const clock = { now: t0 };
    const h = new History({ stateDir: dir, log: { debug() {}, info() {}, warn() {}, error() {} }, now: () => clock.now });
    h.open('bench');
    const every = quietEvents > 0 ? Math.round((24 * 60 * 60) / quietEvents / 10) * 10 : 0;
    let n = 0;
    for (let s = 0; s < 24 * 3600; s += 10) {
      clock.now = t0 + s * 1000;
      if (s % 30 === 0) {
        h.sample({
          at: clock.now,
          memAvailable: 5_800_000_000 + ((s * 7919) % 900_000_000),
          memTotal: 8_300_000_000,
          load1: 1 + (s % 700) / 100,
          cpus: 4,
          memoryPressure: (s % 13) / 2,
          psiAvailable: true,
          temperatureC: 48 + (s % 17),
          thermalZone: 'cpu-thermal',
          throttled: 0,
          errors: [],
        });
      }
      const spawnNow = (eventEverySec !== null && s % eventEverySec === 0) || (every > 0 && s % every === 0);
      if (spawnNow) {
        n++;
        h.events([{ type: 'task_spawn', taskId: `gh-${1000 + n}`, attempt: 1, probe: false }]);
        h.events([
          {
            type: 'task_retry',
            taskId: `gh-${1000 + n}`,
            kind: 'startup_error',
            attempt: 1,
            delayMs: 300_000,
            detail: 'exited 1 after 1.6s',
          },
        ]);
      }
    }
    const hist = join(dir, 'history');
    const onDisk = readdirSync(hist).reduce((sum, f) => sum + statSync(join(hist, f)).size, 0);
    return { written: h.read(clock.now - MINUTE).written.bytes, onDisk, bound: HISTORY_MAX_BYTES };
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
}

/** Idle RSS (KiB) of a real daemon, sampled after it settles; `seed` fills its history first. */
async function daemonRss(seed: boolean, reads: number, hours: number): Promise<{ before: number; after: number }> {
  const sb = makeSandbox('wd-bh-');
  writeConfig(sb, { supervisor: { poll_interval: '30s' } });
  if (seed) {
    const { History } = (await import(new URL('history/history.js', DIST).href)) as HistoryModule;
    let now = Date.now() - 4 * 86_400_000;
    const h = new History({ stateDir: sb.stateDir, log: { debug() {}, info() {}, warn() {}, error() {} }, now: () => now });
    h.open('bench');
    for (let s = 0; now < Date.now() - MINUTE; now += 30_000, s++) {
      h.sample({
        at: now,
        memAvailable: 5.8e9 + s,
        memTotal: 8.3e9,
        load1: 1.25,
        cpus: 4,
        memoryPressure: 0.5,
        psiAvailable: true,
        temperatureC: 51.2,
        thermalZone: 'x',
        throttled: 0,
        errors: [],
      });
      if (s % 20 === 0) h.events([{ type: 'task_spawn', taskId: `gh-${s}`, attempt: 1, probe: false }]);
    }
  }
  const { daemon: d } = await startDaemon(new URL('..', import.meta.url).pathname, sb);
  try {
    await sleep(3000);
    const before = Math.round((rssOf(d.pid)?.rss ?? NaN) / 1024);
    for (let i = 0; i < reads; i++) await querySocket(sb.socket, `/history?hours=${hours}`);
    await sleep(3000);
    return { before, after: Math.round((rssOf(d.pid)?.rss ?? NaN) / 1024) };
  } finally {
    await d.stop();
  }
}

async function main(): Promise<void> {
  const quiet = await simulateDay(null, 100);
  const loop = await simulateDay(10, 0);
  const samplesOnly = await simulateDay(null, 0);
  console.log('history, one simulated day (samples every 30 s):');
  console.log(`  points only:                  ${samplesOnly.written} bytes written, ${samplesOnly.onDisk} on disk`);
  console.log(`  quiet day (100 spawns+exits): ${quiet.written} bytes written, ${quiet.onDisk} on disk`);
  console.log(`  spawn loop (1 per 10 s):      ${loop.written} bytes written, ${loop.onDisk} on disk (bound ${loop.bound})`);
  try {
    for (const [i, hours] of [6, 24, 6, 24].entries()) {
      const empty = await daemonRss(false, 10, hours);
      const full = await daemonRss(true, 10, hours);
      console.log(
        `daemon idle RSS (KiB), round ${i + 1}: empty history ${empty.before} -> ${empty.after} after 10 GET /history?hours=${hours}; ` +
          `full history ${full.before} -> ${full.after}; full/empty at rest ${(full.before / empty.before).toFixed(3)}x, after reads ${(full.after / empty.after).toFixed(3)}x`,
      );
    }
  } finally {
    await cleanup();
  }
}

await main();
