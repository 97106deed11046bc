// warden's benchmark (`npm run bench`; not part of `npm test`). It measures the three costs the
// daemon pays on every tick or transition, each against a floor measured in the same run:
//   1. one admission sample (sampleHost) vs one readFileSync('/proc/loadavg'), and proof that
//      sampling starts no child process;
//   2. the decision core's planTick with 10 / 1,000 / 10,000 queued tasks (profiled by source
//      line when the largest spawn tick is over its 1 ms goal), and the transitions that copy
//      the task map (applyExit, addTask, ingesting 1,000 requests one by one or as a batch);
//   3. saveState (serialise, write, fsync file + directory, rename) vs writeFileSync of the
//      same bytes without fsync;
//   4. spawn cost with the direct executor vs a bare child_process.spawn (bench/spawn-direct.ts);
//   5. reaction: worker death -> classification, pressure -> pause + alert (bench/reaction.ts);
//   6. scale: `warden status` with 10 / 1,000 / 10,000 tasks (bench/scale.ts);
//   7. when this host can boot the real-systemd container (root, systemd-nspawn): spawn latency
//      vs `systemd-run --scope true`, idle cost beside bare node, PM2 and supervisord, and host
//      survival under a memory hog (bench/systemd.ts, bench/peers.ts, bench/survival.ts).
// It runs the compiled dist/ code (what ships), prints a table and writes
// bench/results/<YYYY-MM-DD>-<hostname>.json. This machine may be shared and noisy: compare the
// ratios, which are measured interleaved or back to back, more than the absolute figures.
import { describeChildren, installSpawnGuard, liveChildren } from './spawn-guard.js'; // first: before any code under test loads

import { spawnSync } from 'node:child_process';
import { existsSync, mkdirSync, mkdtempSync, readFileSync, rmSync, statSync, writeFileSync } from 'node:fs';
import { createRequire } from 'node:module';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { alignLines } from './align.js';
import { table as tableTo } from './table.js';
import { BENCH_CONFIG_TOML, healthySample, makeState, mixAroundPending, mixForTotal, mixTotal } from './fixtures.js';
import { filesystemOf, loadNow, machineInfo, machineLine, runSpan } from './machine.js';
import { profileLines, type LineProfile } from './profile.js';
import { measureDirectSpawn } from './spawn-direct.js';
import { measureReaction, printReaction } from './reaction.js';
import { measureScale, printScale } from './scale.js';
import { fmtBytes, fmtRatio, fmtUs, summarize, timeEach, timeInterleaved, type Summary } from './stats.js';

const guard = installSpawnGuard();

const root = new URL('..', import.meta.url);
const dist = (p: string) => new URL(`dist/${p}`, root).href;
// the compiled modules, typed by their sources
const sampleMod = (await import(dist('admission/sample.js'))) as typeof import('../src/admission/sample.js');
const settingsMod = (await import(dist('policy/settings.js'))) as typeof import('../src/policy/settings.js');
const tickMod = (await import(dist('policy/tick.js'))) as typeof import('../src/policy/tick.js');
const attemptEndMod = (await import(dist('policy/attempt-end.js'))) as typeof import('../src/policy/attempt-end.js');
const taskChangesMod = (await import(dist('policy/task-changes.js'))) as typeof import('../src/policy/task-changes.js');
const loadMod = (await import(dist('config/load.js'))) as typeof import('../src/config/load.js');
const storeMod = (await import(dist('state/store.js'))) as typeof import('../src/state/store.js');

const TICK_GOAL_US = 1000;
const SIZES = [10, 1_000, 10_000] as const;
const quick = process.env.BENCH_QUICK === '1'; // fewer iterations, for checking the script itself

const machine = machineInfo();
const startedAt = new Date();
const log = (s = '') => process.stdout.write(s + '\n');

const table = (head: string[], rows: string[][], left: number[] = []) => tableTo(log, head, rows, left);

const row = (name: string, s: Summary) => [name, fmtUs(s.p50), fmtUs(s.p99), fmtUs(s.max)];

log(`warden benchmark, ${startedAt.toISOString()}`);
log(machineLine(machine));
log(`load average at start: ${machine.loadavgAtStart.join(' ')} (a shared machine: trust ratios more than absolute figures)`);

// ---------------------------------------------------------------------------------------------
// 1. admission sample
// ---------------------------------------------------------------------------------------------
const SAMPLE_WARMUP = quick ? 50 : 200;
const SAMPLE_N = quick ? 200 : 1000;

