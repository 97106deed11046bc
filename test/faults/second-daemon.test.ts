// Issue 16, item 1: a second daemon on the same state directory. Real daemons (`warden run`, the
// direct executor, the fake worker). Only one may run per state_dir, whatever its control socket,
// whether or not the socket file is there, however many start at the same instant; a kill -9
// leaves no stale lock; and no task is ever spawned twice.
import assert from 'node:assert/strict';
import { spawn, type ChildProcess } from 'node:child_process';
import { rmSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { after, test } from 'node:test';
import { setTimeout as sleep } from 'node:timers/promises';
import { cliEnv } from '../helpers/cli.ts';
import { mergeSections, writeConfigFile } from '../helpers/config-file.ts';
import { CLI } from '../helpers/paths.ts';
import { waitFor } from '../helpers/wait.ts';
import {
  addTask,
  baseConfig,
  cleanupAll,
  countLines,
  makeSandbox,
  pidAlive,
  query,
  startDaemon,
  status,
  type Sandbox,
} from '../integration/harness.ts';
import type { Status } from '../helpers/cli.ts';

const EX_LOCKED = 75;

interface Run {
  proc: ChildProcess;
  pid: number;
  out(): string;
  exited: Promise<{ code: number | null; at: number }>;
  gone(): boolean;
}

const runs = new Set<Run>();

/** The exit of a daemon expected to be refused, or code null if it still runs after `ms` (then it fails the test, not hang it). */
async function refusal(r: Run, ms = 15_000): Promise<{ code: number | null }> {
  let timer: NodeJS.Timeout | undefined;
  const res = await Promise.race([
    r.exited,
    new Promise<{ code: null }>((resolve) => (timer = setTimeout(() => resolve({ code: null }), ms))),
  ]);
  clearTimeout(timer);
  return res;
}

/** `warden run --config FILE` without waiting for anything: for the daemons expected to be refused. */
function run(configPath: string): Run {
  const proc = spawn(process.execPath, [CLI, 'run', '--config', configPath], { env: cliEnv(), stdio: ['ignore', 'pipe', 'pipe'] });
  let out = '';
  let gone = false;
  proc.stdout?.on('data', (d: Buffer) => (out += d.toString()));
  proc.stderr?.on('data', (d: Buffer) => (out += d.toString()));
  const exited = new Promise<{ code: number | null; at: number }>((resolve) =>
    proc.once('exit', (code) => {
      gone = true;
      resolve({ code, at: Date.now() });
    }),
  );
  const r: Run = { proc, pid: proc.pid as number, out: () => out, exited, gone: () => gone };
  runs.add(r);
  return r;
}

/** A second config file on the same state_dir with its own control socket. */
function otherConfig(sb: Sandbox, name: string): { configPath: string; socket: string } {
  const configPath = join(sb.dir, `${name}.toml`);
  const socket = join(sb.dir, `${name}.sock`);
  writeConfigFile(configPath, mergeSections(baseConfig(sb.stateDir), { control: { socket } }));
  return { configPath, socket };
}

function assertRefusedBy(r: { code: number | null }, out: string, holderPid: number, stateDir: string): void {
  assert.equal(r.code, EX_LOCKED, `exit ${EX_LOCKED}\n${out}`);
  const lines = out.split('\n').filter((l) => l !== '');
  assert.equal(lines.length, 1, `exactly one line:\n${out}`);
  assert.equal(lines[0], `warden: another warden daemon (pid ${holderPid}) holds ${stateDir}; not starting a second one`);
}

after(async () => {
  for (const r of runs) if (!r.gone()) r.proc.kill('SIGKILL');
  await cleanupAll();
});

test('two daemons on one state_dir with different control sockets: the second is refused in one line naming the first', async () => {
  const sb = makeSandbox();
  const first = await startDaemon(sb);
  const b = otherConfig(sb, 'b');
  const second = run(b.configPath);
  const r = await refusal(second);
  assertRefusedBy(r, second.out(), first.pid, sb.stateDir);
  assert.equal((await status(sb)).daemon.pid, first.pid, 'the first daemon still runs');
  await assert.rejects(query<Status>(b.socket, '/status', 500), 'nothing answers on the second socket');
  console.log(`different control sockets: refused with exit ${r.code}`);
});

test('the control socket file deleted: a second daemon is still refused', async () => {
  const sb = makeSandbox();
  const first = await startDaemon(sb);
  rmSync(sb.socket);
  const second = run(sb.configPath);
  const r = await refusal(second);
  assertRefusedBy(r, second.out(), first.pid, sb.stateDir);
  assert.ok(pidAlive(first.pid), 'the first daemon still runs');
  console.log(`socket file deleted: refused with exit ${r.code}`);
});

test('10 simultaneous starts on one state_dir: exactly one survives, no stack trace, no task spawned twice', async () => {
  const sb = makeSandbox({ supervisor: { max_concurrent_workers: 4 } });
  const TASKS = 4;
  for (let i = 0; i < TASKS; i++) await addTask(sb, `t${i}`, `sleep=2 exit=0 count=${sb.countFile}`);
  // half on the config's own socket (the old raw EADDRINUSE race), half on sockets of their own
  const configs = Array.from({ length: 10 }, (_, i) => (i % 2 === 0 ? sb.configPath : otherConfig(sb, `c${i}`).configPath));
  const all = configs.map((c) => run(c));
  // up to 20 s for 9 of them to be refused; counted, not awaited with a throw, so the figures print either way
  const deadline = Date.now() + 20_000;
  while (all.filter((r) => r.gone()).length < 9 && Date.now() < deadline) await sleep(50);
  await sleep(1000); // a second survivor would have had time to go on or to die
  const survivors = all.filter((r) => !r.gone());
  const refused = all.filter((r) => r.gone());
  const holder = survivors[0];
  const codes = await Promise.all(refused.map((r) => r.exited.then((e) => e.code)));
  const stackTraces = all.filter((r) => /^\s+at /m.test(r.out())).length;

  // the survivor may be one with a socket of its own: ask it on its socket
  const socketOf = (r: Run) => (all.indexOf(r) % 2 === 0 ? sb.socket : join(sb.dir, `c${all.indexOf(r)}.sock`));
  const succeeded = async (r: Run) => (await query<Status>(socketOf(r), '/status').catch(() => null))?.tasks.succeeded ?? 0;
  await waitFor(
    'every task to finish',
    async () => ((await Promise.all(survivors.map(succeeded))).some((n) => n >= TASKS) ? true : null),
    30_000,
  ).catch(() => null);
  const starts = countLines(sb.countFile);
  const duplicates = starts.length - new Set(starts.map((l) => l.task)).size;
  console.log(
    `10 simultaneous starts: survivors ${survivors.length}, refused ${refused.length} (exit codes ${[...new Set(codes)].join(',')}), stack traces ${stackTraces}; ${TASKS} tasks: spawns ${starts.length}, duplicate spawns ${duplicates}`,
  );
  assert.equal(survivors.length, 1, 'exactly one daemon survives');
  assert.equal(stackTraces, 0, 'no stack traces');
  for (const r of refused) assertRefusedBy({ code: (await r.exited).code }, r.out(), holder!.pid, sb.stateDir);
  assert.equal(duplicates, 0, 'no task spawned twice');
  assert.equal(starts.length, TASKS);
  assert.equal((await query<Status>(socketOf(holder!), '/status')).daemon.pid, holder!.pid);
});

test('kill -9 the holder: a new daemon starts at once (no stale lock), adopts the workers and spawns nothing twice', async () => {
  const sb = makeSandbox({ supervisor: { max_concurrent_workers: 3 } });
  const TASKS = 3;
  const first = await startDaemon(sb);
  const release = join(sb.dir, 'release'); // the workers run until the new daemon has adopted them
  for (let i = 0; i < TASKS; i++) await addTask(sb, `k${i}`, `sleep=0 until=${release} exit=0 count=${sb.countFile}`);
  await waitFor('3 workers', async () => ((await status(sb)).workers.length === TASKS ? true : null), 15_000);
  const other = otherConfig(sb, 'x');
  const refusedWhileHeld = run(other.configPath);
  assertRefusedBy(await refusal(refusedWhileHeld), refusedWhileHeld.out(), first.pid, sb.stateDir);

  await first.kill9();
  const t0 = Date.now();
  const second = await startDaemon(sb); // fails if it is refused: the lock went with the process
  const ms = Date.now() - t0;
  // the workers outlived the daemon (they do not hold the lock: sockets are close-on-exec)
  const third = run(other.configPath);
  assertRefusedBy(await refusal(third), third.out(), second.pid, sb.stateDir);
  assert.equal((await status(sb)).workers.length, TASKS, 'the new daemon holds the 3 workers');
  writeFileSync(release, '');
  await waitFor(
    'every task to finish',
    async () => {
      const s = await status(sb);
      return (s.tasks.succeeded ?? 0) === TASKS ? s : null;
    },
    30_000,
  );
  const starts = countLines(sb.countFile);
  const duplicates = starts.length - new Set(starts.map((l) => l.task)).size;
  console.log(
    `kill -9 of the holder: new daemon ready in ${ms} ms; ${TASKS} tasks: spawns ${starts.length}, duplicate spawns ${duplicates}`,
  );
  assert.equal(duplicates, 0, 'no task spawned twice');
  assert.equal(starts.length, TASKS);
});
