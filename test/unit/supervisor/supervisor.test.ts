// The Supervisor class on test doubles, without any OS process: a FakeExecutor whose workers the
// test ends by hand (test/helpers/fake-executor.ts), a fake clock (test/helpers/clock.ts), a quiet
// logger and notifier, a healthy host sample. What is real: the config parser, the queue directory
// (`warden task add`'s enqueueTask), the state file, the attempt logs and the control socket (in a
// temp dir).
//
// Time: the fake clock replaces setTimeout/setInterval and Date.now for the whole test, and the
// same clock is the injected `now`. The supervisor today reads both (the stall check and LogTail
// use Date.now(), its timers are real setTimeouts), so only faking both keeps them consistent;
// once every read goes through `now`, the tests need no change. Virtual time makes the run
// deterministic (no race between a stall timer and a test's exit()) and fast: stall_after is 10m
// and max_runtime 1h, as in production, yet the file runs in about a second. See clock.ts for why
// this is not node:test's mock.timers.
//
// Every test ends by checking that no task attempt was spawned twice and that no task ever had
// two live workers (assertNoDuplicateSpawns).
import assert from 'node:assert/strict';
import { appendFileSync, mkdirSync, mkdtempSync, rmSync } from 'node:fs';
import { Server } from 'node:net';
import { tmpdir } from 'node:os';
import { dirname, join } from 'node:path';
import { test, type TestContext } from 'node:test';
import type { HostSample } from '../../../src/admission/evaluate.ts';
import { parseConfigText, sha256 } from '../../../src/config/load.ts';
import { attemptLogPath } from '../../../src/log/attempt-logs.ts';
import type { Logger } from '../../../src/log/logger.ts';
import { ensureStateDir, loadState, saveState } from '../../../src/state/store.ts';
import { DEFAULT_PRIORITY, emptyState, type Task, type WardenState } from '../../../src/state/types.ts';
import { Supervisor } from '../../../src/supervisor/supervisor.ts';
import type { Notifier } from '../../../src/systemd/notify.ts';
import { enqueueTask } from '../../../src/tasks/local-queue.ts';
import { FakeClock } from '../../helpers/clock.ts';
import { FakeExecutor, type AdoptAnswer } from '../../helpers/fake-executor.ts';

const SECOND = 1000;
const MINUTE = 60 * SECOND;
const HOUR = 60 * MINUTE;
const MiB = 1024 * 1024;

// The base config, as TOML text (keys as an owner writes them). Tests override single keys.
// The numbers the tests reason about are repeated here as constants rather than read back from
// the parsed config. random() is 0.5, so a backoff is half its ceiling.
const MEMORY_MAX = 512 * MiB; // worker.memory_max = "512M"
const CPU_QUOTA = 50; // worker.cpu_quota = "50%"
const STOP_GRACE = 5 * SECOND; // worker.stop_grace = "5s"
const STARTUP_WINDOW = 10 * SECOND; // worker.startup_window = "10s"
const STARTUP_ERROR_RETRY = 150 * SECOND; // [backoff.startup_error] default base 5m, x 0.5
const UNKNOWN_RETRY = 30 * SECOND; // the default backoff base 1m, x 0.5
const BREAKER_COOLDOWN = 15 * MINUTE; // breaker.cooldown = "15m"

type Tables = Record<string, Record<string, string | number | boolean>>;

function baseTables(dir: string): Tables {
  return {
    supervisor: {
      state_dir: join(dir, 'state'),
      max_concurrent_workers: 1,
      min_spawn_interval: '0s',
      poll_interval: '30s',
    },
    worker: {
      memory_max: '512M',
      cpu_quota: '50%',
      max_runtime: '2h',
      stall_after: '1d',
      startup_window: '10s',
      stop_grace: '5s',
      max_attempts: 5,
    },
    breaker: { failures: 3, window: '10m', cooldown: '15m' },
    // no pressure watch between ticks; the inode check needs statfs numbers tmpfs may not give
    admission: { watch_interval: '0s', min_free_inodes: 0 },
    control: { socket: join(dir, 'control.sock') },
  };
}

function toml(tables: Tables): string {
  return Object.entries(tables)
    .map(
      ([name, keys]) =>
        `[${name}]\n${Object.entries(keys)
          .map(([k, v]) => `${k} = ${JSON.stringify(v)}\n`)
          .join('')}`,
    )
    .join('\n');
}

