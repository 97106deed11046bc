// Host survival under a memory hog (issue 7, part 4). Not part of `npm test`. It runs INSIDE the
// throw-away systemd container that scripts/with-systemd.sh boots (systemd is PID 1 there, as
// root), against the compiled dist/ code (what ships):
//
//   npm run build && NAME=warden-survival scripts/with-systemd.sh test node --import tsx bench/survival.ts
//   (quick check of the script: ... test sh -c 'BENCH_QUICK=1 node --import tsx bench/survival.ts')
//
// What runs:
//   probe   test/systemd/fixtures/probe.mjs as a transient service in system.slice (where sshd
//           and the rest of a Pi's system live; checked NOT to be in warden.slice). It wakes every
//           100 ms on a fixed schedule and records its scheduling lateness (actual minus intended
//           wake time) and the time to allocate and touch a 1 MiB buffer.
//   warden  the shipped systemd/warden.service (ExecStart rewritten to this checkout's
//           dist/cli/main.js, as test/systemd/harness.ts installs it), executor "systemd", one
//           slot, worker.memory_max = 1G (SURVIVAL_MEMORY_MAX), worker.command = the hog.
//   hog     test/systemd/fixtures/hog.mjs: allocates and touches 2x the machine's MemAvailable in
//           16 MiB chunks; refuses to run unless its own cgroup is capped at no more than half of
//           MemTotal (and cannot swap). warden retries it at once (backoff 0 for oom_killed, a
//           breaker that does not trip, 20 tasks x 20 attempts), so the pressure lasts the window.
// Windows (30 s each, back to back; BENCH_QUICK=1: 8 s): baseline with warden idle; then with the
// hog cycling (the window starts when the first hog scope is up); then, after `warden pause` and
// the last hog's end, idle again (a second baseline that brackets the hog window on a machine
// whose neighbours come and go). Per window: p50/p99/max of the probe's lateness, of its 1 MiB
// allocation, and of both together (its "response"); the ratios hog/before and hog/after;
// OOM kills counted twice (the kernel's, from the per-attempt exit records, and warden's
// oom_killed classifications); warden's MainPID and NRestarts; MemAvailable, PSI and load.
//
// It starts only the processes it tracks (the probe, warden.service), ends them by PID (warden
// stops its own worker scopes on SIGTERM; the harness's stopService is the backstop), and cleans
// up on error and on SIGINT/SIGTERM.
import { existsSync, readdirSync, readFileSync, statSync } from 'node:fs';
import { hostname, loadavg } from 'node:os';
import { join } from 'node:path';
import { spawnSync } from 'node:child_process';
import { setTimeout as sleep } from 'node:timers/promises';
import { gitInfo, loadNow, runSpan } from './machine.js';
import { isMain, startInContainer, writeResults } from './standalone.js';
import { percentile } from './stats.js';
import {
  addTask,
  cli,
  ensureWorkerUser,
  freshDir,
  installService,
  status,
  stopService,
  tasks,
  unitProps,
  writeConfig,
} from '../test/systemd/harness.ts';
import { fmtMs, fmtX, table } from './table.js';
import {
  HOG,
  probeAlive,
  readProbe,
  startProbe,
  stopProbe,
  type ProbeHandle,
  type ProbeSample,
} from '../test/systemd/fixtures/survival.ts';

export interface SurvivalOptions {
  quick: boolean;
  root: string;
  log: (s: string) => void;
  /** worker.memory_max, as in the config (default "1G", or SURVIVAL_MEMORY_MAX). */
  memoryMax?: string;
  /** worker.cpu_quota (default "100%", or SURVIVAL_CPU_QUOTA). */
  cpuQuota?: string;
  /** Window length in seconds (default 30, quick 8). */
  windowS?: number;
}

export interface Dist {
  n: number;
  p50: number;
  p99: number;
  max: number;
  mean: number;
}

export interface HostSnap {
  at: number;
  memAvailableMiB: number;
  psiMemSomeAvg10: number | null;
  psiCpuSomeAvg10: number | null;
  load1: number;
}

