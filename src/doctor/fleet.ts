// `warden doctor` with [fleet]: is etcd reachable, is this node's wall clock in step with etcd's,
// and does lease_ttl outlive a watchdog restart? Loaded only when [fleet] is set.
//
// The clock offset. etcd's gRPC answers carry no time, but its client port also serves HTTP
// (`/version`), and Go's HTTP server stamps every answer with a `Date` header, to the second. One
// answer would leave the offset uncertain by a whole second, so doctor asks repeatedly (every
// 20 ms, for at most 1.5 s) until the header's second changes: etcd's clock passed that second
// between the two answers, which pins the offset to about the spacing of two requests plus half a
// round trip. The offset matters for what the fleet shares as wall-clock times (a retry_wait's
// notBefore, the outcome's updatedAt); the fencing itself runs on monotonic clocks and leases, not
// wall clocks (docs/fleet.md). A Pi has no real-time clock: until NTP syncs after boot, its clock
// can be days off. Warn above 1 s.
import { request as httpRequest } from 'node:http';
import { request as httpsRequest } from 'node:https';
import { readFileSync } from 'node:fs';
import { performance } from 'node:perf_hooks';
import type { FleetConfig } from '../fleet/connect.js';
import { watchdogProblem } from '../fleet/timings.js';
import type { Check } from './check.js';
import { runShort } from './commands.js';

/** The watchdog of the shipped unit (systemd/warden.service), used when systemd cannot be asked. */
const SHIPPED_WATCHDOG_MS = 30_000;
const CLOCK_WARN_MS = 1000;
const SAMPLE_EVERY_MS = 20;
const SAMPLE_FOR_MS = 1500;

/** One answer: when it was asked and answered (local wall clock, ms) and its Date header (seconds). */
export interface DateSample {
  sentAt: number;
  receivedAt: number;
  dateS: number;
}

/**
 * etcd's clock minus this node's, from answers asked in sequence: the first pair whose Date
 * second differs brackets the moment etcd's clock reached the later second. Null without such a
 * pair (too few answers). Pure.
 */
export function clockOffset(samples: readonly DateSample[]): { offsetMs: number; uncertaintyMs: number } | null {
  for (let i = 1; i < samples.length; i++) {
    const [a, b] = [samples[i - 1]!, samples[i]!];
    if (b.dateS <= a.dateS) continue;
    // etcd stamped `a` before second b.dateS began and `b` after: that instant lies between the two
    // requests' sending of `a` and the answer to `b`
    const [lo, hi] = [a.sentAt, b.receivedAt];
    return { offsetMs: Math.round(b.dateS * 1000 - (lo + hi) / 2), uncertaintyMs: Math.round((hi - lo) / 2) };
  }
  return null;
}

/** `30s`, `1min 30s`, `500ms`, `0` (systemctl show's spans) in ms; null when unreadable or off. Pure. */
export function parseSystemdSpan(text: string): number | null {
  const units: Record<string, number> = { us: 0.001, ms: 1, s: 1000, min: 60_000, h: 3_600_000 };
  let total = 0;
  const parts = text.trim().split(/\s+/);
  for (const p of parts) {
    const m = /^(\d+(?:\.\d+)?)(us|ms|s|min|h)$/.exec(p);
    if (!m) return null;
    total += Number(m[1]) * units[m[2]!]!;
  }
  return total > 0 ? total : null;
}

function getDate(url: URL, f: FleetConfig): Promise<DateSample> {
  const tls = url.protocol === 'https:';
  const request = tls ? httpsRequest : httpRequest;
  return new Promise((resolve, reject) => {
    const sentAt = Date.now();
    const req = request(
      url,
      {
        method: 'GET',
        timeout: 2000,
        ...(tls && f.ca_file && { ca: readFileSync(f.ca_file) }),
        ...(tls && f.cert_file && f.key_file && { cert: readFileSync(f.cert_file), key: readFileSync(f.key_file) }),
      },
      (res) => {
        res.resume();
        const receivedAt = Date.now();
        const date = Date.parse(res.headers.date ?? '');
        if (Number.isNaN(date)) reject(new Error('no Date header in the answer'));
        else resolve({ sentAt, receivedAt, dateS: date / 1000 });
      },
    );
    req.on('timeout', () => req.destroy(new Error('no answer within 2 s')));
    req.on('error', reject);
    req.end();
  });
}

