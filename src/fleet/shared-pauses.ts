// The etcd side of what a fleet shares besides claims (the decisions are in shared-merge.ts):
//   <prefix>pauses/<reason>      manual, worker_auth, usage_limit, budget: set on one node, every node pauses
//   <prefix>pauses/node/<node>   `warden pause --node N`: that node only
//   <prefix>breaker              the fleet's breaker: every node's failures in one window
//   <prefix>spend/<node>         each node's spending today; the daily budget is their sum
// None of them is on a lease: a pause outlives the node that set it. Every write that can race is a
// compare-and-swap on the key's mod revision, and a lost race is merged again at the next tick. A
// claim compares the pause records as this node read them, so no claim is made under a pause this
// node has not seen; a worker pause is published with the claim's release, in one transaction, so
// no other node can claim between the two (src/fleet/node.ts).
import type { Etcd3, ICompare, IRequestOp } from 'etcd3';
import type { CoreEvent } from '../events/catalog.js';
import type { Logger } from '../log/logger.js';
import { closedBreaker } from '../policy/breaker.js';
import { activePauseReasons } from '../state/pause-reasons.js';
import { BREAKER_STATES, type BreakerState } from '../state/types.js';
import { OperatorRefused, type FleetHooks } from './claims.js';
import {
  applyFleetBudget,
  FLEET_PAUSE_REASONS,
  foldPauses,
  markPublished,
  mergeBreaker,
  othersSpend,
  unpublishedPauses,
  type FleetPauseReason,
  type PauseRecords,
  type SharedPause,
  type SharedPauseValue,
  type SharedSpend,
} from './shared-merge.js';

/** A key under the prefix (`pauses/manual`, `breaker`, `spend/n1`, `nodes/n1`), its JSON value and mod revision. */
export type SharedEntries = ReadonlyMap<string, { value: Record<string, unknown>; rev: string }>;

interface SharedView {
  pauses: PauseRecords;
  breaker: { state: BreakerState; rev: string } | null;
  spends: Map<string, SharedSpend>;
  /** Every node some key names (alive, spent today, or paused on its own). */
  nodes: Set<string>;
  /** Mod revisions as read, moved on by this node's own writes (a claim compares the pause keys). */
  revs: Map<string, string>;
}

export interface SharedDeps {
  hooks: FleetHooks;
  client: () => Etcd3;
  prefix: string;
  node: string;
  log: Logger;
  now: () => number;
  /** An etcd call with the node's timeout. */
  call: <T>(p: Promise<T>) => Promise<T>;
}

/** What a fleet-wide `warden resume` lifts (not `budget`, as on a single node). */
const RESUMED = ['manual', 'worker_auth', 'usage_limit'] as const;

export class SharedState {
  /** The shared breaker as this node last took it over (the base of the three-way merge); null after a start. */
  private base: BreakerState | null = null;
  private spendSent: string | null = null;
  private view: SharedView | null = null;

  constructor(private readonly d: SharedDeps) {}

  private key(name: string): Buffer {
    return Buffer.from(this.d.prefix + name);
  }

  /** The pause keys a claim compares: the fleet's, and this node's own manual pause. */
  private get guarded(): string[] {
    return [...FLEET_PAUSE_REASONS.map((r) => `pauses/${r}`), `pauses/node/${this.d.node}`];
  }

  /** Folds the shared records into this node's state, then publishes what this node has that they lack. */
  async sync(entries: SharedEntries): Promise<void> {
    const { hooks, node, log } = this.d;
    const v = parseShared(entries, node);
    this.view = v;
    const now = this.d.now();
    const s = hooks.settings();
    const f = foldPauses(hooks.state(), v.pauses, node, now);
    for (const note of f.notes) log.warn(`fleet: ${note}`);
    const b = applyFleetBudget(f.state, othersSpend(v.spends, node, now), now, s);
    const m = mergeBreaker(this.base, b.state.breaker, v.breaker?.state ?? null, now, s.breaker);
    const events: CoreEvent[] = [...b.events];
    if (m.opened) events.push({ type: 'breaker_opened', reason: m.breaker.reason ?? 'failures', cooldownMs: m.breaker.cooldownMs });
    if (!m.write) {
      if (m.breaker.phase !== b.state.breaker.phase)
        log.warn(`fleet: the fleet's breaker is ${m.breaker.phase}`, { reason: m.breaker.reason ?? undefined });
      this.base = m.breaker;
    }
    hooks.commit(m.breaker === b.state.breaker ? b.state : { ...b.state, breaker: m.breaker }, events);
    if (m.write && (await this.swap('breaker', v.revs.get('breaker'), m.breaker))) this.base = m.breaker;
    for (const [reason, value] of unpublishedPauses(hooks.state(), node)) {
      const rev = await this.swap(`pauses/${reason}`, v.revs.get(`pauses/${reason}`), value);
      if (rev) hooks.commit(markPublished(hooks.state(), new Map([[reason, value]]), rev), []);
    }
    const spend = hooks.state().spend;
    const sent = `${spend.day} ${spend.usd}`;
    if (spend.day !== '' && sent !== this.spendSent) {
      await this.d.call(this.d.client().kv.put({ key: this.key(`spend/${node}`), value: Buffer.from(JSON.stringify(spend)) }));
      this.spendSent = sent;
    }
  }

