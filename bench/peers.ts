// Idle cost of warden side by side with its peers, in ONE run (issue 7, part 1). Not part of
// `npm test`. It runs INSIDE the throw-away systemd 252 container that scripts/with-systemd.sh
// boots (systemd is PID 1 there, as root), against the compiled dist/ code:
//
//   npm run build && NAME=warden-peers scripts/with-systemd.sh test node --import tsx bench/peers.ts
//   (quick check of the script: ... test sh -c 'BENCH_QUICK=1 node --import tsx bench/peers.ts';
//   BENCH_WATCH_INTERVAL=0s sets warden's admission.watch_interval, e.g. off, to see its cost)
//
// Subjects, all started at the same moment as transient services of the container's systemd (so
// each has its own cgroup and a clean MainPID), and sampled together, once a second, over the
// SAME windows (20 s settle, then 30 s; BENCH_QUICK=1: 3 s / 6 s):
//   node        the floor: `systemd-run --unit=peer-floor node -e "setInterval(()=>{},1000)"`
//   warden      the shipped systemd/warden.service (ExecStart rewritten to this checkout's
//               dist/cli/main.js), executor "systemd", 3 slots, worker.command ["sleep", "3600"];
//               window 1 with 0 workers, then 3 tasks added with `warden task add`, window 2 with
//               3 workers (each in its own warden-<task>.scope)
//   pm2         the PM2 7 God daemon (node_modules/.bin/pm2), private PM2_HOME in a mktemp
//               directory (its `touch` file written first, so the CLI makes no version check),
//               3 apps `sleep 3600`; started the way `pm2 startup systemd` does it: a Type=forking
//               unit (here transient) whose PIDFile is PM2_HOME/pm2.pid
//   supervisord Debian's /usr/bin/supervisord -n -c FILE, its own config, unix socket, pidfile
//               and logfile in the mktemp directory, 3 programs `sleep 3600` (never the system
//               service)
// Per subject and window: RSS, PSS (smaps_rollup), RssAnon, RssFile, CPU % of one core (own:
// utime+stime ticks and, finer, the threads' schedstat run time; +children: cutime+cstime, e.g.
// warden's systemd-notify heartbeats and PM2's `df`), voluntary context switches per second
// (wakeups) of the main thread and of all threads; every subject as a ratio to bare node and to
// PM2 measured in the same window. The workers' own memory is reported separately.
//
// The script starts only the processes it tracks, ends them by PID (then stops their units as a
// backstop), and cleans up on error and on SIGINT/SIGTERM.
import { spawnSync } from 'node:child_process';
import { existsSync, mkdirSync, mkdtempSync, readdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { hostname } from 'node:os';
import { join } from 'node:path';
import { setTimeout as sleep } from 'node:timers/promises';
import { loadNow, runSpan } from './machine.js';
import { isMain, startInContainer, writeResults } from './standalone.js';

// ---------------------------------------------------------------------------------------------
// small helpers, shared with bench/systemd.ts
// ---------------------------------------------------------------------------------------------
export const CLK_TCK = 100; // USER_HZ on Linux
const nowNs = () => process.hrtime.bigint();

export function readOr(path: string): string | null {
  try {
    return readFileSync(path, 'latin1').trim();
  } catch {
    return null;
  }
}
export function sh(cmd: string, args: string[], env?: Record<string, string>): { code: number; stdout: string; stderr: string } {
  const r = spawnSync(cmd, args, { encoding: 'utf8', ...(env ? { env: { ...process.env, ...env } } : {}), timeout: 60_000 });
  return { code: r.status ?? -1, stdout: r.stdout ?? '', stderr: r.stderr ?? (r.error ? String(r.error) : '') };
}
export function unitProps(unit: string, ...props: string[]): Record<string, string> {
  const r = sh('systemctl', ['show', unit, ...props.map((p) => `-p${p}`)]);
  return Object.fromEntries(
    r.stdout
      .split('\n')
      .filter(Boolean)
      .map((l) => [l.slice(0, l.indexOf('=')), l.slice(l.indexOf('=') + 1)]),
  );
}
import { fmtX, table } from './table.js';
export { fmtX, table };
export const fmtKiB = (k: number) => (Number.isFinite(k) ? `${Math.round(k).toLocaleString('en')} KiB` : '-');
/** A synchronous pause, for the cleanup that must also run from a signal handler. */
const sleepSync = (msecs: number) => Atomics.wait(new Int32Array(new SharedArrayBuffer(4)), 0, 0, msecs);

// ---------------------------------------------------------------------------------------------
// /proc sampling
// ---------------------------------------------------------------------------------------------
export interface ProcSnap {
  atNs: bigint;
  rssKiB: number;
  rssAnonKiB: number;
  rssFileKiB: number;
  pssKiB: number;
  pssAnonKiB: number;
  pssFileKiB: number;
  threads: number;
  volMain: number;
  nonvolMain: number;
  volAll: number;
  ticks: number; // utime + stime (all threads, live and exited), 10 ms ticks
  childTicks: number; // cutime + cstime (reaped children)
  runNs: number; // sum of the live threads' schedstat run time: CPU time in ns, finer than ticks
}

const kib = (text: string, key: string) => Number(new RegExp(`^${key}:\\s+(\\d+)`, 'm').exec(text)?.[1] ?? NaN);

export function snap(pid: number): ProcSnap {
  const status = readFileSync(`/proc/${pid}/status`, 'latin1');
  const stat = readFileSync(`/proc/${pid}/stat`, 'latin1');
  const rollup = readOr(`/proc/${pid}/smaps_rollup`) ?? '';
  const f = stat.slice(stat.lastIndexOf(')') + 2).split(' ');
  let volAll = 0;
  let runNs = 0;
  for (const tid of readdirSync(`/proc/${pid}/task`)) {
    const t = readOr(`/proc/${pid}/task/${tid}/status`);
    volAll += Number(/^voluntary_ctxt_switches:\s+(\d+)/m.exec(t ?? '')?.[1] ?? 0);
    runNs += Number((readOr(`/proc/${pid}/task/${tid}/schedstat`) ?? '0').split(' ')[0] ?? 0);
  }
  return {
    atNs: nowNs(),
    rssKiB: kib(status, 'VmRSS'),
    rssAnonKiB: kib(status, 'RssAnon'),
    rssFileKiB: kib(status, 'RssFile'),
    pssKiB: kib(rollup, 'Pss'),
    pssAnonKiB: kib(rollup, 'Pss_Anon'),
    pssFileKiB: kib(rollup, 'Pss_File'),
    threads: kib(status, 'Threads'),
    volMain: kib(status, 'voluntary_ctxt_switches'),
    nonvolMain: kib(status, 'nonvoluntary_ctxt_switches'),
    volAll,
    ticks: Number(f[11]) + Number(f[12]),
    childTicks: Number(f[13]) + Number(f[14]),
    runNs,
  };
}

export interface Agg {
  start: number;
  end: number;
  min: number;
  max: number;
  mean: number;
}
export interface IdleFigures {
  pid: number;
  windowS: number;
  rssKiB: Agg;
  rssAnonKiB: Agg;
  rssFileKiB: Agg;
  pssKiB: Agg;
  pssAnonKiB: Agg;
  pssFileKiB: Agg;
  threads: number;
  cpuPct: number; // utime+stime delta over the window, % of one core (10 ms ticks)
  cpuPctSchedstat: number; // the live threads' schedstat run time delta, % of one core (ns)
  cpuPctWithChildren: number; // utime+stime+cutime+cstime (children reaped in the window)
  wakeupsPerS: number; // voluntary context switches of the main thread per second
  wakeupsAllThreadsPerS: number;
  nonvoluntaryPerS: number;
  /**
   * The largest one-second RSS drop in the window, when over 1 MiB: V8's memory reducer runs a
   * few full GCs some tens of seconds after start, once. `steady` are the rates without that second.
   */
  gc: {
    atS: number;
    rssDropKiB: number;
    ticks: number;
    wakeupsAllThreads: number;
    steady: { cpuPctWithChildren: number; wakeupsPerS: number; wakeupsAllThreadsPerS: number };
  } | null;
  /** once a second: seconds into the window, RSS, RssAnon, PSS, and counters since the window began */
  series: {
    t: number;
    rssKiB: number;
    rssAnonKiB: number;
    pssKiB: number;
    ticks: number;
    childTicks: number;
    runMs: number;
    volMain: number;
    volAll: number;
  }[];
}

/** Samples every subject once a second over the same window. */
export async function measureWindow(pids: Record<string, number>, seconds: number): Promise<Record<string, IdleFigures>> {
  const series: Record<string, ProcSnap[]> = Object.fromEntries(Object.keys(pids).map((k) => [k, []]));
  for (let s = 0; s <= seconds; s++) {
    for (const [k, pid] of Object.entries(pids)) series[k]!.push(snap(pid));
    if (s < seconds) await sleep(1000);
  }
  const out: Record<string, IdleFigures> = {};
  for (const [k, xs] of Object.entries(series)) {
    const a = xs[0]!;
    const b = xs[xs.length - 1]!;
    const wall = Number(b.atNs - a.atNs) / 1e9;
    const agg = (sel: (x: ProcSnap) => number): Agg => {
      const v = xs.map(sel);
      return {
        start: v[0]!,
        end: v[v.length - 1]!,
        min: Math.min(...v),
        max: Math.max(...v),
        mean: v.reduce((p, q) => p + q, 0) / v.length,
      };
    };
    let gc: IdleFigures['gc'] = null;
    for (let i = 1; i < xs.length; i++) {
      const drop = xs[i - 1]!.rssKiB - xs[i]!.rssKiB;
      if (drop > 1024 && (gc === null || drop > gc.rssDropKiB)) {
        const p = xs[i - 1]!;
        const q = xs[i]!;
        const rest = wall - Number(q.atNs - p.atNs) / 1e9;
        gc = {
          atS: Math.round(Number(q.atNs - a.atNs) / 1e6) / 1000,
          rssDropKiB: drop,
          ticks: q.ticks - p.ticks,
          wakeupsAllThreads: q.volAll - p.volAll,
          steady: {
            cpuPctWithChildren:
              ((b.ticks - a.ticks + b.childTicks - a.childTicks - (q.ticks - p.ticks + q.childTicks - p.childTicks)) / CLK_TCK / rest) *
              100,
            wakeupsPerS: (b.volMain - a.volMain - (q.volMain - p.volMain)) / rest,
            wakeupsAllThreadsPerS: (b.volAll - a.volAll - (q.volAll - p.volAll)) / rest,
          },
        };
      }
    }
    out[k] = {
      pid: pids[k]!,
      gc,
      windowS: wall,
      rssKiB: agg((x) => x.rssKiB),
      rssAnonKiB: agg((x) => x.rssAnonKiB),
      rssFileKiB: agg((x) => x.rssFileKiB),
      pssKiB: agg((x) => x.pssKiB),
      pssAnonKiB: agg((x) => x.pssAnonKiB),
      pssFileKiB: agg((x) => x.pssFileKiB),
      threads: b.threads,
      cpuPct: ((b.ticks - a.ticks) / CLK_TCK / wall) * 100,
      cpuPctSchedstat: ((b.runNs - a.runNs) / 1e9 / wall) * 100,
      cpuPctWithChildren: ((b.ticks - a.ticks + b.childTicks - a.childTicks) / CLK_TCK / wall) * 100,
      wakeupsPerS: (b.volMain - a.volMain) / wall,
      wakeupsAllThreadsPerS: (b.volAll - a.volAll) / wall,
      nonvoluntaryPerS: (b.nonvolMain - a.nonvolMain) / wall,
      series: xs.map((x) => ({
        t: Math.round(Number(x.atNs - a.atNs) / 1e6) / 1000,
        rssKiB: x.rssKiB,
        rssAnonKiB: x.rssAnonKiB,
        pssKiB: x.pssKiB,
        ticks: x.ticks - a.ticks,
        childTicks: x.childTicks - a.childTicks,
        runMs: Math.round((x.runNs - a.runNs) / 1e3) / 1e3,
        volMain: x.volMain - a.volMain,
        volAll: x.volAll - a.volAll,
      })),
    };
  }
  return out;
}

/** Every descendant of `pid` (by PPid, from a scan of /proc). */
export function descendants(pid: number): number[] {
  const parent = new Map<number, number[]>();
  for (const d of readdirSync('/proc')) {
    if (!/^\d+$/.test(d)) continue;
    const stat = readOr(`/proc/${d}/stat`);
    if (!stat) continue;
    const ppid = Number(stat.slice(stat.lastIndexOf(')') + 2).split(' ')[1]);
    const list = parent.get(ppid) ?? [];
    list.push(Number(d));
    parent.set(ppid, list);
  }
  const out: number[] = [];
  const walk = (p: number) => {
    for (const c of parent.get(p) ?? []) {
      out.push(c);
      walk(c);
    }
  };
  walk(pid);
  return out;
}

export interface WorkersFigures {
  processes: { pid: number; comm: string; rssKiB: number; pssKiB: number }[];
  sleeps: number; // how many of them are `sleep`
  rssKiB: number;
  pssKiB: number;
}
/** The memory of a subject's workers: its descendants (not the subject's own cost). */
function workersOf(pid: number): WorkersFigures {
  const processes = descendants(pid).map((p) => {
    const status = readOr(`/proc/${p}/status`) ?? '';
    const rollup = readOr(`/proc/${p}/smaps_rollup`) ?? '';
    return { pid: p, comm: readOr(`/proc/${p}/comm`) ?? '?', rssKiB: kib(status, 'VmRSS') || 0, pssKiB: kib(rollup, 'Pss') || 0 };
  });
  return {
    processes,
    sleeps: processes.filter((p) => p.comm === 'sleep').length,
    rssKiB: processes.reduce((s, p) => s + p.rssKiB, 0),
    pssKiB: processes.reduce((s, p) => s + p.pssKiB, 0),
  };
}

// ---------------------------------------------------------------------------------------------
// the measurement
// ---------------------------------------------------------------------------------------------
export const SUBJECTS = ['node', 'warden', 'pm2', 'supervisord'] as const;
export type Subject = (typeof SUBJECTS)[number];
type PerSubject<T> = Record<Subject, T>;

export interface IdleOptions {
  quick: boolean;
  /** the checkout: its dist/, systemd/ and node_modules/.bin/pm2 are used */
  root: string;
  log: (s: string) => void;
}
export interface Ratios {
  rss: number;
  pss: number;
  rssAnon: number;
  cpuSchedstat: number;
  cpuWithChildren: number;
  wakeups: number;
  wakeupsAllThreads: number;
}
export interface Goal {
  goal: string;
  value: string;
  met: boolean;
}
export interface IdleResult {
  method: string;
  quick: boolean;
  settleS: number;
  windowS: number;
  workload: string;
  subjects: PerSubject<{ how: string; pid: number; unit: string; version: string; startMs: number }>;
  loadavg: { atStart: number[]; beforeWindow1: number[]; beforeWindow2: number[]; atEnd: number[] };
  windows: {
    /** window 1: warden with 0 workers; the peers already run their 3 programs */
    zeroWorkers: PerSubject<IdleFigures>;
    /** window 2: warden with 3 workers */
    threeWorkers: PerSubject<IdleFigures>;
  };
  ratios: {
    zeroWorkers: { toNode: PerSubject<Ratios>; toPm2: PerSubject<Ratios> };
    threeWorkers: { toNode: PerSubject<Ratios>; toPm2: PerSubject<Ratios> };
  };
  /** each subject's descendants at the end of window 2: its workers, not its own cost */
  workers: PerSubject<WorkersFigures>;
  warden: {
    unit: Record<string, string>;
    config: string;
    workersPickedUpAfterS: number;
    workerScopes: number;
    workersStillRunningAtEnd: number;
    restarted: boolean;
  };
  goals: Goal[];
  problems: string[];
}

const FLOOR_UNIT = 'peer-floor.service';
const PM2_UNIT = 'peer-pm2.service';
const SUPERVISORD_UNIT = 'peer-supervisord.service';
const WARDEN_UNIT = 'warden.service';
const CONFIG = '/etc/warden/config.toml';
const STATE_DIR = '/var/lib/warden';
const WORKER_USER = 'warden';
const WORKER = ['sleep', '3600'];

function ratios(x: IdleFigures, to: IdleFigures): Ratios {
  return {
    rss: x.rssKiB.mean / to.rssKiB.mean,
    pss: x.pssKiB.mean / to.pssKiB.mean,
    rssAnon: x.rssAnonKiB.mean / to.rssAnonKiB.mean,
    cpuSchedstat: x.cpuPctSchedstat / to.cpuPctSchedstat,
    cpuWithChildren: x.cpuPctWithChildren / to.cpuPctWithChildren,
    wakeups: x.wakeupsPerS / to.wakeupsPerS,
    wakeupsAllThreads: x.wakeupsAllThreadsPerS / to.wakeupsAllThreadsPerS,
  };
}
const perSubject = <T>(f: (s: Subject) => T): PerSubject<T> => Object.fromEntries(SUBJECTS.map((s) => [s, f(s)])) as PerSubject<T>;
const load = loadNow;

/** Why this process may not run the measurement, or null: it installs warden.service and /etc/warden. */
export function whyNotHere(): string | null {
  if (readOr('/proc/1/comm') !== 'systemd') return 'PID 1 is not systemd';
  if (process.getuid?.() !== 0) return 'not root';
  // it writes /etc/warden/config.toml and /run/systemd/system/warden.service: only in a throw-away container
  if (!existsSync('/run/systemd/container'))
    return "not inside a container (it would replace this machine's warden.service and /etc/warden/config.toml)";
  return null;
}

export async function measureIdle(opts: IdleOptions): Promise<IdleResult> {
  const { quick, root, log } = opts;
  const why = whyNotHere();
  if (why) throw new Error(`bench/peers.ts runs inside the real-systemd harness, as root: ${why}`);
  const SETTLE_S = quick ? 3 : 20;
  const WINDOW_S = quick ? 6 : 30;
  const CLI = join(root, 'dist/cli/main.js');
  const PM2 = join(root, 'node_modules/.bin/pm2');
  const SUPERVISORD = '/usr/bin/supervisord';
  for (const p of [CLI, PM2, SUPERVISORD])
    if (!existsSync(p))
      throw new Error(
        `missing ${p}${p === CLI ? ' (npm run build)' : p === PM2 ? ' (npm ci)' : ' (apt-get install --no-install-recommends supervisor)'}`,
      );
  const problems: string[] = [];
  const loadAtStart = load();
  const watchInterval = process.env.BENCH_WATCH_INTERVAL ?? '';

  const tmp = mkdtempSync('/tmp/warden-peers-');
  const PM2_HOME = join(tmp, 'pm2');
  const pm2Env = { PM2_HOME, HOME: tmp };
  const pm2 = (...args: string[]) => sh(PM2, args, pm2Env);
  const tracked = new Map<Subject, number>(); // the PIDs this script started (MainPIDs)
  const startTimes = new Map<Subject, string>(); // their start times (/proc/PID/stat field 22)

  // ---- cleanup: by PID first, then the units as a backstop; synchronous, so a signal can run it
  let cleaned = false;
  const cleanup = () => {
    if (cleaned) return;
    cleaned = true;
    sh('systemctl', ['stop', WARDEN_UNIT]);
    if (existsSync(join(PM2_HOME, 'pm2.pid'))) pm2('kill');
    for (const [, pid] of tracked) {
      try {
        process.kill(pid, 'SIGTERM');
      } catch {
        /* already gone */
      }
    }
    for (let i = 0; i < 50 && [...tracked.entries()].some(([s, p]) => alive(p, startTimes.get(s))); i++) sleepSync(100);
    for (const [s, pid] of tracked) {
      if (!alive(pid, startTimes.get(s))) continue; // never a reused PID
      try {
        process.kill(pid, 'SIGKILL');
      } catch {
        /* gone */
      }
    }
    sh('systemctl', ['stop', FLOOR_UNIT, PM2_UNIT, SUPERVISORD_UNIT]);
    sh('systemctl', ['reset-failed', WARDEN_UNIT, FLOOR_UNIT, PM2_UNIT, SUPERVISORD_UNIT]);
    for (const line of sh('systemctl', ['list-units', '--type=scope', '--all', '--plain', '--no-legend', 'warden-*.scope']).stdout.split(
      '\n',
    )) {
      const u = line.trim().split(/\s+/)[0];
      if (u) sh('systemctl', ['stop', u]);
    }
    rmSync(tmp, { recursive: true, force: true });
  };
  const onSignal = (sig: NodeJS.Signals) => {
    log(`   ${sig}: cleaning up`);
    cleanup();
    process.exit(130);
  };
  process.once('SIGINT', onSignal);
  process.once('SIGTERM', onSignal);

  try {
    // ---- warden: the worker user, the shipped units, the config
    if (sh('id', [WORKER_USER]).code !== 0) {
      const r = sh('useradd', ['--system', '--user-group', '--no-create-home', WORKER_USER]);
      if (r.code !== 0) throw new Error(`useradd ${WORKER_USER}: ${r.stderr}`);
    }
    mkdirSync('/run/systemd/system', { recursive: true });
    writeFileSync('/run/systemd/system/warden-workers.slice', readFileSync(join(root, 'systemd/warden-workers.slice'), 'utf8'));
    const unitText = readFileSync(join(root, 'systemd/warden.service'), 'utf8').replace(
      /^ExecStart=.*$/m,
      `ExecStart=${process.execPath} ${CLI} run --config ${CONFIG}`,
    );
    writeFileSync('/run/systemd/system/warden.service', unitText);
    mkdirSync('/etc/warden', { recursive: true });
    const config = [
      '# idle benchmark (bench/peers.ts): defaults except 3 slots of `sleep 3600`, no spawn spacing,',
      '# and admission thresholds this shared machine does not trip',
      '[supervisor]',
      `state_dir = "${STATE_DIR}"`,
      'max_concurrent_workers = 3',
      'min_spawn_interval = "0s"',
      '',
      '[worker]',
      `command = ${JSON.stringify(WORKER)}`,
      '',
      '[admission]',
      'min_available_memory = "0"',
      'max_load_per_cpu = 1000',
      'max_memory_pressure = 100',
      // BENCH_WATCH_INTERVAL (e.g. "0s" = off): the pressure watch that samples the host between ticks while workers run
      ...(watchInterval ? [`watch_interval = ${JSON.stringify(watchInterval)}`] : []),
      '',
      '[executor]',
      'kind = "systemd"',
      '',
    ].join('\n');
    writeFileSync(CONFIG, config);
    const check = sh(process.execPath, [CLI, 'config', 'check', '--config', CONFIG]);
    if (check.code !== 0) throw new Error(`warden config check: ${check.stdout}${check.stderr}`);
    const d = sh('systemctl', ['daemon-reload']);
    if (d.code !== 0) throw new Error(`daemon-reload: ${d.stderr}`);
    sh('systemctl', ['stop', WARDEN_UNIT, FLOOR_UNIT, PM2_UNIT, SUPERVISORD_UNIT]);
    sh('systemctl', ['reset-failed', WARDEN_UNIT, FLOOR_UNIT, PM2_UNIT, SUPERVISORD_UNIT]);

    // ---- PM2: private home, no version check, 3 apps in a process file
    mkdirSync(PM2_HOME, { recursive: true });
    writeFileSync(join(PM2_HOME, 'touch'), ''); // FACTS.md: without it the CLI's first use phones home
    const pm2Apps = join(tmp, 'pm2-apps.json');
    writeFileSync(
      pm2Apps,
      JSON.stringify(
        {
          apps: ['s1', 's2', 's3'].map((name) => ({ name, script: '/bin/sleep', args: ['3600'], interpreter: 'none', exec_mode: 'fork' })),
        },
        null,
        2,
      ),
    );
    // ---- supervisord: everything in tmp
    const supConf = join(tmp, 'supervisord.conf');
    writeFileSync(
      supConf,
      [
        '[unix_http_server]',
        `file=${tmp}/supervisor.sock`,
        'chmod=0700',
        '',
        '[supervisord]',
        `logfile=${tmp}/supervisord.log`,
        `pidfile=${tmp}/supervisord.pid`,
        `childlogdir=${tmp}`,
        'nodaemon=true',
        'user=root',
        '',
        '[rpcinterface:supervisor]',
        'supervisor.rpcinterface_factory = supervisor.rpcinterface:make_main_rpcinterface',
        '',
        '[supervisorctl]',
        `serverurl=unix://${tmp}/supervisor.sock`,
        '',
        ...['s1', 's2', 's3'].flatMap((n) => [`[program:${n}]`, 'command=/bin/sleep 3600', 'autorestart=true', '']),
      ].join('\n'),
    );

    // ---- start all four, back to back
    const started: Partial<PerSubject<{ pid: number; startMs: number }>> = {};
    const startUnit = (s: Subject, unit: string, args: string[]) => {
      const t0 = nowNs();
      const r = sh('systemd-run', [`--unit=${unit}`, '--quiet', ...args]);
      const startMs = Number(nowNs() - t0) / 1e6;
      if (r.code !== 0) throw new Error(`systemd-run --unit=${unit}: ${r.stderr}${r.stdout}`);
      const pid = Number(unitProps(unit, 'MainPID').MainPID);
      if (!pid) throw new Error(`${unit}: no MainPID`);
      tracked.set(s, pid);
      startTimes.set(s, startTime(pid) ?? '');
      started[s] = { pid, startMs };
    };
    startUnit('node', FLOOR_UNIT, [process.execPath, '-e', 'setInterval(()=>{},1000)']);
    {
      const t0 = nowNs();
      const r = sh('systemctl', ['start', WARDEN_UNIT]); // Type=notify: returns after READY=1
      const startMs = Number(nowNs() - t0) / 1e6;
      if (r.code !== 0)
        throw new Error(
          `systemctl start warden.service: ${r.stderr}\n${sh('journalctl', ['-u', WARDEN_UNIT, '--no-pager', '-n', '30']).stdout}`,
        );
      const pid = Number(unitProps(WARDEN_UNIT, 'MainPID').MainPID);
      if (!pid) throw new Error('warden.service: no MainPID');
      started.warden = { pid, startMs }; // stopped with systemctl stop (its own ExecStop path), not tracked for kill
    }
    // PM2 the way `pm2 startup systemd` runs it: Type=forking, PIDFile=$PM2_HOME/pm2.pid
    startUnit('pm2', PM2_UNIT, [
      '-p',
      'Type=forking',
      '-p',
      `PIDFile=${PM2_HOME}/pm2.pid`,
      '-E',
      `PM2_HOME=${PM2_HOME}`,
      '-E',
      `HOME=${tmp}`,
      `--working-directory=${tmp}`,
      PM2,
      'start',
      pm2Apps,
    ]);
    const pm2PidFile = Number(readOr(join(PM2_HOME, 'pm2.pid')));
    if (pm2PidFile !== started.pm2!.pid) problems.push(`PM2: MainPID ${started.pm2!.pid} but pm2.pid says ${pm2PidFile}`);
    startUnit('supervisord', SUPERVISORD_UNIT, [SUPERVISORD, '-n', '-c', supConf]);

    const pids = perSubject((s) => started[s]!.pid);
    const versions: PerSubject<string> = {
      node: process.version,
      warden: `${sh(process.execPath, [CLI, 'version']).stdout.trim() || '?'} (${gitHead(root) ?? 'unknown commit'})`,
      pm2: (JSON.parse(readFileSync(join(root, 'node_modules/pm2/package.json'), 'utf8')) as { version: string }).version,
      supervisord: sh(SUPERVISORD, ['--version']).stdout.trim(),
    };
    const subjects = perSubject((s) => ({
      how: {
        node: `systemd-run --unit=${FLOOR_UNIT} node -e "setInterval(()=>{},1000)"`,
        warden: `systemctl start warden.service (shipped unit, ExecStart -> ${process.execPath} ${CLI} run --config ${CONFIG})`,
        pm2: `systemd-run --unit=${PM2_UNIT} -p Type=forking -p PIDFile=$PM2_HOME/pm2.pid pm2 start <3 apps /bin/sleep 3600, interpreter none>; PM2_HOME=${PM2_HOME}; measured: the God daemon (pm2.pid)`,
        supervisord: `systemd-run --unit=${SUPERVISORD_UNIT} ${SUPERVISORD} -n -c ${supConf} (3 programs /bin/sleep 3600; socket, pidfile, log in ${tmp})`,
      }[s],
      pid: pids[s],
      unit: { node: FLOOR_UNIT, warden: WARDEN_UNIT, pm2: PM2_UNIT, supervisord: SUPERVISORD_UNIT }[s],
      version: versions[s],
      startMs: started[s]!.startMs,
    }));
    log(
      `   started: ${SUBJECTS.map((s) => `${s} pid ${pids[s]} (${subjects[s].version}, ${subjects[s].startMs.toFixed(0)} ms)`).join('; ')}`,
    );

    // the peers' 3 programs must be running before the first window
    for (let i = 0; i < 50; i++) {
      if (workersOf(pids.pm2).sleeps >= 3 && workersOf(pids.supervisord).sleeps >= 3) break;
      await sleep(200);
    }
    for (const s of ['pm2', 'supervisord'] as const) {
      const w = workersOf(pids[s]);
      if (w.sleeps !== 3) throw new Error(`${s}: ${w.sleeps} sleep programs instead of 3: ${JSON.stringify(w.processes)}`);
    }

    // ---- window 1: warden with 0 workers
    log(
      `   settle ${SETTLE_S} s, then sample all four once a second for ${WINDOW_S} s (window 1: warden with 0 workers; PM2 and supervisord with their 3 programs)`,
    );
    await sleep(SETTLE_S * 1000);
    const loadW1 = load();
    const w1 = (await measureWindow(pids, WINDOW_S)) as PerSubject<IdleFigures>;

    // ---- 3 workers for warden
    const cli = (...args: string[]) => sh(process.execPath, [CLI, '--config', CONFIG, ...args]);
    const status = (): { workers: { taskId: string; pid: number; unit: string | null }[] } | null => {
      const r = cli('status', '--json');
      try {
        return r.code === 0 ? JSON.parse(r.stdout) : null;
      } catch {
        return null;
      }
    };
    const tag = Date.now().toString(36);
    for (const id of ['a', 'b', 'c']) {
      const r = cli('task', 'add', `idle-${tag}-${id}`, '--prompt', 'idle benchmark: the worker is sleep 3600, which ignores its stdin');
      if (r.code !== 0) throw new Error(`warden task add: ${r.stderr}${r.stdout}`);
    }
    const tAdd = nowNs();
    let running = status();
    while (Number(nowNs() - tAdd) / 1e6 < 60_000 && (running?.workers.length ?? 0) < 3) {
      await sleep(250);
      running = status();
    }
    if ((running?.workers.length ?? 0) !== 3)
      throw new Error(
        `3 warden workers did not start within 60 s: ${JSON.stringify(running)}\n${sh('journalctl', ['-u', WARDEN_UNIT, '--no-pager', '-n', '30']).stdout}`,
      );
    const pickupS = Number(nowNs() - tAdd) / 1e9;
    const scopes = () =>
      sh('systemctl', ['list-units', '--type=scope', '--state=active', '--plain', '--no-legend', 'warden-*.scope'])
        .stdout.split('\n')
        .filter((l) => l.trim()).length;
    log(
      `   3 warden workers running ${pickupS.toFixed(1)} s after \`warden task add\` (${scopes()} active warden-*.scope); settle ${SETTLE_S} s, then window 2 (${WINDOW_S} s)`,
    );
    await sleep(SETTLE_S * 1000);
    const loadW2 = load();
    const w2 = (await measureWindow(pids, WINDOW_S)) as PerSubject<IdleFigures>;
    const workers = perSubject((s) => workersOf(pids[s]));
    const workerScopes = scopes();
    const stillRunning = status()?.workers.length ?? 0;
    const unit = unitProps(WARDEN_UNIT, 'MainPID', 'NRestarts', 'ActiveState', 'WatchdogUSec', 'MemoryMax', 'CPUQuotaPerSecUSec');
    const restarted = unit.MainPID !== String(pids.warden) || unit.NRestarts !== '0';
    if (restarted) problems.push(`warden restarted during the run: ${JSON.stringify(unit)}`);
    if (stillRunning !== 3) problems.push(`only ${stillRunning} warden workers still running at the end of window 2`);
    for (const s of ['pm2', 'supervisord'] as const)
      if (workers[s].sleeps !== 3) problems.push(`${s}: ${workers[s].sleeps} sleep programs at the end of window 2`);
    if (Number(readOr(join(PM2_HOME, 'pm2.pid'))) !== pids.pm2) problems.push('PM2 God daemon pid changed during the run');

    const ratiosOf = (w: PerSubject<IdleFigures>) => ({
      toNode: perSubject((s) => ratios(w[s], w.node)),
      toPm2: perSubject((s) => ratios(w[s], w.pm2)),
    });
    const result: IdleResult = {
      method:
        "all four started back to back as units of the container's systemd (transient services; warden.service installed), then sampled together once a second from /proc/<MainPID>/{status,stat,smaps_rollup,task/*/status,task/*/schedstat} over the same windows",
      quick,
      settleS: SETTLE_S,
      windowS: WINDOW_S,
      workload:
        '3 long-running `sleep 3600` programs per supervisor (warden: 3 tasks, worker.command ["sleep", "3600"], each in its warden-<task>.scope)',
      subjects,
      loadavg: { atStart: loadAtStart, beforeWindow1: loadW1, beforeWindow2: loadW2, atEnd: load() },
      windows: { zeroWorkers: w1, threeWorkers: w2 },
      ratios: { zeroWorkers: ratiosOf(w1), threeWorkers: ratiosOf(w2) },
      workers,
      warden: { unit, config, workersPickedUpAfterS: pickupS, workerScopes, workersStillRunningAtEnd: stillRunning, restarted },
      goals: [],
      problems,
    };
    result.goals = goals(result);
    return result;
  } finally {
    process.removeListener('SIGINT', onSignal);
    process.removeListener('SIGTERM', onSignal);
    cleanup();
    const left = [...tracked.entries()].filter(([s, p]) => alive(p, startTimes.get(s))).map(([, p]) => p);
    if (left.length) log(`   *** processes still alive after cleanup: ${left.join(', ')} ***`);
  }
}

/** The start time of a process (clock ticks after boot), to tell it from a later one with the same PID. */
function startTime(pid: number): string | null {
  const stat = readOr(`/proc/${pid}/stat`);
  return stat ? (stat.slice(stat.lastIndexOf(')') + 2).split(' ')[19] ?? null) : null;
}
/** Alive, not a zombie, and still the process that had this start time. */
function alive(pid: number, start: string | undefined): boolean {
  const stat = readOr(`/proc/${pid}/stat`);
  if (!stat) return false;
  const f = stat.slice(stat.lastIndexOf(')') + 2).split(' ');
  return f[0] !== 'Z' && (start === undefined || f[19] === start);
}

function gitHead(root: string): string | null {
  const r = sh('git', ['-c', `safe.directory=${root}`, '-C', root, 'rev-parse', '--short', 'HEAD']);
  if (r.code !== 0) return null;
  const dirty = sh('git', ['-c', `safe.directory=${root}`, '-C', root, 'status', '--porcelain', '--', 'src']).stdout.trim();
  return `${r.stdout.trim()}${dirty ? ' + uncommitted src/ changes' : ''}`;
}

function goals(r: IdleResult): Goal[] {
  const out: Goal[] = [];
  for (const [label, w] of [
    ['0 workers', r.windows.zeroWorkers],
    ['3 workers', r.windows.threeWorkers],
  ] as const) {
    const wd = w.warden;
    const rss = wd.rssKiB.mean / w.node.rssKiB.mean;
    out.push({
      goal: `warden RSS at most 1.2x bare node (${label})`,
      value: `${fmtX(rss)} (${fmtKiB(wd.rssKiB.mean)} vs ${fmtKiB(w.node.rssKiB.mean)})`,
      met: rss <= 1.2,
    });
    out.push({
      goal: `warden RSS below the PM2 daemon's, same window (${label})`,
      value: `${fmtKiB(wd.rssKiB.mean)} vs ${fmtKiB(w.pm2.rssKiB.mean)} (${fmtX(wd.rssKiB.mean / w.pm2.rssKiB.mean)})`,
      met: wd.rssKiB.mean < w.pm2.rssKiB.mean,
    });
    out.push({
      goal: `warden CPU under 0.1 % of a core, own threads (${label})`,
      value: `${wd.cpuPctSchedstat.toFixed(3)} % (schedstat), ${wd.cpuPct.toFixed(2)} % (ticks)`,
      met: wd.cpuPctSchedstat < 0.1,
    });
    out.push({
      goal: `warden CPU under 0.1 % of a core, with its children (heartbeats) (${label})`,
      value: `${wd.cpuPctWithChildren.toFixed(2)} % (ticks)`,
      met: wd.cpuPctWithChildren < 0.1,
    });
    out.push({
      goal: `warden at most 2 wakeups/s (${label})`,
      value: `${wd.wakeupsPerS.toFixed(2)}/s main thread, ${wd.wakeupsAllThreadsPerS.toFixed(2)}/s all threads`,
      met: wd.wakeupsAllThreadsPerS <= 2,
    });
  }
  return out;
}

const LABEL: Record<Subject, [string, string]> = {
  node: ['bare node (floor)', 'bare node (floor)'],
  warden: ['warden, 0 workers', 'warden, 3 workers'],
  pm2: ['PM2 daemon, 3 apps', 'PM2 daemon, 3 apps'],
  supervisord: ['supervisord, 3 programs', 'supervisord, 3 programs'],
};

export function printIdle(r: IdleResult, log: (s: string) => void): void {
  const windows = [
    ['window 1', r.windows.zeroWorkers, r.ratios.zeroWorkers, 0, r.loadavg.beforeWindow1],
    ['window 2', r.windows.threeWorkers, r.ratios.threeWorkers, 1, r.loadavg.beforeWindow2],
  ] as const;
  for (const [name, w, rat, li, la] of windows) {
    log('');
    log(`   ${name} (${w.node.windowS.toFixed(1)} s; load average before it: ${la.join(' ')}): figures`);
    table(
      log,
      [
        'subject',
        'RSS',
        'PSS',
        'RssAnon',
        'RssFile',
        'CPU % own (sched)',
        'own (ticks)',
        '+children (ticks)',
        'wakeups/s main',
        'all thr.',
        'threads',
      ],
      SUBJECTS.map((s) => {
        const x = w[s];
        return [
          LABEL[s][li],
          fmtKiB(x.rssKiB.mean),
          fmtKiB(x.pssKiB.mean),
          fmtKiB(x.rssAnonKiB.mean),
          fmtKiB(x.rssFileKiB.mean),
          x.cpuPctSchedstat.toFixed(3),
          x.cpuPct.toFixed(2),
          x.cpuPctWithChildren.toFixed(2),
          x.wakeupsPerS.toFixed(2),
          x.wakeupsAllThreadsPerS.toFixed(2),
          String(x.threads),
        ];
      }),
    );
    log(`   ${name}: ratios, each subject / bare node and / PM2 daemon`);
    table(
      log,
      ['subject', 'RSS /node', '/PM2', 'PSS /node', '/PM2', 'RssAnon /node', '/PM2', 'CPU own /node', '/PM2', 'wakeups /node', '/PM2'],
      SUBJECTS.map((s) => {
        const a = rat.toNode[s];
        const b = rat.toPm2[s];
        return [
          LABEL[s][li],
          fmtX(a.rss),
          fmtX(b.rss),
          fmtX(a.pss),
          fmtX(b.pss),
          fmtX(a.rssAnon),
          fmtX(b.rssAnon),
          fmtX(a.cpuSchedstat),
          fmtX(b.cpuSchedstat),
          fmtX(a.wakeups),
          fmtX(b.wakeups),
        ];
      }),
    );
    for (const s of SUBJECTS) {
      const g = w[s].gc;
      if (g)
        log(
          `   ${name}, ${LABEL[s][li]}: a one-off GC ${g.atS} s into the window (RSS -${fmtKiB(g.rssDropKiB)}, ${g.ticks} ticks, ${g.wakeupsAllThreads} wakeups on all threads in that second); ` +
            `without that second: CPU +children ${g.steady.cpuPctWithChildren.toFixed(2)} %, wakeups/s main ${g.steady.wakeupsPerS.toFixed(2)}, all threads ${g.steady.wakeupsAllThreadsPerS.toFixed(2)}`,
        );
    }
  }
  log('');
  log(
    `   RSS range over both windows: ${SUBJECTS.map((s) => `${s} ${fmtKiB(Math.min(r.windows.zeroWorkers[s].rssKiB.min, r.windows.threeWorkers[s].rssKiB.min))}-${fmtKiB(Math.max(r.windows.zeroWorkers[s].rssKiB.max, r.windows.threeWorkers[s].rssKiB.max))}`).join('; ')}`,
  );
  log(`   the workers (descendants at the end of window 2; their own cost, not the supervisor's):`);
  for (const s of SUBJECTS) {
    const x = r.workers[s];
    const comms = [...new Set(x.processes.map((p) => p.comm))]
      .map((c) => `${x.processes.filter((p) => p.comm === c).length} ${c}`)
      .join(', ');
    log(`     ${s}: ${x.processes.length} processes (${comms || 'none'}), RSS ${fmtKiB(x.rssKiB)}, PSS ${fmtKiB(x.pssKiB)}`);
  }
  log(
    `   warden picked the 3 tasks up ${r.warden.workersPickedUpAfterS.toFixed(1)} s after \`warden task add\`; ${r.warden.workerScopes} warden-*.scope active at the end; restarted: ${r.warden.restarted}`,
  );
  log(
    `   CPU "own (sched)" is the threads' schedstat run time (ns); "ticks" are 10 ms USER_HZ ticks (${(100 / CLK_TCK / r.windowS).toFixed(3)} % resolution over ${r.windowS} s); "+children" adds reaped children (warden: systemd-notify heartbeats; PM2: df)`,
  );
  log(
    `   PSS splits shared pages between the processes mapping them: node, warden and the PM2 daemon all map /usr/bin/node (and this benchmark runs under node too), so their PSS is lower than a lone node daemon's would be`,
  );
  log('   goals:');
  for (const g of r.goals) log(`     ${g.met ? 'met    ' : 'NOT met'}  ${g.goal}: ${g.value}`);
  for (const p of r.problems) log(`   *** ${p} ***`);
}

// ---------------------------------------------------------------------------------------------
// run alone: node --import tsx bench/peers.ts (inside scripts/with-systemd.sh)
// ---------------------------------------------------------------------------------------------
if (isMain(import.meta.url)) {
  const { o, machine, startedAt } = startInContainer(
    'peers',
    'warden idle cost side by side with PM2, supervisord and bare node',
    whyNotHere(),
  );
  const idle = await measureIdle(o);
  printIdle(idle, o.log);
  const result = {
    ...runSpan(startedAt),
    quick: o.quick,
    machine: { ...machine, systemd: sh('systemctl', ['--version']).stdout.split('\n')[0] ?? '?', loadavgAtEnd: loadNow() },
    units: 'KiB for memory, % of one core, events per second',
    idle,
  };
  const watch = process.env.BENCH_WATCH_INTERVAL ? `-watch-${process.env.BENCH_WATCH_INTERVAL}` : '';
  writeResults(o, `${result.date}-${hostname()}-peers${watch}${o.quick ? '-quick' : ''}.json`, result);
}
