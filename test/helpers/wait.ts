// Waiting for something real (a process, a file, a socket) to reach a state, with a deadline.
import { setTimeout as sleep } from 'node:timers/promises';

/** Polls `probe` until it returns something truthy; fails with `what` and the last value at the deadline. */
export async function waitFor<T>(what: string, probe: () => T | Promise<T>, timeoutMs = 15_000, intervalMs = 100): Promise<NonNullable<T>> {
  const deadline = Date.now() + timeoutMs;
  let last: unknown;
  for (;;) {
    try {
      last = await probe();
      if (last) return last as NonNullable<T>;
    } catch (err) {
      last = err;
    }
    if (Date.now() > deadline)
      throw new Error(
        `timed out after ${timeoutMs} ms waiting for ${what}; last value: ${last instanceof Error ? last.message : JSON.stringify(last)}`,
      );
    await sleep(intervalMs);
  }
}
