// `warden fleet status`: the fleet as etcd holds it, read directly with the config's [fleet] (it
// works on any node, whether or not its daemon runs). `readFleet` is the edge: one range read of
// the prefix and one TTL question per live lease. `fleetStatusFrom` turns what it read into the
// report, purely; src/cli/fleet.ts renders it.
import type { Etcd3 } from 'etcd3';
import { connectEtcd, prefixEnd, withTimeout, type FleetConfig } from './connect.js';
import { decodePublishedPoll, pollerKey, publishedPollKey } from './poller.js';

/** One key as read. */
export interface RawKey {
  key: string;
  value: string;
  lease: string;
  createRevision: string;
}

export interface RawFleet {
  prefix: string;
  endpoints: string[];
  readAt: number;
  revision: string;
  kvs: RawKey[];
  /** Seconds left on each lease that some key is attached to (-1: expired). */
  leaseTtl: ReadonlyMap<string, number>;
}

export interface FleetNodeView {
  node: string;
  /** Its `nodes/` key exists: that lives only as long as the node's lease. */
  alive: boolean;
  lease: string | null;
  leaseTtlS: number | null;
  version: string | null;
  pid: number | null;
  since: number | null;
  paused: string[];
  /** The tasks it holds claims on: its workers. */
  workers: { task: string; attempt: number; token: string }[];
  /** For a node that is not alive: when it last published an outcome. */
  lastOutcomeAt: number | null;
}

export interface FleetStatus {
  prefix: string;
  endpoints: string[];
  readAt: number;
  revision: string;
  nodes: FleetNodeView[];
  claims: { task: string; node: string; attempt: number; token: string; at: number | null }[];
  poller: { node: string; since: number | null; lease: string } | null;
  lastPoll: { node: string; at: number; ok: boolean; issues: number | null; cause: string | null } | null;
  /** The shared task records by state (`tasks/`). */
  tasks: Record<string, number>;
  /** Every other shared key (the fleet-wide breaker and pauses, say), raw, shortened. */
  shared: { key: string; value: string }[];
}

const SHARED_VALUE_MAX = 200;

function json(value: string): Record<string, unknown> | null {
  try {
    const v: unknown = JSON.parse(value);
    return typeof v === 'object' && v !== null && !Array.isArray(v) ? (v as Record<string, unknown>) : null;
  } catch {
    return null;
  }
}

const str = (v: unknown): string | null => (typeof v === 'string' ? v : null);
const num = (v: unknown): number | null => (typeof v === 'number' && Number.isFinite(v) ? v : null);

/** The report from what was read. Pure. */
export function fleetStatusFrom(raw: RawFleet): FleetStatus {
  const nodes = new Map<string, FleetNodeView>();
  const nodeView = (name: string): FleetNodeView => {
    let n = nodes.get(name);
    if (!n) {
      n = {
        node: name,
        alive: false,
        lease: null,
        leaseTtlS: null,
        version: null,
        pid: null,
        since: null,
        paused: [],
        workers: [],
        lastOutcomeAt: null,
      };
      nodes.set(name, n);
    }
    return n;
  };
  const out: FleetStatus = {
    prefix: raw.prefix,
    endpoints: raw.endpoints,
    readAt: raw.readAt,
    revision: raw.revision,
    nodes: [],
    claims: [],
    poller: null,
    lastPoll: null,
    tasks: {},
    shared: [],
  };
  const outcomes = new Map<string, number>();
  for (const kv of raw.kvs) {
    const name = kv.key.slice(raw.prefix.length);
    const v = json(kv.value);
    const slash = name.indexOf('/');
    const [kind, id] = slash < 0 ? [name, ''] : [name.slice(0, slash), name.slice(slash + 1)];
    if (kind === 'nodes' && id && v) {
      const n = nodeView(id);
      Object.assign(n, {
        alive: true,
        lease: kv.lease,
        leaseTtlS: raw.leaseTtl.get(kv.lease) ?? null,
        version: str(v.version),
        pid: num(v.pid),
        since: num(v.since),
        paused: Array.isArray(v.paused) ? v.paused.filter((p): p is string => typeof p === 'string') : [],
      });
    } else if (kind === 'claims' && id && v) {
      const c = { task: id, node: str(v.node) ?? '?', attempt: num(v.attempt) ?? 0, token: kv.createRevision, at: num(v.at) };
      out.claims.push(c);
      nodeView(c.node).workers.push({ task: c.task, attempt: c.attempt, token: c.token });
    } else if (kind === 'tasks' && id && v) {
      const state = v.removed === true ? 'removed' : (str(v.state) ?? '?');
      out.tasks[state] = (out.tasks[state] ?? 0) + 1;
      const by = str(v.node);
      const at = num(v.updatedAt);
      if (by && at !== null) outcomes.set(by, Math.max(outcomes.get(by) ?? 0, at));
    } else if (kv.key === pollerKey(raw.prefix) && v) {
      out.poller = { node: str(v.node) ?? '?', since: num(v.since), lease: kv.lease };
    } else if (kv.key === publishedPollKey(raw.prefix)) {
      const p = decodePublishedPoll(v);
      if (p)
        out.lastPoll = {
          node: p.node,
          at: p.at,
          ok: p.result.ok,
          issues: p.result.ok ? p.result.value.length : null,
          cause: p.result.ok ? null : p.result.cause,
        };
    } else {
      const value = kv.value.length > SHARED_VALUE_MAX ? `${kv.value.slice(0, SHARED_VALUE_MAX)}...` : kv.value;
      out.shared.push({ key: name, value });
    }
  }
  // a node that is not alive is known from the outcomes it published
  for (const [by, at] of outcomes) if (!nodes.get(by)?.alive) nodeView(by).lastOutcomeAt = at;
  out.nodes = [...nodes.values()].sort((a, b) => (a.node < b.node ? -1 : a.node > b.node ? 1 : 0));
  out.claims.sort((a, b) => (a.task < b.task ? -1 : a.task > b.task ? 1 : 0));
  return out;
}

/** Reads the prefix and the TTL of every lease a key hangs on. Throws when etcd does not answer. */
export async function readFleet(config: FleetConfig, now: () => number = Date.now): Promise<RawFleet> {
  const client: Etcd3 = await connectEtcd(config);
  try {
    const prefix = Buffer.from(config.prefix);
    const res = await withTimeout(client.kv.range({ key: prefix, range_end: prefixEnd(prefix) }));
    const kvs: RawKey[] = res.kvs.map((kv) => ({
      key: kv.key.toString(),
      value: kv.value.toString(),
      lease: kv.lease,
      createRevision: kv.create_revision,
    }));
    const leaseTtl = new Map<string, number>();
    for (const lease of new Set(kvs.map((k) => k.lease).filter((l) => l !== '0'))) {
      const t = await withTimeout(client.leaseClient.leaseTimeToLive({ ID: lease }));
      leaseTtl.set(lease, Number(t.TTL));
    }
    return { prefix: config.prefix, endpoints: config.endpoints, readAt: now(), revision: res.header.revision, kvs, leaseTtl };
  } finally {
    client.close();
  }
}
