// The daily spending count and the budget pause it triggers (supervisor.max_daily_cost_usd).
import type { CoreEvent } from '../events/catalog.js';
import type { WardenState } from '../state/types.js';
import type { CoreSettings } from './settings.js';
import { localDay, nextLocalMidnight } from './verdict.js';

/**
 * Adds what an attempt cost to the local day's spending; at max_daily_cost_usd spawning pauses
 * (reason `budget`) until the next local day. A new day starts the count again. `othersUsd`: what
 * the other nodes of a fleet spent today (src/fleet/shared-merge.ts), counted against the same limit.
 */
export function addSpend(
  prev: WardenState,
  usd: number,
  now: number,
  s: Pick<CoreSettings, 'maxDailyCostUsd'>,
  events: CoreEvent[],
  othersUsd = 0,
): WardenState {
  const day = localDay(now);
  const spent = (prev.spend.day === day ? prev.spend.usd : 0) + Math.max(0, usd);
  let state: WardenState = spent === prev.spend.usd && day === prev.spend.day ? prev : { ...prev, spend: { day, usd: spent } };
  const limit = s.maxDailyCostUsd;
  if (limit !== null && spent + othersUsd >= limit && !(state.pause.budget && state.pause.budget.until > now)) {
    const until = nextLocalMidnight(now);
    const fleet = othersUsd > 0 ? ` (the fleet: $${(spent + othersUsd).toFixed(2)})` : '';
    const reason = `spent $${spent.toFixed(2)} today${fleet}, max_daily_cost_usd is $${limit.toFixed(2)}`;
    state = { ...state, pause: { ...state.pause, budget: { since: now, until, reason } } };
    events.push({ type: 'worker_paused', reason: 'budget', detail: reason, until });
  }
  return state;
}