export type WindowName = 'baseline' | 'hog' | 'after';

export interface WindowResult {
  name: WindowName;
  from: number;
  to: number;
  seconds: number;
  samples: number;
  /** Wake-ups the probe should have had in the window (one per interval). */
  expected: number;
  /** Lateness, clamped at 0 (see earlyWakeups). */
  lateMs: Dist;
  /** Wake-ups that came early (by less than node's 1 ms timer resolution): counted as 0 late. */
  earlyWakeups: number;
  allocMs: Dist;
  responseMs: Dist;
  longestGapMs: number;
  host: {
    memAvailableMiB: { min: number; max: number };
    psiMemSomeAvg10Max: number | null;
    psiCpuSomeAvg10Max: number | null;
    load1: { start: number; end: number };
  };
}

export interface SurvivalResult {
  startedAt: string;
  quick: boolean;
  config: {
    memoryMax: string;
    memoryMaxBytes: number;
    cpuQuota: string;
    windowS: number;
    probeIntervalMs: number;
    probeAllocBytes: number;
  };
  cgroupMode: string;
  swap: { totalKiB: number };
  memTotalMiB: number;
  memAvailableAtStartMiB: number;
  hogTargetMiB: number;
  probe: { unit: string; controlGroup: string; pid: number; aliveAtEnd: boolean };
  windows: Record<WindowName, WindowResult>;
  /** hog / baseline and hog / after, per measure and statistic. */
  ratio: Record<'vsBaseline' | 'vsAfter', Record<'late' | 'alloc' | 'response', { p50: number; p99: number; max: number }>>;
  oom: {
    /** Attempts whose exit record (written inside the scope) shows the cgroup's OOM counter > 0 and SIGKILL, ended in the hog window. */
    kernelKillsInWindow: number;
    /** Attempts warden classified oom_killed, ended in the hog window. */
    classifiedInWindow: number;
    /** Attempts in the window with any other outcome (should be 0). */
    otherOutcomesInWindow: Record<string, number>;
    /** All attempts of the run (window and after). */
    attemptsTotal: number;
    limitSeen: number[];
    peakMiB: { min: number; max: number };
    hogLifetimeMs: Dist;
    /**
     * Where in the hog's cycle the probe's wake-ups fall: within 200 ms of a kernel OOM kill (the
     * exit record's mtime, written right after the kill), else within 1 s after warden started an
     * attempt (node starting, systemd-run, the scope), else elsewhere (the hog faulting its memory in).
     */
    lateByPhase: Record<'nearKill' | 'nearSpawn' | 'allocating', Dist>;
  };
  warden: {
    mainPidBefore: number;
    mainPidAfter: number;
    nRestarts: number;
    activeAfter: string;
    answeredDuringHog: number;
    statusCalls: number;
    statusCallsOther: Record<'baseline' | 'after', { n: number; answered: number }>;
  };
  goals: { goal: string; met: boolean; value: string }[];
  problems: string[];
}

const PROBE_INTERVAL_MS = 100;
const PROBE_ALLOC = 1024 * 1024;
const TASKS = 20;
const ATTEMPTS = 20; // = the state's per-task history limit, so every attempt stays countable