// positive control: the guard must see a spawn when there is one
const require = createRequire(import.meta.url);
(require('node:child_process') as typeof import('node:child_process')).execFileSync('/bin/true');
const { execFileSync: esmExecFileSync } = await import('node:child_process');
esmExecFileSync('/bin/true');
const controlCount = guard.total();
guard.reset();

const childrenBefore = liveChildren();
const first = sampleMod.sampleHost(Date.now());
const [sampleNs, floorNs] = timeInterleaved(
  () => sampleMod.sampleHost(Date.now()),
  () => readFileSync('/proc/loadavg', 'latin1'),
  SAMPLE_WARMUP,
  SAMPLE_N,
);
// The hardware reads on a Pi (this host may have no thermal zone and no get_throttled): a fake
// sysfs with a cpu-thermal zone and the firmware file, against the memory/load/PSI reads alone.
const piSys = mkdtempSync(join(tmpdir(), 'warden-bench-sys-'));
mkdirSync(join(piSys, 'class/thermal/thermal_zone0'), { recursive: true });
writeFileSync(join(piSys, 'class/thermal/thermal_zone0/type'), 'cpu-thermal\n');
writeFileSync(join(piSys, 'class/thermal/thermal_zone0/temp'), '52350\n');
mkdirSync(join(piSys, 'devices/platform/soc/soc:firmware'), { recursive: true });
writeFileSync(join(piSys, 'devices/platform/soc/soc:firmware/get_throttled'), '50000\n');
const cpus = sampleMod.hostProc.cpus;
const [piNs, memOnlyNs] = timeInterleaved(
  () => sampleMod.sampleHost(Date.now(), { procRoot: '/proc', cpus, sysRoot: piSys }),
  () => sampleMod.sampleHost(Date.now(), { procRoot: '/proc', cpus }),
  SAMPLE_WARMUP,
  SAMPLE_N,
);
rmSync(piSys, { recursive: true, force: true });
const childrenAfter = liveChildren();
const spawnCounts = guard.counts();
const spawnTotal = guard.total();
const sample = summarize(sampleNs);
const sampleFloor = summarize(floorNs);
const samplePi = summarize(piNs);
const sampleMemOnly = summarize(memOnlyNs);

// systeminformation is the library warden chose not to use; measure it only if someone has it
let systeminformation: { note: string; mem?: Summary; currentLoad?: Summary; spawns?: number } = { note: '' };
try {
  const optional = 'systeminformation'; // not a dependency: a variable keeps tsc from resolving it
  const si = (await import(optional)) as { mem(): Promise<unknown>; currentLoad(): Promise<unknown> };
  const SI_N = quick ? 10 : 50;
  const timeAsync = async (fn: () => Promise<unknown>) => {
    for (let i = 0; i < 3; i++) await fn();
    const out: number[] = [];
    for (let i = 0; i < SI_N; i++) {
      const t0 = process.hrtime.bigint();
      await fn();
      out.push(Number(process.hrtime.bigint() - t0));
    }
    return summarize(out);
  };
  guard.reset();
  const mem = await timeAsync(() => si.mem());
  const currentLoad = await timeAsync(() => si.currentLoad());
  systeminformation = { note: `measured, ${SI_N} calls each after 3 warm-up`, mem, currentLoad, spawns: guard.total() };
} catch (err) {
  const code = (err as NodeJS.ErrnoException).code;
  systeminformation = {
    note:
      code === 'ERR_MODULE_NOT_FOUND'
        ? 'systeminformation is not installed: skipped (it is not a dependency of warden)'
        : `systeminformation failed: ${(err as Error).message}`,
  };
}

