// warden's systemd benchmark (`npm run bench:systemd`; not part of `npm test`). It runs INSIDE the
// throw-away systemd 252 container that scripts/with-systemd.sh boots (systemd is PID 1 there, as
// root), against the compiled dist/ code (what ships), and measures three things, each against a
// floor taken in the same run:
//   1. spawn latency: from calling SystemdExecutor.spawn(spec) until it resolves, i.e. until the
//      worker wrapper runs inside its capped scope and has written its pid file; against the floor
//      `systemd-run --scope --quiet true`, interleaved one for one. Every attempt's limit is
//      verified outside the timed section (the wrapper records its cgroup's memory limit in the
//      exit file; one live scope is also read from /sys/fs/cgroup). Where the time goes is taken
//      from timestamps around the executor's child_process.spawn and fs.watch calls (wrapped
//      here, src/ untouched), plus extra interleaved series that run systemd-run directly with
//      parts of warden's arguments (limits, --uid, the sh wrapper) to see what each one costs.
//   2. idle cost of the shipped warden.service (Type=notify, WatchdogSec=30s, poll_interval 30s),
//      with 0 and with 3 long-running `sleep` workers, side by side with a bare
//      `node -e "setInterval(()=>{},1000)"`, the PM2 daemon and supervisord (3 `sleep` programs
//      each), sampled over the same windows: RSS, PSS, RssAnon, CPU and voluntary context
//      switches (wakeups) per second, from /proc. That part lives in bench/peers.ts (measureIdle),
//      which also runs alone; its result is the JSON's `idle` key.
//   3. host survival: a worker allocating 2x MemAvailable in its capped scope while a probe
//      outside warden's slice times itself (bench/survival.ts); the JSON's `survival` key.
// It prints tables and writes bench/results/<YYYY-MM-DD>-<hostname>-systemd.json. BENCH_QUICK=1
// runs fewer iterations and shorter windows, to check the script itself.
import { createRequire, syncBuiltinESMExports } from 'node:module';
import type { ChildProcess } from 'node:child_process';
import type { FSWatcher } from 'node:fs';

// ---------------------------------------------------------------------------------------------
// Probes, installed before the code under test loads: timestamps around the executor's
// child_process.spawn('systemd-run', ...) and the first fs.watch event for the pid file. The
// executor imports both as ESM named exports; syncBuiltinESMExports makes those see the wrappers.
// ---------------------------------------------------------------------------------------------
const nowNs = () => process.hrtime.bigint();
interface Probe {
  armed: boolean;
  watchAt: bigint | null;
  spawnCallAt: bigint | null;
  spawnReturnAt: bigint | null;
  pidEventAt: bigint | null;
  pidEventType: string | null;
}
const probe: Probe = { armed: false, watchAt: null, spawnCallAt: null, spawnReturnAt: null, pidEventAt: null, pidEventType: null };
{
  const require = createRequire(import.meta.url);
  const cp = require('node:child_process') as Record<string, unknown>;
  const fsCjs = require('node:fs') as Record<string, unknown>;
  const origSpawn = cp.spawn as (...a: unknown[]) => ChildProcess;
  const origWatch = fsCjs.watch as (...a: unknown[]) => FSWatcher;
  cp.spawn = function probedSpawn(this: unknown, ...args: unknown[]) {
    if (!probe.armed || args[0] !== 'systemd-run') return origSpawn.apply(this, args);
    probe.spawnCallAt = nowNs();
    const child = origSpawn.apply(this, args);
    probe.spawnReturnAt = nowNs();
    return child;
  };
  fsCjs.watch = function probedWatch(this: unknown, ...args: unknown[]) {
    const w = origWatch.apply(this, args);
    if (probe.armed) {
      probe.watchAt = nowNs();
      // registered before the executor's own listener, so it runs first
      w.on('change', (type: string, name: string | Buffer | null) => {
        if (probe.pidEventAt === null && String(name ?? '').endsWith('.pid')) {
          probe.pidEventAt = nowNs();
          probe.pidEventType = type;
        }
      });
    }
    return w;
  };
  syncBuiltinESMExports();
}
const resetProbe = () =>
  Object.assign(probe, { armed: true, watchAt: null, spawnCallAt: null, spawnReturnAt: null, pidEventAt: null, pidEventType: null });

