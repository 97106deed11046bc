// ntfy (https://docs.ntfy.sh/publish/): one HTTP POST to the server plus topic, the message as the
// body and the rest in headers (Title, Priority 1-5, Tags as a comma list). An access token, if
// configured, goes in `Authorization: Bearer`; it is read from a file so that it never sits in the
// config, and it is never logged. HTTP headers carry Latin-1 only, so a title with other
// characters is sent as an RFC 2047 encoded word, which ntfy decodes.
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

  async send(alert: Alert, signal: AbortSignal): Promise<DeliveryResult> {
    const headers: Record<string, string> = {
      'Content-Type': 'text/plain; charset=utf-8',
      Title: encodeHeaderValue(alert.title),
      Priority: String(alert.priority),
      Tags: alert.tags.map(encodeHeaderValue).join(','),
    };
    if (this.token) headers.Authorization = `Bearer ${this.token}`;
    let res: Response;
    try {
      res = await fetch(this.url, { method: 'POST', headers, body: alert.message, signal, redirect: 'error' });
    } catch (err) {
      const e = err as Error & { cause?: { code?: string; message?: string } };
      const why = e.name === 'TimeoutError' || e.name === 'AbortError' ? 'timed out' : (e.cause?.code ?? e.cause?.message ?? e.message);
      return { ok: false, retry: true, error: `POST ${this.where()}: ${why}` };
    }
    const body = (await res.text().catch(() => '')).trim().slice(0, 200);
    if (res.ok) return { ok: true, detail: `HTTP ${res.status}` };
    // 429 (rate limited) and 5xx may pass; any other 4xx (bad token, bad topic) will not
    const retry = res.status === 429 || res.status >= 500;
    return { ok: false, retry, error: `POST ${this.where()}: HTTP ${res.status}${body ? ` ${body}` : ''}` };
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