log('');
log(`1. Admission sample: ${SAMPLE_N} calls after ${SAMPLE_WARMUP} warm-up, interleaved with the floor`);
log(
  `   (this host: PSI ${first.psiAvailable ? 'on' : 'off'}, MemAvailable ${first.memAvailable === null ? '?' : fmtBytes(first.memAvailable)}, load1 ${first.load1}${first.errors.length ? `, errors: ${first.errors.join('; ')}` : ''})`,
);
table(
  ['subject', 'p50', 'p99', 'max'],
  [
    row('sampleHost(Date.now())', sample),
    row("floor: readFileSync('/proc/loadavg')", sampleFloor),
    ['ratio sample / floor', fmtRatio(sample.p50 / sampleFloor.p50), fmtRatio(sample.p99 / sampleFloor.p99), '-'], // a max is one outlier: no ratio
    row('sampleHost, Pi sysfs fixture (+ temp, get_throttled)', samplePi),
    row('sampleHost, no sysfs (memory, load, PSI only)', sampleMemOnly),
    ['ratio Pi fixture / floor', fmtRatio(samplePi.p50 / sampleFloor.p50), fmtRatio(samplePi.p99 / sampleFloor.p99), '-'],
    ['ratio Pi fixture / no sysfs', fmtRatio(samplePi.p50 / sampleMemOnly.p50), fmtRatio(samplePi.p99 / sampleMemOnly.p99), '-'],
    ...(systeminformation.mem ? [row('systeminformation mem()', systeminformation.mem)] : []),
    ...(systeminformation.currentLoad ? [row('systeminformation currentLoad()', systeminformation.currentLoad)] : []),
  ],
);
log(
  `   child processes started while sampling: ${spawnTotal} (counted in spawn/spawnSync/exec/execSync/execFile/execFileSync/fork; ` +
    `live children before/after: ${describeChildren(childrenBefore)} / ${describeChildren(childrenAfter)}; control: 2 deliberate execFileSync calls were counted as ${controlCount})`,
);
if (systeminformation.spawns !== undefined) log(`   systeminformation started ${systeminformation.spawns} child processes`);
log(`   ${systeminformation.note}`);
if (spawnTotal !== 0) log('   *** sampleHost started a child process: it must not ***');

// ---------------------------------------------------------------------------------------------
// 2. decision-core tick
// ---------------------------------------------------------------------------------------------
const TICK_WARMUP = quick ? 10 : 50;
const TICK_N = quick ? 50 : 300;
const settings = settingsMod.coreSettingsFrom(loadMod.parseConfigText(BENCH_CONFIG_TOML, 'bench'));
const now = Date.now();
const hostSample = healthySample(now);

interface TickRow {
  pending: number;
  totalTasks: number;
  spawn: Summary;
  held: Summary;
  /** The held tick on a task map with no cached index yet, which it builds first. */
  cold: Summary;
}
const ticks: TickRow[] = [];
for (const n of SIZES) {
  const mix = mixAroundPending(n);
  const state = makeState(mix, now); // last spawn 5 min ago, 1 of 2 slots busy: this tick spawns
  const heldState = { ...state, lastSpawnAt: now - 1000 }; // 1 s ago: min_spawn_interval holds it
  const probeSpawn = tickMod.planTick(state, now, hostSample, settings);
  const probeHeld = tickMod.planTick(heldState, now, hostSample, settings);
  if (probeSpawn.spawns.length !== 1 || probeHeld.spawns.length !== 0 || !probeHeld.heldBy?.startsWith('rate limit')) {
    throw new Error(
      `tick fixture is wrong at ${n}: spawns ${probeSpawn.spawns.length}/${probeHeld.spawns.length}, held by ${probeHeld.heldBy}`,
    );
  }
  const spawn = summarize(timeEach(() => tickMod.planTick(state, now, hostSample, settings), TICK_WARMUP, TICK_N));
  const held = summarize(timeEach(() => tickMod.planTick(heldState, now, hostSample, settings), TICK_WARMUP, TICK_N));
  // cold: a task map the decision core has not indexed (a state just loaded from disk, or one the
  // supervisor copied by a spread), so the tick builds the index first. One fresh copy per call.
  const coldN = quick ? 5 : n >= 10_000 ? 30 : 100;
  const fresh = Array.from({ length: coldN + 3 }, () => ({ ...heldState, tasks: { ...state.tasks } }));
  let next = 0;
  const cold = summarize(timeEach(() => tickMod.planTick(fresh[next++] as typeof heldState, now, hostSample, settings), 3, coldN));
  ticks.push({ pending: n, totalTasks: mixTotal(mix), spawn, held, cold });
}
const tick10 = ticks[0] as TickRow;
const tick10k = ticks[ticks.length - 1] as TickRow;

