// The CLI side of the control socket.
import { request } from 'node:http';

export class DaemonUnreachable extends Error {}

/** Nothing listens on the socket (no file, or refused): the daemon is not running, as opposed to unreachable. */
export class DaemonNotRunning extends DaemonUnreachable {}

/** The daemon answered with an error (HTTP 4xx or 5xx); `status` tells a refusal (409) from a fault. */
export class DaemonError extends Error {
  constructor(
    message: string,
    readonly status: number,
  ) {
    super(message);
  }
}

export function callDaemon<T = unknown>(socketPath: string, method: 'GET' | 'POST', path: string, timeoutMs = 5000): Promise<T> {
  return new Promise((resolve, reject) => {
    const req = request({ socketPath, method, path, timeout: timeoutMs }, (res) => {
      const chunks: Buffer[] = [];
      res.on('data', (c: Buffer) => chunks.push(c));
      res.on('end', () => {
        const text = Buffer.concat(chunks).toString('utf8');
        try {
          const body = JSON.parse(text) as T & { error?: string };
          if ((res.statusCode ?? 500) >= 400) reject(new DaemonError(body.error ?? `HTTP ${res.statusCode}`, res.statusCode ?? 500));
          else resolve(body);
        } catch {
          reject(new Error(`unexpected answer from the daemon: ${text.slice(0, 200)}`));
        }
      });
    });
    req.on('timeout', () => req.destroy(new DaemonUnreachable(`the daemon did not answer on ${socketPath} within ${timeoutMs} ms`)));
    req.on('error', (err: NodeJS.ErrnoException) => {
      if (err instanceof DaemonUnreachable) return reject(err);
      if (err.code === 'ENOENT' || err.code === 'ECONNREFUSED')
        reject(new DaemonNotRunning(`warden is not running (no daemon on ${socketPath})`));
      else if (err.code === 'EACCES')
        reject(new DaemonUnreachable(`permission denied on ${socketPath} (run as root or a member of the socket's group)`));
      else reject(new DaemonUnreachable(`cannot reach the daemon on ${socketPath}: ${err.message}`));
    });
    req.end();
  });
}

/** Another daemon already answers on the control socket: it owns the state directory. Here, not in the
 * server, so that the CLI can recognise it without loading the server (terminus, node:http server). */
export class DaemonAlreadyRunning extends Error {}
