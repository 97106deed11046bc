// Per-kind exponential backoff with full jitter: the delay before retry n is uniform in
// [0, min(max, base * factor^(n-1))]. Full jitter spreads retries of tasks that failed together.
/** One failure kind's backoff, in ms ([backoff.<kind>] in the config). */
export interface BackoffSettings {
  base: number;
  factor: number;
  max: number;
}

/** Upper bound of the delay before the retry that follows the `failures`-th failure (1-based). */
export function backoffCeiling(settings: BackoffSettings, failures: number): number {
  const n = Math.max(1, failures);
  const raw = settings.base * Math.pow(settings.factor, n - 1);
  return Math.min(settings.max, Number.isFinite(raw) ? raw : settings.max);
}

/** `random` returns a number in [0, 1), like Math.random; tests pass a seeded one. */
export function backoffDelay(settings: BackoffSettings, failures: number, random: () => number): number {
  return Math.floor(random() * backoffCeiling(settings, failures));
}