log('');
log(`2. Decision core planTick(state, now, sample, settings): ${TICK_N} calls after ${TICK_WARMUP} warm-up, per size`);
log('   queued = pending tasks; the state also holds +10% retry_wait, +20% succeeded, +5% dead and 1 running');
log('   "spawn" = gates open, one task is claimed (copies the task map once); "held" = min_spawn_interval holds it;');
log('   "cold held" = the held tick on a task map not yet indexed (it builds the index: 30-100 calls, one fresh map each)');
table(
  ['queued (total tasks)', 'spawn p50', 'spawn p99', 'held p50', 'held p99', 'cold held p50', 'cold held p99'],
  ticks.map((t) => [
    `${t.pending.toLocaleString('en')} (${t.totalTasks.toLocaleString('en')})`,
    fmtUs(t.spawn.p50),
    fmtUs(t.spawn.p99),
    fmtUs(t.held.p50),
    fmtUs(t.held.p99),
    fmtUs(t.cold.p50),
    fmtUs(t.cold.p99),
  ]),
);
const tickRatio = tick10k.spawn.p50 / tick10.spawn.p50;
const under = (x: Summary) => x.p50 < TICK_GOAL_US && x.p99 < TICK_GOAL_US;
const goalMet = { held: under(tick10k.held), spawn: under(tick10k.spawn) };
const verdict = (met: boolean, x: Summary) => (met ? 'met' : `NOT met (p50 ${fmtUs(x.p50)}, p99 ${fmtUs(x.p99)})`);
log(`   ratio 10,000 vs 10 (spawn p50): ${fmtRatio(tickRatio)}; held p50: ${fmtRatio(tick10k.held.p50 / tick10.held.p50)}`);
log(`   goal < 1 ms at 10,000: held tick ${verdict(goalMet.held, tick10k.held)}; spawn tick ${verdict(goalMet.spawn, tick10k.spawn)}`);

const bigState = makeState(mixAroundPending(SIZES[SIZES.length - 1] as number), now);

type SourceLine = LineProfile['lines'][number] & { srcFile: string; srcLine: number | null; estUs: number };
let profile: (Omit<LineProfile, 'lines'> & { lines: SourceLine[] }) | null = null;
if (!goalMet.spawn) {
  const modules = ['policy/tick', 'policy/task-index'];
  const PROFILE_N = quick ? 20 : 100;
  const p = await profileLines(
    () => tickMod.planTick(bigState, now, hostSample, settings),
    PROFILE_N,
    modules.map((m) => dist(`${m}.js`)),
  );
  const sources = new Map(
    modules.map((m) => {
      const tsSource = readFileSync(new URL(`src/${m}.ts`, root), 'utf8');
      const map = alignLines(readFileSync(fileURLToPath(dist(`${m}.js`)), 'utf8'), tsSource);
      return [dist(`${m}.js`), { srcFile: `src/${m}.ts`, tsLines: tsSource.split('\n'), map }] as const;
    }),
  );
  const perCallUs = tick10k.spawn.mean;
  // several compiled lines (or positions) can map to one source line: add them up per source line
  const bySource = new Map<string, SourceLine>();
  for (const l of p.lines) {
    const src = sources.get(l.file);
    const srcLine = src?.map.get(l.line) ?? null;
    const key = srcLine === null ? `${l.file}#js${l.line}` : `${l.file}#${srcLine}`;
    const seen = bySource.get(key);
    if (seen) {
      seen.ticks += l.ticks;
      seen.share += l.share;
      seen.estUs += l.share * perCallUs;
      continue;
    }
    const text = srcLine === null ? l.text : (src?.tsLines[srcLine - 1] ?? '').trim();
    bySource.set(key, { ...l, srcFile: src?.srcFile ?? l.file, srcLine, text, estUs: l.share * perCallUs });
  }
  const lines = [...bySource.values()].sort((a, b) => b.ticks - a.ticks);
  profile = { ...p, lines };
  log('');
  log(
    `   profile of the 10,000 spawn tick (V8 sampling profiler, 50 µs interval, ${PROFILE_N} calls, ${p.totalTicks} samples), hottest lines:`,
  );
  table(
    ['source line', 'share', '≈ per tick', 'code'],
    lines
      .slice(0, 7)
      .map((l) => [
        `${l.srcFile}:${l.srcLine ?? `? (dist line ${l.line})`}`,
        `${(l.share * 100).toFixed(1)}%`,
        fmtUs(l.estUs),
        l.text.length > 90 ? l.text.slice(0, 87) + '...' : l.text,
      ]),
    [3],
  );
}

