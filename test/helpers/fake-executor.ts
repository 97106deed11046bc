// Test doubles for the executor port (src/executors/types.ts), in the spirit of supervisord's
// DummyProcess: no OS process is started. Each spawn is recorded with its spec and returns a
// FakeWorker the test ends by hand (exit(code)) or the supervisor ends by stop(). adopt() answers
// what the test configured for that task. The executor also checks two invariants as it goes: at
// most one live worker per task, and the peak number of live workers.
import { appendFileSync, mkdirSync } from 'node:fs';
import { dirname } from 'node:path';
import type { AdoptRecord, AdoptResult, Executor, WorkerExit, WorkerHandle, WorkerSpec } from '../../src/executors/types.ts';

export class FakeWorker implements WorkerHandle {
  readonly pid: number;
  readonly pidStartTime: string | null;
  readonly unit: string | null = null;
  readonly startedAt: number;
  readonly exited: Promise<WorkerExit>;
  /** The grace of every stop() call, in order. */
  readonly stops: number[] = [];
  /** The exit once it happened. */
  ended: WorkerExit | null = null;
  private resolveExit!: (e: WorkerExit) => void;

  constructor(
    readonly taskId: string,
    readonly attempt: number,
    private readonly now: () => number,
    private readonly logFile: string | null,
    o: { pid: number; pidStartTime: string | null; startedAt: number },
  ) {
    this.pid = o.pid;
    this.pidStartTime = o.pidStartTime;
    this.startedAt = o.startedAt;
    this.exited = new Promise((resolve) => (this.resolveExit = resolve));
  }

  get alive(): boolean {
    return this.ended === null;
  }

  /** The worker ends on its own with this exit code (or killed by `signal`). */
  exit(code: number | null, signal: string | null = null): void {
    if (this.ended) throw new Error(`worker ${this.taskId}#${this.attempt} already ended`);
    this.ended = { spawnError: null, exitCode: code, signal, oomKilled: false, lost: false, endedAt: this.now() };
    this.resolveExit(this.ended);
  }

  /** Appends one stream-json event to the attempt log, as a live claude worker does. */
  print(event: Record<string, unknown> = { type: 'assistant' }): void {
    if (!this.logFile) throw new Error('this worker has no log file (adopted workers write to the log the test created)');
    appendFileSync(this.logFile, JSON.stringify(event) + '\n');
  }

  /** The executor's stop: SIGTERM, which the fake worker dies of at once. */
  async stop(graceMs: number): Promise<void> {
    this.stops.push(graceMs);
    if (this.alive) this.exit(null, 'SIGTERM');
    await this.exited;
  }
}

export type AdoptAnswer = 'adopted' | 'gone';

export class FakeExecutor implements Executor {
  readonly kind: 'direct' | 'systemd';
  readonly sandbox = 'sandbox: off';
  readonly enforcesLimits = true;
  /** Every spawn, in order, with the spec the supervisor passed. */
  readonly spawns: { spec: WorkerSpec; worker: FakeWorker }[] = [];
  /** Every adopt() call, in order. */
  readonly adopts: { rec: AdoptRecord; answer: AdoptAnswer; worker: FakeWorker | null }[] = [];
  /** What adopt() answers per task ID; a task not listed is 'gone'. */
  readonly adoptAnswers = new Map<string, AdoptAnswer>();
  /** Spawns made while the same task still had a live worker (must stay empty). */
  readonly overlaps: string[] = [];
  /** The most workers alive at once. */
  peakLive = 0;
  private nextPid = 10_000;

  constructor(
    private readonly now: () => number,
    kind: 'direct' | 'systemd' = 'direct',
  ) {
    this.kind = kind;
  }

  async spawn(spec: WorkerSpec): Promise<WorkerHandle> {
    if (this.live().some((w) => w.taskId === spec.taskId)) this.overlaps.push(`${spec.taskId}#${spec.attempt}`);
    // like the real executors: the attempt log exists (the worker's stdout) once the worker runs
    mkdirSync(dirname(spec.logFile), { recursive: true });
    appendFileSync(spec.logFile, '');
    const worker = new FakeWorker(spec.taskId, spec.attempt, this.now, spec.logFile, {
      pid: this.nextPid++,
      pidStartTime: String(this.now()),
      startedAt: this.now(),
    });
    this.spawns.push({ spec, worker });
    this.peakLive = Math.max(this.peakLive, this.live().length);
    return worker;
  }

  async adopt(rec: AdoptRecord): Promise<AdoptResult> {
    const answer = this.adoptAnswers.get(rec.taskId) ?? 'gone';
    if (answer === 'gone') {
      this.adopts.push({ rec, answer, worker: null });
      return { kind: 'gone', exit: { spawnError: null, exitCode: null, signal: null, oomKilled: false, lost: true, endedAt: this.now() } };
    }
    const worker = new FakeWorker(rec.taskId, rec.attempt, this.now, null, {
      pid: rec.pid ?? this.nextPid++,
      pidStartTime: rec.pidStartTime,
      startedAt: rec.startedAt,
    });
    this.adopts.push({ rec, answer, worker });
    return { kind: 'adopted', handle: worker };
  }

  async strays(): Promise<string[]> {
    return [];
  }

  async stopStray(): Promise<void> {}

  /** Workers spawned or adopted that have not ended. */
  live(): FakeWorker[] {
    const all = [...this.spawns.map((s) => s.worker), ...this.adopts.flatMap((a) => (a.worker ? [a.worker] : []))];
    return all.filter((w) => w.alive);
  }

  /** The spawned workers of one task, oldest first. */
  workersOf(taskId: string): FakeWorker[] {
    return this.spawns.filter((s) => s.spec.taskId === taskId).map((s) => s.worker);
  }

  /** `task#attempt` keys spawned more than once (must be empty: one spawn per attempt). */
  duplicateSpawns(): string[] {
    const seen = new Map<string, number>();
    for (const { spec } of this.spawns) {
      const key = `${spec.taskId}#${spec.attempt}`;
      seen.set(key, (seen.get(key) ?? 0) + 1);
    }
    return [...seen].filter(([, n]) => n > 1).map(([key]) => key);
  }
}