/** A host well inside every admission threshold. */
function healthySample(now: number): HostSample {
  return {
    at: now,
    memAvailable: 8 * 1024 * MiB,
    memTotal: 16 * 1024 * MiB,
    load1: 0.1,
    cpus: 4,
    memoryPressure: 0,
    psiAvailable: true,
    temperatureC: 45,
    thermalZone: 'cpu-thermal',
    throttled: 0,
    errors: [],
  };
}

/** Keeps the lines (set WARDEN_TEST_LOG=1 to see them on stderr). */
function quietLogger(lines: string[]): Logger {
  const at = (level: string) => (msg: string, fields?: Record<string, unknown>) => {
    const line = `${level} ${msg}${fields ? ' ' + JSON.stringify(fields) : ''}`;
    lines.push(line);
    if (process.env.WARDEN_TEST_LOG === '1') process.stderr.write(line + '\n');
  };
  return { debug: at('debug'), info: at('info'), warn: at('warn'), error: at('error') };
}

function recordingNotifier(calls: string[]): Notifier {
  return {
    enabled: false,
    watchdogIntervalMs: null,
    ready: () => calls.push('ready'),
    watchdog: () => {},
    status: () => {},
    reloading: () => calls.push('reloading'),
    stopping: () => calls.push('stopping'),
  };
}

interface RigOptions {
  /** Keys to override, per table. */
  config?: Tables;
  /** A state file to start from (written before start()). */
  state?: (now: number, stateDir: string) => WardenState;
  adopt?: Record<string, AdoptAnswer>;
}

const SIGNALS = ['SIGTERM', 'SIGINT'] as const;

async function startRig(t: TestContext, o: RigOptions = {}) {
  const dir = mkdtempSync(join(tmpdir(), 'warden-sup-'));
  const tables = baseTables(dir);
  for (const [name, keys] of Object.entries(o.config ?? {})) tables[name] = { ...tables[name], ...keys };
  const stateDir = String(tables.supervisor!.state_dir);
  const text = toml(tables);
  const configPath = join(dir, 'config.toml');
  const loaded = { config: parseConfigText(text, configPath), path: configPath, sha256: sha256(text) };

  const clock = new FakeClock();
  const exec = new FakeExecutor(clock.now);
  for (const [id, answer] of Object.entries(o.adopt ?? {})) exec.adoptAnswers.set(id, answer);
  if (o.state) {
    ensureStateDir(stateDir);
    saveState(stateDir, o.state(clock.now(), stateDir));
  }
  const logLines: string[] = [];
  const notified: string[] = [];

  // start() opens the control socket; the Supervisor has no call to close it (terminus closes it
  // on a real SIGTERM and then exits the process). Record the listening server to close it after
  // the test, and drop the SIGTERM/SIGINT listeners start() adds.
  const listen = t.mock.method(Server.prototype, 'listen');
  const signalListeners = new Map(SIGNALS.map((s) => [s, process.listeners(s)]));

  clock.install();
  const sup = new Supervisor({
    loaded,
    executor: exec,
    log: quietLogger(logLines),
    notifier: recordingNotifier(notified),
    version: 'test',
    now: clock.now,
    random: () => 0.5,
    sample: healthySample,
  });
  t.after(async () => {
    await sup.shutdown('SIGTERM'); // a no-op when the test already shut it down
    // a worker still alive here (a test that failed) would keep its log watched and the file running
    for (const w of exec.live()) w.exit(null, 'SIGKILL');
    await clock.settle();
    for (const call of listen.mock.calls) (call.this as Server).close();
    for (const s of SIGNALS) for (const l of process.listeners(s)) if (!signalListeners.get(s)!.includes(l)) process.removeListener(s, l);
    clock.uninstall();
    rmSync(dir, { recursive: true, force: true });
  });
  await sup.start();
  await clock.settle();

  const state = (): WardenState => loadState(stateDir, 0).state; // what is on disk, not in memory
  return {
    sup,
    exec,
    clock,
    stateDir,
    notified,
    logLines,
    state,
    task(id: string): Task {
      const task = state().tasks[id];
      assert.ok(task, `task ${id} is not in the state file`);
      return task;
    },
    /** What `warden task add` does: a request file in the queue directory. Then one tick. */
    async enqueue(...ids: string[]): Promise<void> {
      for (const id of ids) enqueueTask(stateDir, { id, prompt: `work on ${id}`, priority: DEFAULT_PRIORITY, addedAt: clock.now() });
      sup.requestTick(); // the queue watcher (inotify) would too, at a time the test does not control
      await clock.settle();
    },
    spawnCount(): number {
      return exec.spawns.length;
    },
    assertNoDuplicateSpawns(): void {
      assert.deepEqual(exec.duplicateSpawns(), [], 'a task attempt was spawned more than once');
      assert.deepEqual(exec.overlaps, [], 'a task was spawned while its previous worker was still alive');
    },
  };
}