  /** Writes `value` if the key's mod revision is still `rev` (absent: the key does not exist); the new revision, or null. */
  private async swap(name: string, rev: string | undefined, value: unknown): Promise<string | null> {
    const key = this.key(name);
    const res = await this.d.call(
      this.d.client().kv.txn({
        compare: [{ key, target: 'Mod', result: 'Equal', mod_revision: rev ?? '0' }],
        success: [{ request_put: { key, value: Buffer.from(JSON.stringify(value)) } }],
        failure: [],
      }),
    );
    if (!res.succeeded) return null;
    this.view?.revs.set(name, res.header.revision);
    return res.header.revision;
  }

  /**
   * What a claim adds to its transaction: the pause records must be as this node read them, and a
   * probe (half-open breaker) takes the fleet's one probe slot in the breaker record, so that only
   * one node probes.
   */
  claimGuards(taskId: string, probe: boolean): { compare: ICompare[]; success: IRequestOp[] } {
    const v = this.view;
    if (!v) return { compare: [], success: [] };
    const compare: ICompare[] = this.guarded.map((name) => ({
      key: this.key(name),
      target: 'Mod',
      result: 'Equal',
      mod_revision: v.revs.get(name) ?? '0',
    }));
    if (!probe) return { compare, success: [] };
    const breaker: BreakerState = { ...this.d.hooks.state().breaker, phase: 'half_open', probeTaskId: taskId };
    compare.push({ key: this.key('breaker'), target: 'Mod', result: 'Equal', mod_revision: v.revs.get('breaker') ?? '0' });
    return { compare, success: [{ request_put: { key: this.key('breaker'), value: Buffer.from(JSON.stringify(breaker)) } }] };
  }

  /** A probe's claim was granted: the breaker record now holds its probe. */
  claimed(taskId: string, probe: boolean): void {
    if (probe) this.base = { ...this.d.hooks.state().breaker, phase: 'half_open', probeTaskId: taskId };
  }

  /** The worker pauses not yet published, as puts for the release transaction (with the outcome that caused them). */
  releaseOps(): { ops: IRequestOp[]; published: Map<FleetPauseReason, SharedPauseValue> } {
    const published = unpublishedPauses(this.d.hooks.state(), this.d.node);
    const ops = [...published].map(([reason, value]) => ({
      request_put: { key: this.key(`pauses/${reason}`), value: Buffer.from(JSON.stringify(value)) },
    }));
    return { ops, published };
  }

  released(published: ReadonlyMap<FleetPauseReason, SharedPauseValue>, rev: string): void {
    if (published.size > 0) this.d.hooks.commit(markPublished(this.d.hooks.state(), published, rev), []);
  }

