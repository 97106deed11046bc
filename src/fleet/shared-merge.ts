// What one node of a fleet shares with the others besides claims: the breaker, the pauses that hold
// for every node (manual, worker_auth, usage_limit, budget) and the day's spending. Pure: the etcd
// side is src/fleet/shared-pauses.ts. Which store wins for which field: docs/fleet.md, "What is
// shared, and who wins". Pressure, thermal, power, disk and fleet stay per node and are never shared.
import type { CoreEvent } from '../events/catalog.js';
import { advanceBreaker, breakerOnFailure, type BreakerSettings } from '../policy/breaker.js';
import type { CoreSettings } from '../policy/settings.js';
import { addSpend } from '../policy/spend.js';
import { localDay } from '../policy/verdict.js';
import type { BreakerState, PauseState, WardenState } from '../state/types.js';

/** The pause reasons that hold fleet-wide, and where each lives in `state.pause`. */
export const FLEET_PAUSES = { manual: 'manual', worker_auth: 'workerAuth', usage_limit: 'usageLimit', budget: 'budget' } as const;
export type FleetPauseReason = keyof typeof FLEET_PAUSES;
export const FLEET_PAUSE_REASONS = Object.keys(FLEET_PAUSES) as FleetPauseReason[];

/** `<prefix>pauses/<reason>` (and `<prefix>pauses/node/<node>` for one node's manual pause). */
export interface SharedPause {
  since: number;
  /** When it lifts by itself (usage_limit, budget); null: it waits for `warden resume`. */
  until: number | null;
  reason: string;
  /** The node that set it. */
  node: string;
  /** The key's mod revision. */
  rev: string;
}

/** A pause record as written (the revision comes from etcd). */
export type SharedPauseValue = Omit<SharedPause, 'rev'>;

type LocalPause = { since: number; until?: number; reason?: string; fleetRev?: string };

/** The shared records that bear on one node's pauses: for `manual`, the fleet's record, else this node's own. */
export type PauseRecords = Partial<Record<FleetPauseReason, SharedPause | null>>;

/** A record whose time has passed is as good as none (it is deleted by nobody: the next pause overwrites it). */
function live(rec: SharedPause | null | undefined, now: number): SharedPause | null {
  return rec && (rec.until === null || rec.until > now) ? rec : null;
}

function fromRecord(
  reason: FleetPauseReason,
  rec: SharedPause,
  self: string,
): NonNullable<PauseState[(typeof FLEET_PAUSES)[typeof reason]]> {
  const text = rec.node === self ? rec.reason : `${rec.reason} (on node ${rec.node})`;
  if (reason === 'manual') return { since: rec.since, fleetRev: rec.rev };
  if (reason === 'worker_auth') return { since: rec.since, reason: text, fleetRev: rec.rev };
  return { since: rec.since, until: rec.until ?? rec.since, reason: text, fleetRev: rec.rev };
}

/**
 * Folds the fleet-wide pause records into this node's pauses:
 * - a record this node does not have yet is taken over (the node that set it alerted; here it is a note);
 * - a local pause that mirrors a record (`fleetRev`) whose record is gone was lifted elsewhere (resume,
 *   or its time passed): it is lifted here too;
 * - a local pause not yet published stays, to be published (`unpublished`); one that overlaps a record
 *   keeps the later `until` and takes the record's revision when the record's reaches as far.
 */
export function foldPauses(prev: WardenState, recs: PauseRecords, self: string, now: number): { state: WardenState; notes: string[] } {
  let pause = prev.pause;
  const notes: string[] = [];
  for (const reason of FLEET_PAUSE_REASONS) {
    const key = FLEET_PAUSES[reason];
    const local: LocalPause | null = pause[key] ?? null;
    const rec = live(recs[reason], now);
    let next = local;
    if (!local && rec) {
      next = fromRecord(reason, rec, self);
      notes.push(`paused fleet-wide: ${reason}, set by node ${rec.node}`);
    } else if (local && !rec && local.fleetRev !== undefined) {
      next = null;
      notes.push(`the fleet-wide ${reason} pause was lifted (resume, or its time passed)`);
    } else if (local && rec && local.fleetRev !== rec.rev) {
      const localLonger = local.fleetRev === undefined && (local.until ?? 0) > (rec.until ?? 0);
      if (!localLonger) next = { ...fromRecord(reason, rec, self), since: Math.min(local.since, rec.since) };
    }
    if (next !== local) pause = { ...pause, [key]: next };
  }
  return { state: pause === prev.pause ? prev : { ...prev, pause }, notes };
}

/** This node's fleet-wide pauses that no record holds yet: to publish (each as a record). */
export function unpublishedPauses(state: WardenState, self: string): Map<FleetPauseReason, SharedPauseValue> {
  const out = new Map<FleetPauseReason, SharedPauseValue>();
  for (const reason of FLEET_PAUSE_REASONS) {
    const p: LocalPause | null = state.pause[FLEET_PAUSES[reason]] ?? null;
    if (!p || p.fleetRev !== undefined) continue;
    out.set(reason, { since: p.since, until: p.until ?? null, reason: p.reason ?? `warden pause on node ${self}`, node: self });
  }
  return out;
}