const { execFileSync, spawn, spawnSync } = await import('node:child_process');
const { existsSync, mkdirSync, readFileSync, rmSync, writeFileSync } = await import('node:fs');
const { hostname } = await import('node:os');
// eslint-disable-next-line @typescript-eslint/unbound-method -- path.join does not use `this`
const { join } = await import('node:path');
const { fileURLToPath } = await import('node:url');
const { gitInfo, loadNow, machineInfo, runSpan } = await import('./machine.js');
const { percentile } = await import('./stats.js');
const { measureIdle, printIdle, readOr, sh, table: tableTo, unitProps, fmtX } = await import('./peers.js');

const root = new URL('..', import.meta.url);
const ROOT = fileURLToPath(root).replace(/\/$/, '');
const dist = (p: string) => new URL(`dist/${p}`, root).href;
const scopeMod = (await import(dist('executors/systemd-scope.js'))) as typeof import('../src/executors/systemd-scope.js');
const unitMod = (await import(dist('executors/systemd-unit.js'))) as typeof import('../src/executors/systemd-unit.js');
const usersMod = (await import(dist('host/users.js'))) as typeof import('../src/host/users.js');
const cgroupsMod = (await import(dist('systemd/cgroups.js'))) as typeof import('../src/systemd/cgroups.js');
const loadMod = (await import(dist('config/load.js'))) as typeof import('../src/config/load.js');
type WorkerSpec = import('../src/executors/types.js').WorkerSpec;

const log = (s = '') => process.stdout.write(s + '\n');
const table = (head: string[], rows: string[][]) => tableTo(log, head, rows);
const quick = process.env.BENCH_QUICK === '1';

if (readFileSync('/proc/1/comm', 'latin1').trim() !== 'systemd' || process.getuid?.() !== 0) {
  process.stderr.write('bench/systemd.ts runs inside the real-systemd harness, as root: npm run bench:systemd\n');
  process.exit(2);
}

const machine = machineInfo();
/** CPU pressure (PSI): how contended this shared machine was; null without PSI. */
const cpuPressure = () => {
  const m = /^some avg10=([\d.]+) avg60=([\d.]+) avg300=([\d.]+)/m.exec(readOr('/proc/pressure/cpu') ?? '');
  return m ? { avg10: Number(m[1]), avg60: Number(m[2]), avg300: Number(m[3]) } : null;
};
const cpuPressureAtStart = cpuPressure();
const git = gitInfo(ROOT);
const startedAt = new Date();
const container = existsSync('/run/systemd/container') ? readFileSync('/run/systemd/container', 'latin1').trim() : null;
const systemdVersion = (spawnSync('systemctl', ['--version'], { encoding: 'utf8' }).stdout ?? '').split('\n')[0] ?? '?';
const cgroupMode = existsSync('/sys/fs/cgroup/cgroup.controllers')
  ? 'v2 (unified)'
  : existsSync('/sys/fs/cgroup/unified')
    ? 'hybrid (v1 controllers)'
    : 'v1';

const ms = (ns: bigint | number) => Number(ns) / 1e6;
const { fmtMs } = await import('./table.js');

interface Dist {
  n: number;
  p50: number;
  p90: number;
  max: number;
  min: number;
  mean: number;
}
/** Milliseconds in, summary in milliseconds (nearest-rank percentiles). */
function dist_(xs: readonly number[]): Dist {
  const s = [...xs].sort((a, b) => a - b);
  return {
    n: s.length,
    p50: percentile(s, 50),
    p90: percentile(s, 90),
    max: s[s.length - 1] ?? NaN,
    min: s[0] ?? NaN,
    mean: s.reduce((a, b) => a + b, 0) / Math.max(1, s.length),
  };
}

// The worker user: the default config's `warden`, created as install.sh tells users to.
const WORKER_USER = 'warden';
if (sh('id', [WORKER_USER]).code !== 0) execFileSync('useradd', ['--system', '--user-group', '--no-create-home', WORKER_USER]);
const user = usersMod.lookupUser(WORKER_USER);
if (!user) throw new Error('could not create the worker user');

// The settings a default install uses (worker.memory_max 2G, cpu_quota 100%, max_runtime 2h,
// stop_grace 10s), read through warden's own config loader.
const defaults = loadMod.parseConfigText('[supervisor]\nstate_dir = "/var/lib/warden"\n', 'bench-defaults');
const memoryMax = defaults.worker.memory_max;
const cpuQuota = defaults.worker.cpu_quota;
const memCtl = cgroupsMod.memoryControllerFrom(cgroupsMod.readCgroupFiles('/'));
const ex = new scopeMod.SystemdExecutor({
  user,
  maxRuntimeMs: defaults.worker.max_runtime,
  stopGraceMs: defaults.worker.stop_grace,
  memoryEnforced: memCtl.enabled,
});

