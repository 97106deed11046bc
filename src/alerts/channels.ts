// Builds the alert channels named in [alerts], and sends `warden alert test` through each.
import { readFileSync } from 'node:fs';
import { hostname } from 'node:os';
import { join } from 'node:path';
import { ConfigError } from '../config/load.js';
import type { Config } from '../config/schema.js';
import { formatDuration } from '../config/units.js';
import type { Logger } from '../log/logger.js';
import { alertFor } from './alert.js';
import { CommandChannel } from './command.js';
import { AlertDispatcher, type AlertChannel, type DispatcherSettings } from './dispatcher.js';
import { findSessionBus, NotifySendChannel } from './notify-send.js';
import { NtfyChannel } from './ntfy.js';

export type AlertsConfig = Config['alerts'];

export interface ChannelSetup {
  channels: AlertChannel[];
  /** Problems to log at start: a channel that is on but cannot work here (no session bus). */
  warnings: string[];
}

/** Reads the ntfy token file (a config problem, exit 78, if unreadable or empty). Never logs it. */
function readToken(file: string, configPath: string): string {
  let text: string;
  try {
    text = readFileSync(file, 'utf8');
  } catch (err) {
    throw new ConfigError([
      {
        file: configPath,
        key: 'alerts.ntfy_token_file',
        message: `cannot read ${file}: ${(err as NodeJS.ErrnoException).code ?? (err as Error).message}`,
      },
    ]);
  }
  const token = text.trim();
  if (token === '' || /\s/.test(token)) {
    throw new ConfigError([{ file: configPath, key: 'alerts.ntfy_token_file', message: `${file} must hold one access token on one line` }]);
  }
  return token;
}

function isLoopbackHost(host: string): boolean {
  return host === 'localhost' || host === '[::1]' || /^127\./.test(host);
}

export function buildChannels(
  a: AlertsConfig,
  configPath: string,
  env: NodeJS.ProcessEnv = process.env,
  uid = process.getuid?.() ?? 0,
): ChannelSetup {
  const channels: AlertChannel[] = [];
  const warnings: string[] = [];
  if (a.ntfy_url) {
    channels.push(new NtfyChannel(a.ntfy_url, a.ntfy_token_file ? readToken(a.ntfy_token_file, configPath) : null));
    const u = new URL(a.ntfy_url);
    if (a.ntfy_token_file && u.protocol === 'http:' && !isLoopbackHost(u.hostname)) {
      warnings.push(`alerts: ntfy_url is plain http to ${u.hostname}: the access token crosses the network unencrypted; use https`);
    }
  }
  if (a.notify_send) {
    const bus = findSessionBus(a.session_bus, env, uid);
    if (bus.address === null) warnings.push(`alerts: notify-send is on, but ${bus.why}; desktop notifications will not be shown`);
    channels.push(new NotifySendChannel(bus));
  }
  if (a.command) channels.push(new CommandChannel(a.command));
  return { channels, warnings };
}

export function dispatcherSettings(a: AlertsConfig): DispatcherSettings {
  return {
    repeatAfter: a.repeat_after,
    retryAttempts: a.retry_attempts,
    retryBase: a.retry_base,
    retryMax: a.retry_max,
    timeout: a.timeout,
  };
}

export interface ChannelTestResult {
  channel: string;
  ok: boolean;
  detail: string;
  ms: number;
}

/** `warden alert test`: one test alert per channel, once each (no dedupe, no retry), in parallel. */
export async function sendTestAlert(
  a: AlertsConfig,
  configPath: string,
  env: NodeJS.ProcessEnv = process.env,
): Promise<{ results: ChannelTestResult[]; warnings: string[] }> {
  const { channels, warnings } = buildChannels(a, configPath, env);
  const alert = alertFor({ type: 'alert_test' }, { now: Date.now(), host: hostname() })!;
  const results = await Promise.all(
    channels.map(async (c): Promise<ChannelTestResult> => {
      const t0 = Date.now();
      try {
        const r = await c.send(alert, AbortSignal.timeout(a.timeout));
        return { channel: c.name, ok: r.ok, detail: r.ok ? r.detail : r.error, ms: Date.now() - t0 };
      } catch (err) {
        return { channel: c.name, ok: false, detail: (err as Error).message, ms: Date.now() - t0 };
      }
    }),
  );
  return { results, warnings };
}

/** Beside the state file: when each alert key was last sent, so restarts do not repeat alerts. */
export const ALERT_MEMORY_FILE = 'alerts-sent.json';

/** The daemon's dispatcher: channels from [alerts], a start-up line saying which are on. */
export function createDispatcher(config: Config, configPath: string, log: Logger): AlertDispatcher {
  const { channels, warnings } = buildChannels(config.alerts, configPath);
  for (const w of warnings) log.warn(w);
  log.info('alert channels', {
    channels: channels.map((c) => c.name).join(',') || 'none (set [alerts] ntfy_url, notify_send or command)',
    repeat_after: formatDuration(config.alerts.repeat_after),
    digest: config.alerts.digest ?? undefined,
  });
  return new AlertDispatcher({
    channels,
    settings: dispatcherSettings(config.alerts),
    log,
    host: hostname(),
    memoryFile: join(config.supervisor.state_dir, ALERT_MEMORY_FILE),
  });
}