/** The published pauses now mirror the records written at `rev` (only those still as they were published). */
export function markPublished(state: WardenState, published: ReadonlyMap<FleetPauseReason, SharedPauseValue>, rev: string): WardenState {
  let pause = state.pause;
  for (const [reason, value] of published) {
    const key = FLEET_PAUSES[reason];
    const p: LocalPause | null = pause[key] ?? null;
    if (p && p.fleetRev === undefined && p.since === value.since && (p.until ?? null) === value.until)
      pause = { ...pause, [key]: { ...p, fleetRev: rev } };
  }
  return pause === state.pause ? state : { ...state, pause };
}

/** `<prefix>spend/<node>`: what each node's workers reported spending on its local day. */
export interface SharedSpend {
  day: string;
  usd: number;
}

/** What the other nodes spent on this node's local day (a node of another day, or this node, counts nothing). */
export function othersSpend(spends: ReadonlyMap<string, SharedSpend>, self: string, now: number): number {
  const day = localDay(now);
  let usd = 0;
  for (const [node, s] of spends) if (node !== self && s.day === day && Number.isFinite(s.usd) && s.usd > 0) usd += s.usd;
  return usd;
}

/** The daily budget over the fleet's sum: at max_daily_cost_usd, this node pauses (reason `budget`), and publishes it. */
export function applyFleetBudget(
  prev: WardenState,
  othersUsd: number,
  now: number,
  s: Pick<CoreSettings, 'maxDailyCostUsd'>,
): { state: WardenState; events: CoreEvent[] } {
  const events: CoreEvent[] = [];
  const state = addSpend(prev, 0, now, s, events, othersUsd);
  return { state, events };
}

function sameBreaker(a: BreakerState, b: BreakerState): boolean {
  return (
    a.phase === b.phase &&
    a.openedAt === b.openedAt &&
    a.cooldownMs === b.cooldownMs &&
    a.probeTaskId === b.probeTaskId &&
    a.reason === b.reason &&
    a.recentFailures.length === b.recentFailures.length &&
    a.recentFailures.every((t, i) => t === b.recentFailures[i])
  );
}

/** The same opening (or the same closed stretch) of the breaker: what a local change was made against. */
function sameEpisode(a: BreakerState, b: BreakerState): boolean {
  return a.openedAt === b.openedAt && (a.phase === 'closed') === (b.phase === 'closed');
}

/**
 * A three-way merge of the breaker: `base` is the shared breaker as this node last took it over,
 * `local` what this node's own attempts (and `warden resume`) made of it since, `shared` the record
 * now. The breaker counts every node's failures in one window, so 3 failures on 3 nodes open it once:
 * - nothing changed here: the shared breaker is taken over;
 * - closed here (a probe succeeded, or resume) or opened here, against the breaker the record still
 *   holds: this node's breaker is the fleet's;
 * - otherwise the record stays, with this node's new failures added to its window (which may open
 *   it: `opened`, and this node alerts).
 * `write`: the result differs from the record (compare-and-swap on its revision; a lost race is
 * merged again at the next tick). Open breakers are advanced first, so that a half-open breaker is
 * not written back and forth. `base` null (a fresh start): the record is taken over as it is.
 */
export function mergeBreaker(
  base: BreakerState | null,
  local: BreakerState,
  shared: BreakerState | null,
  now: number,
  s: BreakerSettings,
): { breaker: BreakerState; write: boolean; opened: boolean } {
  const cur = advanceBreaker(local, now);
  if (shared === null) return { breaker: cur, write: base === null || !sameBreaker(cur, advanceBreaker(base, now)), opened: false };
  const rec = advanceBreaker(shared, now);
  if (base === null) return { breaker: rec, write: false, opened: false };
  const was = advanceBreaker(base, now);
  if (sameBreaker(cur, was)) return { breaker: rec, write: false, opened: false };
  const closedHere = cur.phase === 'closed' && was.phase !== 'closed';
  const openedHere = cur.phase === 'open' && cur.openedAt !== was.openedAt;
  if ((closedHere || openedHere) && sameEpisode(rec, was)) {
    const failures = openedHere ? union(cur.recentFailures, rec.recentFailures, now - s.window) : cur.recentFailures;
    return { breaker: { ...cur, recentFailures: failures }, write: true, opened: false };
  }
  if (cur.probeTaskId !== was.probeTaskId && rec.phase === 'half_open' && rec.probeTaskId === was.probeTaskId && sameEpisode(rec, was))
    return { breaker: { ...rec, probeTaskId: cur.probeTaskId }, write: true, opened: false };
  let merged = rec;
  let opened = false;
  for (const t of cur.recentFailures
    .filter((x) => !was.recentFailures.includes(x) && !rec.recentFailures.includes(x))
    .sort((a, b) => a - b)) {
    const r = breakerOnFailure(merged, t, s, '', 'failures on several nodes of the fleet');
    merged = r.breaker;
    opened ||= r.transition === 'opened';
  }
  return { breaker: merged, write: merged !== rec, opened };
}

function union(a: readonly number[], b: readonly number[], after: number): number[] {
  return [...new Set([...a, ...b])].filter((t) => t > after).sort((x, y) => x - y);
}
