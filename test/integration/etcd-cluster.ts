// A real etcd cluster for the fleet tests: N members on loopback ports in a temporary directory
// (Debian's etcd-server), and a TCP proxy that a test can cut to partition one warden from etcd.
import { spawn, spawnSync, type ChildProcess } from 'node:child_process';
import { existsSync, mkdirSync } from 'node:fs';
import { createServer, connect, type Server, type Socket } from 'node:net';
import { join } from 'node:path';
import { after, before } from 'node:test';
import { measureSlowdown } from '../helpers/slowdown.ts';
import { waitFor } from '../helpers/wait.ts';
import { cleanupAll } from './harness.ts';

export const ETCD = ['/usr/bin/etcd', '/usr/local/bin/etcd'].find((p) => existsSync(p)) ?? null;
export const ETCDCTL = ['/usr/bin/etcdctl', '/usr/local/bin/etcdctl'].find((p) => existsSync(p)) ?? null;

/**
 * The fleet tests' lease_ttl in seconds: 5 on an idle machine, longer on a loaded one. A node
 * fences itself when no renewal succeeded for 0.6 of it; at load 12 a 5 s lease fenced a healthy
 * node (one renewal took over 1.3 s), and the task ran again: safe, but not the scenario tested.
 */
export const LEASE_TTL_S = Math.ceil(5 * measureSlowdown());

/**
 * A 3-member cluster for the tests of one describe block: started before them, stopped after them,
 * once every daemon and worker the file started is gone. Call it inside the describe; read the
 * cluster through the returned function.
 */
export function clusterForSuite(dir: () => string): () => EtcdCluster {
  let cluster: EtcdCluster | undefined;
  before(async () => {
    cluster = await EtcdCluster.start(dir());
  });
  after(async () => {
    await cleanupAll();
    cluster?.stop();
  });
  return () => {
    if (!cluster) throw new Error('the etcd cluster has not started');
    return cluster;
  };
}

/** Free loopback ports (bound once to port 0, then released). */
export async function freePorts(n: number): Promise<number[]> {
  const out: number[] = [];
  for (let i = 0; i < n; i++) {
    const s = createServer();
    await new Promise<void>((resolve) => s.listen(0, '127.0.0.1', resolve));
    out.push((s.address() as { port: number }).port);
    await new Promise<void>((resolve) => s.close(() => resolve()));
  }
  return out;
}

export interface Member {
  name: string;
  clientUrl: string;
  proc: ChildProcess | null;
}

export class EtcdCluster {
  readonly members: Member[] = [];
  private args = new Map<string, string[]>();

  static async start(dir: string, n = 3): Promise<EtcdCluster> {
    if (!ETCD) throw new Error('etcd is not installed (Debian: etcd-server)');
    const c = new EtcdCluster();
    const ports = await freePorts(2 * n);
    const names = Array.from({ length: n }, (_, i) => `e${i + 1}`);
    const peer = (i: number) => `http://127.0.0.1:${ports[2 * i + 1]}`;
    const initial = names.map((name, i) => `${name}=${peer(i)}`).join(',');
    names.forEach((name, i) => {
      const clientUrl = `http://127.0.0.1:${ports[2 * i]}`;
      const data = join(dir, name);
      mkdirSync(data, { recursive: true });
      c.args.set(name, [
        '--name', name, '--data-dir', data,
        '--listen-client-urls', clientUrl, '--advertise-client-urls', clientUrl,
        '--listen-peer-urls', peer(i), '--initial-advertise-peer-urls', peer(i),
        '--initial-cluster', initial, '--initial-cluster-state', 'new',
        // a quick election on loopback: heartbeats every 50 ms, a leader lost after 500 ms
        '--heartbeat-interval', '50', '--election-timeout', '500', '--log-level', 'error',
      ]); // prettier-ignore
      c.members.push({ name, clientUrl, proc: null });
    });
    for (const m of c.members) c.launch(m);
    await c.waitHealthy();
    return c;
  }

  private launch(m: Member): void {
    m.proc = spawn(ETCD as string, this.args.get(m.name) ?? [], { stdio: 'ignore' });
  }

  get endpoints(): string[] {
    return this.members.map((m) => m.clientUrl);
  }

  /** etcdctl against the running members. */
  ctl(args: string[], endpoints = this.running().map((m) => m.clientUrl)): { code: number; out: string } {
    const r = spawnSync(ETCDCTL as string, ['--endpoints', endpoints.join(','), '--command-timeout=2s', ...args], {
      env: { ...process.env, ETCDCTL_API: '3' },
      encoding: 'utf8',
      timeout: 10_000,
    });
    return { code: r.status ?? -1, out: `${r.stdout}${r.stderr}` };
  }

  running(): Member[] {
    return this.members.filter((m) => m.proc !== null);
  }

  async waitHealthy(timeoutMs = 30_000): Promise<void> {
    await waitFor('etcd has a leader and answers a linearizable read', () => this.ctl(['get', '/health-probe']).code === 0, timeoutMs, 200);
  }

  /** The member that is leader now. */
  leader(): Member {
    const r = this.ctl(['endpoint', 'status', '--write-out', 'json']);
    const list = JSON.parse(r.out.slice(r.out.indexOf('['))) as {
      Endpoint: string;
      Status: { header: { member_id: number }; leader: number };
    }[];
    const lead = list.find((s) => s.Status.header.member_id === s.Status.leader);
    const m = this.members.find((x) => x.clientUrl === lead?.Endpoint);
    if (!m) throw new Error(`no leader in ${r.out}`);
    return m;
  }

  kill9(m: Member): void {
    m.proc?.kill('SIGKILL');
    m.proc = null;
  }

  restart(m: Member): void {
    if (!m.proc) this.launch(m);
  }

  stop(): void {
    for (const m of this.members) this.kill9(m);
  }
}

/** A TCP proxy on a loopback port to `target`; `cut()` drops every connection and refuses new ones until `restore()`. */
export class CuttableProxy {
  private readonly sockets = new Set<Socket>();
  private cutNow = false;
  private constructor(
    private readonly server: Server,
    readonly port: number,
  ) {}

  static async start(targetPort: number): Promise<CuttableProxy> {
    let proxy: CuttableProxy | null = null;
    const server = createServer((client) => {
      if (!proxy || proxy.cutNow) {
        client.destroy();
        return;
      }
      const upstream = connect(targetPort, '127.0.0.1');
      for (const s of [client, upstream]) {
        proxy.sockets.add(s);
        s.on('close', () => proxy?.sockets.delete(s));
        s.on('error', () => {});
      }
      client.pipe(upstream).pipe(client);
    });
    await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
    proxy = new CuttableProxy(server, (server.address() as { port: number }).port);
    return proxy;
  }

  cut(): void {
    this.cutNow = true;
    for (const s of this.sockets) s.destroy();
  }

  restore(): void {
    this.cutNow = false;
  }

  close(): void {
    this.cut();
    this.server.close();
  }
}
