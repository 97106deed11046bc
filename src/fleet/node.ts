// One warden as a member of a fleet: its lease in etcd, renewed on the monotonic clock; its claims,
// made before each spawn; the outcome published with the claim's release; fencing when the lease
// is at risk. The etcd client (`etcd3`) is imported on first use only, so a warden without [fleet]
// never loads it (`warden run` imports this module only when [fleet] is set).
// Timings: src/fleet/timings.ts. What fails how, and the fencing window: docs/fleet.md.
import { join } from 'node:path';
import { performance } from 'node:perf_hooks';
import type { Etcd3, ICompare } from 'etcd3';
import type { Config } from '../config/schema.js';
import type { CoreEvent } from '../events/catalog.js';
import { ensureDirsUnder } from '../host/safe-open.js';
import { readOrNull } from '../host/read-file.js';
import { writeFileAtomic } from '../host/write-file-atomic.js';
import type { Logger } from '../log/logger.js';
import type { TaskCommandAnswer } from '../control/task-routes.js';
import type { TaskCommandRequest } from '../policy/task-commands.js';
import type { SpawnOrder, TickResult } from '../policy/tick.js';
import type { WardenState } from '../state/types.js';
import { activePauseReasons } from '../state/pause-reasons.js';
import type { GhOptions, GhResult } from '../tasks/github.js';
import type { GithubIssue } from '../tasks/github-issue.js';
import type { GithubSettings } from '../tasks/github-source.js';
import type { Claims, FleetGauges, FleetHooks } from './claims.js';
import { CALL_TIMEOUT_MS, connectEtcd, delay, parseJson, prefixEnd, withTimeout, type FleetConfig } from './connect.js';
import { heartbeatPath, uptimeCs, writeHeartbeat } from './heartbeat.js';
import { SharedState, type SharedEntries } from './shared-pauses.js';
import { applyFleetHealth, applyFleetView, withClaims, type FleetClaim, type FleetView } from './merge.js';
import { SharedTasks } from './shared-tasks.js';
import { parseRecord, type FleetRecord } from './task-merge.js';
import { FleetPoller, type HeldLease } from './poller.js';
import { fleetTimings, watchdogProblem, type FleetTimings } from './timings.js';

/** One read of the prefix: the fleet's records and claims, the shared entries, and the revision it was read at. */
type NodeView = FleetView & { shared: SharedEntries; rev: string };

export interface FleetNodeDeps extends FleetHooks {
  config: FleetConfig;
  stateDir: string;
  log: Logger;
  now: () => number;
  version: string;
  /** The monotonic clock (ms); tests may replace it. */
  mono?: () => number;
}

export class FleetNode implements Claims {
  private client: Etcd3 | null = null;
  private readonly t: FleetTimings;
  private readonly mono: () => number;
  private lease: string | null = null;
  /** Monotonic time at which the last renewal that succeeded was sent. */
  private renewedAt: number | null = null;
  private problem: string | null = 'no lease yet';
  private readError: string | null = null;
  private renewTimer: NodeJS.Timeout | null = null;
  private fenceTimer: NodeJS.Timeout | null = null;
  private stopped = false;
  /** `<prefix>nodes/<node>` as last written (warden fleet status), and the fleet seen at the last read (metrics). */
  private announced: string | null = null;
  private leaseSince = 0;
  private seen: { nodes: number; claims: number } | null = null;
  private poller: FleetPoller | null = null;
  /** The fencing token of each claim this node holds. */
  private readonly tokens = new Map<string, string>();
  /** Tasks whose outcome is to be published with the claim's release, not yet done (retried at each tick). */
  private readonly unreleased = new Set<string>();
  private readonly inFlight = new Set<Promise<void>>();
  private flushing: Promise<void> = Promise.resolve();
  private readonly heartbeat: string;
  /** The breaker, the fleet-wide pauses and the spending, shared with the other nodes (shared-pauses.ts). */
  private readonly shared: SharedState;
  /** The fleet's task list: definitions, states and histories (shared-tasks.ts). */
  private readonly tasks: SharedTasks;
  /** The task records as last read: each is parsed once per mod revision. */
  private parsed = new Map<string, FleetRecord>();

