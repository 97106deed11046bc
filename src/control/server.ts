// The daemon's local control endpoint: HTTP on a unix socket (mode 0660). The CLI's status, tasks,
// pause and resume talk to it. Only the daemon writes the state file, so pause and resume go
// through here rather than editing state behind its back.
import { chmodSync, mkdirSync, rmSync } from 'node:fs';
import { createServer, type IncomingMessage, type Server, type ServerResponse } from 'node:http';
import { connect } from 'node:net';
import { dirname } from 'node:path';

export interface ControlHandlers {
  status(): unknown;
  tasks(): unknown;
  pause(): unknown;
  resume(): unknown;
}

/** Another daemon already answers on the control socket: it owns the state directory. */
export class DaemonAlreadyRunning extends Error {}

export async function startControlServer(socketPath: string, h: ControlHandlers): Promise<Server> {
  mkdirSync(dirname(socketPath), { recursive: true });
  if (await socketAnswers(socketPath)) {
    throw new DaemonAlreadyRunning(`another warden daemon is already running on ${socketPath}`);
  }
  rmSync(socketPath, { force: true }); // a stale socket from a crashed daemon
  const server = createServer((req, res) => route(req, res, h));
  await new Promise<void>((resolve, reject) => {
    server.once('error', reject);
    server.listen(socketPath, () => resolve());
  });
  chmodSync(socketPath, 0o660);
  return server;
}

function route(req: IncomingMessage, res: ServerResponse, h: ControlHandlers): void {
  const send = (code: number, body: unknown) => {
    res.writeHead(code, { 'content-type': 'application/json' });
    res.end(JSON.stringify(body) + '\n');
  };
  try {
    const key = `${req.method} ${req.url}`;
    switch (key) {
      case 'GET /healthz':
        return send(200, { ok: true });
      case 'GET /status':
        return send(200, h.status());
      case 'GET /tasks':
        return send(200, h.tasks());
      case 'POST /pause':
        return send(200, h.pause());
      case 'POST /resume':
        return send(200, h.resume());
      default:
        return send(404, { error: `no route ${key}` });
    }
  } catch (err) {
    send(500, { error: (err as Error).message });
  }
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
