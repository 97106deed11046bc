// Scale of a real warden daemon (issue 7, part 5): `warden status` latency with 10, 1,000 and
// 10,000 tasks in state, and the daemon's RSS at each size. (The tick cost and the state file's
// size and save time at these sizes are bench/run.ts sections 2 and 3; not repeated here.)
//
// For each size the state file is built with bench/fixtures.ts and written with the daemon's own
// saveState, with a manual pause set so that the daemon spawns nothing, and a real daemon (the
// compiled CLI, direct executor, its own temp directory) is started on it. Then, interleaved:
//   - the whole CLI: `node dist/cli/main.js status` and `status --json`, against the floors
//     `node -e ''` and `node dist/cli/main.js version`;
//   - the control-socket request alone (GET /status, and GET /tasks for contrast) from this process.
// `node --import tsx bench/scale.ts` runs it alone (BENCH_QUICK=1 for fewer iterations). It starts
// only the processes it tracks, ends them by PID, and cleans up on error.
import { mkdtempSync, readdirSync, readFileSync, rmSync, statSync, writeFileSync } from 'node:fs';
import { request } from 'node:http';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { pathToFileURL } from 'node:url';
import { makeState, mixForTotal, mixTotal } from './fixtures.js';
import {
  cleanup,
  cliPath,
  fmtMs,
  makeSandbox,
  type BenchSandbox,
  querySocket,
  rssOf,
  startDaemon,
  summarizeMs,
  table,
  timeCommand,
  wardenEnv,
  writeConfig,
} from './daemons.js';
import { loadNow, machineInfo, type MachineInfo } from './machine.js';
import { isMain, standaloneOptions } from './standalone.js';
import { fmtBytes, fmtRatio } from './stats.js';

type Stats = ReturnType<typeof summarizeMs>;

export interface ScaleSize {
  tasks: number;
  stateFileBytes: number;
  /** From spawning `warden run` to its socket answering /status (loads and parses the state). */
  daemonStartMs: number;
  rssAfterStart: number | null;
  rssAfterRequests: number | null;
  hwm: number | null;
  cli: { nodeFloor: Stats; version: Stats; status: Stats; statusJson: Stats };
  socket: { status: Stats; statusBytes: number; tasks: Stats; tasksBytes: number };
}

export interface ScaleResults {
  startedAt: string;
  machine: MachineInfo;
  loadavgStart: number[];
  loadavgEnd: number[];
  quick: boolean;
  cliRuns: number;
  socketRuns: number;
  sizes: ScaleSize[];
  goalStatusMs: number;
  /** Profiles of GET /status at 10 and 10,000 tasks (the line that grows with the task count). */
  profiles: StatusProfile[];
}

const SIZES = [10, 1_000, 10_000] as const;
const STATUS_GOAL_MS = 50;

/** GET on the control socket, timed from the request to the last byte (no JSON parse). */
function timedGet(socket: string, path: string): Promise<{ ms: number; bytes: number; code: number }> {
  return new Promise((resolve, reject) => {
    const t0 = performance.now();
    const req = request({ socketPath: socket, path, method: 'GET', timeout: 30_000 }, (res) => {
      let bytes = 0;
      res.on('data', (d: Buffer) => (bytes += d.length));
      res.on('end', () => resolve({ ms: performance.now() - t0, bytes, code: res.statusCode ?? 0 }));
    });
    req.on('timeout', () => req.destroy(new Error(`no answer on ${socket}`)));
    req.on('error', reject);
    req.end();
  });
}

/** A sandbox whose state file holds `tasks` tasks (bench/fixtures.ts, saved by the daemon's saveState), manually paused. */
async function preparedSandbox(root: string, tasks: number): Promise<{ sb: BenchSandbox; stateFileBytes: number }> {
  const store = (await import(pathToFileURL(join(root, 'dist/state/store.js')).href)) as typeof import('../src/state/store.js');
  const sb = makeSandbox('wd-scale-');
  // `true` as the worker: harmless if anything ever spawned; the manual pause means nothing does
  writeConfig(sb, { worker: { command: ['true'] }, supervisor: { poll_interval: '30s' } });
  const now = Date.now();
  const mix = mixForTotal(tasks);
  const state = makeState(mix, now);
  if (mixTotal(mix) !== tasks) throw new Error(`fixture has ${mixTotal(mix)} tasks, wanted ${tasks}`);
  store.ensureStateDir(sb.stateDir);
  store.saveState(sb.stateDir, { ...state, pause: { ...state.pause, manual: { since: now } }, cleanShutdown: true });
  return { sb, stateFileBytes: statSync(store.statePath(sb.stateDir)).size };
}