  constructor(private readonly d: FleetNodeDeps) {
    this.t = fleetTimings(d.config.lease_ttl);
    this.mono = d.mono ?? (() => performance.now());
    this.heartbeat = heartbeatPath(d.stateDir);
    const [client, call] = [() => this.requireClient(), <T>(p: Promise<T>) => withTimeout(p)];
    const common = { hooks: d, client, prefix: d.config.prefix, node: d.config.node, log: d.log, now: d.now, call };
    this.shared = new SharedState(common);
    this.tasks = new SharedTasks({ ...common, stateDir: d.stateDir });
  }

  private key(kind: 'claims' | 'tasks' | 'nodes', id: string): Buffer {
    return Buffer.from(`${this.d.config.prefix}${kind}/${id}`);
  }

  private get leaseFile(): string {
    return join(this.d.stateDir, 'fleet-lease.json');
  }

  async start(): Promise<void> {
    ensureDirsUnder(this.d.stateDir, ['fleet'], 0o755); // the heartbeat's (heartbeat.ts)
    const c = this.d.config;
    this.client = await connectEtcd(c);
    // a lease that outlived a restart still holds this node's claims: keep it, and the workers adopted
    const saved = readSavedLease(this.leaseFile, c.node);
    if (saved !== null) {
      const sentAt = this.mono();
      const up = uptimeCs();
      const ttl = await this.keepalive(saved).catch(() => 0);
      if (ttl > 0) {
        [this.lease, this.leaseSince] = [saved, this.d.now()];
        this.renewed(sentAt, up);
        this.d.log.info('fleet: kept the lease of the previous run; its claims still hold', { node: c.node, lease: saved });
      } else this.d.log.warn('fleet: the lease of the previous run has expired; its claims are gone', { node: c.node });
    }
    if (this.lease === null) await this.renew();
    else this.schedule(this.t.renewEvery);
  }

  /** One keepalive; resolves with the TTL etcd reports (0: the lease is gone). */
  private async keepalive(lease: string): Promise<number> {
    const client = this.requireClient();
    const res = await withTimeout(
      (async () => {
        const stream = await client.leaseClient.leaseKeepAlive({ deadline: new Date(Date.now() + CALL_TIMEOUT_MS) });
        return await new Promise<{ TTL: string }>((resolve, reject) => {
          stream.on('data', (r: { TTL: string }) => {
            resolve(r);
            stream.end();
          });
          stream.on('error', reject);
          stream.write({ ID: lease });
        });
      })(),
    );
    return Number(res.TTL);
  }

  private requireClient(): Etcd3 {
    if (!this.client) throw new Error('fleet: not started');
    return this.client;
  }

  /** Renews the lease, or takes a new one when there is none; reschedules itself. */
  private async renew(): Promise<void> {
    if (this.stopped) return;
    const sentAt = this.mono();
    const up = uptimeCs();
    const lease = this.lease;
    try {
      if (lease === null) {
        const g = await withTimeout(this.requireClient().leaseClient.leaseGrant({ TTL: Math.ceil(this.d.config.lease_ttl / 1000) }));
        [this.lease, this.leaseSince, this.announced] = [g.ID, this.d.now(), null];
        writeFileAtomic(this.leaseFile, JSON.stringify({ node: this.d.config.node, lease: g.ID }) + '\n', 0o600);
        await this.announce();
        this.d.log.info('fleet: lease granted', { node: this.d.config.node, lease: g.ID, ttl_s: g.TTL });
        this.renewed(sentAt, up);
      } else if ((await this.keepalive(lease)) > 0) {
        if (this.lease === lease) this.renewed(sentAt, up); // else fenced meanwhile: a new lease comes next
      } else {
        this.lost('etcd says the lease has expired');
        this.schedule(0);
        return;
      }
      this.schedule(this.t.renewEvery);
    } catch (err) {
      if (this.problem === null) this.d.log.warn('fleet: lease renewal failed; retrying', { error: (err as Error).message });
      this.problem ??= `cannot renew the lease: ${(err as Error).message}`;
      this.schedule(this.t.retryEvery);
    }
  }

  private schedule(ms: number): void {
    if (this.stopped) return;
    if (this.renewTimer) clearTimeout(this.renewTimer);
    this.renewTimer = setTimeout(() => void this.renew(), ms);
  }