/** A state file whose task `id` is running attempt 1, claimed 5 minutes ago by pid 4242, after an unclean stop. */
function runningTaskState(id: string) {
  return (now: number, stateDir: string): WardenState => {
    const claimedAt = now - 5 * MINUTE;
    // the worker's log is where the previous run left it
    const log = attemptLogPath(stateDir, id, 1);
    mkdirSync(dirname(log), { recursive: true });
    appendFileSync(log, '');
    const task: Task = {
      id,
      source: 'local',
      issue: null,
      prUrl: null,
      promptFile: join(stateDir, 'prompts', `${id}.prompt`),
      priority: DEFAULT_PRIORITY,
      createdAt: claimedAt - MINUTE,
      updatedAt: claimedAt,
      state: 'running',
      attempts: 1,
      notBefore: null,
      current: { attempt: 1, claimedAt, pid: 4242, pidStartTime: '777', unit: null, executor: 'direct', probe: false },
      history: [],
      note: null,
      costUsd: 0,
      turns: 0,
      sessionId: null,
    };
    return { ...emptyState(BREAKER_COOLDOWN), tasks: { [id]: task }, lastSpawnAt: claimedAt, totalSpawns: 1, cleanShutdown: false };
  };
}

test('spawn: a queued task is spawned once, with the configured memory and CPU limits', async (t) => {
  const r = await startRig(t);
  await r.enqueue('alpha');

  assert.equal(r.spawnCount(), 1);
  const { spec, worker } = r.exec.spawns[0]!;
  assert.equal(spec.taskId, 'alpha');
  assert.equal(spec.attempt, 1);
  assert.equal(spec.memoryMax, MEMORY_MAX);
  assert.equal(spec.cpuQuota, CPU_QUOTA);
  assert.equal(spec.logFile, attemptLogPath(r.stateDir, 'alpha', 1));
  assert.equal(spec.env.WARDEN_TASK_ID, 'alpha');
  const task = r.task('alpha');
  assert.equal(task.state, 'running');
  assert.equal(task.current?.pid, worker.pid, 'the worker pid is in the state file');

  // many polls later, with the worker still running: no second spawn
  await r.clock.advance(30 * MINUTE);
  assert.equal(r.spawnCount(), 1);
  assert.equal(worker.stops.length, 0);
  r.assertNoDuplicateSpawns();
});

test('spawn: max_concurrent_workers caps the live workers; a freed slot takes the next task', async (t) => {
  const r = await startRig(t, { config: { supervisor: { max_concurrent_workers: 2 } } });
  await r.enqueue('a', 'b', 'c');

  assert.equal(r.spawnCount(), 2);
  await r.clock.advance(10 * MINUTE);
  assert.equal(r.spawnCount(), 2, 'no third worker while two run');
  assert.equal(r.exec.peakLive, 2);
  const waiting = ['a', 'b', 'c'].filter((id) => r.exec.workersOf(id).length === 0);
  assert.equal(waiting.length, 1);
  assert.equal(r.task(waiting[0]!).state, 'pending');

  r.exec.spawns[0]!.worker.exit(0);
  await r.clock.settle();
  assert.equal(r.spawnCount(), 3);
  assert.equal(r.exec.spawns[2]!.spec.taskId, waiting[0]);
  assert.equal(r.exec.peakLive, 2);
  r.assertNoDuplicateSpawns();
});

test('exit: a worker that exits 0 after the startup window leaves its task succeeded, not respawned', async (t) => {
  const r = await startRig(t);
  await r.enqueue('alpha');
  const worker = r.exec.spawns[0]!.worker;

  await r.clock.advance(MINUTE);
  worker.exit(0);
  await r.clock.settle();

  const task = r.task('alpha');
  assert.equal(task.state, 'succeeded');
  assert.equal(task.current, null);
  assert.deepEqual(
    task.history.map((h) => [h.attempt, h.outcome, h.exitCode]),
    [[1, 'succeeded', 0]],
  );
  await r.clock.advance(HOUR);
  assert.equal(r.spawnCount(), 1);
  r.assertNoDuplicateSpawns();
});

