// Reaction times of a real warden daemon on this host (issue 7, part 2), direct executor:
//   a. death -> classification: the bench SIGKILLs a running worker and reads, from warden's own
//      records, when the daemon saw the exit, when it classified the attempt, and when the result
//      was on disk and in the log; against the floor of a bare Node parent seeing its SIGKILLed
//      child's 'exit' (with and without warden's /bin/sh wrapper in between), interleaved;
//   b. pressure -> pause + alert: with one worker running, a controlled allocation pushes
//      MemAvailable under admission.min_available_memory; the bench reads when the allocator saw
//      the crossing, when warden entered the `pressure` pause, and when the alert reached a
//      loopback ntfy receiver. Measured for every tick mode the built warden supports.
// `node --import tsx bench/reaction.ts` runs it alone (BENCH_QUICK=1 for fewer iterations). It
// starts only the processes it tracks, ends them by PID, and cleans up on error.
import { spawn } from 'node:child_process';
import { readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { setTimeout as sleep } from 'node:timers/promises';
import { pathToFileURL } from 'node:url';
import { startNtfyReceiver, type NtfyReceiver } from '../test/integration/ntfy-receiver.js';
import {
  childrenOf,
  cleanup,
  fmtMs,
  killByPid,
  makeSandbox,
  memAvailable,
  querySocket,
  startDaemon,
  summarizeMs,
  table,
  track,
  wallHiRes,
  waitFor,
  writeConfig,
  type BenchDaemon,
  type ConfigSections,
} from './daemons.js';
import { loadNow, machineInfo, type MachineInfo } from './machine.js';
import { isMain, standaloneOptions } from './standalone.js';

type Stats = ReturnType<typeof summarizeMs>;

export interface DeathRun {
  task: string;
  /** Date.now() just before kill(2), and the same moment on the sub-ms wall clock. */
  killAt: number;
  killHiRes: number;
  /** warden's 'exit' handler ran (exitFrom's endedAt = worker.startedAt + durationMs). */
  observedAt: number;
  /** applyExit's `now` = the attempt record's endedAt: the moment of classification. */
  classifiedAt: number;
  /** The log line's ISO timestamp; it is written after the state file was saved (fsync). */
  loggedAt: number;
  outcome: string;
}

export interface FloorRun {
  /** Date.now()-based, ms resolution, like warden's own stamps. */
  ms: number;
  /** performance.timeOrigin + performance.now() in both processes. */
  hiResMs: number;
}

export interface PressureRun {
  /** The allocator's Date.now() after the chunk whose /proc/meminfo read was the first under the threshold. */
  crossedAt: number;
  /** The allocator's previous read, not yet under the threshold: the crossing lies in (prevReadAt, crossedAt]. */
  prevReadAt: number;
  /** How long the whole allocation took (this VM faults pages in at about 100 MB/s). */
  allocMs: number;
  allocatedBytes: number;
  /** lastSample.at in status once paused: when warden took the sample that crossed (a watch sample, or the tick's). */
  sampleAt: number | null;
  /** state.pause.pressure.since: the pausing tick's `now`. */
  pausedAt: number | null;
  /** The "paused: pressure" log line (after the state was saved). */
  loggedAt: number | null;
  /** When the alert's request arrived at the loopback ntfy receiver. */
  alertAt: number | null;
  /** Random wait between the reload (which ticks) and the start of the allocation. */
  phaseMs: number;
  /** A 10 ms side sampler saw MemAvailable back above the threshold before the pause (or the timeout): null if never. */
  backAboveAt?: number | null;
}

export interface PressureMode {
  name: string;
  config: ConfigSections;
  runs: PressureRun[];
  crossingToSample: Stats;
  crossingToPause: Stats;
  /** The same from the allocator's last read above the threshold: an upper bound. */
  prevReadToPause: Stats;
  crossingToLog: Stats;
  crossingToAlert: Stats;
  failures: string[];
}

export interface ReactionResults {
  startedAt: string;
  machine: MachineInfo;
  loadavgStart: number[];
  loadavgEnd: number[];
  quick: boolean;
  death: {
    runs: DeathRun[];
    floorBare: FloorRun[];
    floorWrapper: FloorRun[];
    killToObserved: Stats;
    killToClassified: Stats;
    killToLogged: Stats;
    floorBareMs: Stats;
    floorBareHiRes: Stats;
    floorWrapperMs: Stats;
    floorWrapperHiRes: Stats;
    goalMs: number;
  };
  pressure: { watchIntervalSupported: boolean; thresholdGapBytes: number; modes: PressureMode[]; skipped: string | null };
}

const DEATH_GOAL_MS = 100;
const PAUSE_GOAL_MS = 1000;
const MiB = 1024 * 1024;
const GiB = 1024 * MiB;

// ---------------------------------------------------------------------------------------------
// a. death -> classification

/** A bare Node parent: spawns `sleep` (or warden's sh wrapper around it), prints its PID, then the time of 'exit'. */
const FLOOR_PARENT = `
const { spawn } = require('node:child_process');
const wrapped = process.env.FLOOR_WRAPPER;
const child = wrapped
  ? spawn('/bin/sh', ['-c', wrapped, process.env.FLOOR_RUNBASE, 'sleep', '3600'], { detached: true, stdio: 'ignore' })
  : spawn('sleep', ['3600'], { stdio: 'ignore' });
child.once('spawn', () => process.stdout.write(JSON.stringify({ pid: child.pid }) + '\\n'));
child.once('exit', () => {
  const at = Date.now();
  const hi = performance.timeOrigin + performance.now();
  process.stdout.write(JSON.stringify({ at, hi }) + '\\n', () => process.exit(0));
});
`;

function lines(onLine: (l: string) => void): (d: Buffer) => void {
  let buf = '';
  return (d) => {
    buf += d.toString();
    let i: number;
    while ((i = buf.indexOf('\n')) >= 0) {
      onLine(buf.slice(0, i));
      buf = buf.slice(i + 1);
    }
  };
}

/** One floor measurement: kill the `sleep` (the parent's child, or the wrapper's child) and read when the parent saw 'exit'. */
async function floorOnce(wrapper: string | null, runBase: string): Promise<FloorRun> {
  const env = { ...process.env, FLOOR_WRAPPER: wrapper ?? '', FLOOR_RUNBASE: runBase };
  const parent = track(spawn(process.execPath, ['-e', FLOOR_PARENT], { env, stdio: ['ignore', 'pipe', 'inherit'] }));
  const msgs: Record<string, number>[] = [];
  parent.stdout?.on(
    'data',
    lines((l) => msgs.push(JSON.parse(l) as Record<string, number>)),
  );
  const exited = new Promise<void>((resolve) => parent.once('exit', () => resolve()));
  try {
    const first = await waitFor('the floor parent to report its child', () => msgs[0], 10_000, 2);
    const childPid = first.pid as number;
    // the sleep itself: the direct child, or the wrapper's child once the wrapper has started it
    const target = wrapper === null ? childPid : await waitFor('the wrapper to start sleep', () => childrenOf(childPid)[0], 10_000, 2);
    await sleep(50);
    const killAt = Date.now();
    const killHi = wallHiRes();
    process.kill(target, 'SIGKILL');
    const done = await waitFor('the floor parent to see the exit', () => msgs[1], 10_000, 1);
    await exited;
    return { ms: (done.at as number) - killAt, hiResMs: (done.hi as number) - killHi };
  } finally {
    killByPid(parent.pid);
    if (wrapper !== null) {
      // the wrapper runs detached: end it by its recorded PID if it outlived the test
      try {
        killByPid(Number(readFileSync(`${runBase}.pid`, 'utf8').trim()));
      } catch {
        /* not written */
      }
    }
  }
}

interface StatusWorkers {
  workers: { taskId: string; attempt: number; pid: number; startedAt: number }[];
  pause: { paused: boolean; reasons: string[]; pressure: { since: number; reasons: string[] } | null };
}
interface TaskRecord {
  id: string;
  state: string;
  history: { attempt: number; startedAt: number; endedAt: number; outcome: string; durationMs: number }[];
}

/** The ISO timestamp of the first log line after `fromIndex` that matches. */
function logLineAt(log: string, fromIndex: number, match: (line: string) => boolean): number | null {
  for (const line of log.slice(fromIndex).split('\n')) {
    if (!match(line)) continue;
    const t = Date.parse(line.slice(0, 24));
    if (Number.isFinite(t)) return t;
  }
  return null;
}

async function measureDeath(root: string, n: number, log: (s: string) => void): Promise<ReactionResults['death']> {
  const sb = makeSandbox('wd-react-');
  writeConfig(sb, {});
  const queue = (await import(pathToFileURL(join(root, 'dist/tasks/local-queue.js')).href)) as typeof import('../src/tasks/local-queue.js');
  const processInfo = (await import(
    pathToFileURL(join(root, 'dist/executors/process-info.js')).href
  )) as typeof import('../src/executors/process-info.js');
  const warmup = 1;
  const ids = Array.from({ length: n + warmup }, (_, i) => `death-${String(i).padStart(3, '0')}`);
  const t0 = Date.now();
  // one task per kill; same priority, so they run in creation order
  ids.forEach((id, i) => queue.enqueueTask(sb.stateDir, { id, prompt: 'sleep', priority: 2, addedAt: t0 + i }));
  const { daemon } = await startDaemon(root, sb);
  const runs: DeathRun[] = [];
  const floorBare: FloorRun[] = [];
  const floorWrapper: FloorRun[] = [];
  try {
    for (let i = 0; i < ids.length; i++) {
      const id = ids[i] as string;
      // the floors, interleaved with warden's own kills
      floorBare.push(await floorOnce(null, join(sb.dir, `floor-${i}`)));
      floorWrapper.push(await floorOnce(processInfo.WRAPPER_SCRIPT, join(sb.dir, `floor-${i}`)));
      const w = await waitFor(
        `worker of ${id}`,
        async () => (await querySocket<StatusWorkers>(sb.socket, '/status')).body.workers.find((x) => x.taskId === id),
        20_000,
        20,
      );
      const sleepPid = await waitFor(`the wrapper of ${id} to start its worker`, () => childrenOf(w.pid)[0], 10_000, 5);
      // past startup_window (200 ms), so the exit is a plain `crashed`, not a startup_error
      const wait = w.startedAt + 400 - Date.now();
      if (wait > 0) await sleep(wait);
      const logFrom = daemon.log().length;
      const killAt = Date.now();
      const killHiRes = wallHiRes();
      process.kill(sleepPid, 'SIGKILL');
      const loggedAt = await waitFor(
        `warden to log ${id}'s exit`,
        () => logLineAt(daemon.log(), logFrom, (l) => l.includes(`task ${id} `)),
        20_000,
        1,
      );
      const tasks = (await querySocket<{ tasks: TaskRecord[] }>(sb.socket, '/tasks')).body.tasks;
      const rec = tasks.find((t) => t.id === id)?.history.at(-1);
      if (!rec) throw new Error(`no attempt record for ${id}`);
      if (i < warmup) continue;
      runs.push({
        task: id,
        killAt,
        killHiRes,
        observedAt: w.startedAt + rec.durationMs,
        classifiedAt: rec.endedAt,
        loggedAt,
        outcome: rec.outcome,
      });
    }
  } finally {
    await daemon.stop();
  }
  log(`   death: ${runs.length} kills done (${warmup} warm-up not counted)`);
  return {
    runs,
    floorBare: floorBare.slice(warmup),
    floorWrapper: floorWrapper.slice(warmup),
    killToObserved: summarizeMs(runs.map((r) => r.observedAt - r.killAt)),
    killToClassified: summarizeMs(runs.map((r) => r.classifiedAt - r.killAt)),
    killToLogged: summarizeMs(runs.map((r) => r.loggedAt - r.killAt)),
    floorBareMs: summarizeMs(floorBare.slice(warmup).map((f) => f.ms)),
    floorBareHiRes: summarizeMs(floorBare.slice(warmup).map((f) => f.hiResMs)),
    floorWrapperMs: summarizeMs(floorWrapper.slice(warmup).map((f) => f.ms)),
    floorWrapperHiRes: summarizeMs(floorWrapper.slice(warmup).map((f) => f.hiResMs)),
    goalMs: DEATH_GOAL_MS,
  };
}

// ---------------------------------------------------------------------------------------------
// b. pressure -> pause + alert

/**
 * The controlled allocation: 2 MiB chunks, each filled (so every page is touched), /proc/meminfo
 * read after each. The first read under the threshold is the crossing; the read before it (not
 * yet under) bounds it from below. It then allocates EXTRA more (so the crossing holds against the
 * neighbours' noise), never more than CAP in all, prints one JSON line and holds the memory until
 * it is killed.
 */
const ALLOCATOR = `
const fs = require('node:fs');
const min = Number(process.env.TH_MIN), memMax = Number(process.env.TH_MEMMAX), cap = Number(process.env.TH_CAP), extra = Number(process.env.TH_EXTRA);
const CHUNK = 2 * 1024 * 1024;
const avail = () => Number(/^MemAvailable:\\s+(\\d+) kB/m.exec(fs.readFileSync('/proc/meminfo', 'latin1'))[1]) * 1024;
const held = [];
const t0 = Date.now();
let total = 0, crossed = null, after = 0, prevAt = Date.now();
while (total + CHUNK <= cap) {
  held.push(Buffer.alloc(CHUNK, 1));
  total += CHUNK;
  const m = avail();
  const now = Date.now();
  if (crossed === null && m - memMax < min) crossed = { at: now, prevAt, memAvailable: m, total };
  prevAt = now;
  if (crossed !== null && (after += CHUNK) >= extra) break;
}
process.stdout.write(JSON.stringify({ crossed, total, allocMs: Date.now() - t0 }) + '\\n');
setInterval(() => held.length, 60_000);
`;

interface PressureStatus extends StatusWorkers {
  lastSample: { at: number } | null;
}

async function pressureMode(
  root: string,
  name: string,
  config: ConfigSections,
  runsWanted: number,
  maxPhaseMs: number,
  gap: number,
  receiver: NtfyReceiver,
  log: (s: string) => void,
): Promise<PressureMode> {
  const sb = makeSandbox('wd-press-');
  const memMax = 16 * MiB;
  const base: ConfigSections = {
    ...config,
    worker: { command: ['sleep', '3600'], memory_max: '16M', max_attempts: 1, ...(config.worker ?? {}) },
    alerts: {
      ntfy_url: receiver.url(`bench-${name.replace(/\W+/g, '-')}`),
      repeat_after: '0s',
      retry_base: '1s',
      retry_max: '5s',
      timeout: '5s',
    },
  };
  const setThreshold = async (daemon: BenchDaemon | null, minBytes: number) => {
    const admission = { ...(base.admission ?? {}), min_available_memory: String(Math.max(0, Math.floor(minBytes / 1024))) + 'K' };
    writeConfig(sb, { ...base, admission });
    if (daemon === null) return;
    const before = (daemon.log().match(/config reloaded/g) ?? []).length;
    killByPid(daemon.pid, 'SIGHUP');
    await waitFor('the reload', () => (daemon.log().match(/config reloaded/g) ?? []).length > before, 10_000, 5);
  };
  await setThreshold(null, 0);
  const queue = (await import(pathToFileURL(join(root, 'dist/tasks/local-queue.js')).href)) as typeof import('../src/tasks/local-queue.js');
  queue.enqueueTask(sb.stateDir, { id: 'hold', prompt: 'a long-running worker', priority: 2, addedAt: Date.now() });
  const { daemon } = await startDaemon(root, sb);
  const runs: PressureRun[] = [];
  const failures: string[] = [];
  const topicPath = new URL(receiver.url('x')).pathname.slice(0, -1) + `bench-${name.replace(/\W+/g, '-')}`;
  try {
    await waitFor(
      'the long-running worker',
      async () => (await querySocket<StatusWorkers>(sb.socket, '/status')).body.workers.length === 1,
      20_000,
      20,
    );
    for (let i = 0; i < runsWanted; i++) {
      const threshold = memAvailable() - memMax - gap;
      await setThreshold(daemon, threshold); // the reload ticks at once: the timer phase starts here
      const st = (await querySocket<PressureStatus>(sb.socket, '/status')).body;
      if (st.pause.pressure) {
        failures.push(`run ${i + 1}: already paused before the allocation (the neighbours' memory use moved); skipped`);
        await setThreshold(daemon, 0);
        continue;
      }
      // a random phase between the last tick and the crossing, as a real memory hog would have
      const phaseMs = Math.round(Math.random() * maxPhaseMs);
      await sleep(phaseMs);
      const logFrom = daemon.log().length;
      const reqFrom = receiver.requests.length;
      const alloc = track(
        spawn(process.execPath, ['-e', ALLOCATOR], {
          env: {
            ...process.env,
            TH_MIN: String(threshold),
            TH_MEMMAX: String(memMax),
            TH_CAP: String(2 * GiB),
            TH_EXTRA: String(128 * MiB),
          },
          stdio: ['ignore', 'pipe', 'inherit'],
        }),
      );
      let report: {
        crossed: { at: number; prevAt: number; memAvailable: number; total: number } | null;
        total: number;
        allocMs: number;
      } | null = null;
      alloc.stdout?.on(
        'data',
        lines((l) => (report = JSON.parse(l) as typeof report)),
      );
      try {
        const r = await waitFor('the allocator', () => report, 60_000, 2);
        if (!r.crossed) {
          failures.push(
            `run ${i + 1}: ${Math.round(r.total / MiB)} MiB did not cross the threshold (the neighbours freed memory); skipped`,
          );
          continue;
        }
        const limit =
          Number(base.supervisor?.poll_interval === undefined ? 30_000 : parseDuration(String(base.supervisor.poll_interval))) + 10_000;
        // a side sampler: did MemAvailable stay under the threshold until the pause (the neighbours may free memory)?
        let backAboveAt: number | null = null;
        let maxAvailable = 0;
        const side = setInterval(() => {
          const m = memAvailable();
          maxAvailable = Math.max(maxAvailable, m);
          if (backAboveAt === null && m - memMax >= threshold) backAboveAt = Date.now();
        }, 10);
        let sampleAt: number | null = null;
        const pausedAt = await waitFor(
          'the pressure pause',
          async () => {
            const b = (await querySocket<PressureStatus>(sb.socket, '/status')).body;
            if (!b.pause.pressure) return null;
            sampleAt = b.lastSample?.at ?? null; // the sample the pausing tick used (the watch's, or its own)
            return b.pause.pressure.since;
          },
          limit,
          10,
        )
          .catch(() => null)
          .finally(() => clearInterval(side));
        const alertReq = await waitFor(
          'the alert at the receiver',
          () =>
            receiver.requests
              .slice(reqFrom)
              .find((q) => q.path === topicPath && String(q.headers.title ?? '').includes('paused: pressure')) ?? null,
          15_000,
          5,
        ).catch(() => null);
        const loggedAt = logLineAt(daemon.log(), logFrom, (l) => l.includes('paused: pressure'));
        runs.push({
          crossedAt: r.crossed.at,
          prevReadAt: r.crossed.prevAt,
          allocMs: r.allocMs,
          allocatedBytes: r.total,
          sampleAt,
          pausedAt,
          loggedAt,
          alertAt: alertReq?.at ?? null,
          phaseMs,
        });
        const wentBack =
          backAboveAt === null
            ? ''
            : `; MemAvailable went back above the threshold ${(backAboveAt as number) - r.crossed.at} ms after the crossing (max ${Math.round(maxAvailable / MiB)} MiB vs threshold ${Math.round((threshold + memMax) / MiB)} MiB: the neighbours freed memory)`;
        runs[runs.length - 1]!.backAboveAt = backAboveAt;
        if (pausedAt === null) failures.push(`run ${i + 1}: no pause within ${limit} ms${wentBack}`);
        else if (backAboveAt !== null && (backAboveAt as number) < pausedAt) failures.push(`run ${i + 1}: paused, but${wentBack.slice(1)}`);
        if (alertReq === null) failures.push(`run ${i + 1}: no alert at the receiver`);
      } finally {
        killByPid(alloc.pid); // frees the memory at once
        await new Promise<void>((resolve) =>
          alloc.exitCode !== null || alloc.signalCode !== null ? resolve() : alloc.once('exit', () => resolve()),
        );
      }
      // threshold back to 0: the reload's tick sees no violation and (recover_after 0s) leaves the pause
      await setThreshold(daemon, 0);
      await waitFor(
        'the pause to end',
        async () => (await querySocket<PressureStatus>(sb.socket, '/status')).body.pause.pressure === null,
        20_000,
        20,
      );
    }
  } finally {
    await daemon.stop();
  }
  const ok = <K extends keyof PressureRun>(k: K) => runs.filter((r) => r[k] !== null).map((r) => (r[k] as number) - r.crossedAt);
  log(`   pressure (${name}): ${runs.length} runs${failures.length ? `, ${failures.length} problem(s)` : ''}`);
  const prevToPause = runs.filter((r) => r.pausedAt !== null).map((r) => (r.pausedAt as number) - r.prevReadAt);
  return {
    name,
    config,
    runs,
    crossingToSample: summarizeMs(ok('sampleAt')),
    crossingToPause: summarizeMs(ok('pausedAt')),
    prevReadToPause: summarizeMs(prevToPause),
    crossingToLog: summarizeMs(ok('loggedAt')),
    crossingToAlert: summarizeMs(ok('alertAt')),
    failures,
  };
}

function parseDuration(s: string): number {
  const m = /^(\d+)(ms|s|m)$/.exec(s);
  if (!m) return 30_000;
  return Number(m[1]) * (m[2] === 'ms' ? 1 : m[2] === 's' ? 1000 : 60_000);
}

async function measurePressure(root: string, quick: boolean, log: (s: string) => void): Promise<ReactionResults['pressure']> {
  const schema = readFileSync(join(root, 'dist/config/schema.js'), 'utf8');
  const watchIntervalSupported = schema.includes('watch_interval');
  const gap = 1 * GiB;
  if (memAvailable() < 4 * GiB)
    return {
      watchIntervalSupported,
      thresholdGapBytes: gap,
      modes: [],
      skipped: `MemAvailable ${Math.round(memAvailable() / MiB)} MiB: too little to allocate safely; skipped`,
    };
  const runs = quick ? 2 : 5;
  const receiver = await startNtfyReceiver('ok');
  const modes: PressureMode[] = [];
  try {
    // what the shipped unit gives: the watchdog (WatchdogSec=30s) ticks every 15 s at the latest
    const tickOnly: ConfigSections = { supervisor: { poll_interval: '15s' } };
    if (watchIntervalSupported) tickOnly.admission = { watch_interval: '0s' };
    modes.push(
      await pressureMode(
        root,
        watchIntervalSupported ? 'watch_interval 0s (off): tick only, poll_interval 15s' : 'tick only, poll_interval 15s',
        tickOnly,
        runs,
        15_000,
        gap,
        receiver,
        log,
      ),
    );
    if (watchIntervalSupported) {
      modes.push(
        await pressureMode(
          root,
          'watch_interval 1s (the default), poll_interval 15s',
          { supervisor: { poll_interval: '15s' }, admission: { watch_interval: '1s' } },
          runs,
          1000,
          gap,
          receiver,
          log,
        ),
      );
      // what a sub-second worst case would take
      modes.push(
        await pressureMode(
          root,
          'watch_interval 500ms, poll_interval 15s',
          { supervisor: { poll_interval: '15s' }, admission: { watch_interval: '500ms' } },
          runs,
          1000,
          gap,
          receiver,
          log,
        ),
      );
    }
  } finally {
    await receiver.close();
  }
  return { watchIntervalSupported, thresholdGapBytes: gap, modes, skipped: null };
}

// ---------------------------------------------------------------------------------------------

export async function measureReaction(opts: { quick: boolean; root: string; log: (s: string) => void }): Promise<ReactionResults> {
  const { quick, root, log } = opts;
  const startedAt = new Date().toISOString();
  const machine = machineInfo();
  try {
    log('reaction: death -> classification');
    const death = await measureDeath(root, quick ? 5 : 20, log);
    log('reaction: pressure -> pause + alert');
    const pressure = await measurePressure(root, quick, log);
    return { startedAt, machine, loadavgStart: machine.loadavgAtStart, loadavgEnd: loadNow(), quick, death, pressure };
  } finally {
    await cleanup();
  }
}

const statsRow = (name: string, s: Stats) => [name, String(s.n), fmtMs(s.p50), fmtMs(s.p99), fmtMs(s.max)];

export function printReaction(r: ReactionResults, log: (s: string) => void): void {
  log(`Reaction benchmark, ${r.startedAt}${r.quick ? ' (BENCH_QUICK)' : ''}`);
  log(
    `machine: ${r.machine.arch}, ${r.machine.cpuModel}, nproc ${r.machine.nproc}, RAM ${(r.machine.ramBytes / GiB).toFixed(1)} GiB, kernel ${r.machine.kernel}, node ${r.machine.node}`,
  );
  log(`load average start / end: ${r.loadavgStart.join(' ')} / ${r.loadavgEnd.join(' ')}`);
  log('');
  const d = r.death;
  log(`a. Death -> classification (SIGKILL of a running worker; goal < ${d.goalMs} ms)`);
  table(
    log,
    ['from SIGKILL to', 'n', 'p50', 'p99', 'max'],
    [
      statsRow("warden's exit handler ran (exit observed)", d.killToObserved),
      statsRow('attempt classified (record endedAt)', d.killToClassified),
      statsRow('state saved + logged (log line)', d.killToLogged),
      statsRow('floor: bare Node parent gets exit (ms clock)', d.floorBareMs),
      statsRow('floor: bare Node parent gets exit (sub-ms)', d.floorBareHiRes),
      statsRow('floor: Node parent, warden sh wrapper (ms clock)', d.floorWrapperMs),
      statsRow('floor: Node parent, warden sh wrapper (sub-ms)', d.floorWrapperHiRes),
    ],
  );
  log(
    `   goal: classification p99 ${fmtMs(d.killToClassified.p99)} ${d.killToClassified.p99 < d.goalMs ? '<' : '>='} ${d.goalMs} ms: ${d.killToClassified.p99 < d.goalMs ? 'MET' : 'NOT MET'}`,
  );
  log(`   outcomes: ${[...new Set(d.runs.map((x) => x.outcome))].join(', ')}`);
  log('');
  const p = r.pressure;
  log(
    `b. Pressure -> pause + alert (MemAvailable pushed ${(p.thresholdGapBytes / GiB).toFixed(1)} GiB down past min_available_memory; goal pause < ${PAUSE_GOAL_MS} ms)`,
  );
  if (p.skipped) log(`   skipped: ${p.skipped}`);
  if (!p.watchIntervalSupported) log('   admission.watch_interval is not in this build: only the tick-driven mode was measured');
  for (const m of p.modes) {
    log(`   mode: ${m.name}`);
    table(
      log,
      ['from the crossing to', 'n', 'p50', 'p99', 'max'],
      [
        statsRow("warden's sample that saw it (lastSample.at)", m.crossingToSample),
        statsRow('pressure pause entered (pause.since)', m.crossingToPause),
        statsRow('  same, from the last read above (upper bound)', m.prevReadToPause),
        statsRow('state saved + logged (log line)', m.crossingToLog),
        statsRow('alert at the ntfy receiver', m.crossingToAlert),
      ],
    );
    const worstWindow = Math.max(...m.runs.map((x) => x.crossedAt - x.prevReadAt));
    log(
      `   crossing: the allocator's first /proc/meminfo read under the threshold (reads every 2 MiB chunk; window up to ${fmtMs(worstWindow)}); allocated ${m.runs.map((x) => Math.round(x.allocatedBytes / MiB)).join(', ')} MiB in ${m.runs.map((x) => fmtMs(x.allocMs)).join(', ')}`,
    );
    log(
      `   goal: pause max ${fmtMs(m.crossingToPause.max)} ${m.crossingToPause.max < PAUSE_GOAL_MS ? '<' : '>='} ${PAUSE_GOAL_MS} ms: ${m.crossingToPause.max < PAUSE_GOAL_MS ? 'MET' : 'NOT MET'} (earlyoom polls every 100-1000 ms)`,
    );
    for (const f of m.failures) log(`   problem: ${f}`);
  }
}

if (isMain(import.meta.url)) {
  const o = standaloneOptions();
  try {
    const r = await measureReaction(o);
    o.log('');
    printReaction(r, o.log);
    if (process.env.BENCH_OUT) writeFileSync(process.env.BENCH_OUT, JSON.stringify(r, null, 2) + '\n');
  } catch (err) {
    process.stderr.write(`reaction benchmark failed: ${(err as Error).stack ?? String(err)}\n`);
    process.exitCode = 1;
  }
}