function sh(cmd: string, args: string[]): { code: number; stdout: string; stderr: string } {
  const r = spawnSync(cmd, args, { encoding: 'utf8', timeout: 60_000 });
  return { code: r.status ?? -1, stdout: r.stdout ?? '', stderr: r.stderr ?? (r.error ? String(r.error) : '') };
}
function readOr(path: string): string | null {
  try {
    return readFileSync(path, 'latin1').trim();
  } catch {
    return null;
  }
}
const kb = (text: string, key: string) => Number(new RegExp(`^${key}:\\s+(\\d+) kB`, 'm').exec(text)?.[1] ?? NaN);
const psi = (file: string) => {
  const m = /^some avg10=([\d.]+)/m.exec(readOr(file) ?? '');
  return m ? Number(m[1]) : null;
};
function hostSnap(): HostSnap {
  return {
    at: Date.now(),
    memAvailableMiB: kb(readOr('/proc/meminfo') ?? '', 'MemAvailable') / 1024,
    psiMemSomeAvg10: psi('/proc/pressure/memory'),
    psiCpuSomeAvg10: psi('/proc/pressure/cpu'),
    load1: Math.round((loadavg()[0] ?? NaN) * 100) / 100,
  };
}
function dist(xs: readonly number[]): Dist {
  const s = [...xs].sort((a, b) => a - b);
  return {
    n: s.length,
    p50: percentile(s, 50),
    p99: percentile(s, 99),
    max: s[s.length - 1] ?? NaN,
    mean: s.reduce((a, b) => a + b, 0) / Math.max(1, s.length),
  };
}
function longestGap(samples: readonly ProbeSample[], from: number, to: number): number {
  const points = [from, ...samples.filter((s) => s.wall >= from && s.wall <= to).map((s) => s.wall), to];
  let gap = 0;
  for (let i = 1; i < points.length; i++) gap = Math.max(gap, points[i]! - points[i - 1]!);
  return gap;
}
function parseSize(text: string): number {
  const m = /^(\d+(?:\.\d+)?)([KMGT]?)$/i.exec(text);
  if (!m) throw new Error(`bad size ${text}`);
  return Math.floor(
    Number(m[1]) * ({ '': 1, K: 1024, M: 1024 ** 2, G: 1024 ** 3, T: 1024 ** 4 } as Record<string, number>)[m[2]!.toUpperCase()]!,
  );
}

function ratios(h: WindowResult, b: WindowResult): Record<'late' | 'alloc' | 'response', { p50: number; p99: number; max: number }> {
  // a ratio to a figure under 0.1 ms (below the timers' resolution) says nothing: NaN, printed "-"
  const q = (a: number, b: number) => (b >= 0.1 ? a / b : NaN);
  const r = (x: Dist, y: Dist) => ({ p50: q(x.p50, y.p50), p99: q(x.p99, y.p99), max: q(x.max, y.max) });
  return { late: r(h.lateMs, b.lateMs), alloc: r(h.allocMs, b.allocMs), response: r(h.responseMs, b.responseMs) };
}

export function whyNotHere(): string | null {
  if (readOr('/proc/1/comm') !== 'systemd') return 'PID 1 is not systemd';
  if (process.getuid?.() !== 0) return 'not root';
  // it installs /run/systemd/system/warden.service: only in a throw-away container
  if (!existsSync('/run/systemd/container')) return "not inside a container (it would replace this machine's warden.service)";
  return null;
}