  private renewed(sentAt: number, sentUptimeCs: number): void {
    this.renewedAt = sentAt;
    // the workers' switch: dead by the time the lease could expire, less the margin (timings.ts)
    writeHeartbeat(this.heartbeat, sentUptimeCs + this.t.switchAfter / 10);
    if (this.fenceTimer) clearTimeout(this.fenceTimer);
    this.fenceTimer = setTimeout(() => this.checkFence(), Math.max(0, sentAt + this.t.fenceAfter - this.mono()));
    if (this.problem !== null) {
      this.problem = null;
      this.d.requestTick();
    }
  }

  /** On the monotonic clock, from the last renewal that succeeded: past fenceAfter, stop every worker. */
  private checkFence(): void {
    if (this.renewedAt !== null && this.mono() - this.renewedAt < this.t.fenceAfter) return;
    this.lost(`no lease renewal for ${Math.round((this.mono() - (this.renewedAt ?? 0)) / 1000)}s (etcd unreachable or no quorum)`);
  }

  /** Fences: no claims from now on, every worker stopped, the switch released at once. */
  private lost(why: string): void {
    this.d.log.error('fleet: fencing; stopping every worker of this node before its lease can expire', { reason: why });
    this.problem = why;
    this.lease = null;
    this.renewedAt = null;
    this.tokens.clear();
    this.unreleased.clear(); // the claims went with the lease; another node may run those tasks now
    writeHeartbeat(this.heartbeat, 0);
    this.d.workers.fence('all', Math.min(this.t.killGraceMax, this.d.config.lease_ttl));
    this.d.requestTick();
  }

  /** `<prefix>nodes/<node>`, on the lease: who is alive, with what version and pause reasons (warden fleet status). */
  private async announce(): Promise<void> {
    const [since, paused] = [this.leaseSince, activePauseReasons(this.d.state())];
    const value = JSON.stringify({ node: this.d.config.node, version: this.d.version, pid: process.pid, since, paused });
    if (value === this.announced || this.lease === null) return;
    await withTimeout(
      this.requireClient().kv.put({ key: this.key('nodes', this.d.config.node), value: Buffer.from(value), lease: this.lease }),
    );
    this.announced = value;
  }

  /** The lease while it is sound (renewed within 0.6 lease_ttl), lent to the GitHub poller. */
  private held(): HeldLease | null {
    if (this.client === null || this.lease === null || this.renewedAt === null || this.problem !== null) return null;
    const validMs = this.renewedAt + this.t.fenceAfter - this.mono();
    return validMs > 0 ? { client: this.client, lease: this.lease, validMs } : null;
  }

  issueSource(settings: GithubSettings, gh: GhOptions, onResult: (r: GhResult<GithubIssue[]>) => void): FleetPoller {
    const d = this.d;
    this.poller = new FleetPoller({ config: d.config, settings, gh, log: d.log, now: d.now, held: () => this.held(), onResult });
    return this.poller;
  }

  gauges(): FleetGauges {
    const here = this.lease === null ? 0 : this.tokens.size;
    return {
      leaseOk: this.held() !== null,
      claimsHere: here,
      claimsFleet: this.seen?.claims ?? null,
      nodes: this.seen?.nodes ?? null,
      poller: this.poller?.isPoller ?? false,
    };
  }

  private async readView(): Promise<NodeView> {
    const prefix = Buffer.from(this.d.config.prefix);
    const res = await withTimeout(this.requireClient().kv.range({ key: prefix, range_end: prefixEnd(prefix) }));
    const records = new Map<string, FleetRecord>();
    const claims = new Map<string, FleetClaim>();
    let nodes = 0;
    const shared = new Map<string, { value: Record<string, unknown>; rev: string }>();
    for (const kv of res.kvs) {
      const name = kv.key.toString().slice(this.d.config.prefix.length);
      const slash = name.indexOf('/');
      const [kind, id] = [name.slice(0, slash), name.slice(slash + 1)];
      if (kind === 'github') continue; // the published poll: the poller's (poller.ts), not parsed at each tick
      const known = kind === 'tasks' ? this.parsed.get(id) : undefined;
      if (known?.rev === kv.mod_revision) {
        records.set(id, known); // a task record is parsed once per revision
        continue;
      }
      const value = parseJson(kv);
      if (!value) continue;
      const rec = kind === 'tasks' ? parseRecord(value, kv.mod_revision) : null;
      if (rec) records.set(id, rec);
      if (kind === 'nodes') nodes++;
      if (kind === 'claims')
        claims.set(id, { node: String(value.node), attempt: Number(value.attempt), lease: kv.lease, rev: kv.create_revision });
      else if (kind !== 'tasks') shared.set(name, { value, rev: kv.mod_revision });
    }
    [this.seen, this.parsed] = [{ nodes, claims: claims.size }, records];
    return { records, claims, shared, rev: res.header.revision };
  }

