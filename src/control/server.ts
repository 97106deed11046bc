// The daemon's health and control API: one Node http.Server, listening on a unix socket (mode 0660,
// optionally handed to [control] group) and, if [control] port is set, on a loopback TCP port.
// @godaddy/terminus serves GET /healthz and /readyz and owns SIGTERM/SIGINT, so there is one
// shutdown path:
//
//   signal -> /healthz and /readyz answer 503 -> the supervisor's shutdown (stop admitting, stop the
//   workers, save the state) -> the listeners close, in-flight requests get CLOSE_GRACE_MS ->
//   the socket file is removed -> exit 0 (exit 1 if any step failed)
//
// terminus's defaults do not fit a daemon that stops workers: it re-sends the signal after its
// hooks (the process would die by SIGTERM instead of exiting 0) and gives requests only 1000 ms.
// Both are set here. The TCP port is read-only: the unix socket's file mode is the only access
// control there is, and a TCP port on loopback is open to every local user.
import { chmodSync, chownSync, mkdirSync, rmSync } from 'node:fs';
import { createServer, type IncomingMessage, type ServerResponse } from 'node:http';
import { connect, createServer as createTcpServer, type Server as TcpServer, type Socket } from 'node:net';
import { dirname } from 'node:path';
import { ConfigError } from '../config/load.js';
import { lookupGroupId } from '../host/users.js';
import type { Logger } from '../log/logger.js';
import type { ReloadResult } from '../supervisor/config-reload.js';
import { DaemonAlreadyRunning } from './client.js';
import { routeTask, type TaskCommandHandler } from './task-routes.js';

export interface ControlHandlers {
  status(): unknown;
  tasks(): unknown;
  /** `node`: only that node of a fleet (`?node=N`); null: this warden, and in a fleet every node. */
  pause(node: string | null): unknown;
  resume(node: string | null): unknown;
  /** Re-read the config file; the result, with the problem lines of a rejected one. */
  reloadConfig(): ReloadResult;
  /** Prometheus text. */
  metrics(): string;
  /** null when alive (the supervisor loop is turning), else why not. */
  liveness(): string | null;
  /** null when ready (started, not paused), else why not. */
  readiness(): string | null;
  /** `warden task show|retry|cancel|remove|priority`: GET /tasks/<id>, POST /tasks/<id>/<command> (task-routes.ts). */
  readonly taskCommands: TaskCommandHandler;
}

export interface ControlOptions {
  socket: string;
  /** Group that may use the socket (mode 0660); null keeps the daemon's own group. */
  group: string | null;
  /** Loopback TCP port (read-only routes), or null. */
  port: number | null;
  address: string;
  configPath: string;
  log: Logger;
  handlers: ControlHandlers;
  /** GET /history[?hours=N]: host points and events since `since` (src/history/). */
  history?: (since: number) => unknown;
  /** The daemon's shutdown, run once on SIGTERM or SIGINT before the listeners close. */
  onSignal(signal: NodeJS.Signals): Promise<void>;
}

/** How long in-flight control requests may take once the listeners are closing (terminus `timeout`). */
export const CLOSE_GRACE_MS = 5000;

export const SHUTDOWN_SIGNALS: readonly NodeJS.Signals[] = ['SIGTERM', 'SIGINT'];

export interface ControlServer {
  /** The TCP port actually bound (useful with port 0 in tests), or null. */
  readonly tcpPort: number | null;
}

