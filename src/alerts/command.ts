// A generic hook: runs [alerts] command (an argv, no shell) with the alert as one JSON document on
// stdin. Exit 0 is a delivery; anything else is retried like any failed delivery.
import { spawn } from 'node:child_process';
import type { Alert } from './alert.js';
import type { AlertChannel } from './dispatcher.js';
import type { DeliveryResult } from './policy.js';

/** The document on the hook's stdin. `at` is ISO 8601 as well as epoch ms, for shell scripts. */
export function alertDocument(alert: Alert): string {
  return JSON.stringify({ ...alert, atIso: new Date(alert.at).toISOString() }) + '\n';
}

export class CommandChannel implements AlertChannel {
  readonly name = 'command';

  constructor(private readonly argv: string[]) {}

  send(alert: Alert, signal: AbortSignal): Promise<DeliveryResult> {
    const [program, ...args] = this.argv;
    if (!program) return Promise.resolve({ ok: false, retry: false, error: 'alerts.command is empty' });
    return new Promise((resolve) => {
      let stderr = '';
      const child = spawn(program, args, {
        stdio: ['pipe', 'ignore', 'pipe'],
        env: { ...process.env, WARDEN_ALERT_KIND: alert.kind, WARDEN_ALERT_KEY: alert.key },
        signal,
      });
      child.stderr.on('data', (d: Buffer) => {
        if (stderr.length < 4096) stderr += d.toString();
      });
      child.stdin.on('error', () => {}); // a hook that does not read stdin is fine
      child.stdin.end(alertDocument(alert));
      child.once('error', (err: NodeJS.ErrnoException) => {
        if (err.name === 'AbortError') resolve({ ok: false, retry: true, error: `${program} timed out and was killed` });
        else resolve({ ok: false, retry: err.code !== 'ENOENT' && err.code !== 'EACCES', error: `${program}: ${err.message}` });
      });
      child.once('close', (code, sig) => {
        if (code === 0) resolve({ ok: true, detail: 'exit 0' });
        else
          resolve({
            ok: false,
            retry: true,
            error: `${program} exited ${code ?? sig}${stderr.trim() ? `: ${stderr.trim().split('\n').slice(-1)[0]}` : ''}`,
          });
      });
    });
  }
}
