// Synthetic but realistic warden states for the benchmark: task IDs, prompt paths, histories and
// notes shaped like the ones the daemon writes, in a mix of every common task state.
import type { HostSample } from '../src/admission/evaluate.js';
import { emptyState, type AttemptRecord, type Task, type WardenState } from '../src/state/types.js';

export interface Mix {
  pending: number;
  retryWait: number;
  succeeded: number;
  dead: number;
  running: number;
}

/** For the tick benchmark: `pending` queued tasks plus a proportional tail of other states. */
export function mixAroundPending(pending: number): Mix {
  return { pending, retryWait: Math.ceil(pending / 10), succeeded: Math.ceil(pending / 5), dead: Math.ceil(pending / 20), running: 1 };
}

/** For the state-file benchmark: `total` tasks split 60/10/24/5 % plus one running. */
export function mixForTotal(total: number): Mix {
  const retryWait = Math.max(1, Math.round(total * 0.1));
  const succeeded = Math.max(1, Math.round(total * 0.24));
  const dead = Math.max(1, Math.round(total * 0.05));
  const running = 1;
  return { pending: total - retryWait - succeeded - dead - running, retryWait, succeeded, dead, running };
}

export function mixTotal(m: Mix): number {
  return m.pending + m.retryWait + m.succeeded + m.dead + m.running;
}

const HOUR = 3_600_000;

function record(
  attempt: number,
  startedAt: number,
  outcome: AttemptRecord['outcome'],
  durationMs: number,
  exitCode: number | null,
): AttemptRecord {
  return {
    attempt,
    startedAt,
    endedAt: startedAt + durationMs,
    outcome,
    exitCode,
    signal: null,
    durationMs,
    detail: `exit ${exitCode ?? '?'} after ${(durationMs / 1000).toFixed(1)}s`,
    costUsd: null,
    turns: null,
    sessionId: null,
  };
}

/** A state holding the given mix of tasks, as of `now`. Deterministic. */
export function makeState(mix: Mix, now: number, cooldownMs = 15 * 60_000): WardenState {
  const tasks: Record<string, Task> = {};
  let n = 0;
  const add = (state: Task['state'], shape: (t: Task, i: number) => Task) => {
    const i = n++;
    const id = `gh-${1000 + i}`;
    const createdAt = now - 48 * HOUR + i * 1000;
    const base: Task = {
      id,
      source: 'local',
      issue: null,
      prUrl: null,
      costUsd: 0,
      turns: 0,
      sessionId: null,
      promptFile: `/var/lib/warden/prompts/${id}.prompt`,
      priority: i % 7 === 0 ? 1 : i % 5 === 0 ? 3 : 2,
      createdAt,
      updatedAt: createdAt,
      state,
      attempts: 0,
      notBefore: null,
      current: null,
      history: [],
      note: null,
    };
    tasks[id] = shape(base, i);
  };
  // interleave the states the way a long-running queue accumulates them
  const order: Task['state'][] = [];
  for (let k = 0; k < mix.succeeded; k++) order.push('succeeded');
  for (let k = 0; k < mix.dead; k++) order.push('dead');
  for (let k = 0; k < mix.running; k++) order.push('running');
  for (let k = 0; k < mix.retryWait; k++) order.push('retry_wait');
  for (let k = 0; k < mix.pending; k++) order.push('pending');
  for (const state of order) {
    add(state, (t, i) => {
      const s0 = t.createdAt + 60_000;
      switch (state) {
        case 'succeeded': {
          const history =
            i % 5 === 0
              ? [record(1, s0, 'startup_error', 1_600, 1), record(2, s0 + 400_000, 'succeeded', 612_300, 0)]
              : [record(1, s0, 'succeeded', 845_100, 0)];
          const last = history[history.length - 1] as AttemptRecord;
          return { ...t, state, updatedAt: last.endedAt, history, note: last.detail };
        }
        case 'dead': {
          const history = [
            record(1, s0, 'startup_error', 1_600, 1),
            record(2, s0 + 300_000, 'startup_error', 1_500, 1),
            record(3, s0 + 900_000, 'startup_error', 1_700, 1),
          ];
          return { ...t, state, attempts: 3, updatedAt: s0 + 901_700, history, note: 'startup_error on attempt 3/3: exit 1 after 1.7s' };
        }
        case 'running':
          return {
            ...t,
            state,
            attempts: 1,
            updatedAt: now - 120_000,
            current: {
              attempt: 1,
              claimedAt: now - 120_000,
              pid: 40_000 + i,
              pidStartTime: String(9_000_000 + i),
              unit: null,
              executor: 'direct',
              probe: false,
            },
          };
        case 'retry_wait': {
          const history = [record(1, now - 600_000, 'exit_nonzero', 95_000, 2)];
          return {
            ...t,
            state,
            attempts: 1,
            notBefore: now + 60_000 + (i % 29) * 60_000,
            updatedAt: now - 505_000,
            history,
            note: `exit_nonzero: ${history[0]?.detail}`,
          };
        }
        default: {
          // pending; a few were interrupted by a restart of warden
          if (i % 10 !== 0) return t;
          const history: AttemptRecord[] = [{ ...record(1, now - 3 * HOUR, 'interrupted', 30_000, null), detail: 'warden was stopped' }];
          return { ...t, history, note: 'interrupted: warden was stopped' };
        }
      }
    });
  }
  // every field the state file has today comes from emptyState; the bench sets what it varies
  return {
    ...emptyState(cooldownMs),
    tasks,
    breaker: { phase: 'closed', recentFailures: [now - 600_000], openedAt: null, cooldownMs, probeTaskId: null, reason: null },
    lastSpawnAt: now - 5 * 60_000,
    totalSpawns: mix.succeeded + mix.dead * 3 + mix.retryWait + mix.running,
    cleanShutdown: false,
  };
}

/** A healthy Raspberry Pi 5 (8 GB): nothing in it should trip admission. */
export function healthySample(now: number): HostSample {
  return {
    at: now,
    memAvailable: 6 * 1024 ** 3,
    memTotal: 7.7 * 1024 ** 3,
    load1: 0.3,
    cpus: 4,
    memoryPressure: 0,
    psiAvailable: true,
    temperatureC: 52,
    thermalZone: 'cpu-thermal',
    throttled: 0,
    errors: [],
  };
}

/** The config the tick benchmark runs with: the defaults, but two worker slots so a spawn fits. */
export const BENCH_CONFIG_TOML = `[supervisor]
state_dir = "/var/lib/warden"
max_concurrent_workers = 2
`;