// ---------------------------------------------------------------------------------------------
// 2b. transitions on the 10,000 state: each copies the task map once
// ---------------------------------------------------------------------------------------------
const INGEST = 1_000;
const runningId = Object.values(bigState.tasks).find((t) => t.state === 'running')?.id as string;
const exitReport = {
  spawnError: null,
  worktreeError: null,
  exitCode: 0,
  signal: null,
  durationMs: 600_000,
  timedOut: false,
  oomKilled: false,
  lost: false,
};
const requests = Array.from({ length: INGEST }, (_, i) => ({
  id: `new-${i}`,
  promptFile: `/var/lib/warden/prompts/new-${i}.prompt`,
  priority: 2,
  createdAt: now + i,
}));
const TRANSITION_N = quick ? 10 : 50;
const INGEST_LOOP_N = quick ? 1 : 3;
const transitions = {
  totalTasks: Object.keys(bigState.tasks).length,
  applyExit: summarize(timeEach(() => attemptEndMod.applyExit(bigState, runningId, exitReport, now, settings, () => 0.5), 5, TRANSITION_N)),
  addTask: summarize(timeEach(() => taskChangesMod.addTask(bigState, requests[0] as (typeof requests)[number]), 5, TRANSITION_N)),
  ingestOneByOne: summarize(
    timeEach(() => requests.reduce((st, r) => taskChangesMod.addTask(st, r).state, bigState), quick ? 0 : 1, INGEST_LOOP_N),
  ),
  ingestBatch: summarize(timeEach(() => taskChangesMod.addTasks(bigState, requests), 3, TRANSITION_N)),
};
log('');
log(
  `2b. Transitions on the 10,000-queued state (${transitions.totalTasks.toLocaleString('en')} tasks); each returns a new state and copies the task map once`,
);
table(
  ['transition', 'calls', 'p50', 'p99'],
  [
    ['applyExit (the running task succeeds)', String(TRANSITION_N), fmtUs(transitions.applyExit.p50), fmtUs(transitions.applyExit.p99)],
    ['addTask (one request)', String(TRANSITION_N), fmtUs(transitions.addTask.p50), fmtUs(transitions.addTask.p99)],
    [
      `ingest ${INGEST.toLocaleString('en')} requests with addTask, one by one`,
      String(INGEST_LOOP_N),
      fmtUs(transitions.ingestOneByOne.p50),
      fmtUs(transitions.ingestOneByOne.p99),
    ],
    [
      `ingest ${INGEST.toLocaleString('en')} requests with one addTasks`,
      String(TRANSITION_N),
      fmtUs(transitions.ingestBatch.p50),
      fmtUs(transitions.ingestBatch.p99),
    ],
  ],
);

// ---------------------------------------------------------------------------------------------
// 3. state file
// ---------------------------------------------------------------------------------------------
const benchDir = mkdtempSync(join(tmpdir(), 'warden-bench-'));
const stateDir = join(benchDir, 'state');
const floorDir = join(benchDir, 'floor');
mkdirSync(stateDir);
mkdirSync(floorDir);
const fsType = filesystemOf(benchDir);
const SAVE_N: Record<number, number> = quick ? { 10: 20, 1000: 10, 10000: 5 } : { 10: 200, 1000: 100, 10000: 40 };

interface SaveRow {
  tasks: number;
  bytes: number;
  iterations: number;
  serialize: Summary;
  save: Summary;
  floor: Summary;
}
const saves: SaveRow[] = [];
try {
  for (const n of SIZES) {
    const state = makeState(mixForTotal(n), now);
    const text = storeMod.serializeState(state);
    const bytes = Buffer.byteLength(text);
    const iterations = SAVE_N[n] ?? 20;
    const serialize = summarize(timeEach(() => storeMod.serializeState(state), 5, iterations));
    const floorPath = join(floorDir, 'state.json');
    const [saveNs, floorNs2] = timeInterleaved(
      () => storeMod.saveState(stateDir, state),
      () => writeFileSync(floorPath, text),
      3,
      iterations,
    );
    const onDisk = statSync(storeMod.statePath(stateDir)).size;
    if (onDisk !== bytes) throw new Error(`saved ${onDisk} bytes, expected ${bytes}`);
    saves.push({ tasks: n, bytes, iterations, serialize, save: summarize(saveNs), floor: summarize(floorNs2) });
  }
} finally {
  rmSync(benchDir, { recursive: true, force: true });
}

