// The etcd client of a fleet node, built once from [fleet] (TLS, auth), and the small helpers every
// etcd caller shares: a deadline on each call, key ranges, JSON values. The daemon (node.ts), the
// poller (poller.ts), `warden fleet status` (status.ts) and `warden doctor` all connect through
// here. `etcd3` is imported on first use only: a warden without [fleet] never loads it.
import { readFileSync } from 'node:fs';
import type { Etcd3, IKeyValue } from 'etcd3';
import type { Config } from '../config/schema.js';

export type FleetConfig = NonNullable<Config['fleet']>;

/** An etcd call that has not answered by then has failed (the lease clock keeps running meanwhile). */
export const CALL_TIMEOUT_MS = 3000;

/** A client for the config's endpoints. Secrets are read here and handed to the client only; no log line carries them. */
export async function connectEtcd(c: FleetConfig): Promise<Etcd3> {
  const { Etcd3 } = await import('etcd3');
  return new Etcd3({
    hosts: c.endpoints,
    dialTimeout: CALL_TIMEOUT_MS,
    ...(c.ca_file && {
      credentials: {
        rootCertificate: readFileSync(c.ca_file),
        ...(c.cert_file && c.key_file && { certChain: readFileSync(c.cert_file), privateKey: readFileSync(c.key_file) }),
      },
    }),
    ...(c.username && c.password_file && { auth: { username: c.username, password: readFileSync(c.password_file, 'utf8').trim() } }),
  });
}

export function parseJson(kv: IKeyValue): Record<string, unknown> | null {
  try {
    const v: unknown = JSON.parse(kv.value.toString());
    return typeof v === 'object' && v !== null ? (v as Record<string, unknown>) : null;
  } catch {
    return null;
  }
}

/** The end of the key range holding every key that starts with `prefix`. */
export function prefixEnd(prefix: Buffer): Buffer {
  const end = Buffer.from(prefix);
  for (let i = end.length - 1; i >= 0; i--) {
    if (end[i]! < 0xff) {
      end[i]!++;
      return end.subarray(0, i + 1);
    }
  }
  return Buffer.from([0]);
}

export function delay(ms: number): Promise<void> {
  return new Promise((resolve) => setTimeout(resolve, ms).unref());
}

export async function withTimeout<T>(p: Promise<T>, ms = CALL_TIMEOUT_MS): Promise<T> {
  let timer: NodeJS.Timeout | undefined;
  const timeout = new Promise<never>((_, reject) => {
    timer = setTimeout(() => reject(new Error(`etcd did not answer within ${ms} ms`)), ms);
  });
  try {
    return await Promise.race([p, timeout]);
  } finally {
    clearTimeout(timer);
  }
}