export async function startControlServer(o: ControlOptions): Promise<ControlServer> {
  const { log, handlers: h } = o;
  // a socket or port that cannot be used is one line naming the key, never a stack trace
  const cannot = (key: string, what: string, err: NodeJS.ErrnoException) =>
    new ConfigError([{ file: o.configPath, key, message: `cannot ${what}: ${err.code ?? err.message} (${err.message})` }]);
  try {
    mkdirSync(dirname(o.socket), { recursive: true });
  } catch (err) {
    throw cannot('control.socket', `create the directory of ${o.socket}`, err as NodeJS.ErrnoException);
  }
  if (await socketAnswers(o.socket)) {
    throw new DaemonAlreadyRunning(`another warden daemon is already running on ${o.socket}; not starting a second one`);
  }
  const gid = o.group === null ? null : lookupGroupId(o.group);
  if (o.group !== null && gid === null) {
    throw new ConfigError([
      {
        file: o.configPath,
        key: 'control.group',
        message: `no group named "${o.group}" in /etc/group (create it with groupadd, or remove the key)`,
      },
    ]);
  }
  rmSync(o.socket, { force: true }); // a stale socket from a crashed daemon

  // loaded here, not at the top: it pulls in node:https (~40 ms), which no CLI command needs
  const { createTerminus, HealthCheckError } = await import('@godaddy/terminus');
  const check = (why: string | null, what: string): Promise<void> =>
    why === null ? Promise.resolve() : Promise.reject(new HealthCheckError(what, { reason: why }));
  const tcpSockets = new WeakSet<Socket>();
  const server = createServer((req, res) => route(req, res, h, tcpSockets.has(req.socket), o.history));
  let received: NodeJS.Signals | null = null;
  // terminus hands its hooks no signal name; note the first one (listeners run in order)
  for (const sig of SHUTDOWN_SIGNALS) process.on(sig, () => (received ??= sig));
  let tcp: TcpServer | null = null;
  createTerminus(server, {
    signals: [...SHUTDOWN_SIGNALS],
    useExit0: true,
    timeout: CLOSE_GRACE_MS,
    sendFailuresDuringShutdown: true,
    healthChecks: {
      '/healthz': async () => check(h.liveness(), 'not alive'),
      '/readyz': async () => check(h.readiness(), 'not ready'),
    },
    beforeShutdown: () => o.onSignal(received ?? 'SIGTERM'),
    onSignal: async () => {
      if (tcp) await new Promise<void>((resolve) => tcp!.close(() => resolve()));
      rmSync(o.socket, { force: true });
    },
    onShutdown: async () => log.info('control socket closed; warden exits'),
    logger: (msg, err) => log.error(`control: ${msg}`, { error: err?.message }),
  });

  await new Promise<void>((resolve, reject) => {
    const failed = (err: NodeJS.ErrnoException) =>
      reject(
        // only another daemon (on another state_dir, with the same socket) binds it between our rm and listen
        err.code === 'EADDRINUSE'
          ? new DaemonAlreadyRunning(`another warden daemon is already listening on ${o.socket}; not starting a second one`)
          : cannot('control.socket', `listen on ${o.socket}`, err),
      );
    server.once('error', failed);
    server.listen(o.socket, () => {
      server.off('error', failed);
      resolve();
    });
  });
  // the mode and group are the socket's whole access control
  if (gid !== null) {
    try {
      chownSync(o.socket, -1, gid);
    } catch (err) {
      server.close();
      throw new ConfigError([
        {
          file: o.configPath,
          key: 'control.group',
          message: `cannot give ${o.socket} to group "${o.group}": ${(err as NodeJS.ErrnoException).code} (run warden as root, or as a member of that group)`,
        },
      ]);
    }
  }
  chmodSync(o.socket, 0o660);

  let tcpPort: number | null = null;
  if (o.port !== null) {
    const t = createTcpServer((sock) => {
      tcpSockets.add(sock);
      server.emit('connection', sock); // one http.Server, so terminus and its shutdown cover both
    });
    await new Promise<void>((resolve, reject) => {
      t.once('error', (err: NodeJS.ErrnoException) => {
        server.close();
        reject(cannot('control.port', `listen on ${o.address}:${o.port}`, err));
      });
      t.listen({ host: o.address, port: o.port }, () => resolve());
    });
    tcp = t;
    const addr = t.address();
    tcpPort = addr && typeof addr === 'object' ? addr.port : o.port;
    log.info('control API also on loopback TCP (read-only)', { address: o.address, port: tcpPort });
  }
  return { tcpPort };
}

function route(
  req: IncomingMessage,
  res: ServerResponse,
  h: ControlHandlers,
  overTcp: boolean,
  history?: (since: number) => unknown,
): void {
  const send = (code: number, body: unknown) => {
    res.writeHead(code, { 'content-type': 'application/json' });
    res.end(JSON.stringify(body) + '\n');
  };
  try {
    const key = `${req.method} ${req.url}`;
    if (overTcp && req.method !== 'GET') {
      return send(403, { error: `${key} is only accepted on the unix socket: the TCP port is read-only` });
    }
    if (history && req.method === 'GET' && /^\/history(\?|$)/.test(req.url ?? '')) {
      const hours = historyHours(req.url ?? '');
      if (hours === null) return send(400, { error: 'hours must be a number from 0.1 to 168' });
      return send(200, history(Date.now() - hours * 3_600_000));
    }
    const perTask = routeTask(req.method ?? '', req.url ?? '', h.taskCommands);
    if (perTask)
      return void perTask.then(
        (a) => send(a.status, a.body),
        (err: Error) => send(500, { error: err.message }),
      );
    // POST /pause, /resume; `?node=N` for one node of a fleet (a refusal carries its status: 400, 503)
    const op = req.method === 'POST' ? /^\/(pause|resume)(?:\?node=([A-Za-z0-9._-]{1,63}))?$/.exec(req.url ?? '') : null;
    if (op)
      return void Promise.resolve(op[1] === 'pause' ? h.pause(op[2] ?? null) : h.resume(op[2] ?? null)).then(
        (a) => send(200, a),
        (err: Error & { status?: number }) => send(err.status ?? 500, { error: err.message }),
      );
    switch (key) {
      case 'GET /status':
        return send(200, h.status());
      case 'GET /tasks':
        return send(200, h.tasks());
      case 'GET /metrics':
        res.writeHead(200, { 'content-type': 'text/plain; version=0.0.4; charset=utf-8' });
        res.end(h.metrics());
        return;
      case 'POST /reload': {
        const result = h.reloadConfig();
        return send(result.reloaded ? 200 : 422, result);
      }
      default:
        return send(404, { error: `no route ${key}` });
    }
  } catch (err) {
    send(500, { error: (err as Error).message });
  }
}

/** `?hours=N` of GET /history (default 24, at most a week); null when it is not a number in range. */
export function historyHours(url: string): number | null {
  const raw = new URL(url, 'http://warden').searchParams.get('hours');
  if (raw === null) return 24;
  const n = Number(raw);
  return raw.trim() !== '' && Number.isFinite(n) && n >= 0.1 && n <= 168 ? n : null;
}

export function socketAnswers(socketPath: string, timeoutMs = 1000): Promise<boolean> {
  return new Promise((resolve) => {
    const s = connect(socketPath);
    const done = (v: boolean) => {
      s.destroy();
      resolve(v);
    };
    s.setTimeout(timeoutMs, () => done(false));
    s.once('connect', () => done(true));
    s.once('error', () => done(false));
  });
}