  /**
   * `warden pause`/`resume` in a fleet. Fleet-wide: the records every node folds; resume also deletes
   * the worker pauses (not the budget) and closes the fleet's breaker. `--node N`: N's own record
   * only; a fleet-wide pause or the breaker are not lifted for one node. Without etcd a fleet-wide
   * pause is taken here at once (and published when etcd answers); a resume is refused, since the
   * records it must delete would pause this node again.
   */
  async operator(cmd: 'pause' | 'resume', target: string | null, local: () => unknown, refresh: () => Promise<void>): Promise<unknown> {
    const { node, now, log } = this.d;
    if (target !== null && this.view && !this.view.nodes.has(target) && target !== node)
      throw new OperatorRefused(`no node "${target}" in the fleet (known: ${[...this.view.nodes].sort().join(', ') || 'none'})`, 400);
    const kv = this.d.client().kv;
    let raced = false;
    try {
      if (cmd === 'pause') {
        const value: SharedPauseValue = { since: now(), until: null, reason: `warden pause on node ${node}`, node };
        await this.d.call(
          kv.put({ key: this.key(target === null ? 'pauses/manual' : `pauses/node/${target}`), value: Buffer.from(JSON.stringify(value)) }),
        );
      } else if (target === null) {
        const closed = closedBreaker(this.d.hooks.settings().breaker);
        // Only the pauses this node has seen are lifted: a pause set elsewhere since its last read
        // (an auth failure a moment ago) fails the compare, and the resume is refused, not lost.
        const seen = this.view?.revs;
        const done = await this.d.call(
          kv.txn({
            compare: seen
              ? RESUMED.map((r) => ({
                  key: this.key(`pauses/${r}`),
                  target: 'Mod',
                  result: 'Equal',
                  mod_revision: seen.get(`pauses/${r}`) ?? '0',
                }))
              : [],
            success: [
              ...RESUMED.map((r) => ({ request_delete_range: { key: this.key(`pauses/${r}`) } })),
              { request_put: { key: this.key('breaker'), value: Buffer.from(JSON.stringify(closed)) } },
            ],
          }),
        );
        raced = !done.succeeded;
      } else await this.d.call(kv.deleteRange({ key: this.key(`pauses/node/${target}`) }));
    } catch (err) {
      const why = (err as Error).message;
      if (cmd === 'pause' && target === null) {
        log.warn('fleet: cannot reach etcd; paused this node now, the fleet when etcd answers', { error: why });
        return local();
      }
      throw new OperatorRefused(`cannot reach etcd (${why}); nothing changed`, 503);
    }
    if (raced) {
      await refresh().catch(() => {});
      const standing = RESUMED.flatMap((r) => (this.view?.pauses[r] ? [`${r}: ${this.view.pauses[r].reason}`] : []));
      throw new OperatorRefused(
        `a fleet-wide pause changed since this node last read etcd${standing.length ? ` (${standing.join('; ')})` : ''}: nothing resumed; check \`warden fleet status\`, then resume again`,
        409,
      );
    }
    log.info(`fleet: ${cmd} ${target === null ? 'for the whole fleet' : `for node ${target}`}`);
    const answer = target === null ? local() : null;
    await refresh().catch(() => {}); // the next tick folds it otherwise
    this.d.hooks.requestTick();
    return answer ?? { paused: activePauseReasons(this.d.hooks.state()), node: target, cmd };
  }
}

function parseShared(entries: SharedEntries, self: string): SharedView {
  const pauses: PauseRecords = {};
  const spends = new Map<string, SharedSpend>();
  const nodes = new Set<string>();
  const revs = new Map<string, string>();
  let breaker: SharedView['breaker'] = null;
  let ownManual: SharedPause | null = null;
  for (const [name, { value, rev }] of entries) {
    revs.set(name, rev);
    const [kind, id = '', sub] = name.split('/');
    if (kind === 'nodes' || kind === 'spend') nodes.add(id);
    if (kind === 'spend' && typeof value.day === 'string' && typeof value.usd === 'number')
      spends.set(id, { day: value.day, usd: value.usd });
    if (kind === 'breaker' && isBreaker(value)) breaker = { state: value, rev };
    if (kind !== 'pauses') continue;
    const rec = asPause(value, rev);
    if (id === 'node' && sub !== undefined) {
      nodes.add(sub);
      if (sub === self) ownManual = rec;
    } else if ((FLEET_PAUSE_REASONS as string[]).includes(id)) pauses[id as FleetPauseReason] = rec;
  }
  pauses.manual ??= ownManual;
  return { pauses, breaker, spends, nodes, revs };
}

function asPause(v: Record<string, unknown>, rev: string): SharedPause | null {
  if (typeof v.since !== 'number' || typeof v.reason !== 'string' || typeof v.node !== 'string') return null;
  return { since: v.since, until: typeof v.until === 'number' ? v.until : null, reason: v.reason, node: v.node, rev };
}

function isBreaker(v: Record<string, unknown>): v is BreakerState & Record<string, unknown> {
  return (
    (BREAKER_STATES as readonly unknown[]).includes(v.phase) &&
    Array.isArray(v.recentFailures) &&
    v.recentFailures.every((t) => typeof t === 'number') &&
    (v.openedAt === null || typeof v.openedAt === 'number') &&
    typeof v.cooldownMs === 'number' &&
    (v.probeTaskId === null || typeof v.probeTaskId === 'string') &&
    (v.reason === null || typeof v.reason === 'string')
  );
}