  async plan(planner: (s: WardenState) => TickResult): Promise<TickResult> {
    const current = () => this.d.state();
    const commit = (next: WardenState, events: CoreEvent[]) => this.d.commit(next, events);
    await this.flushReleases();
    let view: NodeView | null = null;
    try {
      view = await this.readView();
      this.readError = null;
    } catch (err) {
      this.readError = `cannot read etcd: ${(err as Error).message}`;
    }
    const now = this.d.now();
    const recheckAt = now + this.t.renewEvery;
    if (view) {
      // the task list first (new tasks, commands and outcomes of other nodes), then the claims
      await this.tasks
        .sync(view.records)
        .catch((err: Error) => this.d.log.warn('fleet: could not sync the task list yet', { error: err.message }));
      const a = applyFleetView(current(), view, { node: this.d.config.node, lease: this.lease }, now, recheckAt);
      commit(a.state, []);
      if (a.lost.length > 0 && this.lease !== null) {
        this.d.log.warn('fleet: running tasks whose claim this node no longer holds; stopping their workers', { tasks: a.lost.join(',') });
        this.d.workers.fence(a.lost, Math.min(this.t.killGraceMax, this.d.config.lease_ttl));
      }
      for (const [id, c] of view.claims) if (c.lease === this.lease) this.tokens.set(id, c.rev);
      await this.dropStaleClaims(view, current());
      // the fleet's breaker, pauses and spending, before planning (a failed write is merged again next tick)
      await this.shared
        .sync(view.shared)
        .catch((err: Error) => this.d.log.warn('fleet: could not share the breaker or a pause yet', { error: err.message }));
    }
    const h = applyFleetHealth(current(), this.problem ?? this.readError, now);
    commit(h.state, h.events);
    await this.announce().catch(() => {}); // pause reasons changed: the next tick tries again
    for (let round = 0; round < 3; round++) {
      const before = current();
      const r = planner(before);
      if (r.spawns.length === 0) return r;
      const outcome = await this.claimAll(r.spawns, view);
      if (current() !== before) continue; // the state moved during the claims: plan again (our claims are re-used)
      const c = withClaims(before, r, outcome, recheckAt);
      // a refused task now waits: look again at once, for the next task in line, not a poll later
      if ([...outcome.values()].some((o) => 'refused' in o) && this.problem === null) this.d.requestTick();
      return { ...r, ...c, spawns: r.spawns.filter((o) => 'token' in (outcome.get(o.taskId) ?? {})) };
    }
    return {
      state: current(),
      events: [],
      spawns: [],
      wakeAt: now + this.t.retryEvery,
      heldBy: 'fleet: the state kept changing during claims',
    };
  }

  /** Claims each order in one transaction: create the claim on this lease only if nobody holds it and the record is as read. */
  private async claimAll(
    orders: readonly SpawnOrder[],
    view: NodeView | null,
  ): Promise<Map<string, { token: string } | { refused: string }>> {
    const out = new Map<string, { token: string } | { refused: string }>();
    const max = this.d.config.max_fleet_workers;
    let held = view ? [...view.claims.values()].filter((c) => c.lease !== this.lease).length + this.tokens.size : 0;
    // with a fleet-wide cap, a claim also needs the claims to be as counted: none made since (by any node)
    let countedAt = max !== null && view ? view.rev : null;
    for (const o of orders) {
      if (this.lease === null || view === null) {
        out.set(o.taskId, { refused: `not claimed: ${this.problem ?? this.readError ?? 'fleet unavailable'}` });
        continue;
      }
      if (max !== null && !this.tokens.has(o.taskId) && held >= max) {
        out.set(o.taskId, { refused: `at fleet.max_fleet_workers (${max})` });
        this.d.log.debug('fleet: claim refused', { task: o.taskId, reason: `max_fleet_workers (${max})` });
        continue;
      }
      try {
        const recordRev = this.tasks.rev(o.taskId);
        if (recordRev === undefined) {
          out.set(o.taskId, { refused: "not in the fleet's task list yet: it is published first" });
          continue;
        }
        const r = await this.claimOne(o, recordRev, countedAt);
        if ('token' in r) {
          if (countedAt !== null && BigInt(r.token) > BigInt(countedAt)) countedAt = r.token;
          if (!this.tokens.has(o.taskId)) held++;
          this.tokens.set(o.taskId, r.token);
        }
        out.set(o.taskId, r);
        if ('refused' in r) this.d.log.debug('fleet: claim refused', { task: o.taskId, reason: r.refused });
      } catch (err) {
        out.set(o.taskId, { refused: `claim failed: ${(err as Error).message}` });
        this.d.log.warn('fleet: claim failed', { task: o.taskId, error: (err as Error).message });
      }
    }
    return out;
  }

