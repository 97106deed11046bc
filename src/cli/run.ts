// `warden run`: the daemon. Its own module so that the other commands never load the supervisor,
// the executors, alerts and jobs (src/cli/main.ts imports this only for `run`).
import { hostProc, sampleHost } from '../admission/sample.js';
import { buildChannels, createDispatcher, dispatcherSettings } from '../alerts/channels.js';
import { ConfigError, loadConfig, type LoadedConfig } from '../config/load.js';
import { chooseExecutor } from '../executors/choose.js';
import { CronJobs } from '../jobs/cron.js';
import { daemonJobs, DigestReporter } from '../jobs/digest.js';
import { createLogger } from '../log/logger.js';
import { acquireStateLock } from '../state/lock.js';
import { Supervisor } from '../supervisor/supervisor.js';
import { createNotifier } from '../systemd/notify.js';
import { DEFAULT_GH } from '../tasks/github.js';
import { GitWorkspace } from '../worktree/workspace.js';

export async function run(loaded: LoadedConfig, version: string): Promise<number> {
  // First of all, before anything is logged, read or adopted: one daemon per state directory
  // (src/state/lock.ts). Held until the process ends; the kernel drops it even on kill -9.
  await acquireStateLock(loaded.config.supervisor.state_dir);
  const log = createLogger({ level: process.env.WARDEN_LOG_LEVEL === 'debug' ? 'debug' : 'info' });
  const { executor, warnings } = chooseExecutor(loaded.config, loaded.path);
  const notifier = createNotifier(process.env, 'systemd-notify', (m) => log.warn(m));
  const alerts = createDispatcher(loaded.config, loaded.path, log);
  const supervisor = new Supervisor({
    loaded,
    executor,
    executorWarnings: warnings,
    log,
    notifier,
    version,
    debugStallSignal: process.env.WARDEN_DEBUG_STALL === '1',
    // tests point the hardware signals at a fake sysfs tree (a hot SoC, an under-volted Pi)
    sample: process.env.WARDEN_SYSFS_ROOT ? (now) => sampleHost(now, { ...hostProc, sysRoot: process.env.WARDEN_SYSFS_ROOT }) : undefined,
    workspace: loaded.config.worktree ? new GitWorkspace(loaded.config.worktree, DEFAULT_GH, log) : undefined,
    alerts,
    // [fleet] only: the fleet code, and the etcd client it loads, stay out of a single node's memory
    claims: loaded.config.fleet ? (await import('../fleet/node.js')).fleetClaims(loaded.config, log, version) : undefined,
  });
  const jobs = new CronJobs(log);
  let digest: DigestReporter | null = null;
  process.on('SIGHUP', () => {
    notifier.reloading();
    let result: { ok: true } | { ok: false; error: string };
    try {
      const next = loadConfig(loaded.path);
      const channels = buildChannels(next.config.alerts, next.path); // an unreadable token file fails the reload
      result = supervisor.reload(next);
      if (result.ok) {
        alerts.reconfigure(channels.channels, dispatcherSettings(next.config.alerts));
        for (const w of channels.warnings) log.warn(w);
        if (digest) jobs.replace(daemonJobs(next.config, digest));
      }
    } catch (err) {
      result = { ok: false, error: err instanceof ConfigError ? err.message : (err as Error).message };
    }
    if (!result.ok) {
      log.error('config reload failed; keeping the running config', { error: result.error });
      alerts.emit({ type: 'config_reload_failed', error: result.error });
    }
    notifier.ready(supervisor.statusLine());
  });
  await supervisor.start();
  digest = new DigestReporter(supervisor, alerts);
  jobs.replace(daemonJobs(loaded.config, digest));
  // SIGTERM and SIGINT belong to terminus on the control server (src/control/server.ts): it runs
  // Supervisor.shutdown, closes the socket and exits 0, or 1 if the shutdown failed. That is the
  // only way out of `run`, so this promise never settles.
  return new Promise<number>(() => {});
}
