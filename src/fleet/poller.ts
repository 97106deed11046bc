// One GitHub poller for the whole fleet. With [source.github] and [fleet], the nodes elect one of
// them through a lease-bound key, `<prefix>poller`, created on the elected node's own lease (the
// one its claims hang on) only if no such key exists. Only that node runs `gh issue list`; it
// publishes each poll's result to `<prefix>github/poll`, and every node, the poller included,
// takes its tasks from that result exactly as a single warden takes them from its own poll
// (Intake.onGithubPoll: reconcile, prompts rendered locally from the shared issue). A node whose
// lease is not sound (no renewal for 0.6 lease_ttl) neither campaigns nor calls gh, and a gh call
// in flight is killed at that moment (its timeout), so two nodes never run gh at once: another
// node can take the key only once etcd has expired the first lease, at lease_ttl. Every node
// looks at the key every lease_ttl/10: a dead poller is replaced within lease_ttl/10 of its lease
// expiring, and the new poller polls at once. docs/fleet.md ("One GitHub poller").
import type { Etcd3 } from 'etcd3';
import { runOnSchedule, type ScheduledJob } from '../jobs/run-on-schedule.js';
import type { Logger } from '../log/logger.js';
import type { GithubSettings, IssueSource } from '../tasks/github-source.js';
import { listLabelledIssues, type GhOptions, type GhResult } from '../tasks/github.js';
import type { GithubIssue } from '../tasks/github-issue.js';
import { parseJson, withTimeout, type FleetConfig } from './connect.js';
import { fleetTimings } from './timings.js';

/** What a node lends the poller: its etcd client and lease, while the lease is sound. */
export interface HeldLease {
  client: Etcd3;
  lease: string;
  /** How long the lease stays sound (until the node would fence, 0.6 lease_ttl after its last renewal). */
  validMs: number;
}

/** `<prefix>github/poll`: the last poll's result, as the poller got it. */
export interface PublishedPoll {
  node: string;
  at: number;
  result: GhResult<GithubIssue[]>;
}

/** A gh call needs at least this much of the lease left; with less, it waits for the next renewal. */
const MIN_GH_WINDOW_MS = 1000;

export function pollerKey(prefix: string): string {
  return `${prefix}poller`;
}

export function publishedPollKey(prefix: string): string {
  return `${prefix}github/poll`;
}

/** A published poll read back, or null when the value is not one (never acted on). Pure. */
export function decodePublishedPoll(value: Record<string, unknown> | null): PublishedPoll | null {
  if (!value || typeof value.node !== 'string' || typeof value.at !== 'number') return null;
  const r = value.result as Record<string, unknown> | undefined;
  if (!r || typeof r !== 'object') return null;
  if (r.ok === true && Array.isArray(r.value)) return value as unknown as PublishedPoll;
  if (r.ok === false && typeof r.cause === 'string' && typeof r.message === 'string') return value as unknown as PublishedPoll;
  return null;
}

/** The gh timeout for a poll: the configured one, cut to what remains of the lease; null: too little left. Pure. */
export function ghWindow(configuredMs: number, validMs: number): number | null {
  const ms = Math.min(configuredMs, validMs);
  return ms >= MIN_GH_WINDOW_MS ? ms : null;
}

export interface FleetPollerDeps {
  config: FleetConfig;
  settings: GithubSettings;
  gh: GhOptions;
  log: Logger;
  now: () => number;
  held(): HeldLease | null;
  onResult(r: GhResult<GithubIssue[]>): void | Promise<void>;
  /** The gh calls (tests); default listLabelledIssues. */
  list?: typeof listLabelledIssues;
}

export class FleetPoller implements IssueSource {
  private electionTimer: NodeJS.Timeout | null = null;
  private job: ScheduledJob | null = null;
  private stopped = false;
  /** The lease this node holds the poller key on, or null when it is not the poller. */
  private pollerLease: string | null = null;
  private polling = false;
  /** The mod revision of the last published poll this node acted on. */
  private seenRev = 0n;
  private lastError: string | null = null;
  private readonly checkEvery: number;

  constructor(private readonly d: FleetPollerDeps) {
    this.checkEvery = fleetTimings(d.config.lease_ttl).retryEvery;
  }

  /** True while this node is the elected poller (metrics, status). */
  get isPoller(): boolean {
    return this.pollerLease !== null;
  }

  start(): void {
    void this.turn();
    this.job = runOnSchedule(this.d.settings.poll, () => this.pollIfElected(), this.d.log, 'github-poll');
  }

  stop(): void {
    this.stopped = true;
    this.job?.stop();
    if (this.electionTimer) clearTimeout(this.electionTimer);
  }