export async function measureSurvival(opts: SurvivalOptions): Promise<SurvivalResult> {
  const { quick, log } = opts;
  const why = whyNotHere();
  if (why) throw new Error(`bench/survival.ts runs as root inside the real-systemd container (${why})`);
  const windowS = opts.windowS ?? (quick ? 8 : 30);
  const memoryMax = opts.memoryMax ?? process.env.SURVIVAL_MEMORY_MAX ?? '1G';
  const memoryMaxBytes = parseSize(memoryMax);
  const cpuQuota = opts.cpuQuota ?? process.env.SURVIVAL_CPU_QUOTA ?? '100%';
  const meminfo = readOr('/proc/meminfo') ?? '';
  const memTotal = kb(meminfo, 'MemTotal') * 1024;
  if (memoryMaxBytes > memTotal / 2)
    throw new Error(`memory_max ${memoryMax} is more than half of MemTotal: the hog would refuse, and rightly`);
  const cgroupMode = existsSync('/sys/fs/cgroup/cgroup.controllers')
    ? 'v2 (unified)'
    : existsSync('/sys/fs/cgroup/unified')
      ? 'hybrid (v1 controllers)'
      : 'v1';
  const problems: string[] = [];

  ensureWorkerUser();
  const dir = freshDir('survival-bench');
  const config = writeConfig(dir, {
    supervisor: { max_concurrent_workers: 1, min_spawn_interval: '0s', poll_interval: '1s' },
    worker: {
      command: [process.execPath, HOG],
      memory_max: memoryMax,
      cpu_quota: cpuQuota,
      max_attempts: ATTEMPTS,
      startup_window: '1s',
      stop_grace: '2s',
    },
    // retry an OOM-killed hog at once, and never pause for it: the pressure must last the window
    'backoff.oom_killed': { base: '0s', factor: 1, max: '0s' },
    breaker: { failures: 1000, window: '1s', cooldown: '0s' },
  });

  let probe: ProbeHandle | null = null;
  let wardenPid = 0;
  const cleanup = async () => {
    if (probe) await stopProbe(probe);
    // warden by its PID: SIGTERM makes it stop its workers and exit 0 (no restart)
    if (wardenPid > 0 && Number(unitProps('warden.service', 'MainPID').MainPID) === wardenPid) {
      try {
        process.kill(wardenPid, 'SIGTERM');
      } catch {
        /* gone */
      }
      for (let i = 0; i < 150 && unitProps('warden.service', 'ActiveState').ActiveState === 'active'; i++) await sleep(100);
    }
    stopService(); // backstop: warden.service and any warden-*.scope
  };
  const onSignal = (sig: NodeJS.Signals) => {
    log(`${sig}: cleaning up`);
    void cleanup().finally(() => process.exit(130));
  };
  process.once('SIGINT', onSignal);
  process.once('SIGTERM', onSignal);

  try {
    const memAvailableAtStart = kb(meminfo, 'MemAvailable') * 1024;
    log(
      `survival: cgroup ${cgroupMode}; MemTotal ${(memTotal / 1024 ** 3).toFixed(1)} GiB, MemAvailable ${(memAvailableAtStart / 1024 ** 3).toFixed(1)} GiB, swap ${kb(meminfo, 'SwapTotal')} kB; worker.memory_max ${memoryMax}, cpu_quota ${cpuQuota}; windows ${windowS} s`,
    );

    probe = await startProbe(`${dir}/probe.log`, `${process.pid}-${Date.now().toString(36)}`, PROBE_INTERVAL_MS);
    log(`probe: pid ${probe.pid}, ${probe.unit}, cgroup ${probe.controlGroup}`);

    installService(config);
    if (sh('systemctl', ['start', 'warden.service']).code !== 0)
      throw new Error(`warden.service did not start: ${sh('journalctl', ['-u', 'warden.service', '-n', '30', '--no-pager']).stdout}`);
    wardenPid = Number(unitProps('warden.service', 'MainPID').MainPID);
    for (let i = 0; i < 300 && status(config)?.daemon.pid !== wardenPid; i++) await sleep(100);
    if (status(config)?.daemon.pid !== wardenPid) throw new Error('warden does not answer');
    log(`warden: MainPID ${wardenPid}; settling 3 s`);
    await sleep(3000);

    // one window: the probe runs on its own; here we only sample the host once a second
    const windowOf = async (name: WindowName, during?: () => void): Promise<{ from: number; to: number; host: HostSnap[] }> => {
      const host: HostSnap[] = [hostSnap()];
      const from = Date.now();
      const end = from + windowS * 1000;
      while (Date.now() < end) {
        await sleep(Math.min(1000, end - Date.now()));
        host.push(hostSnap());
        during?.();
      }
      const to = Date.now();
      log(`  ${name} window: ${((to - from) / 1000).toFixed(1)} s, load ${host[0]!.load1} -> ${host[host.length - 1]!.load1}`);
      return { from, to, host };
    };

    // warden must keep answering: one `warden status --json` a second, in BOTH windows (the CLI
    // is a node process too, so the baseline carries the same extra load)
    const calls = { baseline: { n: 0, answered: 0 }, hog: { n: 0, answered: 0 }, after: { n: 0, answered: 0 } };
    let pidChanged = false;
    const statusCall = (w: WindowName) => () => {
      calls[w].n++;
      const s = status(config);
      if (s) calls[w].answered++;
      if (s && s.daemon.pid !== wardenPid) pidChanged = true;
    };

    log('baseline: warden idle, no worker');
    const base = await windowOf('baseline', statusCall('baseline'));

    log(`hog: ${TASKS} tasks x ${ATTEMPTS} attempts, each attempt allocating 2x MemAvailable under memory_max ${memoryMax}`);
    for (let i = 1; i <= TASKS; i++) addTask(config, `hog${String(i).padStart(2, '0')}`, "allocate twice the machine's free memory");
    // the window starts when the first hog scope runs
    const t0 = Date.now();
    while (
      Date.now() - t0 < 60_000 &&
      !sh('systemctl', ['list-units', '--type=scope', '--plain', '--no-legend', 'warden-hog*.scope']).stdout.includes('warden-hog')
    )
      await sleep(50);
    if (t0 + 60_000 <= Date.now()) problems.push('no hog scope appeared within 60 s');
    const hog = await windowOf('hog', statusCall('hog'));
    const answered = calls.hog.answered;
    const statusCalls = calls.hog.n;

    const tv = tasks(config);

    // then pause warden (no new spawn), let the running hog meet its end, and measure the idle
    // machine again: a second baseline that brackets the hog window
    log('after: warden paused, the last hog drained');
    if (cli(config, 'pause').code !== 0) problems.push('warden pause failed');
    const d0 = Date.now();
    while (Date.now() - d0 < 120_000 && (status(config)?.workers.length ?? 1) > 0) await sleep(250);
    if ((status(config)?.workers.length ?? 1) > 0) problems.push('the last hog did not end within 120 s of the pause');
    await sleep(2000);
    const afterW = await windowOf('after', statusCall('after'));
    if (pidChanged) problems.push('warden answered with another PID during a window');

    const after = unitProps('warden.service', 'ActiveState', 'MainPID', 'NRestarts');
    const probeInfo = { unit: probe.unit, controlGroup: probe.controlGroup, pid: probe.pid, aliveAtEnd: probeAlive(probe) };
    if (!probeInfo.aliveAtEnd) problems.push('the probe process died');
    // stop spawning before reading the last figures: warden stops the hog it runs
    await cleanup();
    probe = null;

    // the probe's samples
    const samples = readProbe(`${dir}/probe.log`);
    const windowResult = (name: WindowName, w: { from: number; to: number; host: HostSnap[] }): WindowResult => {
      const inside = samples.filter((s) => s.wall >= w.from && s.wall <= w.to);
      const mems = w.host.map((h) => h.memAvailableMiB);
      const psiMem = w.host.map((h) => h.psiMemSomeAvg10).filter((x): x is number => x !== null);
      const psiCpu = w.host.map((h) => h.psiCpuSomeAvg10).filter((x): x is number => x !== null);
      return {
        name,
        from: w.from,
        to: w.to,
        seconds: (w.to - w.from) / 1000,
        samples: inside.length,
        expected: Math.floor((w.to - w.from) / PROBE_INTERVAL_MS),
        // node's timers have 1 ms resolution: a wake-up up to 1 ms early is on time (0)
        lateMs: dist(inside.map((s) => Math.max(0, s.lateMs))),
        allocMs: dist(inside.map((s) => s.allocMs)),
        responseMs: dist(inside.map((s) => Math.max(0, s.lateMs) + s.allocMs)),
        earlyWakeups: inside.filter((s) => s.lateMs < 0).length,
        longestGapMs: longestGap(samples, w.from, w.to),
        host: {
          memAvailableMiB: { min: Math.min(...mems), max: Math.max(...mems) },
          psiMemSomeAvg10Max: psiMem.length ? Math.max(...psiMem) : null,
          psiCpuSomeAvg10Max: psiCpu.length ? Math.max(...psiCpu) : null,
          load1: { start: w.host[0]!.load1, end: w.host[w.host.length - 1]!.load1 },
        },
      };
    };
    const wb = windowResult('baseline', base);
    const wh = windowResult('hog', hog);
    const wa = windowResult('after', afterW);

    // OOM kills: the kernel's (exit records written inside each scope) and warden's classification
    const runDir = `${dir}/state/run`;
    let kernelKills = 0;
    const killTimes: number[] = [];
    const limits = new Set<number>();
    const peaks: number[] = [];
    for (const f of existsSync(runDir) ? readdirSync(runDir) : []) {
      if (!f.endsWith('.exit')) continue;
      const rec = /^(\d+) oom_kill=(\S+) peak=(\S+) limit=(\S+)$/.exec(readOr(join(runDir, f)) ?? '');
      if (!rec) continue;
      if (/^\d+$/.test(rec[4]!)) limits.add(Number(rec[4]));
      if (/^\d+$/.test(rec[3]!)) peaks.push(Number(rec[3]) / 1024 ** 2);
      const mtime = statSync(join(runDir, f)).mtimeMs;
      if (rec[1] === '137' && Number(rec[2]) > 0 && mtime >= hog.from && mtime <= hog.to) {
        kernelKills++;
        killTimes.push(mtime);
      }
    }
    const attempts = tv.flatMap((t) => t.history as unknown as { outcome: string; endedAt: number; durationMs: number }[]);
    const inWindow = attempts.filter((a) => a.endedAt >= hog.from && a.endedAt <= hog.to);
    const classified = inWindow.filter((a) => a.outcome === 'oom_killed').length;
    const other: Record<string, number> = {};
    for (const a of inWindow) if (a.outcome !== 'oom_killed') other[a.outcome] = (other[a.outcome] ?? 0) + 1;
    if (Object.keys(other).length) problems.push(`attempts in the hog window not classified oom_killed: ${JSON.stringify(other)}`);
    if (kernelKills !== classified)
      problems.push(`kernel OOM kills (${kernelKills}) and warden's oom_killed (${classified}) differ in the hog window`);
    if (classified === 0) problems.push('no OOM kill in the hog window');
    if (![...limits].every((l) => l === memoryMaxBytes)) problems.push(`a scope had another memory limit: ${[...limits].join(', ')}`);
    const spawnTimes = attempts
      .map((a) => (a as unknown as { startedAt: number }).startedAt)
      .filter((t) => t >= hog.from - 1000 && t <= hog.to);
    const phase = { nearKill: [] as number[], nearSpawn: [] as number[], allocating: [] as number[] };
    for (const smp of samples.filter((x) => x.wall >= hog.from && x.wall <= hog.to)) {
      const late = Math.max(0, smp.lateMs);
      if (killTimes.some((k) => Math.abs(smp.wall - k) <= 200)) phase.nearKill.push(late);
      else if (spawnTimes.some((t) => smp.wall >= t && smp.wall <= t + 1000)) phase.nearSpawn.push(late);
      else phase.allocating.push(late);
    }
    const exhausted = tv.filter((t) => t.state === 'dead').length;
    if (exhausted === TASKS) problems.push('every hog task ran out of attempts before the window ended: the pressure did not last');

    const nRestarts = Number(after.NRestarts);
    const mainPidAfter = Number(after.MainPID);
    const r: SurvivalResult = {
      startedAt: new Date(base.from).toISOString(),
      quick,
      config: { memoryMax, memoryMaxBytes, cpuQuota, windowS, probeIntervalMs: PROBE_INTERVAL_MS, probeAllocBytes: PROBE_ALLOC },
      cgroupMode,
      swap: { totalKiB: kb(meminfo, 'SwapTotal') },
      memTotalMiB: memTotal / 1024 ** 2,
      memAvailableAtStartMiB: memAvailableAtStart / 1024 ** 2,
      hogTargetMiB: (2 * memAvailableAtStart) / 1024 ** 2,
      probe: probeInfo,
      windows: { baseline: wb, hog: wh, after: wa },
      ratio: { vsBaseline: ratios(wh, wb), vsAfter: ratios(wh, wa) },
      oom: {
        kernelKillsInWindow: kernelKills,
        classifiedInWindow: classified,
        otherOutcomesInWindow: other,
        attemptsTotal: attempts.length,
        limitSeen: [...limits],
        peakMiB: { min: Math.min(...peaks), max: Math.max(...peaks) },
        hogLifetimeMs: dist(inWindow.map((a) => a.durationMs)),
        lateByPhase: { nearKill: dist(phase.nearKill), nearSpawn: dist(phase.nearSpawn), allocating: dist(phase.allocating) },
      },
      warden: {
        mainPidBefore: wardenPid,
        mainPidAfter,
        nRestarts,
        activeAfter: after.ActiveState ?? '?',
        answeredDuringHog: answered,
        statusCalls,
        statusCallsOther: { baseline: calls.baseline, after: calls.after },
      },
      goals: [],
      problems,
    };
    r.goals = [
      {
        goal: 'the hog is OOM-killed inside its scope (kernel OOM kills in the window, every one classified oom_killed)',
        met: kernelKills > 0 && kernelKills === classified && Object.keys(other).length === 0,
        value: `${kernelKills} kernel, ${classified} classified`,
      },
      {
        goal: 'warden stays up (same MainPID, NRestarts=0, active, answered every status call)',
        met: mainPidAfter === wardenPid && nRestarts === 0 && after.ActiveState === 'active' && answered === statusCalls && !pidChanged,
        value: `MainPID ${wardenPid} -> ${mainPidAfter}, NRestarts ${nRestarts}, ${after.ActiveState}, answered ${answered}/${statusCalls}`,
      },
      {
        goal: "the probe outside warden's slice ran throughout",
        met: probeInfo.aliveAtEnd && wh.longestGapMs < 10 * PROBE_INTERVAL_MS,
        value: `alive ${probeInfo.aliveAtEnd}, ${wh.samples}/${wh.expected} wake-ups, longest gap ${wh.longestGapMs} ms`,
      },
      {
        goal: 'probe p99 lateness under 50 ms with the hog',
        met: wh.lateMs.p99 < 50,
        value: `${fmtMs(wh.lateMs.p99)} (idle before ${fmtMs(wb.lateMs.p99)}, after ${fmtMs(wa.lateMs.p99)})`,
      },
      {
        goal: 'probe p99 response (lateness + 1 MiB allocation) under 50 ms with the hog',
        met: wh.responseMs.p99 < 50,
        value: `${fmtMs(wh.responseMs.p99)} (idle before ${fmtMs(wb.responseMs.p99)}, after ${fmtMs(wa.responseMs.p99)})`,
      },
    ];
    return r;
  } catch (err) {
    await cleanup();
    throw err;
  } finally {
    process.removeListener('SIGINT', onSignal);
    process.removeListener('SIGTERM', onSignal);
  }
}