async function measureSize(root: string, tasks: number, cliRuns: number, socketRuns: number, log: (s: string) => void): Promise<ScaleSize> {
  const { sb, stateFileBytes } = await preparedSandbox(root, tasks);
  const { daemon, startMs } = await startDaemon(root, sb, 120_000);
  try {
    const st = (await querySocket<{ pause: { reasons: string[] }; workers: unknown[]; totalSpawns: number }>(sb.socket, '/status')).body;
    if (!st.pause.reasons.includes('manual') || st.workers.length !== 0)
      throw new Error(`the daemon is not paused as set up: ${JSON.stringify(st.pause)}`);
    const rssAfterStart = rssOf(daemon.pid)?.rss ?? null;
    const cli = cliPath(root);
    const env = wardenEnv();
    const subjects: [keyof ScaleSize['cli'], string[]][] = [
      ['nodeFloor', [process.execPath, '-e', '']],
      ['version', [process.execPath, cli, 'version']],
      ['status', [process.execPath, cli, 'status', '--config', sb.configPath]],
      ['statusJson', [process.execPath, cli, 'status', '--json', '--config', sb.configPath]],
    ];
    const times: Record<keyof ScaleSize['cli'], number[]> = { nodeFloor: [], version: [], status: [], statusJson: [] };
    for (let i = 0; i < cliRuns + 2; i++) {
      for (const [key, argv] of subjects) {
        const r = await timeCommand(argv, env);
        if (r.code !== 0) throw new Error(`${argv.join(' ')} exited ${r.code}: ${r.stderr}`);
        if (i >= 2) times[key].push(r.ms); // 2 warm-up rounds (page cache)
      }
    }
    const statusMs: number[] = [];
    const tasksMs: number[] = [];
    let statusBytes = 0;
    let tasksBytes = 0;
    const tasksRuns = Math.max(5, Math.round(socketRuns / 10));
    for (let i = 0; i < socketRuns + 10; i++) {
      const r = await timedGet(sb.socket, '/status');
      if (r.code !== 200) throw new Error(`/status answered ${r.code}`);
      statusBytes = r.bytes;
      if (i >= 10) statusMs.push(r.ms);
      if (i % 10 === 0 && tasksMs.length < tasksRuns) {
        const t = await timedGet(sb.socket, '/tasks');
        tasksBytes = t.bytes;
        if (i >= 10) tasksMs.push(t.ms);
      }
    }
    const after = rssOf(daemon.pid);
    const size: ScaleSize = {
      tasks,
      stateFileBytes,
      daemonStartMs: startMs,
      rssAfterStart,
      rssAfterRequests: after?.rss ?? null,
      hwm: after?.hwm ?? null,
      cli: {
        nodeFloor: summarizeMs(times.nodeFloor),
        version: summarizeMs(times.version),
        status: summarizeMs(times.status),
        statusJson: summarizeMs(times.statusJson),
      },
      socket: { status: summarizeMs(statusMs), statusBytes, tasks: summarizeMs(tasksMs), tasksBytes },
    };
    log(
      `   ${tasks} tasks: status p50 ${fmtMs(size.cli.status.p50)} (version ${fmtMs(size.cli.version.p50)}), socket /status p50 ${fmtMs(size.socket.status.p50)}`,
    );
    return size;
  } finally {
    await daemon.stop(30_000);
  }
}

export interface StatusProfile {
  tasks: number;
  requests: number;
  /** CPU time sampled inside the control server's request handler (route), per request. */
  handlerMsPerRequest: number;
  /** Where that time went: leaf functions by self time, per request. */
  top: { frame: string; msPerRequest: number; share: number }[];
}

interface CpuProfile {
  nodes: { id: number; callFrame: { functionName: string; url: string; lineNumber: number }; children?: number[] }[];
  samples: number[];
  timeDeltas: number[];
}

