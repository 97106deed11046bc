// ntfy (https://docs.ntfy.sh/publish/): one HTTP POST to the server plus topic, the message as the
// body and the rest in headers (Title, Priority 1-5, Tags as a comma list). An access token, if
// configured, goes in `Authorization: Bearer`; it is read from a file so that it never sits in the
// config, and it is never logged. HTTP headers carry Latin-1 only, so a title with other
// characters is sent as an RFC 2047 encoded word, which ntfy decodes.
import type { ClientRequest } from 'node:http';
import type { Alert } from './alert.js';
import type { AlertChannel } from './dispatcher.js';
import type { DeliveryResult } from './policy.js';

export function encodeHeaderValue(text: string): string {
  const flat = text.replace(/[\r\n]+/g, ' ');
  // printable ASCII passes as it is; anything else as =?UTF-8?B?...?=
  return /^[\x20-\x7e]*$/.test(flat) ? flat : `=?UTF-8?B?${Buffer.from(flat, 'utf8').toString('base64')}?=`;
}

export class NtfyChannel implements AlertChannel {
  readonly name = 'ntfy';

  /** `token` is the access token itself (read from ntfy_token_file), or null. */
  constructor(
    private readonly url: string,
    private readonly token: string | null,
  ) {}

  // node:http(s), not fetch: fetch loads undici on first use (~5 MB RSS, ~100 ms), which a daemon
  // capped at 256 MB on a Pi pays for one small POST now and then
  async send(alert: Alert, signal: AbortSignal): Promise<DeliveryResult> {
    const body = Buffer.from(alert.message, 'utf8');
    const headers: Record<string, string | number> = {
      'Content-Type': 'text/plain; charset=utf-8',
      'Content-Length': body.length,
      Title: encodeHeaderValue(alert.title),
      Priority: String(alert.priority),
      Tags: alert.tags.map(encodeHeaderValue).join(','),
    };
    if (this.token) headers.Authorization = `Bearer ${this.token}`;
    const url = new URL(this.url);
    // https only when asked for: every CLI command would otherwise load TLS at start
    const { request } = url.protocol === 'https:' ? await import('node:https') : await import('node:http');
    return new Promise((resolve) => {
      const fail = (why: string, retry = true) => resolve({ ok: false, retry, error: `POST ${this.where()}: ${why}` });
      let req: ClientRequest;
      try {
        req = request(url, { method: 'POST', headers, signal }, (res) => {
          let text = '';
          res.setEncoding('utf8');
          res.on('data', (chunk: string) => {
            if (text.length < 200) text += chunk;
          });
          res.on('error', (err) => fail(err.message));
          res.on('end', () => {
            const code = res.statusCode ?? 0;
            if (code >= 200 && code < 300) return resolve({ ok: true, detail: `HTTP ${code}` });
            // 429 (rate limited) and 5xx may pass; any other answer (bad token, bad topic, a redirect) will not
            const snippet = text.trim().slice(0, 200);
            fail(`HTTP ${code}${snippet ? ` ${snippet}` : ''}`, code === 429 || code >= 500);
          });
        });
      } catch (err) {
        return fail((err as Error).message, false); // e.g. an invalid header: retrying cannot help
      }
      req.on('error', (err: NodeJS.ErrnoException) => fail(err.name === 'AbortError' ? 'timed out' : (err.code ?? err.message)));
      req.end(body);
    });
  }

  /** The URL for logs: no user info, in case someone put credentials there. */
  private where(): string {
    try {
      const u = new URL(this.url);
      u.username = '';
      u.password = '';
      return u.toString();
    } catch {
      return '(ntfy_url)';
    }
  }
}
