// `node --import tsx bench/fleet.ts` (after `npm run build`): what fleet mode costs one node, measured
// side by side in one run against a single-node warden, with a 1-member etcd on loopback.
//  A. idle: RSS, RssAnon, CPU % of a core (all threads) and voluntary context switches per second of
//     each daemon, 0 tasks, over the same 20 s window after 5 s of settling; and etcd's own RSS.
//  B. spawn turnaround: 20 tasks of 50 ms at max_concurrent_workers 1; the gap from one worker's end
//     to the next one's start (tick, claim transaction, local save, spawn), p50 and p99.
// Takeover after kill -9 against lease_ttl is printed by test/integration/fleet.test.ts.
import { spawn, type ChildProcess } from 'node:child_process';
import { mkdirSync, mkdtempSync, readdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { setTimeout as sleep } from 'node:timers/promises';
import { enqueueTask } from '../src/tasks/local-queue.ts';

const ROOT = new URL('..', import.meta.url).pathname;
const CLI = join(ROOT, 'dist/cli/main.js');
const WORKER = join(ROOT, 'test/fixtures/fleet-worker.sh');
const dir = mkdtempSync(join(tmpdir(), 'warden-bench-fleet-'));
const children: ChildProcess[] = [];
process.on('exit', () => children.forEach((c) => c.kill('SIGKILL')));

const [cport, pport] = [23000 + Math.floor(Math.random() * 1000), 24000 + Math.floor(Math.random() * 1000)];
const endpoint = `http://127.0.0.1:${cport}`;

function etcd(): ChildProcess {
  const c = spawn('etcd', [
    '--name', 'b1', '--data-dir', join(dir, 'etcd'), '--listen-client-urls', endpoint, '--advertise-client-urls', endpoint,
    '--listen-peer-urls', `http://127.0.0.1:${pport}`, '--initial-advertise-peer-urls', `http://127.0.0.1:${pport}`,
    '--initial-cluster', `b1=http://127.0.0.1:${pport}`, '--log-level', 'error',
  ], { stdio: 'ignore' }); // prettier-ignore
  children.push(c);
  return c;
}

function config(name: string, fleet: boolean, extra: string): string {
  const state = join(dir, name);
  mkdirSync(state, { recursive: true });
  const file = join(dir, `${name}.toml`);
  writeFileSync(
    file,
    `[supervisor]\nstate_dir = "${state}"\nmin_spawn_interval = "0s"\n${extra}\n` +
      `[worker]\ncommand = ${JSON.stringify([WORKER, join(dir, `${name}.log`), join(dir, 'locks'), name, '{task_id}', '0.05'])}\nstartup_window = "0s"\n` +
      `[executor]\nkind = "direct"\n[admission]\nmin_available_memory = "0"\nmax_load_per_cpu = 100\nmax_memory_pressure = 100\nmax_temperature = 150\n` +
      (fleet ? `[fleet]\nendpoints = ["${endpoint}"]\nnode = "${name}"\nprefix = "/${name}/"\nlease_ttl = "30s"\n` : ''),
  );
  return file;
}

function daemon(configFile: string): ChildProcess {
  const c = spawn(process.execPath, [CLI, 'run', '--config', configFile], { stdio: 'ignore' });
  children.push(c);
  return c;
}

interface Sample {
  rss: number;
  anon: number;
  ticks: number;
  vol: number;
}
function sample(pid: number): Sample {
  const status = readFileSync(`/proc/${pid}/status`, 'utf8');
  const kib = (k: string) => Number(new RegExp(`^${k}:\\s+(\\d+)`, 'm').exec(status)?.[1] ?? 0);
  const stat = readFileSync(`/proc/${pid}/stat`, 'utf8');
  const f = stat.slice(stat.lastIndexOf(')') + 2).split(' ');
  let vol = 0;
  for (const tid of readdirSync(`/proc/${pid}/task`))
    vol += Number(/^voluntary_ctxt_switches:\s+(\d+)/m.exec(readFileSync(`/proc/${pid}/task/${tid}/status`, 'utf8'))?.[1] ?? 0);
  return { rss: kib('VmRSS'), anon: kib('RssAnon'), ticks: Number(f[11]) + Number(f[12]), vol };
}
function gaps(log: string, node: string): number[] {
  const lines = readFileSync(log, 'utf8')
    .trim()
    .split('\n')
    .map((l) => l.split(' '));
  const out: number[] = [];
  let lastEnd: number | null = null;
  for (const [kind, , n, at] of lines) {
    if (n !== node) continue;
    if (kind === 'start' && lastEnd !== null) out.push((Number(at) - lastEnd) * 1000);
    if (kind === 'end') lastEnd = Number(at);
  }
  return out.sort((a, b) => a - b);
}
const pct = (xs: number[], p: number) => xs[Math.min(xs.length - 1, Math.floor((p / 100) * xs.length))] ?? NaN;

async function main(): Promise<void> {
  mkdirSync(join(dir, 'locks'));
  const e = etcd();
  await sleep(2000);
  // A. idle
  const single = daemon(config('single', false, ''));
  const fleet = daemon(config('fleet', true, ''));
  await sleep(5000);
  const windowMs = 20_000;
  const a0 = [sample(single.pid!), sample(fleet.pid!), sample(e.pid!)];
  await sleep(windowMs);
  const a1 = [sample(single.pid!), sample(fleet.pid!), sample(e.pid!)];
  const tick = 100; // USER_HZ
  const idle = ['single', 'fleet', 'etcd'].map((name, i) => ({
    name,
    rssKiB: a1[i]!.rss,
    rssAnonKiB: a1[i]!.anon,
    cpuPct: (((a1[i]!.ticks - a0[i]!.ticks) / tick) * 100 * 1000) / windowMs,
    wakeupsPerS: ((a1[i]!.vol - a0[i]!.vol) * 1000) / windowMs,
  }));
  single.kill('SIGTERM');
  fleet.kill('SIGTERM');
  await sleep(3000);
  // B. spawn turnaround
  const turn: Record<string, { p50: number; p99: number; n: number }> = {};
  for (const [name, isFleet] of [
    ['tsingle', false],
    ['tfleet', true],
  ] as const) {
    const cfg = config(name, isFleet, 'max_concurrent_workers = 1\npoll_interval = "30s"');
    for (let i = 0; i < 20; i++) enqueueTask(join(dir, name), { id: `b${i}`, prompt: 'x', priority: 2, addedAt: Date.now() });
    const d = daemon(cfg);
    const log = join(dir, `${name}.log`);
    for (let waited = 0; waited < 120_000; waited += 200) {
      await sleep(200);
      try {
        if ((readFileSync(log, 'utf8').match(/^end /gm) ?? []).length >= 20) break;
      } catch {
        /* no log yet */
      }
    }
    d.kill('SIGTERM');
    const g = gaps(log, name);
    turn[isFleet ? 'fleet' : 'single'] = { p50: pct(g, 50), p99: pct(g, 99), n: g.length };
  }
  e.kill('SIGKILL');
  const result = { date: new Date().toISOString(), idle, turnaroundMs: turn };
  console.log(JSON.stringify(result, null, 2));
  mkdirSync(join(ROOT, 'bench/results'), { recursive: true });
  writeFileSync(join(ROOT, 'bench/results/2026-11-29-fleet.json'), JSON.stringify(result, null, 2) + '\n');
  rmSync(dir, { recursive: true, force: true });
}

await main();