  private async claimOne(o: SpawnOrder, recordRev: string, countedAt: string | null): Promise<{ token: string } | { refused: string }> {
    const claimKey = this.key('claims', o.taskId);
    const value = Buffer.from(JSON.stringify({ node: this.d.config.node, attempt: o.attempt, at: this.d.now() }));
    const guards = this.shared.claimGuards(o.taskId, o.probe); // no fleet pause since read; one probe in the fleet
    const res = await withTimeout(
      this.requireClient().kv.txn({
        compare: [
          { key: claimKey, target: 'Create', result: 'Equal', create_revision: 0 },
          { key: this.key('tasks', o.taskId), target: 'Mod', result: 'Equal', mod_revision: recordRev },
          ...guards.compare,
          ...(countedAt === null ? [] : [this.noClaimSince(countedAt)]),
        ],
        success: [{ request_put: { key: claimKey, value, lease: this.lease ?? '0' } }, ...guards.success],
        failure: [{ request_range: { key: claimKey } }],
      }),
    );
    if (res.succeeded) {
      this.shared.claimed(o.taskId, o.probe);
      return { token: res.header.revision };
    }
    const existing = res.responses[0]?.response_range.kvs[0];
    if (!existing)
      return { refused: "the fleet's records (this task's, a pause, the breaker) changed since they were read; looking again" };
    if (existing.lease === this.lease) return { token: existing.create_revision }; // ours already (a plan done again)
    const holder = parseJson(existing)?.node;
    return { refused: `claimed by node ${typeof holder === 'string' ? holder : '?'}` };
  }

  /** No claim key created or changed after revision `rev` (a deleted one only lowers the count). */
  private noClaimSince(rev: string): ICompare {
    const from = this.key('claims', '');
    return { key: from, range_end: prefixEnd(from), target: 'Mod', result: 'Less', mod_revision: String(BigInt(rev) + 1n) };
  }

  /** Claims of this lease for tasks not running here (a crash between claim and local claim, a dropped claim): removed. */
  private async dropStaleClaims(view: FleetView, state: WardenState): Promise<void> {
    for (const [id, c] of view.claims) {
      // an ended attempt's claim goes with its outcome (flushReleases), not here
      if (c.lease !== this.lease || state.tasks[id]?.state === 'running' || this.unreleased.has(id)) continue;
      await this.guardedRelease(id, c.rev, false).catch(() => {});
    }
  }

  released(taskId: string, state: WardenState): void {
    const task = state.tasks[taskId];
    if (!task || task.state === 'running') return;
    this.unreleased.add(taskId);
    const p = this.flushReleases().finally(() => this.inFlight.delete(p));
    this.inFlight.add(p);
  }

  /** One flush at a time: a release is never sent twice, nor raced by the next tick's. */
  private flushReleases(): Promise<void> {
    this.flushing = this.flushing.then(() => this.flushOnce());
    return this.flushing;
  }

  private async flushOnce(): Promise<void> {
    for (const id of [...this.unreleased]) {
      const token = this.tokens.get(id);
      if (token === undefined || this.lease === null) {
        this.unreleased.delete(id);
        continue;
      }
      try {
        const ok = await this.guardedRelease(id, token, true);
        this.unreleased.delete(id);
        this.tokens.delete(id);
        if (!ok)
          this.d.log.warn('fleet: the claim was no longer ours; the outcome is published later, if the record is unchanged', { task: id });
      } catch (err) {
        this.d.log.warn('fleet: could not publish an outcome yet; retrying at the next tick', { task: id, error: (err as Error).message });
      }
    }
  }