/**
 * Why GET /status costs what it costs at this size: a daemon under `node --cpu-prof` answers
 * `requests` requests; the samples under the control server's `route` are grouped by leaf frame.
 */
async function profileStatus(root: string, tasks: number, requests: number): Promise<StatusProfile> {
  const { sb } = await preparedSandbox(root, tasks);
  const dir = mkdtempSync(join(tmpdir(), 'wd-prof-'));
  try {
    const { daemon } = await startDaemon(root, sb, 120_000, ['--cpu-prof', `--cpu-prof-dir=${dir}`, '--cpu-prof-interval', '250']);
    try {
      for (let i = 0; i < requests; i++) await timedGet(sb.socket, '/status');
    } finally {
      await daemon.stop(30_000); // the profile is written at exit
    }
    const file = readdirSync(dir).find((f) => f.endsWith('.cpuprofile'));
    if (!file) throw new Error('the daemon wrote no CPU profile');
    const prof = JSON.parse(readFileSync(join(dir, file), 'utf8')) as CpuProfile;
    const byId = new Map(prof.nodes.map((n) => [n.id, n]));
    const parent = new Map<number, number>();
    for (const n of prof.nodes) for (const c of n.children ?? []) parent.set(c, n.id);
    const underRoute = new Map<number, boolean>();
    const inRoute = (id: number): boolean => {
      const known = underRoute.get(id);
      if (known !== undefined) return known;
      const n = byId.get(id);
      const p = parent.get(id);
      const v =
        n !== undefined &&
        ((n.callFrame.functionName === 'route' && n.callFrame.url.endsWith('control/server.js')) || (p !== undefined && inRoute(p)));
      underRoute.set(id, v);
      return v;
    };
    const self = new Map<string, number>();
    let total = 0;
    prof.samples.forEach((id, i) => {
      if (!inRoute(id)) return;
      const n = byId.get(id);
      if (!n) return;
      const us = prof.timeDeltas[i] ?? 0;
      const f = n.callFrame;
      const frame = `${f.functionName || '(anonymous)'} ${f.url.replace(/^file:\/\/.*?\/dist\//, 'dist/')}${f.url ? `:${f.lineNumber + 1}` : ''}`;
      self.set(frame, (self.get(frame) ?? 0) + us);
      total += us;
    });
    const top = [...self]
      .sort((a, b) => b[1] - a[1])
      .slice(0, 6)
      .map(([frame, us]) => ({ frame, msPerRequest: us / 1000 / requests, share: total > 0 ? us / total : 0 }));
    return { tasks, requests, handlerMsPerRequest: total / 1000 / requests, top };
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
}

export async function measureScale(opts: { quick: boolean; root: string; log: (s: string) => void }): Promise<ScaleResults> {
  const { quick, root, log } = opts;
  const startedAt = new Date().toISOString();
  const machine = machineInfo();
  const cliRuns = quick ? 6 : 30;
  const socketRuns = quick ? 50 : 300;
  const sizes: ScaleSize[] = [];
  const profiles: StatusProfile[] = [];
  try {
    log('scale: warden status with 10 / 1,000 / 10,000 tasks in state');
    for (const n of SIZES) sizes.push(await measureSize(root, n, cliRuns, socketRuns, log));
    log('scale: profiling GET /status at 10 and 10,000 tasks');
    for (const n of [10, 10_000]) profiles.push(await profileStatus(root, n, quick ? 100 : 300));
  } finally {
    await cleanup();
  }
  return {
    startedAt,
    machine,
    loadavgStart: machine.loadavgAtStart,
    loadavgEnd: loadNow(),
    quick,
    cliRuns,
    socketRuns,
    sizes,
    goalStatusMs: STATUS_GOAL_MS,
    profiles,
  };
}

export function printScale(r: ScaleResults, log: (s: string) => void): void {
  log(`Scale benchmark, ${r.startedAt}${r.quick ? ' (BENCH_QUICK)' : ''}`);
  log(
    `machine: ${r.machine.arch}, ${r.machine.cpuModel}, nproc ${r.machine.nproc}, RAM ${fmtBytes(r.machine.ramBytes)}, kernel ${r.machine.kernel}, node ${r.machine.node}`,
  );
  log(`load average start / end: ${r.loadavgStart.join(' ')} / ${r.loadavgEnd.join(' ')}`);
  log('');
  log(`1. The whole CLI, ${r.cliRuns} runs of each after 2 warm-up rounds, interleaved (spawn to close)`);
  const rows: string[][] = [];
  for (const s of r.sizes) {
    const c = s.cli;
    rows.push([
      `${s.tasks.toLocaleString('en')} tasks`,
      `${fmtMs(c.nodeFloor.p50)} / ${fmtMs(c.nodeFloor.p99)}`,
      `${fmtMs(c.version.p50)} / ${fmtMs(c.version.p99)}`,
      `${fmtMs(c.status.p50)} / ${fmtMs(c.status.p99)}`,
      `${fmtMs(c.statusJson.p50)} / ${fmtMs(c.statusJson.p99)}`,
      fmtRatio(c.status.p50 / c.version.p50),
      fmtRatio(c.status.p50 / c.nodeFloor.p50),
      `${fmtMs(c.status.p50 - c.version.p50)}`,
    ]);
  }
  table(
    log,
    [
      'state',
      "node -e '' p50/p99",
      'version p50/p99',
      'status p50/p99',
      'status --json p50/p99',
      'status/version',
      "status/node -e ''",
      'status - version',
    ],
    rows,
  );
  log('');
  log(`2. The control socket alone, from this process (request to last byte): /status ${r.socketRuns} times, /tasks for contrast`);
  table(
    log,
    ['state', 'GET /status p50', 'p99', 'max', 'bytes', 'GET /tasks p50', 'p99', 'bytes'],
    r.sizes.map((s) => [
      `${s.tasks.toLocaleString('en')} tasks`,
      fmtMs(s.socket.status.p50),
      fmtMs(s.socket.status.p99),
      fmtMs(s.socket.status.max),
      fmtBytes(s.socket.statusBytes),
      fmtMs(s.socket.tasks.p50),
      fmtMs(s.socket.tasks.p99),
      fmtBytes(s.socket.tasksBytes),
    ]),
  );
  log('');
  log('3. The daemon at each size');
  table(
    log,
    ['state', 'state file', 'start to socket', 'RSS after start', 'RSS after requests', 'peak RSS (VmHWM)'],
    r.sizes.map((s) => [
      `${s.tasks.toLocaleString('en')} tasks`,
      fmtBytes(s.stateFileBytes),
      fmtMs(s.daemonStartMs),
      s.rssAfterStart === null ? '-' : fmtBytes(s.rssAfterStart),
      s.rssAfterRequests === null ? '-' : fmtBytes(s.rssAfterRequests),
      s.hwm === null ? '-' : fmtBytes(s.hwm),
    ]),
  );
  log('');
  log("4. Where GET /status spends its CPU (node --cpu-prof on the daemon, samples under the control server's route, per request)");
  for (const p of r.profiles) {
    log(`   ${p.tasks.toLocaleString('en')} tasks, ${p.requests} requests: ${fmtMs(p.handlerMsPerRequest)} CPU per request in the handler`);
    for (const t of p.top) log(`     ${fmtMs(t.msPerRequest).padStart(8)}  ${(t.share * 100).toFixed(1).padStart(5)} %  ${t.frame}`);
  }
  const big = r.sizes.find((s) => s.tasks === 10_000);
  if (big) {
    const met = big.cli.status.p99 < r.goalStatusMs;
    log(
      `   goal: \`warden status\` p99 at 10,000 tasks ${fmtMs(big.cli.status.p99)} ${met ? '<' : '>='} ${r.goalStatusMs} ms: ${met ? 'MET' : 'NOT MET'}; the socket request alone: p99 ${fmtMs(big.socket.status.p99)}`,
    );
  }
}

if (isMain(import.meta.url)) {
  const o = standaloneOptions();
  try {
    const r = await measureScale(o);
    o.log('');
    printScale(r, o.log);
    if (process.env.BENCH_OUT) writeFileSync(process.env.BENCH_OUT, JSON.stringify(r, null, 2) + '\n');
  } catch (err) {
    process.stderr.write(`scale benchmark failed: ${(err as Error).stack ?? String(err)}\n`);
    process.exitCode = 1;
  }
}