test('exit: a worker that exits 1 inside the startup window waits out its backoff, then is retried once', async (t) => {
  const r = await startRig(t);
  await r.enqueue('alpha');

  await r.clock.advance(2 * SECOND);
  assert.ok(2 * SECOND < STARTUP_WINDOW);
  const exitAt = r.clock.now();
  r.exec.spawns[0]!.worker.exit(1);
  await r.clock.settle();

  const task = r.task('alpha');
  assert.equal(task.state, 'retry_wait');
  assert.equal(task.history[0]?.outcome, 'startup_error');
  assert.equal(task.notBefore, exitAt + STARTUP_ERROR_RETRY);
  const breaker = r.state().breaker;
  assert.equal(breaker.phase, 'closed', 'one failure is under breaker.failures');
  assert.deepEqual(breaker.recentFailures, [exitAt]);

  await r.clock.advanceTo(exitAt + STARTUP_ERROR_RETRY - 1);
  assert.equal(r.spawnCount(), 1, 'no retry before notBefore');
  await r.clock.advance(SECOND);
  assert.equal(r.spawnCount(), 2);
  assert.equal(r.exec.spawns[1]!.spec.attempt, 2);
  await r.clock.advance(10 * MINUTE);
  assert.equal(r.spawnCount(), 2, 'one retry, while it runs');
  r.assertNoDuplicateSpawns();
});

test('exit: quick failures up to breaker.failures open the breaker; after the cooldown exactly one probe runs', async (t) => {
  const r = await startRig(t, {
    config: { supervisor: { max_concurrent_workers: 2 }, breaker: { failures: 2, window: '10m', cooldown: '15m' } },
  });
  await r.enqueue('a', 'b', 'c');
  assert.equal(r.spawnCount(), 2);

  await r.clock.advance(2 * SECOND);
  const openedAt = r.clock.now();
  for (const { worker } of r.exec.spawns) worker.exit(1);
  await r.clock.settle();
  const breaker = r.state().breaker;
  assert.equal(breaker.phase, 'open');
  assert.equal(breaker.openedAt, openedAt);

  // the two failed tasks' backoffs (150s) end long before the cooldown: nothing spawns anyway
  await r.clock.advanceTo(openedAt + BREAKER_COOLDOWN - 1);
  assert.equal(r.spawnCount(), 2, 'no spawn while the breaker is open');

  await r.clock.advance(SECOND);
  assert.equal(r.spawnCount(), 3, 'one probe after the cooldown');
  const probe = r.exec.spawns[2]!;
  assert.equal(r.task(probe.spec.taskId).current?.probe, true);
  assert.equal(r.state().breaker.phase, 'half_open');
  await r.clock.advance(5 * MINUTE);
  assert.equal(r.spawnCount(), 3, 'only one probe while it runs');

  // the probe succeeds: the breaker closes and the two waiting tasks fill both slots
  probe.worker.exit(0);
  await r.clock.settle();
  assert.equal(r.state().breaker.phase, 'closed');
  assert.equal(r.spawnCount(), 5);
  r.assertNoDuplicateSpawns();
});

test('stall: a worker silent for stall_after is stopped and classified stalled; one that prints is left alone', async (t) => {
  const r = await startRig(t, { config: { supervisor: { max_concurrent_workers: 2 }, worker: { stall_after: '10m' } } });
  await r.enqueue('quiet', 'chatty');
  const start = r.clock.now();
  const quiet = r.exec.workersOf('quiet')[0]!;
  const chatty = r.exec.workersOf('chatty')[0]!;

  for (const at of [4 * MINUTE, 8 * MINUTE]) {
    await r.clock.advanceTo(start + at);
    chatty.print();
  }
  await r.clock.advanceTo(start + 10 * MINUTE - 1);
  assert.equal(quiet.stops.length, 0, 'not stopped before stall_after');

  await r.clock.advance(1);
  assert.deepEqual(quiet.stops, [STOP_GRACE], 'stopped once, with worker.stop_grace');
  const task = r.task('quiet');
  assert.equal(task.history[0]?.outcome, 'stalled');
  assert.equal(task.state, 'retry_wait');

  await r.clock.advanceTo(start + 12 * MINUTE);
  chatty.print();
  await r.clock.advanceTo(start + 16 * MINUTE);
  assert.equal(chatty.stops.length, 0, 'a worker that prints is not stalled');
  assert.equal(r.task('chatty').state, 'running');
  // the stalled task was retried once after its backoff (1m x 0.5)
  assert.equal(r.exec.workersOf('quiet').length, 2);
  r.assertNoDuplicateSpawns();
});

