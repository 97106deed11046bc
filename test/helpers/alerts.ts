// An alert as the owner would get it, for tests of the channels and the dispatcher.
import assert from 'node:assert/strict';
import { alertFor, type Alert } from '../../src/alerts/alert.ts';
import type { WardenEvent } from '../../src/events/catalog.ts';

/** The context alertFor gets: a fixed fake clock and the host name "pi". */
export const ALERT_CTX = { now: 1_000_000, host: 'pi' };

/** The alert `e` raises, failing the test when it raises none. */
export function mustAlert(e: WardenEvent): Alert {
  const a = alertFor(e, ALERT_CTX);
  assert.ok(a, `${e.type} raises an alert`);
  return a;
}

/** A task dead after three startup errors: the alert of most channel tests. */
export const TASK_DEAD: Extract<WardenEvent, { type: 'task_dead' }> = {
  type: 'task_dead',
  taskId: 'gh-1',
  kind: 'startup_error',
  attempts: 3,
  detail: 'exit 1 after 0.4s',
};