log('');
log(`3. State file: saveState (serialise + write + fsync file + rename + fsync dir) vs floor writeFileSync of the same bytes, no fsync`);
log(`   interleaved, 3 warm-up each; temp dir on ${fsType}; task mix 60% pending, 10% retry_wait, 24% succeeded, 5% dead, 1 running`);
log('   the ratio is the price of the two fsyncs: on an SD card (the Pi default) one fsync takes milliseconds, and far more on a worn or');
log(
  '   cheap card, so every state transition costs that; it is what keeps "No lost state" true. Run this on the Pi\'s own card to see it.',
);
table(
  ['tasks', 'file size', 'iter', 'serialise p50', 'saveState p50', 'saveState p99', 'floor p50', 'floor p99', 'ratio p50'],
  saves.map((s) => [
    s.tasks.toLocaleString('en'),
    fmtBytes(s.bytes),
    String(s.iterations),
    fmtUs(s.serialize.p50),
    fmtUs(s.save.p50),
    fmtUs(s.save.p99),
    fmtUs(s.floor.p50),
    fmtUs(s.floor.p99),
    fmtRatio(s.save.p50 / s.floor.p50),
  ]),
);

// ---------------------------------------------------------------------------------------------
// 4. spawn cost with the direct executor (the systemd executor's is measured by bench/systemd.ts)
// ---------------------------------------------------------------------------------------------
const directSpawn = await measureDirectSpawn({ quick, root });
log('');
log(
  `4. Spawn cost, direct executor: DirectExecutor.spawn(/bin/true) vs bare child_process.spawn(/bin/true), interleaved, ${directSpawn.iterations} each after ${directSpawn.warmup} warm-up`,
);
log("   warden runs the command through its sh wrapper (pid and exit files): to running stops at the child's spawn event");
log('   plus one /proc read; to exit includes the wrapper and the exit record. Goal: within 1.5x of the floor.');
table(
  ['subject', 'p50', 'p99', 'max', 'ratio p50'],
  [
    [
      'warden: spawn() resolved (running)',
      fmtUs(directSpawn.toRunning.warden.p50),
      fmtUs(directSpawn.toRunning.warden.p99),
      fmtUs(directSpawn.toRunning.warden.max),
      fmtRatio(directSpawn.toRunning.ratioP50),
    ],
    [
      'floor: spawn event',
      fmtUs(directSpawn.toRunning.floor.p50),
      fmtUs(directSpawn.toRunning.floor.p99),
      fmtUs(directSpawn.toRunning.floor.max),
      '1.00x',
    ],
    [
      'warden: exited (classified input ready)',
      fmtUs(directSpawn.toExit.warden.p50),
      fmtUs(directSpawn.toExit.warden.p99),
      fmtUs(directSpawn.toExit.warden.max),
      fmtRatio(directSpawn.toExit.ratioP50),
    ],
    [
      'floor: exit event',
      fmtUs(directSpawn.toExit.floor.p50),
      fmtUs(directSpawn.toExit.floor.p99),
      fmtUs(directSpawn.toExit.floor.max),
      '1.00x',
    ],
  ],
);
log(`   goal (to running within 1.5x): ${directSpawn.goal.met ? 'met' : 'NOT met'} (${fmtRatio(directSpawn.toRunning.ratioP50)})`);

// ---------------------------------------------------------------------------------------------
// 5. reaction (death -> classification, pressure -> pause + alert) and 6. scale (warden status
//    at 10 / 1,000 / 10,000 tasks): real daemons on this host, direct executor
// ---------------------------------------------------------------------------------------------
const ROOT = fileURLToPath(root).replace(/\/$/, '');
log('');
log('5. Reaction times (bench/reaction.ts)');
const reaction = await measureReaction({ quick, root: ROOT, log });
printReaction(reaction, log);
log('');
log('6. Scale: warden status with 10 / 1,000 / 10,000 tasks (bench/scale.ts)');
const scale = await measureScale({ quick, root: ROOT, log });
printScale(scale, log);

// ---------------------------------------------------------------------------------------------
// 7. the systemd part (spawn latency against systemd-run, idle cost beside PM2 and supervisord,
//    host survival) inside the project's real-systemd container, when this host can boot one
// ---------------------------------------------------------------------------------------------
const systemd = runSystemdPart();

