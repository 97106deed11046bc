// A reload of the config file the daemon was started with, for SIGHUP and POST /reload (`warden
// reload`, the unit's ExecReload) alike: read and validate the file, let the supervisor refuse keys
// that cannot change while it runs, then hand the new alert channels and jobs over. Any problem
// leaves everything as it was, is logged and alerted, and comes back as the result's problem lines
// (one per problem, as `warden config check` prints them).
import { buildChannels, dispatcherSettings } from '../alerts/channels.js';
import type { AlertDispatcher } from '../alerts/dispatcher.js';
import { ConfigError, loadConfig, type LoadedConfig } from '../config/load.js';
import type { CronJobs } from '../jobs/cron.js';
import { daemonJobs, type DigestReporter } from '../jobs/digest.js';
import type { Logger } from '../log/logger.js';
import type { Notifier } from '../systemd/notify.js';

/** The answer of POST /reload (200 when reloaded, 422 when not). */
export interface ReloadResult {
  reloaded: boolean;
  /** The file the daemon read: its own, whatever --config the CLI was given. */
  path: string;
  /** The sha256 of the config now running. */
  sha256: string;
  /** One line per problem of a rejected config; empty when reloaded. */
  problems: string[];
}

export interface ReloadTarget {
  reload(next: LoadedConfig): { ok: true } | { ok: false; error: string };
  statusLine(): string;
  status(): { config: { sha256: string } };
}

export interface ConfigReloaderDeps {
  path: string;
  /** The supervisor, once built (the reloader is one of its dependencies). */
  supervisor: () => ReloadTarget;
  alerts: AlertDispatcher;
  jobs: CronJobs;
  /** null until the supervisor has started (no jobs yet to replace). */
  digest: () => DigestReporter | null;
  log: Logger;
  notifier: Notifier;
}

export function createConfigReloader(d: ConfigReloaderDeps): () => ReloadResult {
  return () => {
    d.notifier.reloading();
    const supervisor = d.supervisor();
    let error: string | null = null;
    try {
      const next = loadConfig(d.path);
      const channels = buildChannels(next.config.alerts, next.path); // an unreadable token file fails the reload
      const result = supervisor.reload(next);
      if (result.ok) {
        d.alerts.reconfigure(channels.channels, dispatcherSettings(next.config.alerts));
        for (const w of channels.warnings) d.log.warn(w);
        const digest = d.digest();
        if (digest) d.jobs.replace(daemonJobs(next.config, digest));
      } else error = result.error;
    } catch (err) {
      error = err instanceof ConfigError ? err.message : (err as Error).message;
    }
    if (error !== null) {
      d.log.error('config reload failed; keeping the running config', { error });
      d.alerts.emit({ type: 'config_reload_failed', error });
    }
    d.notifier.ready(supervisor.statusLine());
    return {
      reloaded: error === null,
      path: d.path,
      sha256: supervisor.status().config.sha256,
      problems: error === null ? [] : error.split('\n').filter((l) => l.trim() !== ''),
    };
  };
}