test('timeout: a worker past max_runtime is stopped and classified timeout', async (t) => {
  const r = await startRig(t, { config: { worker: { max_runtime: '1h' } } });
  await r.enqueue('alpha');
  const start = r.clock.now();
  const worker = r.exec.spawns[0]!.worker;

  await r.clock.advanceTo(start + HOUR - 1);
  assert.equal(worker.stops.length, 0, 'not stopped before max_runtime');
  assert.equal(r.task('alpha').state, 'running');

  await r.clock.advance(1);
  assert.deepEqual(worker.stops, [STOP_GRACE]);
  const task = r.task('alpha');
  assert.equal(task.history[0]?.outcome, 'timeout');
  assert.equal(task.state, 'retry_wait');
  assert.equal(r.spawnCount(), 1);
  r.assertNoDuplicateSpawns();
});

test('adoption: a running task whose worker is adopted is watched, not spawned again', async (t) => {
  const r = await startRig(t, { state: runningTaskState('alpha'), adopt: { alpha: 'adopted' } });

  assert.equal(r.exec.adopts.length, 1);
  const { rec, worker } = r.exec.adopts[0]!;
  assert.equal(rec.taskId, 'alpha');
  assert.equal(rec.attempt, 1);
  assert.equal(rec.pid, 4242);
  assert.equal(rec.pidStartTime, '777');
  await r.clock.advance(10 * MINUTE);
  assert.equal(r.spawnCount(), 0, 'no second worker for an adopted task');
  assert.equal(r.task('alpha').state, 'running');

  worker!.exit(0);
  await r.clock.settle();
  assert.equal(r.task('alpha').state, 'succeeded');
  await r.clock.advance(HOUR);
  assert.equal(r.spawnCount(), 0);
  r.assertNoDuplicateSpawns();
});

test('adoption: a running task whose worker is gone is classified, and retried only after its backoff', async (t) => {
  const r = await startRig(t, { state: runningTaskState('alpha'), adopt: { alpha: 'gone' } });
  const startedAt = r.clock.now();

  assert.equal(r.exec.adopts.length, 1);
  assert.equal(r.spawnCount(), 0, 'recovery never spawns');
  const task = r.task('alpha');
  assert.equal(task.state, 'retry_wait');
  assert.deepEqual(
    task.history.map((h) => [h.attempt, h.outcome]),
    [[1, 'unknown']],
  );
  assert.equal(task.notBefore, startedAt + UNKNOWN_RETRY);

  await r.clock.advanceTo(startedAt + UNKNOWN_RETRY - 1);
  assert.equal(r.spawnCount(), 0, 'no spawn before the backoff ends');
  await r.clock.advance(SECOND);
  assert.equal(r.spawnCount(), 1);
  assert.equal(r.exec.spawns[0]!.spec.attempt, 2);
  await r.clock.advance(10 * MINUTE);
  assert.equal(r.spawnCount(), 1);
  r.assertNoDuplicateSpawns();
});

test('shutdown: SIGTERM stops every live worker, saves cleanShutdown, and leaves no worker or timer', async (t) => {
  const r = await startRig(t, { config: { supervisor: { max_concurrent_workers: 2 } } });
  await r.enqueue('a', 'b');
  assert.equal(r.exec.live().length, 2);
  await r.clock.advance(MINUTE);
  assert.equal(r.state().cleanShutdown, false, 'a running daemon marks the state unclean');

  await r.sup.shutdown('SIGTERM');

  for (const { worker } of r.exec.spawns) assert.deepEqual(worker.stops, [STOP_GRACE], `${worker.taskId} stopped once`);
  assert.equal(r.exec.live().length, 0);
  assert.deepEqual(r.sup.status().workers, []);
  const state = r.state();
  assert.equal(state.cleanShutdown, true);
  for (const id of ['a', 'b']) {
    // warden stopped them: the attempt is refunded and the task waits for the next start
    assert.equal(state.tasks[id]?.state, 'pending');
    assert.equal(state.tasks[id]?.history[0]?.outcome, 'interrupted');
  }
  assert.ok(r.notified.includes('stopping'));
  assert.equal(r.clock.pending(), 0, 'no timer left behind');

  // a stopped supervisor spawns nothing, whatever is queued
  enqueueTask(r.stateDir, { id: 'late', prompt: 'x', priority: DEFAULT_PRIORITY, addedAt: r.clock.now() });
  r.sup.requestTick();
  await r.clock.advance(HOUR);
  assert.equal(r.spawnCount(), 2);
  r.assertNoDuplicateSpawns();
});