// the shipped worker slice, installed as installService in test/systemd/harness.ts does
mkdirSync('/run/systemd/system', { recursive: true });
writeFileSync('/run/systemd/system/warden-workers.slice', readFileSync(join(ROOT, 'systemd/warden-workers.slice'), 'utf8'));
execFileSync('systemctl', ['daemon-reload']);

log(`warden systemd benchmark, ${startedAt.toISOString()}`);
log(
  `machine: ${machine.hostname}${container ? ` (${container} container on this host's kernel)` : ''}, ${machine.arch}, ${machine.cpuModel}, nproc ${machine.nproc}, kernel ${machine.kernel}, node ${machine.node}`,
);
log(`${systemdVersion}, cgroup ${cgroupMode}, memory controller ${memCtl.enabled ? 'on' : `OFF (${memCtl.why})`}`);
log(
  `code: ${git.commit ?? 'unknown commit'}${git.srcChanges.length ? ` plus ${git.srcChanges.length} uncommitted change(s) under src/ (built into dist/)` : ''}`,
);
log(
  `load average at start: ${machine.loadavgAtStart.join(' ')}; CPU pressure (PSI some) avg10/60/300: ${cpuPressureAtStart ? `${cpuPressureAtStart.avg10}/${cpuPressureAtStart.avg60}/${cpuPressureAtStart.avg300} %` : 'n/a'} (a shared machine: trust the interleaved ratios more than absolute figures)`,
);

// ---------------------------------------------------------------------------------------------
// 1. spawn latency
// ---------------------------------------------------------------------------------------------
const SPAWN_WARMUP = quick ? 2 : 5;
const SPAWN_N = quick ? 8 : 30;
const PROFILE_N = quick ? 5 : 20;
const SPAWN_GOAL = 1.5;
const base = '/var/lib/warden-bench/spawn';
rmSync(base, { recursive: true, force: true });
mkdirSync(join(base, 'prompts'), { recursive: true });
const promptFile = join(base, 'prompts', 'p.prompt');
writeFileSync(promptFile, 'trivial\n');
const runTag = Date.now().toString(36);
let seq = 0;
const WORKER_ARGV = ['/bin/true'];

function makeSpec(worker = WORKER_ARGV): WorkerSpec {
  const taskId = `b${runTag}-${++seq}`;
  const worktree = join(base, 'worktrees', taskId);
  mkdirSync(worktree, { recursive: true }); // the supervisor creates the worktree before spawn()
  return {
    taskId,
    attempt: 1,
    argv: worker,
    cwd: worktree,
    stdinFile: promptFile,
    logFile: join(base, 'logs', taskId, 'attempt-1.log'),
    runBase: join(base, 'run', `${taskId}.1`),
    memoryMax,
    cpuQuota,
    tasksMax: 512,
    env: {
      ...Object.fromEntries(Object.entries(process.env).filter((e): e is [string, string] => e[1] !== undefined)),
      WARDEN_TASK_ID: taskId,
      WARDEN_ATTEMPT: '1',
    },
  };
}

interface WardenSample {
  totalMs: number;
  prepMs: number; // spawn() entry to child_process.spawn call: mkdir, rm, chown, open, fs.watch
  forkMs: number; // child_process.spawn call to return (fork + exec of systemd-run)
  scopeMs: number; // return to the pid file's inotify event: systemd-run, D-Bus, scope, exec sh, echo
  resolveMs: number; // inotify event to the awaited promise resolving
  eventType: string | null;
}
const verified = { attempts: 0, limitOk: 0, rcOk: 0, limitsSeen: new Set<string>(), failures: [] as string[] };

async function wardenOnce(): Promise<WardenSample> {
  const spec = makeSpec();
  resetProbe();
  const t0 = nowNs();
  const h = await ex.spawn(spec);
  const t1 = nowNs();
  probe.armed = false;
  const p = { ...probe };
  // outside the timed section: wait for the attempt to end and check what the wrapper recorded
  // from inside the scope (its cgroup's memory limit) and how it exited
  const exit = await h.exited;
  verified.attempts++;
  const rec = readOr(`${spec.runBase}.exit`) ?? '';
  const limit = /limit=(\S+)/.exec(rec)?.[1] ?? '?';
  verified.limitsSeen.add(limit);
  if (limit === String(memoryMax) || (limit === 'max' && !memCtl.enabled)) verified.limitOk++;
  else verified.failures.push(`${spec.taskId}: exit record "${rec}"`);
  if (exit.exitCode === 0 && exit.spawnError === null) verified.rcOk++;
  else verified.failures.push(`${spec.taskId}: ${JSON.stringify(exit)}`);
  const at = (x: bigint | null, fallback: bigint) => x ?? fallback;
  const call = at(p.spawnCallAt, t0);
  const ret = at(p.spawnReturnAt, call);
  const ev = at(p.pidEventAt, t1);
  return {
    totalMs: ms(t1 - t0),
    prepMs: ms(call - t0),
    forkMs: ms(ret - call),
    scopeMs: ms(ev - ret),
    resolveMs: ms(t1 - ev),
    eventType: p.pidEventType,
  };
}

/** Runs a command to its exit; returns the wall time in ms (throws on a non-zero exit). */
function runToExit(
  cmd: string,
  args: string[],
  opts: { cwd?: string; env?: Record<string, string> } = {},
  forkMs?: number[],
): Promise<number> {
  return new Promise((resolve, reject) => {
    const t0 = nowNs();
    const c = spawn(cmd, args, { stdio: 'ignore', ...opts });
    forkMs?.push(ms(nowNs() - t0));
    c.once('error', reject);
    c.once('exit', (code, signal) => {
      const t = ms(nowNs() - t0);
      if (code === 0) resolve(t);
      else reject(new Error(`${cmd} ${args.join(' ')}: exit ${code ?? signal}`));
    });
  });
}

const FLOOR_ARGS = ['--scope', '--quiet', 'true'];
const floorForkMs: number[] = [];
const floorOnce = (forkMs?: number[]) => runToExit('systemd-run', FLOOR_ARGS, {}, forkMs);

/** Live check, once: a sleeping worker's scope, its cgroup limits and the wrapper inside it. */
async function liveCheck(): Promise<Record<string, unknown>> {
  const spec = makeSpec(['/bin/sleep', '30']);
  const h = await ex.spawn(spec);
  const unit = unitMod.unitName(spec.taskId);
  const props = unitProps(unit, 'ActiveState', 'ControlGroup', 'Slice', 'MemoryMax', 'CPUQuotaPerSecUSec');
  const cg = props.ControlGroup ?? '';
  const v2 = cgroupMode.startsWith('v2');
  const memFile = v2 ? `/sys/fs/cgroup${cg}/memory.max` : `/sys/fs/cgroup/memory${cg}/memory.limit_in_bytes`;
  const cpuFile = v2 ? `/sys/fs/cgroup${cg}/cpu.max` : `/sys/fs/cgroup/cpu${cg}/cpu.cfs_quota_us`;
  const procCgroup = readOr(`/proc/${h.pid}/cgroup`) ?? '';
  const uid = /^Uid:\s+(\d+)/m.exec(readOr(`/proc/${h.pid}/status`) ?? '')?.[1] ?? '?';
  const out = {
    unit,
    pid: h.pid,
    comm: readOr(`/proc/${h.pid}/comm`),
    uid: Number(uid),
    activeState: props.ActiveState,
    slice: props.Slice,
    controlGroup: cg,
    memoryLimitFile: memFile,
    memoryLimit: readOr(memFile),
    cpuQuotaFile: cpuFile,
    cpuQuota: readOr(cpuFile),
    pidInScope: procCgroup.split('\n').some((l) => l.endsWith(cg)),
    pidFileMatches: readOr(`${spec.runBase}.pid`) === String(h.pid),
  };
  await h.stop(1000);
  return out;
}

// warm-up, untimed: the slice gets loaded, D-Bus and the page cache warm up
for (let i = 0; i < SPAWN_WARMUP; i++) {
  await floorOnce();
  await wardenOnce();
}
verified.attempts = verified.limitOk = verified.rcOk = 0;
verified.limitsSeen.clear();
verified.failures.length = 0;
const live = await liveCheck();

const floorMs: number[] = [];
const wardenSamples: WardenSample[] = [];
for (let i = 0; i < SPAWN_N; i++) {
  floorMs.push(await floorOnce(floorForkMs));
  wardenSamples.push(await wardenOnce());
}
const floor = dist_(floorMs);
const warden = dist_(wardenSamples.map((s) => s.totalMs));
const spawnRatio = { p50: warden.p50 / floor.p50, p90: warden.p90 / floor.p90, mean: warden.mean / floor.mean };
const phases = {
  prep: dist_(wardenSamples.map((s) => s.prepMs)),
  fork: dist_(wardenSamples.map((s) => s.forkMs)),
  scope: dist_(wardenSamples.map((s) => s.scopeMs)),
  resolve: dist_(wardenSamples.map((s) => s.resolveMs)),
};
const floorFork = dist_(floorForkMs);
const floorAfterFork = dist_(floorMs.map((t, i) => t - (floorForkMs[i] ?? 0)));
const eventTypes = [...new Set(wardenSamples.map((s) => s.eventType ?? 'none'))];

log('');
log(`1. Spawn latency: ${SPAWN_N} each after ${SPAWN_WARMUP} warm-up, interleaved (floor, warden, floor, warden, ...)`);
log(
  `   warden: SystemdExecutor.spawn(spec) from dist/, worker ${JSON.stringify(WORKER_ARGV)}, worker user "${WORKER_USER}" (uid ${user.uid}), memory_max ${memoryMax} B, cpu_quota ${cpuQuota}%, timed until spawn() resolves`,
);
log(`   floor: systemd-run ${FLOOR_ARGS.join(' ')}, timed from child_process.spawn to exit`);
table(
  ['subject', 'p50', 'p90', 'max', 'min'],
  [
    ['warden spawn()', fmtMs(warden.p50), fmtMs(warden.p90), fmtMs(warden.max), fmtMs(warden.min)],
    ['floor: systemd-run --scope true', fmtMs(floor.p50), fmtMs(floor.p90), fmtMs(floor.max), fmtMs(floor.min)],
    ['ratio warden / floor', fmtX(spawnRatio.p50), fmtX(spawnRatio.p90), '-', '-'],
  ],
);
log(`   goal: within ${SPAWN_GOAL}x of the floor (p50): ${spawnRatio.p50 <= SPAWN_GOAL ? 'met' : 'NOT met'}`);
log(
  `   limits verified: ${verified.limitOk}/${verified.attempts} attempts recorded limit=${[...verified.limitsSeen].join(',')} from inside their scope; ` +
    `${verified.rcOk}/${verified.attempts} exited 0${verified.failures.length ? `; FAILURES: ${verified.failures.slice(0, 3).join('; ')}` : ''}`,
);
log(
  `   live scope: ${live.unit} ${live.activeState} in ${live.slice}; pid ${live.pid} (${live.comm}, uid ${live.uid}) in its cgroup: ${live.pidInScope}; ` +
    `${live.memoryLimitFile} = ${live.memoryLimit}; ${live.cpuQuotaFile} = ${live.cpuQuota}`,
);
log("   where warden's time goes (p50 of each phase, from probes around child_process.spawn and fs.watch):");
table(
  ['phase', 'p50', 'p90', 'max'],
  [
    ['prep: mkdir, rm, chown x2, open x2, fs.watch', fmtMs(phases.prep.p50), fmtMs(phases.prep.p90), fmtMs(phases.prep.max)],
    ['child_process.spawn(systemd-run) call', fmtMs(phases.fork.p50), fmtMs(phases.fork.p90), fmtMs(phases.fork.max)],
    ['systemd-run .. pid file inotify event', fmtMs(phases.scope.p50), fmtMs(phases.scope.p90), fmtMs(phases.scope.max)],
    ['inotify event .. spawn() resolves', fmtMs(phases.resolve.p50), fmtMs(phases.resolve.p90), fmtMs(phases.resolve.max)],
    ['floor: child_process.spawn(systemd-run) call', fmtMs(floorFork.p50), fmtMs(floorFork.p90), fmtMs(floorFork.max)],
    ['floor: spawn() return .. exit', fmtMs(floorAfterFork.p50), fmtMs(floorAfterFork.p90), fmtMs(floorAfterFork.max)],
  ],
);

// Profile series, interleaved like the above: where does the gap to the floor come from? Both run
// systemd-run directly (no warden JS), to exit, with the worker `true`:
//   exact: warden's own unitArgs(spec) (unit name, slice, limits, uid, sh wrapper)
//   nolimits: the same without the -p properties (MemoryMax, MemorySwapMax, CPUQuota, ...)
function exactArgs(spec: WorkerSpec): string[] {
  mkdirSync(join(base, 'run'), { recursive: true });
  return ex.unitArgs(spec);
}
function withoutProps(args: string[]): string[] {
  const out: string[] = [];
  for (let i = 0; i < args.length; i++) {
    if (args[i] === '-p') {
      i++;
      continue;
    }
    out.push(args[i] as string);
  }
  return out;
}
/** Warden's unit name, slice and -p limits (and --uid/--gid if `withUid`), exec'ing `true` directly (no sh wrapper). */
function unitSliceLimitsOnly(args: string[], withUid: boolean): string[] {
  const out: string[] = [];
  for (let i = 0; i < args.length; i++) {
    const a = args[i] as string;
    if (a === '-p') out.push(a, args[++i] as string);
    else if (a === '/bin/sh') break;
    else if (withUid || (!a.startsWith('--uid=') && !a.startsWith('--gid='))) out.push(a);
  }
  return [...out, 'true'];
}
const profileSeries = {
  floor: [] as number[],
  exact: [] as number[],
  nolimits: [] as number[],
  rootNoWrapper: [] as number[],
  uidNoWrapper: [] as number[],
};
for (let i = 0; i < PROFILE_N + 2; i++) {
  const a = makeSpec();
  const b = makeSpec();
  const c = makeSpec();
  const d = makeSpec();
  const opts = { cwd: a.cwd };
  const f = await floorOnce();
  const e = await runToExit('systemd-run', exactArgs(a), opts);
  const n = await runToExit('systemd-run', withoutProps(exactArgs(b)), opts);
  // warden's unit name, slice and limits, but as root and straight to `true` (no uid, no sh)
  const r = await runToExit('systemd-run', unitSliceLimitsOnly(exactArgs(c), false), opts);
  // the same with warden's --uid/--gid
  const u = await runToExit('systemd-run', unitSliceLimitsOnly(exactArgs(d), true), opts);
  if (i < 2) continue; // warm-up
  profileSeries.floor.push(f);
  profileSeries.exact.push(e);
  profileSeries.nolimits.push(n);
  profileSeries.rootNoWrapper.push(r);
  profileSeries.uidNoWrapper.push(u);
}
const prof = {
  floor: dist_(profileSeries.floor),
  exact: dist_(profileSeries.exact),
  nolimits: dist_(profileSeries.nolimits),
  rootNoWrapper: dist_(profileSeries.rootNoWrapper),
  uidNoWrapper: dist_(profileSeries.uidNoWrapper),
};
log('');
log(`   systemd-run alone, to exit, worker true, ${PROFILE_N} each after 2 warm-up, interleaved:`);
table(
  ['systemd-run variant', 'p50', 'p90', 'max', 'ratio p50 to floor'],
  [
    ['floor: --scope --quiet true', fmtMs(prof.floor.p50), fmtMs(prof.floor.p90), fmtMs(prof.floor.max), '1.00x'],
    [
      'warden unit+slice+limits, root, true',
      fmtMs(prof.rootNoWrapper.p50),
      fmtMs(prof.rootNoWrapper.p90),
      fmtMs(prof.rootNoWrapper.max),
      fmtX(prof.rootNoWrapper.p50 / prof.floor.p50),
    ],
    [
      '  the same with --uid/--gid',
      fmtMs(prof.uidNoWrapper.p50),
      fmtMs(prof.uidNoWrapper.p90),
      fmtMs(prof.uidNoWrapper.max),
      fmtX(prof.uidNoWrapper.p50 / prof.floor.p50),
    ],
    [
      'warden args (uid, sh wrapper) without -p limits',
      fmtMs(prof.nolimits.p50),
      fmtMs(prof.nolimits.p90),
      fmtMs(prof.nolimits.max),
      fmtX(prof.nolimits.p50 / prof.floor.p50),
    ],
    [
      "warden's exact scopeArgs(spec), wrapper runs true",
      fmtMs(prof.exact.p50),
      fmtMs(prof.exact.p90),
      fmtMs(prof.exact.max),
      fmtX(prof.exact.p50 / prof.floor.p50),
    ],
  ],
);

// leave no scope behind
for (const line of sh('systemctl', ['list-units', '--type=scope', '--all', '--plain', '--no-legend', 'warden-*.scope']).stdout.split(
  '\n',
)) {
  const u = line.trim().split(/\s+/)[0];
  if (u) sh('systemctl', ['stop', u]);
}

// ---------------------------------------------------------------------------------------------
// 2. idle cost: warden.service with 0 and 3 workers, side by side with bare node, the PM2 daemon
//    and supervisord, over the same windows (bench/peers.ts)
// ---------------------------------------------------------------------------------------------
log('');
log('2. Idle cost of warden.service side by side with bare node, the PM2 daemon and supervisord (bench/peers.ts)');
const idle = await measureIdle({ quick, root: ROOT, log });
printIdle(idle, log);

// ---------------------------------------------------------------------------------------------
// 3. host survival: a worker allocating 2x MemAvailable in its capped scope, a probe outside the
//    slice (bench/survival.ts; SURVIVAL_MEMORY_MAX / SURVIVAL_CPU_QUOTA pick other limits)
// ---------------------------------------------------------------------------------------------
log('');
log('3. Host survival under a memory hog (bench/survival.ts)');
const { measureSurvival, printSurvival } = await import('./survival.js');
const survival = await measureSurvival({ quick, root: ROOT, log });
printSurvival(survival, log);

// ---------------------------------------------------------------------------------------------
// results
// ---------------------------------------------------------------------------------------------
const result = {
  ...runSpan(startedAt),
  quick,
  git,
  machine: {
    ...machine,
    container,
    systemd: systemdVersion,
    cgroupMode,
    memoryController: memCtl,
    loadavgAtEnd: loadNow(),
    cpuPressureAtStart,
    cpuPressureAtEnd: cpuPressure(),
  },
  units: 'milliseconds for latencies, KiB for memory, % of one core, events per second',
  spawn: {
    method:
      'interleaved one for one (floor, warden, ...), after warm-up; warden = SystemdExecutor.spawn(spec) from dist/ until it resolves (the wrapper wrote its pid file inside the scope); floor = child_process.spawn of systemd-run to its exit',
    warmup: SPAWN_WARMUP,
    iterations: SPAWN_N,
    worker: WORKER_ARGV,
    workerUser: { name: WORKER_USER, uid: user.uid, gid: user.gid },
    memoryMax,
    cpuQuota,
    goal: `p50 within ${SPAWN_GOAL}x of the floor`,
    goalMet: spawnRatio.p50 <= SPAWN_GOAL,
    warden,
    floor: { what: `systemd-run ${FLOOR_ARGS.join(' ')}`, ...floor },
    ratio: spawnRatio,
    verification: {
      attempts: verified.attempts,
      limitRecordedInScope: verified.limitOk,
      exitedZero: verified.rcOk,
      limitsSeen: [...verified.limitsSeen],
      failures: verified.failures,
      liveScope: live,
    },
    phases: { ...phases, pidFileEventTypes: eventTypes, floorSpawnCall: floorFork, floorAfterSpawnCall: floorAfterFork },
    samples: { wardenMs: wardenSamples.map((s) => s.totalMs), floorMs },
    profile: {
      method: 'systemd-run run directly (no warden JS) to its exit with worker true, interleaved, after 2 warm-up',
      iterations: PROFILE_N,
      floor: prof.floor,
      wardenUnitSliceLimitsAsRootNoWrapper: prof.rootNoWrapper,
      wardenUnitSliceLimitsWithUidNoWrapper: prof.uidNoWrapper,
      wardenArgsWithoutLimits: prof.nolimits,
      wardenExactScopeArgs: prof.exact,
    },
  },
  idle,
  survival,
};
const resultsDir = new URL('bench/results/', root);
mkdirSync(resultsDir, { recursive: true });
// BENCH_OUT: where `npm run bench` (bench/run.ts) wants this part, to merge it into its own file
const out = process.env.BENCH_OUT
  ? new URL(`file://${process.env.BENCH_OUT}`)
  : new URL(`${result.date}-${hostname()}-systemd${quick ? '-quick' : ''}.json`, resultsDir);
writeFileSync(out, JSON.stringify(result, null, 2) + '\n');
log('');
const psiEnd = result.machine.cpuPressureAtEnd;
log(
  `load average at end: ${result.machine.loadavgAtEnd.join(' ')}; CPU pressure avg10/60/300 at end: ${psiEnd ? `${psiEnd.avg10}/${psiEnd.avg60}/${psiEnd.avg300} %` : 'n/a'}`,
);
log(`results: ${fileURLToPath(out)} (${(result.durationMs / 1000).toFixed(1)} s)`);
