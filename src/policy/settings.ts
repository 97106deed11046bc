// What the decision core needs from the config, in its own units (ms, bytes), and the one mapping
// from a loaded config to it.
import type { AdmissionSettings } from '../admission/evaluate.js';
import type { BackoffSettings } from './backoff.js';
import type { BreakerSettings } from './breaker.js';
import type { FailureKind } from './failure-kind.js';

export interface CoreSettings {
  maxConcurrentWorkers: number;
  minSpawnInterval: number;
  maxAttempts: number;
  startupWindow: number;
  memoryMax: number;
  backoff: Record<FailureKind, BackoffSettings>;
  breaker: BreakerSettings;
  admission: AdmissionSettings;
  /** How long spawning waits after a usage limit that names no reset time. */
  usageLimitWait: number;
  /** Spending per local day that pauses spawning (reason `budget`); null: no limit. */
  maxDailyCostUsd: number | null;
}

export function coreSettingsFrom(config: {
  supervisor: { max_concurrent_workers: number; min_spawn_interval: number; max_daily_cost_usd?: number | null };
  worker: { max_attempts: number; startup_window: number; memory_max: number; usage_limit_wait?: number };
  backoff: Record<FailureKind, BackoffSettings>;
  breaker: BreakerSettings;
  admission: {
    min_available_memory: number;
    max_load_per_cpu: number;
    max_memory_pressure: number;
    recover_after: number;
    max_temperature: number;
  };
}): CoreSettings {
  const a = config.admission;
  return {
    maxConcurrentWorkers: config.supervisor.max_concurrent_workers,
    minSpawnInterval: config.supervisor.min_spawn_interval,
    maxAttempts: config.worker.max_attempts,
    startupWindow: config.worker.startup_window,
    memoryMax: config.worker.memory_max,
    backoff: config.backoff,
    breaker: config.breaker,
    admission: {
      minAvailableMemory: a.min_available_memory,
      maxLoadPerCpu: a.max_load_per_cpu,
      maxMemoryPressure: a.max_memory_pressure,
      recoverAfter: a.recover_after,
      maxTemperature: a.max_temperature,
    },
    usageLimitWait: config.worker.usage_limit_wait ?? DEFAULT_USAGE_LIMIT_WAIT,
    maxDailyCostUsd: config.supervisor.max_daily_cost_usd ?? null,
  };
}

/** worker.usage_limit_wait's default: a limit message without a reset time waits this long. */
export const DEFAULT_USAGE_LIMIT_WAIT = 3600_000;