// ---------------------------------------------------------------------------------------------
// results
// ---------------------------------------------------------------------------------------------
const result = {
  ...runSpan(startedAt),
  quick,
  machine: { ...machine, loadavgAtEnd: loadNow() },
  units: 'microseconds (bytes for sizes)',
  admissionSample: {
    warmup: SAMPLE_WARMUP,
    iterations: SAMPLE_N,
    method: 'interleaved with the floor, one call each per iteration, process.hrtime.bigint around each call',
    psiAvailable: first.psiAvailable,
    sample,
    samplePiSysfsFixture: samplePi,
    sampleWithoutSysfs: sampleMemOnly,
    floor: { what: "readFileSync('/proc/loadavg', 'latin1')", ...sampleFloor },
    ratio: { p50: sample.p50 / sampleFloor.p50, p99: sample.p99 / sampleFloor.p99 },
    childProcesses: {
      total: spawnTotal,
      byFunction: spawnCounts,
      liveChildrenBefore: childrenBefore,
      liveChildrenAfter: childrenAfter,
      controlCountedOf2: controlCount,
    },
    systeminformation,
  },
  tick: {
    warmup: TICK_WARMUP,
    iterations: TICK_N,
    goalUs: TICK_GOAL_US,
    goalMet,
    mix: 'pending = queued; plus ceil(10%) retry_wait (future notBefore), ceil(20%) succeeded, ceil(5%) dead, 1 running; max_concurrent_workers 2, other settings default',
    sizes: ticks,
    ratio10kVs10: { spawnP50: tickRatio, heldP50: tick10k.held.p50 / tick10.held.p50 },
    profile: profile && { totalTicks: profile.totalTicks, lines: profile.lines.slice(0, 10), functions: profile.functions.slice(0, 10) },
    transitions: { ...transitions, ingestRequests: INGEST, calls: TRANSITION_N, ingestLoopCalls: INGEST_LOOP_N },
  },
  stateFile: {
    filesystem: fsType,
    warmup: 3,
    floor: 'writeFileSync(path, sameText) without fsync, interleaved with saveState',
    sizes: saves,
  },
  directSpawn,
  reaction,
  scale,
  systemd,
};
const resultsDir = new URL('bench/results/', root);
mkdirSync(resultsDir, { recursive: true });
const out = new URL(`${result.date}-${machine.hostname}${quick ? '-quick' : ''}.json`, resultsDir);
writeFileSync(out, JSON.stringify(result, null, 2) + '\n');
log('');
log(`results: ${fileURLToPath(out)} (${(result.durationMs / 1000).toFixed(1)} s)`);

/**
 * Runs bench/systemd.ts in scripts/with-systemd.sh (NAME=warden-bench) and returns its results, or
 * why it was skipped. BENCH_SYSTEMD=0 skips it; without root or systemd-nspawn it is skipped with
 * the reason printed, and the spawn cost above (direct executor) is the only one measured.
 */
function runSystemdPart(): { skipped: string } | { results: unknown } {
  const why =
    process.env.BENCH_SYSTEMD === '0'
      ? 'BENCH_SYSTEMD=0'
      : process.getuid?.() !== 0
        ? 'not root (systemd-nspawn needs root)'
        : spawnSync('sh', ['-c', 'command -v systemd-nspawn']).status !== 0
          ? 'systemd-nspawn is not installed (apt-get install --no-install-recommends systemd-container)'
          : null;
  log('');
  if (why) {
    log(`7. systemd part SKIPPED: ${why}`);
    return { skipped: why };
  }
  log('7. The systemd part, in a throw-away systemd 252 container (bench/systemd.ts)');
  const part = join(ROOT, 'bench', 'results', `.systemd-part-${process.pid}.json`);
  const env = `BENCH_QUICK=${quick ? 1 : 0} BENCH_OUT=${part}`;
  const r = spawnSync(join(ROOT, 'scripts/with-systemd.sh'), ['test', 'sh', '-c', `${env} node --import tsx bench/systemd.ts`], {
    cwd: ROOT,
    stdio: 'inherit',
    env: { ...process.env, NAME: 'warden-bench' },
  });
  if (r.status !== 0 || !existsSync(part)) return { skipped: `bench/systemd.ts failed (exit ${r.status ?? r.signal})` };
  const results = JSON.parse(readFileSync(part, 'utf8')) as unknown;
  rmSync(part, { force: true });
  return { results };
}
