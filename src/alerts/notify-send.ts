// Desktop notifications through `notify-send` (libnotify-bin) on a D-Bus session bus. Best effort:
// warden usually runs as a system service with no session bus, and a popup that arrives an hour
// late is no use, so a failure here is logged and not retried. Which bus: [alerts] session_bus,
// else $DBUS_SESSION_BUS_ADDRESS, else /run/user/<uid>/bus.
import { spawn } from 'node:child_process';
import { existsSync } from 'node:fs';
import type { Alert, AlertPriority } from './alert.js';
import type { AlertChannel } from './dispatcher.js';
import type { DeliveryResult } from './policy.js';

export type BusLookup = { address: string } | { address: null; why: string };

/** Finds the session bus; `address: null` with the reason when none is reachable. */
export function findSessionBus(configured: string | null, env: NodeJS.ProcessEnv, uid: number): BusLookup {
  const candidates: { address: string; from: string }[] = [];
  if (configured) candidates.push({ address: configured, from: '[alerts] session_bus' });
  else if (env.DBUS_SESSION_BUS_ADDRESS) candidates.push({ address: env.DBUS_SESSION_BUS_ADDRESS, from: 'DBUS_SESSION_BUS_ADDRESS' });
  else candidates.push({ address: `unix:path=/run/user/${uid}/bus`, from: `the default for uid ${uid}` });
  const c = candidates[0]!;
  // only a unix:path= bus can be checked without connecting; others are tried as given
  const path = /(?:^|[;,])unix:path=([^,;]+)/.exec(c.address)?.[1];
  if (path && !existsSync(path)) {
    const hint = configured ? '' : '; set [alerts] session_bus to the desktop user\'s bus, e.g. "unix:path=/run/user/1000/bus"';
    return { address: null, why: `no D-Bus session bus is reachable: ${path} (${c.from}) does not exist${hint}` };
  }
  return { address: c.address };
}

export function urgencyFor(p: AlertPriority): 'low' | 'normal' | 'critical' {
  return p >= 4 ? 'critical' : p <= 2 ? 'low' : 'normal';
}

export class NotifySendChannel implements AlertChannel {
  readonly name = 'notify-send';

  constructor(
    private readonly bus: BusLookup,
    private readonly binary = 'notify-send',
  ) {}

  send(alert: Alert, signal: AbortSignal): Promise<DeliveryResult> {
    const bus = this.bus;
    if (bus.address === null) return Promise.resolve({ ok: false, retry: false, error: bus.why });
    const args = [
      '--app-name=warden',
      `--urgency=${urgencyFor(alert.priority)}`,
      `--category=warden.${alert.kind}`,
      alert.title,
      alert.message,
    ];
    return new Promise((resolve) => {
      let stderr = '';
      const child = spawn(this.binary, args, {
        stdio: ['ignore', 'ignore', 'pipe'],
        env: { ...process.env, DBUS_SESSION_BUS_ADDRESS: bus.address },
        signal,
      });
      child.stderr.on('data', (d: Buffer) => (stderr += d.toString()));
      child.once('error', (err: NodeJS.ErrnoException) => {
        if (err.code === 'ENOENT')
          resolve({ ok: false, retry: false, error: `${this.binary} not found (Debian: apt-get install libnotify-bin)` });
        else if (err.name === 'AbortError') resolve({ ok: false, retry: false, error: `${this.binary} timed out` });
        else resolve({ ok: false, retry: false, error: err.message });
      });
      child.once('close', (code) => {
        if (code === 0) resolve({ ok: true, detail: `shown on ${bus.address}` });
        else resolve({ ok: false, retry: false, error: `${this.binary} exited ${code}: ${stderr.trim().split('\n')[0] ?? ''}` });
      });
    });
  }
}