async function etcdCheck(f: FleetConfig): Promise<Check> {
  const { connectEtcd, withTimeout } = await import('../fleet/connect.js');
  const client = await connectEtcd(f);
  const t0 = performance.now();
  try {
    // a linearizable read: it needs a leader and a quorum, as a claim does
    const r = await withTimeout(client.kv.range({ key: Buffer.from(`${f.prefix}doctor-probe`) }));
    const ms = Math.round(performance.now() - t0);
    return {
      id: 'fleet-etcd',
      status: 'pass',
      summary: `etcd answers a quorum read in ${ms} ms (revision ${r.header.revision}; endpoints ${f.endpoints.join(', ')})`,
      data: { ms, revision: r.header.revision, endpoints: f.endpoints.join(',') },
    };
  } catch (err) {
    return {
      id: 'fleet-etcd',
      status: 'fail',
      summary: `etcd does not answer a quorum read at ${f.endpoints.join(', ')}: ${(err as Error).message}`,
      fix: 'check the endpoints, the network and `ETCDCTL_API=3 etcdctl endpoint health --cluster`; without etcd this node claims nothing (pause reason fleet)',
      data: { endpoints: f.endpoints.join(',') },
    };
  } finally {
    client.close();
  }
}

async function clockCheck(f: FleetConfig): Promise<Check> {
  const endpoint = f.endpoints[0]!;
  const url = new URL('/version', endpoint);
  const samples: DateSample[] = [];
  const until = Date.now() + SAMPLE_FOR_MS;
  try {
    while (Date.now() < until) {
      samples.push(await getDate(url, f));
      if (clockOffset(samples)) break;
      await new Promise((r) => setTimeout(r, SAMPLE_EVERY_MS));
    }
  } catch (err) {
    return { id: 'fleet-clock', status: 'warn', summary: `cannot read etcd's clock at ${url.href}: ${(err as Error).message}` };
  }
  const o = clockOffset(samples);
  if (!o) return { id: 'fleet-clock', status: 'warn', summary: `etcd's clock did not tick within ${SAMPLE_FOR_MS} ms of answers` };
  const data = { offset_ms: o.offsetMs, uncertainty_ms: o.uncertaintyMs, endpoint };
  const text = `this node's clock is ${Math.abs(o.offsetMs)} ms ${o.offsetMs > 0 ? 'behind' : 'ahead of'} etcd's at ${endpoint} (±${o.uncertaintyMs} ms)`;
  if (Math.abs(o.offsetMs) - o.uncertaintyMs <= CLOCK_WARN_MS) return { id: 'fleet-clock', status: 'pass', summary: text, data };
  return {
    id: 'fleet-clock',
    status: 'warn',
    summary: `${text}: retry times and outcome times shared with other nodes are off by as much`,
    fix: 'sync the clocks with NTP on every node and on the etcd hosts: sudo timedatectl set-ntp true (systemd-timesyncd)',
    data,
  };
}

async function watchdogCheck(f: FleetConfig, pid1: boolean): Promise<Check> {
  let watchdogMs: number | null = null;
  let source = `the shipped unit's WatchdogSec=${SHIPPED_WATCHDOG_MS / 1000}s`;
  if (pid1) {
    const r = await runShort('systemctl', ['show', '-p', 'WatchdogUSec', '--value', 'warden.service']);
    watchdogMs = r.code === 0 ? parseSystemdSpan(r.stdout) : null;
    if (watchdogMs !== null) source = `warden.service's WatchdogSec=${watchdogMs / 1000}s`;
  }
  const problem = watchdogProblem(f.lease_ttl, watchdogMs ?? SHIPPED_WATCHDOG_MS);
  const data = { lease_ttl_ms: f.lease_ttl, watchdog_ms: watchdogMs ?? SHIPPED_WATCHDOG_MS };
  if (problem === null)
    return {
      id: 'fleet-lease',
      status: 'pass',
      summary: `lease_ttl ${f.lease_ttl / 1000}s outlives ${source} plus the restart delay: a watchdog restart re-adopts the workers`,
      data,
    };
  return {
    id: 'fleet-lease',
    status: 'warn',
    summary: problem,
    fix: 'raise [fleet] lease_ttl (docs/fleet.md, "Restart within the lease")',
    data,
  };
}

export async function fleetChecks(f: FleetConfig, pid1: boolean): Promise<Check[]> {
  const etcd = await etcdCheck(f);
  const clock =
    etcd.status === 'fail'
      ? { id: 'fleet-clock', status: 'info' as const, summary: 'not measured: etcd does not answer' }
      : await clockCheck(f);
  return [etcd, clock, await watchdogCheck(f, pid1)];
}
