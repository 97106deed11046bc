// The alerting policy, as pure functions of (memory, alert, clock): whether an alert is a repeat
// to suppress, and what to do after a delivery attempt (done, retry after a delay, or drop).
// The dispatcher performs what these return; they are tested on a fake clock.
import type { Alert } from './alert.js';

export interface AlertPolicySettings {
  /** The same key is not sent again within this long (ms). */
  repeatAfter: number;
  /** Delivery attempts per channel, the first one included. */
  retryAttempts: number;
  /** The delay before the second attempt; it doubles after each failure... */
  retryBase: number;
  /** ...up to this. */
  retryMax: number;
}

/** When each key was last sent (ms since the epoch). Persisted, so a restart loop is not a storm. */
export type DedupeMemory = Readonly<Record<string, number>>;

export function admitAlert(
  memory: DedupeMemory,
  alert: Alert,
  now: number,
  repeatAfter: number,
): { send: boolean; memory: DedupeMemory; lastSentAt: number | null } {
  const kept: Record<string, number> = {};
  for (const [k, at] of Object.entries(memory)) if (now - at < repeatAfter && at <= now) kept[k] = at;
  const last = kept[alert.key];
  if (last !== undefined) return { send: false, memory: kept, lastSentAt: last };
  for (const c of alert.clears) delete kept[c];
  kept[alert.key] = now;
  return { send: true, memory: kept, lastSentAt: null };
}

/** The wait after failed attempt `attempt` (1-based) before the next one. */
export function retryDelay(attempt: number, s: Pick<AlertPolicySettings, 'retryBase' | 'retryMax'>): number {
  return Math.min(s.retryMax, s.retryBase * 2 ** Math.max(0, attempt - 1));
}

export type DeliveryResult = { ok: true; detail: string } | { ok: false; retry: boolean; error: string };

export type DeliveryStep = { action: 'done' } | { action: 'retry'; inMs: number } | { action: 'drop'; reason: string };

export function afterDelivery(attempt: number, result: DeliveryResult, s: AlertPolicySettings): DeliveryStep {
  if (result.ok) return { action: 'done' };
  if (!result.retry) return { action: 'drop', reason: `not retried: ${result.error}` };
  if (attempt >= s.retryAttempts) return { action: 'drop', reason: `gave up after ${attempt} attempt(s): ${result.error}` };
  return { action: 'retry', inMs: retryDelay(attempt, s) };
}