  /**
   * Outcome and claim deletion in one transaction, only if the claim is still this lease's and this
   * revision, and the task's record is as this node knows it (a command elsewhere may have changed
   * it: then the outcome is merged onto the record as read, and sent again).
   */
  private async guardedRelease(taskId: string, token: string, publish: boolean): Promise<boolean> {
    const claimKey = this.key('claims', taskId);
    for (let round = 0; ; round++) {
      const rec = publish ? this.tasks.releaseRecord(taskId) : null;
      // a worker pause the outcome caused (auth_failed, usage_limit, budget) goes with it: no claim in between
      const pauses = publish ? this.shared.releaseOps() : { ops: [], published: new Map() };
      const res = await withTimeout(
        this.requireClient().kv.txn({
          compare: [
            { key: claimKey, target: 'Lease', result: 'Equal', lease: this.lease ?? '0' },
            { key: claimKey, target: 'Create', result: 'Equal', create_revision: token },
            ...(rec ? [rec.compare] : []),
          ],
          success: [...(rec ? [rec.put] : []), ...pauses.ops, { request_delete_range: { key: claimKey } }],
          failure: [{ request_range: { key: claimKey } }, { request_range: { key: this.key('tasks', taskId) } }],
        }),
      );
      if (res.succeeded) {
        this.shared.released(pauses.published, res.header.revision);
        if (rec) this.tasks.released(taskId, rec.value, res.header.revision);
        return true;
      }
      const claim = res.responses[0]?.response_range.kvs[0];
      if (!claim || claim.lease !== this.lease || claim.create_revision !== token) return false;
      if (!rec || round >= 4) throw new Error("the task's record kept changing");
      this.tasks.learn(taskId, res.responses[1]?.response_range.kvs[0] ?? null);
    }
  }

  taskCommand(
    id: string,
    req: TaskCommandRequest,
    local: () => TaskCommandAnswer | Promise<TaskCommandAnswer>,
  ): Promise<TaskCommandAnswer> {
    return this.tasks.command(id, req, local);
  }

  async operator(cmd: 'pause' | 'resume', node: string | null, local: () => unknown): Promise<unknown> {
    return this.shared.operator(cmd, node, local, async () => this.shared.sync((await this.readView()).shared));
  }

  async stop(keepWorkers: boolean): Promise<void> {
    await Promise.race([Promise.allSettled([...this.inFlight]), delay(CALL_TIMEOUT_MS)]);
    await this.flushReleases();
    this.stopped = true;
    if (this.renewTimer) clearTimeout(this.renewTimer);
    if (this.fenceTimer) clearTimeout(this.fenceTimer);
    // giving the lease back lets another node take this node's tasks at once, not after lease_ttl
    if (!keepWorkers && this.lease !== null)
      await withTimeout(this.requireClient().leaseClient.leaseRevoke({ ID: this.lease })).catch(() => {});
    this.client?.close();
  }
}

function readSavedLease(path: string, node: string): string | null {
  try {
    const v = JSON.parse(readOrNull(path, 'utf8') ?? 'null') as { node?: unknown; lease?: unknown } | null;
    return v && v.node === node && typeof v.lease === 'string' && /^\d+$/.test(v.lease) ? v.lease : null;
  } catch {
    return null;
  }
}

/** What `warden run` hands the supervisor when [fleet] is set; warns when lease_ttl cannot outlive a watchdog restart. */
export function fleetClaims(
  config: Config,
  log: Logger,
  version: string,
  env: NodeJS.ProcessEnv = process.env,
): (hooks: FleetHooks) => Claims {
  const fleet = config.fleet;
  if (!fleet) throw new Error('fleetClaims needs [fleet]');
  const watchdogUsec = Number(env.WATCHDOG_USEC);
  const problem = watchdogProblem(fleet.lease_ttl, Number.isFinite(watchdogUsec) && watchdogUsec > 0 ? watchdogUsec / 1000 : null);
  if (problem) log.warn(problem);
  log.info('fleet mode', {
    node: fleet.node,
    endpoints: fleet.endpoints.join(','),
    prefix: fleet.prefix,
    lease_ttl_s: fleet.lease_ttl / 1000,
  });
  return (hooks) => new FleetNode({ ...hooks, config: fleet, stateDir: config.supervisor.state_dir, log, now: Date.now, version });
}
