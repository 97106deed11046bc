// A real HTTP server on loopback that speaks ntfy's publish API (POST /<topic>, the message as the
// body, Title/Priority/Tags headers; it answers with the message as JSON, as ntfy does). It records
// every request, and can be told to answer 500 or to hang, to test warden's retries.
import { createServer, type IncomingHttpHeaders, type Server } from 'node:http';
import type { Socket } from 'node:net';

export interface Published {
  method: string;
  path: string;
  headers: IncomingHttpHeaders;
  body: string;
  /** When the request arrived (ms since the epoch). */
  at: number;
}

export type ReceiverMode = 'ok' | 'error500' | 'hang';

export interface NtfyReceiver {
  port: number;
  url(topic: string): string;
  requests: Published[];
  mode: ReceiverMode;
  close(): Promise<void>;
}

/** The Title header as ntfy reads it: an RFC 2047 encoded word is decoded. */
export function decodeTitle(value: string | string[] | undefined): string {
  const v = Array.isArray(value) ? (value[0] ?? '') : (value ?? '');
  const m = /^=\?UTF-8\?B\?(.*)\?=$/i.exec(v);
  return m ? Buffer.from(m[1]!, 'base64').toString('utf8') : v;
}

export async function startNtfyReceiver(mode: ReceiverMode = 'ok'): Promise<NtfyReceiver> {
  const sockets = new Set<Socket>();
  const r: NtfyReceiver = { port: 0, url: (topic) => `http://127.0.0.1:${r.port}/${topic}`, requests: [], mode, close: async () => {} };
  let id = 0;
  const server: Server = createServer((req, res) => {
    const at = Date.now(); // when the request's headers arrived
    let body = '';
    req.on('data', (d: Buffer) => (body += d.toString('utf8')));
    req.on('end', () => {
      r.requests.push({ method: req.method ?? '', path: req.url ?? '', headers: req.headers, body, at });
      if (r.mode === 'hang') return; // never answers
      if (r.mode === 'error500') {
        res.writeHead(500, { 'content-type': 'application/json' });
        res.end('{"code":50001,"http":500,"error":"internal server error"}\n');
        return;
      }
      const topic = (req.url ?? '/').slice(1);
      res.writeHead(200, { 'content-type': 'application/json' });
      res.end(
        JSON.stringify({
          id: `msg${++id}`,
          time: Math.floor(Date.now() / 1000),
          event: 'message',
          topic,
          message: body,
          title: decodeTitle(req.headers.title),
          priority: Number(req.headers.priority ?? 3),
          tags: String(req.headers.tags ?? '')
            .split(',')
            .filter(Boolean),
        }) + '\n',
      );
    });
  });
  server.on('connection', (s) => {
    sockets.add(s);
    s.on('close', () => sockets.delete(s));
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', () => resolve()));
  r.port = (server.address() as { port: number }).port;
  r.close = () =>
    new Promise<void>((resolve) => {
      for (const s of sockets) s.destroy();
      server.close(() => resolve());
    });
  return r;
}