  /** Every lease_ttl/10: campaign, and take in a newer published poll. Polls at once when just elected. */
  private async turn(): Promise<void> {
    if (this.stopped) return;
    try {
      const wasPoller = this.isPoller;
      await this.campaign();
      if (this.isPoller && !wasPoller) await this.pollIfElected();
      else if (!this.isPoller) await this.takePublished();
      this.lastError = null;
    } catch (err) {
      const msg = (err as Error).message;
      if (this.lastError !== msg) this.d.log.warn('fleet: the GitHub poller election failed; trying again', { error: msg });
      this.lastError = msg;
      this.pollerLease = null;
    }
    if (!this.stopped) this.electionTimer = setTimeout(() => void this.turn(), this.checkEvery);
  }

  /** Creates `<prefix>poller` on this node's lease if nobody holds it; learns who does. */
  private async campaign(): Promise<void> {
    const h = this.d.held();
    if (h === null) {
      this.pollerLease = null;
      return;
    }
    const key = Buffer.from(pollerKey(this.d.config.prefix));
    const value = Buffer.from(JSON.stringify({ node: this.d.config.node, since: this.d.now() }));
    const res = await withTimeout(
      h.client.kv.txn({
        compare: [{ key, target: 'Create', result: 'Equal', create_revision: 0 }],
        success: [{ request_put: { key, value, lease: h.lease } }],
        failure: [{ request_range: { key } }],
      }),
    );
    const holder = res.succeeded ? h.lease : (res.responses[0]?.response_range.kvs[0]?.lease ?? null);
    const elected = holder === h.lease;
    if (elected && this.pollerLease === null)
      this.d.log.info('fleet: this node is the GitHub poller now', { node: this.d.config.node, lease: h.lease });
    if (!elected && this.pollerLease !== null)
      this.d.log.info('fleet: this node is no longer the GitHub poller', { node: this.d.config.node });
    this.pollerLease = elected ? h.lease : null;
  }

  /** The poll schedule (and a fresh election): only the elected node calls gh, and only while its lease is sound. */
  private async pollIfElected(): Promise<void> {
    if (this.polling || this.stopped) return;
    const h = this.d.held();
    if (h === null || this.pollerLease !== h.lease) return;
    const timeoutMs = ghWindow(this.d.gh.timeoutMs, h.validMs);
    if (timeoutMs === null) return;
    this.polling = true;
    try {
      const s = this.d.settings;
      const r = await (this.d.list ?? listLabelledIssues)(s.repo, s.label, s.limit, { ...this.d.gh, timeoutMs });
      if (this.stopped) return;
      await this.publish(h, r);
      await this.d.onResult(r);
    } finally {
      this.polling = false;
    }
  }

  /** Writes the result, only while the poller key is still on this lease; skips a write that changes nothing. */
  private async publish(h: HeldLease, result: GhResult<GithubIssue[]>): Promise<void> {
    const key = Buffer.from(publishedPollKey(this.d.config.prefix));
    const current = await withTimeout(h.client.kv.range({ key }));
    const kv = current.kvs[0];
    const before = kv ? decodePublishedPoll(parseJson(kv)) : null;
    if (before && JSON.stringify(before.result) === JSON.stringify(result)) {
      this.seenRev = BigInt(kv!.mod_revision);
      return; // the same issues as last time: no write (an SD card's etcd writes on every put)
    }
    const poller = Buffer.from(pollerKey(this.d.config.prefix));
    const value: PublishedPoll = { node: this.d.config.node, at: this.d.now(), result };
    const res = await withTimeout(
      h.client.kv.txn({
        compare: [{ key: poller, target: 'Lease', result: 'Equal', lease: h.lease }],
        success: [{ request_put: { key, value: Buffer.from(JSON.stringify(value)) } }],
        failure: [],
      }),
    );
    if (res.succeeded) this.seenRev = BigInt(res.header.revision);
    else this.pollerLease = null;
  }

  /** A node that is not the poller: acts on a published poll newer than the last one it acted on. */
  private async takePublished(): Promise<void> {
    const h = this.d.held();
    if (h === null) return; // no sound lease: no new tasks either (they could not be claimed)
    const key = Buffer.from(publishedPollKey(this.d.config.prefix));
    const res = await withTimeout(h.client.kv.range({ key, min_mod_revision: String(this.seenRev + 1n) }));
    const kv = res.kvs[0];
    if (!kv) return;
    this.seenRev = BigInt(kv.mod_revision);
    const p = decodePublishedPoll(parseJson(kv));
    if (p === null) {
      this.d.log.warn('fleet: the published GitHub poll is not readable; ignored', { key: key.toString() });
      return;
    }
    await this.d.onResult(p.result);
  }
}
