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
  supervisor: { maxConcurrentWorkers: number; minSpawnInterval: number; maxDailyCostUsd?: number | null };
  worker: { maxAttempts: number; startupWindow: number; memoryMax: number; usageLimitWait?: number };
  backoff: Record<FailureKind, BackoffSettings>;
  breaker: BreakerSettings;
  admission: AdmissionSettings;
}): CoreSettings {
  return {
    maxConcurrentWorkers: config.supervisor.maxConcurrentWorkers,
    minSpawnInterval: config.supervisor.minSpawnInterval,
    maxAttempts: config.worker.maxAttempts,
    startupWindow: config.worker.startupWindow,
    memoryMax: config.worker.memoryMax,
    backoff: config.backoff,
    breaker: config.breaker,
    admission: config.admission,
    usageLimitWait: config.worker.usageLimitWait ?? DEFAULT_USAGE_LIMIT_WAIT,
    maxDailyCostUsd: config.supervisor.maxDailyCostUsd ?? null,
  };
}

/** worker.usage_limit_wait's default: a limit message without a reset time waits this long. */
export const DEFAULT_USAGE_LIMIT_WAIT = 3600_000;
