// Every event the decision core reports. The supervisor logs each one and forwards it to alerts
// and metrics.
import type { FailureKind } from '../policy/failure-kind.js';

/** Pauses that come from what workers report (not from the host or the operator). */
export type WorkerPauseReason = 'worker_auth' | 'usage_limit' | 'budget';

/** Pauses that come from the hardware: heat and under-voltage (admission.max_temperature, get_throttled). */
export type HardwarePauseReason = 'thermal' | 'power';

export type CoreEvent =
  | { type: 'breaker_opened'; reason: string; cooldownMs: number }
  | { type: 'breaker_half_open' }
  | { type: 'breaker_closed'; by: 'probe' | 'resume' }
  | { type: 'pressure_entered'; reasons: string[] }
  | { type: 'pressure_recovering'; recoverAfterMs: number }
  | { type: 'pressure_left' }
  | { type: 'paused'; by: 'manual' }
  | { type: 'resumed'; by: 'manual' }
  | { type: 'task_spawn'; taskId: string; attempt: number; probe: boolean }
  | { type: 'task_succeeded'; taskId: string; attempt: number }
  | { type: 'task_retry'; taskId: string; kind: FailureKind; attempt: number; delayMs: number; detail: string }
  | { type: 'task_dead'; taskId: string; kind: FailureKind; attempts: number; detail: string }
  | { type: 'task_interrupted'; taskId: string; detail: string }
  | { type: 'task_blocked'; taskId: string; reason: string }
  | { type: 'task_cancelled'; taskId: string; reason: string }
  /** The SoC is too hot (`thermal`) or the firmware reports under-voltage now (`power`). */
  | { type: 'hardware_paused'; reason: HardwarePauseReason; reasons: string[] }
  | { type: 'hardware_recovering'; reason: HardwarePauseReason; recoverAfterMs: number }
  | { type: 'hardware_resumed'; reason: HardwarePauseReason }
  | { type: 'disk_paused'; reason: string }
  | { type: 'disk_resumed' }
  | { type: 'worker_paused'; reason: WorkerPauseReason; detail: string; until: number | null }
  | { type: 'worker_resumed'; reason: WorkerPauseReason };