export { fmtMs };

export function printSurvival(r: SurvivalResult, log: (s: string) => void): void {
  const names: [WindowName, string][] = [
    ['baseline', 'idle (warden, no worker)'],
    ['hog', 'hog cycling'],
    ['after', 'idle again (warden paused)'],
  ];
  log('');
  log(
    `Host survival: a probe in system.slice, every ${r.config.probeIntervalMs} ms, while warden's worker tries to allocate 2x MemAvailable (${(r.hogTargetMiB / 1024).toFixed(1)} GiB) under memory_max ${r.config.memoryMax}, cpu_quota ${r.config.cpuQuota}`,
  );
  log(`(${r.config.windowS} s per window, back to back; cgroup ${r.cgroupMode}; swap ${r.swap.totalKiB} kB)`);
  table(
    log,
    [
      'window',
      'late p50',
      'late p99',
      'late max',
      'alloc p50',
      'alloc p99',
      'alloc max',
      'resp p99',
      'resp max',
      'wake-ups',
      'gap max',
      'load1',
      'PSI cpu',
    ],
    names.map(([k, label]) => {
      const w = r.windows[k];
      return [
        label,
        fmtMs(w.lateMs.p50),
        fmtMs(w.lateMs.p99),
        fmtMs(w.lateMs.max),
        fmtMs(w.allocMs.p50),
        fmtMs(w.allocMs.p99),
        fmtMs(w.allocMs.max),
        fmtMs(w.responseMs.p99),
        fmtMs(w.responseMs.max),
        `${w.samples}/${w.expected}`,
        `${w.longestGapMs} ms`,
        `${w.host.load1.start}-${w.host.load1.end}`,
        `${w.host.psiCpuSomeAvg10Max ?? '-'} %`,
      ];
    }),
  );
  const rr = (x: { p50: number; p99: number; max: number }) => `${fmtX(x.p50)} / ${fmtX(x.p99)} / ${fmtX(x.max)}`;
  log(
    `  hog / idle before (p50 / p99 / max): lateness ${rr(r.ratio.vsBaseline.late)}; alloc ${rr(r.ratio.vsBaseline.alloc)}; response ${rr(r.ratio.vsBaseline.response)}`,
  );
  log(
    `  hog / idle after  (p50 / p99 / max): lateness ${rr(r.ratio.vsAfter.late)}; alloc ${rr(r.ratio.vsAfter.alloc)}; response ${rr(r.ratio.vsAfter.response)}`,
  );
  const m = (k: WindowName) =>
    `${r.windows[k].host.memAvailableMiB.min.toFixed(0)}-${r.windows[k].host.memAvailableMiB.max.toFixed(0)} MiB`;
  log(
    `  host: MemAvailable ${names.map(([k]) => `${k} ${m(k)}`).join(', ')}; PSI memory some avg10 max ${names.map(([k]) => `${k} ${r.windows[k].host.psiMemSomeAvg10Max ?? 'n/a'} %`).join(', ')}`,
  );
  log(
    `  OOM kills in the hog window: ${r.oom.kernelKillsInWindow} by the kernel (scope OOM counter, SIGKILL), ${r.oom.classifiedInWindow} classified oom_killed by warden; hog lifetime p50 ${fmtMs(r.oom.hogLifetimeMs.p50)}, max ${fmtMs(r.oom.hogLifetimeMs.max)}; scope limit ${r.oom.limitSeen.map((l) => `${l / 1024 ** 2} MiB`).join(', ')}, peak ${r.oom.peakMiB.min.toFixed(0)}-${r.oom.peakMiB.max.toFixed(0)} MiB`,
  );
  const ph = (d: Dist) => `${d.n} wake-ups, p50 ${fmtMs(d.p50)}, p99 ${fmtMs(d.p99)}, max ${fmtMs(d.max)}`;
  log(
    `  probe lateness by hog phase: within 200 ms of an OOM kill ${ph(r.oom.lateByPhase.nearKill)}; 1 s after a spawn ${ph(r.oom.lateByPhase.nearSpawn)}; the rest (allocating) ${ph(r.oom.lateByPhase.allocating)}`,
  );
  log(
    `  warden: MainPID ${r.warden.mainPidBefore} -> ${r.warden.mainPidAfter}, NRestarts ${r.warden.nRestarts}, ${r.warden.activeAfter}; answered ${r.warden.answeredDuringHog}/${r.warden.statusCalls} status calls during the hog window`,
  );
  log('  goals:');
  for (const g of r.goals) log(`    ${g.met ? 'met    ' : 'NOT met'}  ${g.goal}: ${g.value}`);
  for (const p of r.problems) log(`  *** ${p} ***`);
}

// ---------------------------------------------------------------------------------------------
// run alone: node --import tsx bench/survival.ts (inside scripts/with-systemd.sh)
// ---------------------------------------------------------------------------------------------
if (isMain(import.meta.url)) {
  const { o, machine, startedAt } = startInContainer('survival', 'warden host survival under a memory hog', whyNotHere());
  const survival = await measureSurvival(o);
  printSurvival(survival, o.log);
  const result = {
    ...runSpan(startedAt),
    quick: o.quick,
    code: gitInfo(o.root),
    machine: { ...machine, systemd: sh('systemctl', ['--version']).stdout.split('\n')[0] ?? '?', loadavgAtEnd: loadNow() },
    units: 'ms; MiB',
    survival,
  };
  writeResults(
    o,
    `${result.date}-${hostname()}-survival-${survival.config.memoryMax}-cpu${survival.config.cpuQuota.replace('%', '')}${o.quick ? '-quick' : ''}.json`,
    result,
  );
}
